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
AlreadyExists for a name given with --existing. A StatefulSet given with
--scale NAMESPACE/NAME=REPLICAS has a scale subresource
(/apis/apps/v1/namespaces/NS/statefulsets/NAME/scale) that GET reads and
a JSON merge patch of spec.replicas changes, as autoscaling/v1 Scale
objects; status.replicas follows spec.replicas after --scale-lag GETs
(pods take a while to go), and --deny-scale answers its PATCH 403
(--deny-scale-patch N: only the Nth PATCH, from 1). Pods given with
--pod NAMESPACE/NAME[=KEY:VALUE,...] (their labels) are listed by GET
/api/v1/namespaces/NS/pods?labelSelector=K=V,... (equality terms) as a
PodList, and a JSON merge patch of a pod's metadata.labels changes them
(a null value removes the label). Every
request is appended to `requests.log` as one JSON line (method, path,
whether it was authorized, and a POST's object or a PATCH's patch), so
that a test can see what was asked. Answers are encoded as the API server
encodes them (no blanks between tokens).
"""
import argparse
import json
import os
import re
import signal
import ssl
import sys
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml
from urllib.parse import unquote


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": message, "reason": reason,
            "code": code}


def pod_object(key, labels):
    """A pod as the API server gives it (the fields a list shows)."""
    ns, name = key.split("/")
    return {"metadata": {"name": name, "namespace": ns,
                         "uid": "7d0c2a1e-5b1f-4c83-9d0e-" +
                                "%012x" % zlib.crc32(key.encode()),
                         "resourceVersion": "918300",
                         "creationTimestamp": "2026-11-02T09:14:07Z",
                         "labels": dict(labels)},
            "spec": {"containers": [{"name": "scheduler",
                                     "image": "dxbackup-scheduler:0.1.0"}]},
            "status": {"phase": "Running", "podIP": "10.42.0.17"}}


def main():
    ap = argparse.ArgumentParser()
    for flag in ("--cert", "--key", "--token", "--answers", "--requests"):
        ap.add_argument(flag, required=True)
    ap.add_argument("--existing", action="append", default=[],
                    help="a name a POST finds taken (409)")
    ap.add_argument("--scale", action="append", default=[],
                    help="NAMESPACE/NAME=REPLICAS: a StatefulSet's scale")
    ap.add_argument("--scale-lag", type=int, default=0,
                    help="GETs after a patch before status follows spec")
    ap.add_argument("--deny-scale", action="store_true",
                    help="answer a scale PATCH 403")
    ap.add_argument("--deny-scale-patch", type=int, default=0,
                    help="answer only the Nth scale PATCH 403 (from 1)")
    ap.add_argument("--pod", action="append", default=[],
                    help="NAMESPACE/NAME[=KEY:VALUE,...]: a pod, labelled")
    a = ap.parse_args()
    pods = {}  # "ns/name" -> labels
    for given in a.pod:
        key, _, labels = given.partition("=")
        pods[key] = dict(term.split(":", 1) for term in labels.split(",")
                         if term)
    pods_path = re.compile(r"/api/v1/namespaces/([a-z0-9-]+)/pods"
                           r"(?:/([a-z0-9-]+))?(?:\?labelSelector=(.*))?")
    scales = {}  # "ns/name" -> {"spec": n, "status": n, "lag": n}
    patches = [0]  # scale PATCHes seen so far
    for given in a.scale:
        key, replicas = given.split("=")
        scales[key] = {"spec": int(replicas), "status": int(replicas),
                       "lag": 0}
    scale_path = re.compile(r"/apis/apps/v1/namespaces/([a-z0-9-]+)/"
                            r"statefulsets/([a-z0-9-]+)/scale")
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
            listed_pods = pods_path.fullmatch(self.path)
            if listed_pods and listed_pods.group(2) is None:
                ns, _, selector = listed_pods.groups()
                terms = [t.split("=", 1) for t in
                         unquote(selector or "").split(",") if t]
                items = [pod_object(key, labels)
                         for key, labels in sorted(pods.items())
                         if key.split("/")[0] == ns and
                         all(labels.get(k) == v for k, v in terms)]
                return self.answer(200, {
                    "kind": "PodList", "apiVersion": "v1",
                    "metadata": {"resourceVersion": "918301"},
                    "items": items})
            scaled = self.scale()
            if scaled is not None:
                if scaled["lag"] > 0:
                    scaled["lag"] -= 1
                else:
                    scaled["status"] = scaled["spec"]
                return self.answer(200, self.scale_object())
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

        def do_PATCH(self):
            authorized = (self.headers.get("Authorization") ==
                          "Bearer " + token)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            patch = json.loads(body) if authorized else None
            with open(a.requests, "a") as log:
                log.write(json.dumps({
                    "method": "PATCH", "path": self.path,
                    "authorized": authorized,
                    "content_type": self.headers.get("Content-Type"),
                    "patch": patch}) + "\n")
            if not authorized:
                return self.answer(401, status(401, "Unauthorized",
                                               "Unauthorized"))
            named_pod = pods_path.fullmatch(self.path)
            if named_pod and named_pod.group(2) is not None:
                key = "%s/%s" % named_pod.groups()[:2]
                if key not in pods:
                    return self.answer(404, status(
                        404, "NotFound", 'pods "%s" not found' %
                        named_pod.group(2)))
                if self.headers.get("Content-Type") != \
                        "application/merge-patch+json":
                    return self.answer(415, status(
                        415, "UnsupportedMediaType", "the body of the "
                        "request was in an unknown format"))
                changes = patch.get("metadata", {}).get("labels", {})
                for k, v in changes.items():
                    if v is None:
                        pods[key].pop(k, None)
                    else:
                        pods[key][k] = v
                return self.answer(200, dict(kind="Pod", apiVersion="v1",
                                             **pod_object(key, pods[key])))
            scaled = self.scale()
            if scaled is None:
                return self.answer(404, status(
                    404, "NotFound", "the server could not find the "
                    "requested resource"))
            patches[0] += 1
            if a.deny_scale or patches[0] == a.deny_scale_patch:
                m = scale_path.fullmatch(self.path)
                return self.answer(403, status(
                    403, "Forbidden",
                    'statefulsets.apps "%s" is forbidden: User '
                    '"system:serviceaccount:backup:dxb-dxbackup" cannot '
                    'patch resource "statefulsets/scale" in API group '
                    '"apps" in the namespace "%s"' % (m.group(2),
                                                       m.group(1))))
            if self.headers.get("Content-Type") != \
                    "application/merge-patch+json":
                return self.answer(415, status(
                    415, "UnsupportedMediaType", "the body of the request "
                    "was in an unknown format"))
            scaled["spec"] = patch["spec"]["replicas"]
            scaled["lag"] = a.scale_lag
            self.answer(200, self.scale_object())

        # The scale this request's path names, if it is one.
        def scale(self):
            m = scale_path.fullmatch(self.path)
            return scales.get("%s/%s" % m.groups()) if m else None

        def scale_object(self):
            ns, name = scale_path.fullmatch(self.path).groups()
            scaled = scales["%s/%s" % (ns, name)]
            return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                    "metadata": {"name": name, "namespace": ns,
                                 "uid": "4b0c5f43-8d1e-4a4e-9a57-"
                                        "2f1b0e6c7d21",
                                 "resourceVersion": "918273",
                                 "creationTimestamp":
                                     "2026-11-02T09:14:07Z"},
                    "spec": {"replicas": scaled["spec"]},
                    "status": {"replicas": scaled["status"],
                               "selector": "app.kubernetes.io/instance="
                                           "dx,app.kubernetes.io/name=core"}}

        def answer(self, code, body):
            data = json.dumps(body, separators=(",", ":")).encode()
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
