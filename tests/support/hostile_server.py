#!/usr/bin/env python3
"""A fault-injecting HTTPS server on loopback, for what nginx will not do. One mode per path:

  /truncated        Content-Length 10000, sends 4000 bytes, closes the TCP connection (no TLS close_notify)
  /long-length      Content-Length 10000, sends 4000 bytes, closes cleanly (close_notify): the length lies
  /reset            Content-Length 10000, sends 4000 bytes, resets the connection (RST)
  /stall            Content-Length 10000, sends 100 bytes, then silence
  /drip             Content-Length 40, one byte every 50 ms
  /silent-head      reads the request, never answers
  /headers/E/L      302 with an ETag of E characters and a Location of L characters
  /no-length        no Content-Length, 5000 bytes, close-delimited
  /huge             Content-Length 8 MiB of pattern(i) = i % 251
  /file/NAME        ROOT/NAME with a stable ETag; honours "Range: bytes=N-" and If-Range
  /changing/NAME    the same, but the ETag changes on every request: If-Range never matches
  /cut/NAME         ROOT/NAME as /file/ does (Range too), but every answer stops halfway: FIN, no close_notify
  /lying/NAME       ROOT/NAME whole (Range ignored) under a Content-Length one 4 KiB sector too long
  /stall-file/NAME  ROOT/NAME's headers and first half, then silence
  /longer           Content-Length 10000, sends 14096 bytes, closes cleanly: more body than announced
  /gzip             Content-Encoding: gzip (10 bytes that are not even gzip)
  /accept-encoding  the request's Accept-Encoding header as the body ("(none)" without one)
  /chunked          Transfer-Encoding: chunked, the 10000 bytes of /truncated's body in chunks of varied size

Usage: hostile_server.py --cert CRT --key KEY --root DIR. Listens on a free port of 127.0.0.1 and prints
it; exits on SIGTERM or when its parent dies.
"""
import argparse
import hashlib
import itertools
import os
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

HUGE = 8 * 1024 * 1024
BODY = bytes(i % 251 for i in range(10000))
changes = itertools.count()


