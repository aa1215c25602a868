"""A tiny Flask-SocketIO echo server for SocketIOClient's interop tests.

    python flask_echo_server.py [--port 0] [--ping-interval S] [--ping-timeout S]

Binds 127.0.0.1, prints ``LISTENING <port>`` on stdout once bound, then
serves until SIGTERM. Events (default namespace):

- ``echo`` *args: emits ``echo`` with the same args back to the sender (events
  are handled on concurrent threads: echoes may come back in another order).
- ``sequenced``: emits ``sequenced`` with a number counted from 0 for the whole
  server, counted and emitted under one lock, so the numbers leave in order.
- ``ack`` *args: acknowledges with the same args.
- ``broadcast`` *args: emits ``broadcast`` with the args to every client.
- ``binary`` *args: emits ``binary`` back; ``bytes`` values (at any depth)
  come back as binary attachments, and one more arg ``{"sizes": [...]}``
  lists the sizes of the bytes values received (proving the server saw real
  bytes).
- ``ask`` *args: emits ``question`` with the args and an ack callback; the
  client's ack args come back in an ``answer`` event.
- ``whoami``: acknowledges with ``{"sid", "auth", "transport"}``.
- ``disconnect_me``: the server disconnects the client (Socket.IO disconnect).
- ``drop_me``: the server closes the client's Engine.IO session (transport close).

A client connecting with auth ``{"reject": true}`` gets a connect error
``{"message": "Not authorized"}``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from flask import Flask, request
from flask_socketio import ConnectionRefusedError, SocketIO, disconnect, emit
from werkzeug.serving import make_server


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--ping-interval", type=float, default=25.0)
    p.add_argument("--ping-timeout", type=float, default=20.0)
    args = p.parse_args()

    app = Flask(__name__)
    socketio = SocketIO(app, async_mode="threading", cors_allowed_origins="*",
                        ping_interval=args.ping_interval,
                        ping_timeout=args.ping_timeout,
                        logger=False, engineio_logger=False)
    auths: dict[str, object] = {}

    @socketio.on("connect")
    def on_connect(auth=None):
        if isinstance(auth, dict) and auth.get("reject"):
            raise ConnectionRefusedError("Not authorized")
        auths[request.sid] = auth

    @socketio.on("disconnect")
    def on_disconnect(reason=None):
        auths.pop(request.sid, None)

    @socketio.on("echo")
    def on_echo(*a):
        emit("echo", a)

    sequence_lock = threading.Lock()
    sequence = [0]

    @socketio.on("sequenced")
    def on_sequenced(*a):
        with sequence_lock:
            emit("sequenced", sequence[0])
            sequence[0] += 1

    @socketio.on("sequence_count")
    def on_sequence_count(*a):
        with sequence_lock:
            return sequence[0]

    @socketio.on("ack")
    def on_ack(*a):
        return a

    @socketio.on("broadcast")
    def on_broadcast(*a):
        emit("broadcast", a, broadcast=True)

    def byte_sizes(value):
        if isinstance(value, (bytes, bytearray)):
            return [len(value)]
        if isinstance(value, (list, tuple)):
            return [n for item in value for n in byte_sizes(item)]
        if isinstance(value, dict):
            return [n for item in value.values() for n in byte_sizes(item)]
        return []

    @socketio.on("binary")
    def on_binary(*a):
        emit("binary", a + ({"sizes": byte_sizes(a)},))

    @socketio.on("ask")
    def on_ask(*a):
        sid = request.sid

        def answered(*reply):
            socketio.emit("answer", reply, to=sid)

        emit("question", a, callback=answered)

    @socketio.on("whoami")
    def on_whoami():
        return {"sid": request.sid, "auth": auths.get(request.sid),
                "transport": socketio.server.transport(request.sid)}

    @socketio.on("disconnect_me")
    def on_disconnect_me():
        disconnect()

    @socketio.on("drop_me")
    def on_drop_me():
        eio_sid = socketio.server.manager.eio_sid_from_sid(request.sid, "/")
        threading.Thread(target=socketio.server.eio.disconnect,
                         args=(eio_sid,), daemon=True).start()

    server = make_server("127.0.0.1", args.port, app, threaded=True)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    sys.stdout.write(f"LISTENING {server.server_port}\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    # Engine.IO's ping and WebSocket threads are not daemons: leave at once.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
