"""A server that speaks WebSocket but sends garbage instead of Engine.IO, for
the tee proxy's fail-open tests.

    python tee_garbage_server.py [--port 0]

Binds 127.0.0.1, prints ``LISTENING <port>``, then for every connection:
answers a WebSocket upgrade properly and then sends junk text and binary
frames (never an Engine.IO open packet); answers any other HTTP request with
a 200 of junk. Runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import signal
import socket
import socketserver
import sys
import time

MAGIC = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def frame(opcode: int, payload: bytes) -> bytes:
    header = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        header += bytes([n])
    elif n < 65536:
        header += bytes([126]) + n.to_bytes(2, "big")
    else:
        header += bytes([127]) + n.to_bytes(8, "big")
    return header + payload


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        conn: socket.socket = self.request
        conn.settimeout(30)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
            headers = {}
            for line in head.split("\r\n")[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            key = headers.get("sec-websocket-key")
            if key is None:
                body = os.urandom(64)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 64\r\nConnection: close\r\n\r\n" + body)
                return
            accept = base64.b64encode(hashlib.sha1((key + MAGIC).encode()).digest()).decode()
            conn.sendall(
                ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
            junk = [b"garbage!", b"{not json", b"9999", b"\x00\x01", b"4{{{"]
            for i in range(200):
                conn.sendall(frame(0x1, junk[i % len(junk)]))
                conn.sendall(frame(0x2, os.urandom(16)))
                time.sleep(0.05)
        except OSError:
            pass


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    server = Server(("127.0.0.1", args.port), Handler)

    def stop(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    sys.stdout.write(f"LISTENING {server.server_address[1]}\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
