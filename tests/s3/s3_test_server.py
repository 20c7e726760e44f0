#!/usr/bin/python3
"""The S3 API server dxbackup's tests run on loopback.

s3rver (npm, pinned in tests/s3/package-lock.json) keeps the buckets and
objects, but it accepts any SigV4 signature and lacks what dxbackup relies
on: AbortMultipartUpload, ListMultipartUploads and Object Lock. This server
stands in front of it and makes it strict:

  - Every request's SigV4 signature (Authorization header) is checked with
    botocore's own signer (Debian's python3-botocore) against the access and
    secret key this server was given, with S3's rules: the payload hash in
    x-amz-content-sha256 must be the body's (or UNSIGNED-PAYLOAD), the date
    within 15 minutes, the query canonically encoded. A mismatch is a 403
    SignatureDoesNotMatch, as real S3 answers, so a signing bug fails here.
  - Multipart uploads are tracked (persisted in <data-dir>/proxy-state.json,
    so they survive a kill and restart): abort and list are served here; a
    part for an aborted or unknown upload is NoSuchUpload.
  - With --object-lock the bucket reports Object Lock enabled, each object's
    retention headers are recorded, and a delete before the retention ends
    is recorded as a violation (S3 would answer it with a delete marker and
    keep the locked version; this server has no versions), as is any write
    to a key that already holds an object.
  - Every request is recorded (operation, key, status, lock headers), for
    tests to assert on.
  - Faults on demand, for tests: the next N requests (of one operation)
    answered with a given status; the next request of an operation held
    (never answered) so a test can kill the server mid-upload.

Control endpoints (no signature; tests only), under /__control/:
  POST fail?status=503&count=N[&op=UploadPart]   inject N error answers
  POST fail-after?status=500&count=N&op=…       do the request, answer an error
  POST hold?op=UploadPart                        hold the next such request
  GET  held                                      block until one is held
  GET  requests                                  the request records (JSON)
  GET  violations                                Object Lock violations (JSON)

Prints "listening on port N" once both servers listen. Exits when killed;
s3rver dies with it (PR_SET_PDEATHSIG).
"""

import argparse
import ctypes
import datetime
import hashlib
import base64
import http.client
import http.server
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import threading
import urllib.parse
import xml.etree.ElementTree as ET

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
MAX_SKEW = datetime.timedelta(minutes=15)


def error_xml(code, message, resource=""):
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<Resource>{resource}</Resource><RequestId>dxbackup-test</RequestId>"
        "</Error>"
    ).encode()


def operation(method, key, query):
    """The S3 operation name of a request (as AWS's documentation names it)."""
    if key:
        if method == "PUT":
            return "UploadPart" if "uploadId" in query else "PutObject"
        if method == "POST":
            if "uploads" in query:
                return "CreateMultipartUpload"
            if "uploadId" in query:
                return "CompleteMultipartUpload"
        if method == "DELETE":
            return "AbortMultipartUpload" if "uploadId" in query else "DeleteObject"
        if method == "GET":
            return "GetObject"
        if method == "HEAD":
            return "HeadObject"
    else:
        if method == "GET":
            if "uploads" in query:
                return "ListMultipartUploads"
            if "object-lock" in query:
                return "GetObjectLockConfiguration"
            return "ListObjects"
        if method == "POST" and "delete" in query:
            return "DeleteObjects"
        if method == "HEAD":
            return "HeadBucket"
    return f"{method} {'object' if key else 'bucket'}"


