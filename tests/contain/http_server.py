#!/usr/bin/python3
"""http_server.py RECORD - an HTTP server for the containment tests.

Listens on 127.0.0.1 with a port the OS chooses and prints "PORT n" on
stdout once it accepts connections. Every request is appended to RECORD as
one JSON line {method, path, headers, body} (written and flushed before
the answer goes out). The answer depends on the path:

  /status/NNN/...   status NNN, body "status NNN"
  /hang/...         no answer at all (the handler sleeps until the server
                    stops)
  anything else     200, body "locked <path>"

The server stops when its stdin reaches EOF (the test that started it
closed the pipe or died) or after 120 s, whichever is first, so a failed
test cannot leave it running. Stdlib only; run it with /usr/bin/python3.
"""
import http.server
import json
import os
import sys
import threading
import time

MAX_LIFE = 120.0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _record(self, body):
        rec = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
        }
        with open(self.server.record, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")
            f.flush()

    def _handle(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        self._record(body)
        parts = self.path.split("/")
        if len(parts) > 2 and parts[1] == "hang":
            time.sleep(MAX_LIFE)
            return
        status = 200
        text = "locked " + self.path
        if len(parts) > 2 and parts[1] == "status":
            status = int(parts[2])
            text = "status %d" % status
        out = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: http_server.py RECORD\n")
        return 2
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.record = sys.argv[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    sys.stdout.write("PORT %d\n" % srv.server_address[1])
    sys.stdout.flush()

    def watch_stdin():
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    time.sleep(MAX_LIFE)
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
