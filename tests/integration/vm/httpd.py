#!/usr/bin/env python3
"""A small HTTP server for tests/integration/vm/run, on 127.0.0.1 only.

Serves files from a directory with what `berth vm init` needs and python's
http.server lacks: single byte ranges (Range: bytes=N-), ETag and If-Range.
It can also misbehave on purpose:

  --cut PATH:BYTES:TIMES   for the first TIMES GETs of PATH, send the headers of the
                           whole file, then only BYTES bytes, then close the connection
  --corrupt PATH           flip one byte (offset 4096) of PATH as it is sent

Each request is logged to --log as "METHOD PATH RANGE-START IF-RANGE STATUS".
The chosen port is written to --port-file. Stops after --max-seconds.
"""
import argparse
import hashlib
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 1 << 16


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--cut", action="append", default=[])
    ap.add_argument("--corrupt", action="append", default=[])
    ap.add_argument("--max-seconds", type=int, default=3600)
    args = ap.parse_args()

    root = os.path.realpath(args.dir)
    cuts = {}
    for c in args.cut:
        path, nbytes, times = c.rsplit(":", 2)
        cuts[path] = [int(nbytes), int(times)]
    corrupt = set(args.corrupt)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def note(self, start, if_range, status):
            with lock, open(args.log, "a") as f:
                f.write(f"{self.command} {self.path} {start} {'if-range' if if_range else '-'} {status}\n")

        def do_HEAD(self):
            self.do_GET(head=True)

        def do_GET(self, head=False):
            path = os.path.realpath(os.path.join(root, self.path.lstrip("/").split("?")[0]))
            rng = self.headers.get("Range")
            if_range = self.headers.get("If-Range")
            start = -1
            if rng and rng.startswith("bytes=") and rng.endswith("-"):
                try:
                    start = int(rng[6:-1])
                except ValueError:
                    start = -1
            if not path.startswith(root + os.sep) or not os.path.isfile(path):
                self.note(start, if_range, 404)
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()
                return
            st = os.stat(path)
            size = st.st_size
            etag = '"%s"' % hashlib.sha256(f"{st.st_ino}-{st.st_mtime_ns}-{size}".encode()).hexdigest()[:16]
            if if_range is not None and if_range != etag:
                start = -1  # the file changed: send it whole
            if start > size:
                self.note(start, if_range, 416)
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()
                return
            status = 206 if start >= 0 else 200
            begin = start if start >= 0 else 0
            self.note(start, if_range, status)
            self.send_response(status)
            self.send_header("Content-Length", str(size - begin))
            if status == 206:
                self.send_header("Content-Range", f"bytes {begin}-{size - 1}/{size}")
            self.send_header("ETag", etag)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Connection", "close")
            self.end_headers()
            if head:
                return
            limit = size - begin
            with lock:
                c = cuts.get(self.path)
                if c and c[1] > 0:
                    c[1] -= 1
                    limit = min(limit, c[0])
            sent = 0
            with open(path, "rb") as f:
                f.seek(begin)
                while sent < limit:
                    buf = f.read(min(CHUNK, limit - sent))
                    if not buf:
                        break
                    if self.path in corrupt and begin + sent <= 4096 < begin + sent + len(buf):
                        i = 4096 - (begin + sent)
                        buf = buf[:i] + bytes([buf[i] ^ 1]) + buf[i + 1:]
                    try:
                        self.wfile.write(buf)
                    except (BrokenPipeError, ConnectionResetError):
                        return
                    sent += len(buf)
            self.close_connection = True

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    deadline = time.time() + args.max_seconds
    while time.time() < deadline and t.is_alive():
        time.sleep(0.5)
    srv.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
