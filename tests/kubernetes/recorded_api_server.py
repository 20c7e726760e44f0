#!/usr/bin/env python3
"""A Kubernetes API server that answers from recordings, for tests.

  recorded_api_server.py --cert PEM --key PEM --token FILE \\
      --answers answers.json --requests requests.log

Serves HTTPS on 127.0.0.1 (a free port, printed as "listening on port N").
`answers.json` maps "GET <path>?<query>" to a file (beside it) whose JSON is
the answer, as a real API server gives it (recorded list answers:
SecretList, ConfigMapList). A request without the bearer token of FILE gets
401; a list by a selector not recorded an empty list, and any other
unknown request 404 with a Status body, as the API server answers.
A POST (an object's YAML, as a restore creates it) answers 201, or 409
AlreadyExists for a name given with --existing. Every request is appended
to `requests.log` as one JSON line (method, path, whether it was
authorized, and a POST's object), so that a test can see what was asked.
"""
import argparse
import json
import os
import re
import signal
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": message, "reason": reason,
            "code": code}


def main():
    ap = argparse.ArgumentParser()
    for flag in ("--cert", "--key", "--token", "--answers", "--requests"):
        ap.add_argument(flag, required=True)
    ap.add_argument("--existing", action="append", default=[],
                    help="a name a POST finds taken (409)")
    a = ap.parse_args()
    existing = set(a.existing)
    with open(a.token) as f:
        token = f.read().strip()
    with open(a.answers) as f:
        answers = json.load(f)
    base = os.path.dirname(os.path.abspath(a.answers))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            authorized = (self.headers.get("Authorization") ==
                          "Bearer " + token)
            with open(a.requests, "a") as log:
                log.write(json.dumps({"method": "GET", "path": self.path,
                                      "authorized": authorized}) + "\n")
            if not authorized:
                return self.answer(401, status(401, "Unauthorized",
                                               "Unauthorized"))
            name = answers.get("GET " + self.path)
            listed = re.fullmatch(r"/api/v1/namespaces/[a-z0-9-]+/"
                                  r"(secrets|configmaps)\?labelSelector=.*",
                                  self.path)
            if name is None and listed:
                # What a real API server answers a selector that matches
                # nothing: an empty list.
                kind = "SecretList" if listed.group(1) == "secrets" \
                    else "ConfigMapList"
                return self.answer(200, {"kind": kind, "apiVersion": "v1",
                                         "metadata": {}, "items": []})
            if name is None:
                return self.answer(404, status(
                    404, "NotFound", "the server could not find the "
                    "requested resource"))
            with open(os.path.join(base, name)) as f:
                self.answer(200, json.load(f))

        def do_POST(self):
            authorized = (self.headers.get("Authorization") ==
                          "Bearer " + token)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            obj = yaml.safe_load(body) if authorized else None
            with open(a.requests, "a") as log:
                log.write(json.dumps({
                    "method": "POST", "path": self.path,
                    "authorized": authorized,
                    "content_type": self.headers.get("Content-Type"),
                    "object": obj}) + "\n")
            if not authorized:
                return self.answer(401, status(401, "Unauthorized",
                                               "Unauthorized"))
            name = obj["metadata"]["name"]
            if name in existing:
                return self.answer(409, status(
                    409, "AlreadyExists",
                    'secrets "%s" already exists' % name))
            self.answer(201, obj)

        def answer(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(a.cert, a.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("listening on port %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
