"""A scripted python-socketio client for the tee proxy's end-to-end tests.

    python tee_client.py --url http://127.0.0.1:P [--transport websocket|polling]
                         --script JSON [--connect-timeout S]

The script is a JSON list of steps, run in order once connected:

- ``{"emit": name, "args": [...]}``: emit without an ack (phone events);
  ``{"emit": name, "binary": n}`` emits n zero bytes (one binary attachment).
- ``{"call": name, "args": [...]}``: emit with an ack and wait for it (Pi events);
  in an ordered legacy the ack follows every broadcast the event caused, so a
  ``call`` is also a barrier.
- ``{"sleep": seconds}``: pace the sender.
- ``{"wait_stdin": true}``: print ``WAITING`` and stay connected until the test writes a
  line to standard input (or closes it).
- ``{"repeat": n, "steps": [...], "every": seconds}``: run ``steps`` n times.

Output, one line each on stdout (JSON after the keyword):
``CONNECTED``, ``EVENT {"name","args"}``, ``ACK {"name","args"}``,
``DISCONNECTED {"reason"}``, ``CONNECT_ERROR {...}``, and at the end
``DONE {"sent", "disconnects", "connects"}``.  Exit status 0 when every step ran.
Lines are printed in the order the client received the packets.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time

import engineio
import socketio

lock = threading.Lock()


class InOrderEngineIOClient(engineio.Client):
    """python-engineio runs each received message's handler in a new thread, so
    handlers (and our output lines) may run out of the received order. Run them
    inline instead: the output is then exactly the order the client received."""

    def _trigger_event(self, event, *args, **kwargs):
        if event == "message":
            kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)


class InOrderClient(socketio.Client):
    def _engineio_client_class(self):
        return InOrderEngineIOClient


def out(kind: str, payload=None) -> None:
    with lock:
        if payload is None:
            sys.stdout.write(kind + "\n")
        else:
            sys.stdout.write(kind + " " + json.dumps(payload, sort_keys=True) + "\n")
        sys.stdout.flush()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--transport", default="websocket", choices=["websocket", "polling"])
    p.add_argument("--script", required=True)
    p.add_argument("--connect-timeout", type=float, default=10.0)
    p.add_argument("--ack-timeout", type=float, default=10.0)
    args = p.parse_args()
    script = json.loads(args.script)

    debug = bool(os.environ.get("TEE_CLIENT_DEBUG"))
    if debug:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    sio = InOrderClient(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1,
                          logger=debug, engineio_logger=debug)
    stats = {"sent": 0, "disconnects": 0, "connects": 0}
    connected = threading.Event()

    @sio.event
    def connect():
        stats["connects"] += 1
        out("CONNECTED")
        connected.set()

    @sio.event
    def connect_error(data):
        out("CONNECT_ERROR", data if isinstance(data, (dict, list, str)) else str(data))

    @sio.event
    def disconnect(reason=None):
        stats["disconnects"] += 1
        connected.clear()
        out("DISCONNECTED", {"reason": str(reason)})

    @sio.on("*")
    def any_event(event, *data):
        out("EVENT", {"name": event, "args": list(data)})

    transports = ["websocket"] if args.transport == "websocket" else ["polling"]
    sio.connect(args.url, transports=transports, wait_timeout=args.connect_timeout)

    def run(steps):
        for step in steps:
            if "emit" in step:
                connected.wait(args.connect_timeout)
                payload = (bytes(step["binary"]),) if "binary" in step else tuple(step.get("args", []))
                sio.emit(step["emit"], payload)
                stats["sent"] += 1
            elif "call" in step:
                connected.wait(args.connect_timeout)
                result = sio.call(step["call"], tuple(step.get("args", [])) or None, timeout=args.ack_timeout)
                stats["sent"] += 1
                out("ACK", {"name": step["call"], "args": result})
            elif "sleep" in step:
                time.sleep(step["sleep"])
            elif "wait_stdin" in step:
                out("WAITING", {})
                sys.stdin.readline()
            elif "repeat" in step:
                for _ in range(step["repeat"]):
                    run(step["steps"])
                    if step.get("every"):
                        time.sleep(step["every"])

    ok = True
    try:
        run(script)
    except Exception as exc:  # noqa: BLE001
        out("FAILED", {"error": repr(exc)})
        ok = False
    out("DONE", stats)
    sio.disconnect()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