class State:
    """Uploads, object locks, injected faults and records; one lock."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Condition()
        self.uploads = {}  # upload id -> {"key", "initiated", "state"}
        self.locks = {}  # key -> {"mode", "until"}
        self.written = set()  # keys that hold an object
        self.records = []
        self.violations = []
        self.faults = []  # [{"status", "count", "op"}]
        self.faults_after = []  # the same, answered after the work is done
        self.hold_op = None
        self.held = 0
        if os.path.exists(path):
            with open(path) as f:
                saved = json.load(f)
            self.uploads = saved["uploads"]
            self.locks = saved["locks"]
            self.written = set(saved["written"])

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(
                {
                    "uploads": self.uploads,
                    "locks": self.locks,
                    "written": sorted(self.written),
                },
                f,
            )
        os.replace(tmp, self.path)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "dxbackup-s3-test"

    def log_message(self, fmt, *args):
        pass

    # --- plumbing -------------------------------------------------------
    def send(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body or "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def send_error_xml(self, status, code, message, op=None):
        self.record(op, status, error=code)
        self.send(status, error_xml(code, message, self.path.split("?")[0]),
                  {"Content-Type": "application/xml"})

    def record(self, op, status, error=None, extra=None):
        entry = {
            "op": op,
            "method": self.command,
            "key": getattr(self, "key", ""),
            "query": getattr(self, "raw_query", ""),
            "status": status,
        }
        if error:
            entry["error"] = error
        for h in ("x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date"):
            if self.headers.get(h):
                entry[h] = self.headers[h]
        if extra:
            entry.update(extra)
        st = self.server.state
        with st.lock:
            st.records.append(entry)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(length) if length else b""

    # --- the entry points ---------------------------------------------------
    def do_GET(self):
        self.handle_any()

    def do_PUT(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def do_DELETE(self):
        self.handle_any()

    def do_HEAD(self):
        self.handle_any()

    def handle_any(self):
        split = urllib.parse.urlsplit(self.path)
        if split.path.startswith("/__control/"):
            return self.control(split)
        body = self.read_body()
        parts = split.path.lstrip("/").split("/", 1)
        self.bucket = urllib.parse.unquote(parts[0])
        self.key = urllib.parse.unquote(parts[1]) if len(parts) > 1 else ""
        self.raw_query = split.query
        query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        op = operation(self.command, self.key, query)

        problem = self.check_signature(split, body)
        if problem:
            return self.send_error_xml(403, problem[0], problem[1], op)
        if self.inject_fault(op):
            return
        st = self.server.state
        if self.server.bucket != self.bucket:
            return self.forward(op, split, body)  # s3rver says NoSuchBucket
        if op == "ListMultipartUploads":
            return self.list_uploads(query)
        if op == "GetObjectLockConfiguration":
            return self.object_lock_configuration(op)
        if op == "AbortMultipartUpload":
            return self.abort_upload(op, query)
        if op in ("UploadPart", "CompleteMultipartUpload"):
            with st.lock:
                upload = st.uploads.get(query.get("uploadId", ""))
                live = upload and upload["state"] == "open" and upload["key"] == self.key
            if not live:
                return self.send_error_xml(404, "NoSuchUpload",
                                           "The specified upload does not exist.", op)
        if op in ("PutObject", "CompleteMultipartUpload"):
            with st.lock:
                if self.key in st.written:
                    st.violations.append({"violation": "overwritten", "key": self.key})
        if op in ("DeleteObject", "DeleteObjects"):
            # An Object Lock bucket is versioned: S3 answers a delete
            # without a version id with a delete marker (204) and keeps
            # the locked version. This server deletes the data (it has no
            # versions) but records the attempt, which is what tests check.
            early = self.locked_keys(op, body)
            if early:
                with st.lock:
                    for key in early:
                        st.violations.append({"violation": "deleted early", "key": key})
        return self.forward(op, split, body)

    # --- SigV4, checked with botocore's signer ------------------------------
    def check_signature(self, split, body):
        auth = self.headers.get("Authorization", "")
        m = re.match(
            r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request,"
            r"\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$",
            auth,
        )
        if not m:
            return ("AccessDenied", "missing or malformed SigV4 Authorization header")
        access_key, day, region, signed, signature = m.groups()
        if access_key != self.server.access_key:
            return ("InvalidAccessKeyId",
                    "The AWS Access Key Id you provided does not exist in our records.")
        if region != self.server.region:
            return ("AuthorizationHeaderMalformed", f"the region is wrong; expecting '{self.server.region}'")
        amz_date = self.headers.get("x-amz-date", "")
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
        except ValueError:
            return ("AccessDenied", "missing or malformed x-amz-date")
        if abs(datetime.datetime.utcnow() - when) > MAX_SKEW or amz_date[:8] != day:
            return ("RequestTimeTooSkewed", "the request time is too far from the server's")
        payload = self.headers.get("x-amz-content-sha256")
        if payload is None:
            return ("InvalidRequest", "missing x-amz-content-sha256")
        if payload != "UNSIGNED-PAYLOAD" and payload != hashlib.sha256(body).hexdigest():
            return ("XAmzContentSHA256Mismatch",
                    "the x-amz-content-sha256 header does not match the body")
        names = signed.split(";")
        if "host" not in names or "x-amz-date" not in names or \
                "x-amz-content-sha256" not in names:
            return ("AccessDenied", "host, x-amz-date and x-amz-content-sha256 must be signed")
        headers = {}
        for name in names:
            values = self.headers.get_all(name)
            if values is None:
                return ("AccessDenied", f"signed header {name} is missing")
            headers[name] = ",".join(values)
        # S3 canonicalises the query from its decoded parameters, so a
        # client that does not encode them the way SigV4 says fails here.
        params = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
        request = AWSRequest(method=self.command,
                             url=f"http://{headers['host']}{split.path}",
                             headers=headers, params=params)
        request.context["timestamp"] = amz_date
        signer = S3SigV4Auth(Credentials(access_key, self.server.secret_key),
                             "s3", region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if expected != signature:
            return ("SignatureDoesNotMatch",
                    "The request signature we calculated does not match the "
                    "signature you provided. Check your key and signing method.")
        return None

    # --- faults ---------------------------------------------------------------
    def inject_fault(self, op):
        st = self.server.state
        with st.lock:
            if st.hold_op == op:
                st.hold_op = None
                st.held += 1
                st.lock.notify_all()
                hold = True
            else:
                hold = False
                for fault in st.faults:
                    if fault["count"] > 0 and fault["op"] in (None, op):
                        fault["count"] -= 1
                        status = fault["status"]
                        break
                else:
                    return False
        if hold:
            threading.Event().wait()  # until the process is killed
        codes = {500: "InternalError", 503: "SlowDown", 429: "TooManyRequests",
                 403: "AccessDenied", 404: "NoSuchKey"}
        self.send_error_xml(status, codes.get(status, "InjectedFault"),
                            "injected by the test", op)
        return True

    def control(self, split):
        self.read_body()
        st = self.server.state
        q = dict(urllib.parse.parse_qsl(split.query))
        what = split.path[len("/__control/"):]
        if what == "fail":
            with st.lock:
                st.faults.append({"status": int(q["status"]), "count": int(q["count"]),
                                  "op": q.get("op")})
            return self.send(204)
        if what == "fail-after":
            with st.lock:
                st.faults_after.append({"status": int(q["status"]),
                                        "count": int(q["count"]), "op": q["op"]})
            return self.send(204)
        if what == "hold":
            with st.lock:
                st.hold_op = q["op"]
            return self.send(204)
        if what == "held":
            with st.lock:
                ok = st.lock.wait_for(lambda: st.held > 0, timeout=120)
            return self.send(200 if ok else 504)
        if what == "requests":
            with st.lock:
                body = json.dumps(st.records).encode()
            return self.send(200, body, {"Content-Type": "application/json"})
        if what == "violations":
            with st.lock:
                body = json.dumps(st.violations).encode()
            return self.send(200, body, {"Content-Type": "application/json"})
        return self.send(404)

    # --- what s3rver lacks ----------------------------------------------------
    def list_uploads(self, query):
        prefix = query.get("prefix", "")
        st = self.server.state
        root = ET.Element("ListMultipartUploadsResult", xmlns=S3_NS)
        ET.SubElement(root, "Bucket").text = self.bucket
        ET.SubElement(root, "IsTruncated").text = "false"
        with st.lock:
            open_uploads = sorted(
                (u["key"], uid, u["initiated"]) for uid, u in st.uploads.items()
                if u["state"] == "open" and u["key"].startswith(prefix))
        for key, uid, initiated in open_uploads:
            u = ET.SubElement(root, "Upload")
            ET.SubElement(u, "Key").text = key
            ET.SubElement(u, "UploadId").text = uid
            ET.SubElement(u, "Initiated").text = initiated
        self.record("ListMultipartUploads", 200)
        self.send(200, ET.tostring(root, xml_declaration=True, encoding="UTF-8"),
                  {"Content-Type": "application/xml"})

    def object_lock_configuration(self, op):
        if not self.server.object_lock:
            return self.send_error_xml(404, "ObjectLockConfigurationNotFoundError",
                                       "Object Lock configuration does not exist for this bucket", op)
        body = (f'<?xml version="1.0" encoding="UTF-8"?><ObjectLockConfiguration xmlns="{S3_NS}">'
                "<ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>").encode()
        self.record(op, 200)
        self.send(200, body, {"Content-Type": "application/xml"})

    def abort_upload(self, op, query):
        st = self.server.state
        with st.lock:
            upload = st.uploads.get(query.get("uploadId", ""))
            if not upload or upload["state"] != "open" or upload["key"] != self.key:
                upload = None
            else:
                upload["state"] = "aborted"
                st.save()
        if upload is None:
            return self.send_error_xml(404, "NoSuchUpload",
                                       "The specified upload does not exist.", op)
        self.record(op, 204)
        self.send(204)

    def locked_keys(self, op, body):
        if op == "DeleteObject":
            keys = [self.key]
        else:
            md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
            if self.headers.get("Content-MD5") != md5:
                return []  # forwarded; s3rver ignores it, so check it here:
            keys = [e.text for e in ET.fromstring(body).iter(f"{{{S3_NS}}}Key")] + \
                   [e.text for e in ET.fromstring(body).iter("Key")]
        now = datetime.datetime.utcnow().replace(tzinfo=datetime.timezone.utc)
        st = self.server.state
        refused = []
        with st.lock:
            for key in keys:
                lock = st.locks.get(key)
                if lock and datetime.datetime.fromisoformat(
                        lock["until"].replace("Z", "+00:00")) > now:
                    refused.append(key)
        return refused

    # --- forwarding to s3rver -----------------------------------------------
    def forward(self, op, split, body):
        st = self.server.state
        self.swallow = None
        with st.lock:
            for fault in st.faults_after:
                if fault["count"] > 0 and fault["op"] == op:
                    fault["count"] -= 1
                    self.swallow = fault["status"]
                    break
        if op == "DeleteObjects":
            md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
            if self.headers.get("Content-MD5") != md5:
                return self.send_error_xml(400, "InvalidRequest",
                                           "Content-MD5 is missing or wrong", op)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("authorization", "host", "connection",
                                        "transfer-encoding", "content-length")}
        # s3rver knows one account (S3RVER) and does not check SigV4
        # signatures; the signature was checked above.
        headers["Authorization"] = re.sub(
            r"Credential=[^/]+/", "Credential=S3RVER/", self.headers["Authorization"])
        headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port, timeout=300)
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        status = resp.status
        extra = {}
        if op == "CreateMultipartUpload" or op == "CompleteMultipartUpload":
            data = resp.read()
            if status == 200 and op == "CreateMultipartUpload":
                uid = ET.fromstring(data).find(f"{{{S3_NS}}}UploadId")
                uid = uid if uid is not None else ET.fromstring(data).find("UploadId")
                with st.lock:
                    st.uploads[uid.text] = {
                        "key": self.key, "state": "open",
                        "initiated": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                        "lock_mode": self.headers.get("x-amz-object-lock-mode"),
                        "lock_until": self.headers.get("x-amz-object-lock-retain-until-date"),
                    }
                    st.save()
            if status == 200 and op == "CompleteMultipartUpload" and b"<Error>" not in data:
                uid = dict(urllib.parse.parse_qsl(split.query))["uploadId"]
                with st.lock:
                    upload = st.uploads[uid]
                    upload["state"] = "completed"
                    self.note_written(upload["key"], upload["lock_mode"], upload["lock_until"])
                    st.save()
            if self.swallow:
                return self.send_error_xml(self.swallow, "InternalError",
                                           "done, but the answer was lost", op)
            self.record(op, status, extra=extra)
            return self.send(status, data, {k: v for k, v in resp.getheaders()
                                            if k.lower() not in ("content-length", "connection",
                                                                 "transfer-encoding")})
        if op == "PutObject" and status == 200:
            with st.lock:
                self.note_written(self.key, self.headers.get("x-amz-object-lock-mode"),
                                  self.headers.get("x-amz-object-lock-retain-until-date"))
                st.save()
        if op in ("DeleteObject",) and status in (200, 204):
            with st.lock:
                st.written.discard(self.key)
                st.locks.pop(self.key, None)
                st.save()
        if op == "DeleteObjects" and status == 200:
            keys = [e.text for e in ET.fromstring(body).iter(f"{{{S3_NS}}}Key")] + \
                   [e.text for e in ET.fromstring(body).iter("Key")]
            with st.lock:
                for key in keys:
                    st.written.discard(key)
                    st.locks.pop(key, None)
                st.save()
        if self.swallow:
            resp.read()
            return self.send_error_xml(self.swallow, "InternalError",
                                       "done, but the answer was lost", op)
        self.record(op, status)
        self.send_response(status)
        length = resp.getheader("Content-Length")
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding"):
                self.send_header(k, v)
        if length is None:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command == "HEAD":
            return
        while True:
            chunk = resp.read(1 << 16)
            if not chunk:
                break
            self.wfile.write(chunk)

    def note_written(self, key, mode, until):
        st = self.server.state
        st.written.add(key)
        if self.server.object_lock and mode and until:
            st.locks[key] = {"mode": mode, "until": until}


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def read_secret(path):
    with open(path) as f:
        return f.read().strip()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--s3rver", required=True, help="path to s3rver's bin/s3rver.js")
    p.add_argument("--bucket", required=True)
    p.add_argument("--access-key-file", required=True)
    p.add_argument("--secret-key-file", required=True)
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--object-lock", action="store_true")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    args = p.parse_args()

    os.makedirs(os.path.join(args.data_dir, "s3rver"), exist_ok=True)
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: die with the test

    def die_with_parent():
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG

    s3rver = subprocess.Popen(
        # s3rver's continuation tokens use a cipher that OpenSSL 3 keeps
        # in its legacy provider: without it, a truncated listing is a 500.
        ["node", "--openssl-legacy-provider", args.s3rver, "-d", os.path.join(args.data_dir, "s3rver"),
         "-a", "127.0.0.1", "-p", "0", "--no-vhost-buckets",
         "--configure-bucket", args.bucket],
        stdout=subprocess.PIPE, preexec_fn=die_with_parent, text=True)
    upstream_port = None
    for line in s3rver.stdout:
        m = re.search(r"S3rver listening on [\d.]+:(\d+)", line)
        if m:
            upstream_port = int(m.group(1))
            break
    if upstream_port is None:
        sys.exit("s3_test_server: s3rver did not start")
    threading.Thread(target=lambda: [None for _ in s3rver.stdout], daemon=True).start()

    server = Server(("127.0.0.1", args.port), Handler)
    server.state = State(os.path.join(args.data_dir, "proxy-state.json"))
    server.upstream_port = upstream_port
    server.bucket = args.bucket
    server.access_key = read_secret(args.access_key_file)
    server.secret_key = read_secret(args.secret_key_file)
    server.region = args.region
    server.object_lock = args.object_lock
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(f"listening on port {server.server_address[1]}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.serve_forever()


if __name__ == "__main__":
    main()
