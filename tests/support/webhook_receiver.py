#!/usr/bin/env python3
"""A webhook receiver for tests: a real HTTP server on loopback.

    webhook_receiver.py PORT OUT

Listens on 127.0.0.1:PORT (0: any free port), prints "listening on port N"
once it accepts connections, and appends each POST it receives to OUT as
one JSON line: {"path", "content_type", "body"} (body as text). Answers
200 with an empty body.
"""
import http.server
import json
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (the standard library's name)
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8")
        with open(sys.argv[2], "a", encoding="utf-8") as out:
            out.write(json.dumps({
                "path": self.path,
                "content_type": self.headers.get("Content-Type", ""),
                "body": body,
            }) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass  # the test reads OUT, not a log


def main():
    server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("listening on port", server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