def pattern(start, length):
    block = bytes(range(251))
    out = block[start % 251:] + block * ((length + 251) // 251 + 1)
    return out[:length]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def head(self, status, headers):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.flush()

    def end_abruptly(self):
        # FIN under the TLS layer, without close_notify: the stream just stops, as when a link drops.
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def end_cleanly(self):
        # TLS close_notify, then FIN: a deliberate end of the stream.
        self.close_connection = True
        try:
            self.connection.unwrap().shutdown(socket.SHUT_RDWR)
        except (ssl.SSLError, OSError):
            pass

    def do_GET(self):
        path = self.path
        if path == "/truncated":
            self.head(200, [("Content-Length", "10000")])
            self.wfile.write(BODY[:4000])
            self.end_abruptly()
        elif path == "/long-length":
            self.head(200, [("Content-Length", "10000")])
            self.wfile.write(BODY[:4000])
            self.end_cleanly()
        elif path == "/reset":
            self.head(200, [("Content-Length", "10000")])
            self.wfile.write(BODY[:4000])
            # Closed with linger 0 when the handler returns: the kernel sends RST instead of FIN.
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif path == "/stall":
            self.head(200, [("Content-Length", "10000")])
            self.wfile.write(BODY[:100])
            self.wfile.flush()
            time.sleep(60)
        elif path == "/drip":
            self.head(200, [("Content-Length", "40")])
            for i in range(40):
                self.wfile.write(BODY[i:i + 1])
                self.wfile.flush()
                time.sleep(0.05)
        elif path == "/longer":
            self.head(200, [("Content-Length", "10000")])
            self.wfile.write(BODY + BODY[:4096])
            self.end_cleanly()
        elif path == "/gzip":
            self.head(200, [("Content-Length", "10"), ("Content-Encoding", "gzip")])
            self.wfile.write(BODY[:10])
        elif path == "/accept-encoding":
            value = self.headers.get("Accept-Encoding", "(none)").encode()
            self.head(200, [("Content-Length", str(len(value)))])
            self.wfile.write(value)
        elif path == "/chunked":
            self.head(200, [("Transfer-Encoding", "chunked")])
            sent, size = 0, 1
            while sent < len(BODY):
                piece = BODY[sent:sent + size]
                self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
                sent += len(piece)
                size = size * 3 % 1999 + 1
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/silent-head":
            time.sleep(60)
        elif path.startswith("/headers/"):
            etag_length, location_length = (int(n) for n in path.split("/")[2:4])
            self.head(302, [("ETag", '"' + "e" * (etag_length - 2) + '"'),
                            ("Location", "/" + "l" * (location_length - 1)), ("Content-Length", "0")])
        elif path == "/no-length":
            self.close_connection = True
            self.head(200, [("Connection", "close")])
            self.wfile.write(BODY[:5000])
            self.end_cleanly()
        elif path == "/huge":
            self.head(200, [("Content-Length", str(HUGE))])
            chunk = pattern(0, 251 * 64)
            sent = 0
            while sent < HUGE:
                piece = chunk[:min(len(chunk), HUGE - sent)]
                self.wfile.write(piece)
                sent += len(piece)
        elif path.startswith("/file/") or path.startswith("/changing/"):
            self.serve_file(path.split("/", 2)[2], changing=path.startswith("/changing/"))
        elif path.startswith("/cut/"):
            self.serve_file(path.split("/", 2)[2], changing=False, fault="cut")
        elif path.startswith("/lying/"):
            self.serve_file(path.split("/", 2)[2], changing=False, fault="lying")
        elif path.startswith("/stall-file/"):
            self.serve_file(path.split("/", 2)[2], changing=False, fault="stall")
        else:
            self.head(404, [("Content-Length", "0")])

    def serve_file(self, name, changing, fault=None):
        full = os.path.join(self.server.root, name)
        if "/" in name or not os.path.isfile(full):
            self.head(404, [("Content-Length", "0")])
            return
        data = open(full, "rb").read()
        etag = '"%s"' % hashlib.sha256(data).hexdigest()[:16]
        if changing:
            etag = '"%s-%d"' % (etag.strip('"'), next(changes))
        start = 0
        if fault == "lying":
            self.head(200, [("ETag", etag), ("Content-Length", str(len(data) + 4096))])
            self.wfile.write(data)
            self.end_cleanly()
            return
        ranged = self.headers.get("Range", "")
        if_range = self.headers.get("If-Range")
        if ranged.startswith("bytes=") and ranged.endswith("-") and (if_range is None or if_range == etag):
            start = int(ranged[6:-1])
        headers = [("ETag", etag), ("Content-Length", str(len(data) - start))]
        if start > 0:
            if start >= len(data):
                self.head(416, [("Content-Range", "bytes */%d" % len(data)), ("Content-Length", "0")])
                return
            headers.append(("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data))))
        self.head(206 if start > 0 else 200, headers)
        if fault is None:
            self.wfile.write(data[start:])
            return
        half = start + (len(data) - start) // 2
        self.wfile.write(data[start:half])
        self.wfile.flush()
        if fault == "stall":
            time.sleep(60)
        self.end_abruptly()


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, context, root):
        super().__init__(("127.0.0.1", 0), Handler)
        self.context = context
        self.root = root

    def finish_request(self, request, client_address):
        # The handshake runs in the request's thread, so that a slow client never blocks the others.
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        except (ssl.SSLError, OSError):
            pass
        finally:
            tls.close()

    def shutdown_request(self, request):
        try:
            request.close()
        except OSError:
            pass


def watch_parent(parent):
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--root", required=True)
    args = parser.parse_args()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(args.cert, args.key)
    server = Server(context, args.root)
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
