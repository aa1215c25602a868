"""python-socketio 5.18 clients against the Swift SocketIOServer (Tests/SocketIOTests/InteropTests.swift).

Usage: py_client.py SCENARIO URL [COUNT]

Prints one JSON object per line for what it saw ({"event": ..., ...}), then {"ok": true}
("broadcast" prints "READY <count>" once all its clients are connected, then waits for the broadcast).
Exits non-zero (with the reason on stderr) when the server does not behave. The server side is
the test namespace of InteropTests.swift: on connect it emits "welcome"; "echo" is answered by
"echo-back" with the same arguments; "ack-me" is acknowledged with its arguments; "ask-client"
makes the server emit "question" with an ack and report the client's answer as "client-answered".
"""
import json
import sys
import threading
import time

import requests
import socketio
import websocket

TIMEOUT = 10


def emit_line(**fields):
    print(json.dumps(fields, sort_keys=True), flush=True)


def jsonable(value):
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": list(value)}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def fail(message):
    print(message, file=sys.stderr, flush=True)
    sys.exit(1)


class Recorder:
    """A socketio.Client whose events are queued per name."""

    def __init__(self, url, transports, auth=None):
        self.client = socketio.Client(reconnection=False)
        self.lock = threading.Condition()
        self.events = []
        for name in ("welcome", "echo-back", "client-answered", "news", "binary-back"):
            self.client.on(name, self._recorder(name))
        self.client.on("question", self._answer)
        self.client.connect(url, transports=transports, auth=auth, wait_timeout=TIMEOUT)

    def _recorder(self, name):
        def handler(*args):
            with self.lock:
                self.events.append((name, list(args)))
                self.lock.notify_all()
        return handler

    def _answer(self, *args):
        # The return value is the ack the server waits for.
        return ("answer", *args)

    def wait(self, name, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for index, (event, args) in enumerate(self.events):
                    if event == name:
                        del self.events[index]
                        return args
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    fail(f"no {name!r} within {timeout}s (seen: {self.events})")
                self.lock.wait(remaining)


def leave(client):
    """Disconnects once everything the client queued has been sent and answered.

    python-engineio 4.15's polling write loop looks at its state after each POST: a
    disconnect() made while a POST is unanswered (the client may read the reply to that POST's
    event on its long poll first) makes the loop exit with the Socket.IO DISCONNECT and the
    Engine.IO CLOSE still queued. The server then learns of the leave only by its heartbeat
    (25 + 20 s), and the client's last poll hangs until the first ping. The send queue's
    task_done follows each POST's answer (each WebSocket send), so joining it closes that window.
    Prints ``{"event": "leaving"}`` first.
    """
    emit_line(event="leaving")
    drained = threading.Thread(target=client.eio.queue.join, daemon=True)
    drained.start()
    drained.join(TIMEOUT)
    check(not drained.is_alive(), f"queued packets still unsent after {TIMEOUT}s")
    client.disconnect()


def check(condition, message):
    if not condition:
        fail(message)


def exchange(url, transports, expected_transport):
    rec = Recorder(url, transports, auth={"token": "py"})
    welcome = rec.wait("welcome")
    emit_line(event="welcome", args=jsonable(welcome), transport=rec.client.transport())
    check(welcome[0]["auth"] == {"token": "py"}, f"auth not seen by the server: {welcome}")
    check(rec.client.transport() == expected_transport, f"transport {rec.client.transport()}")
    args = [1, "two", {"3": [True, None, 4.5]}, "é ✓"]
    rec.client.emit("echo", tuple(args))
    back = rec.wait("echo-back")
    emit_line(event="echo-back", args=jsonable(back))
    check(back == args, f"echo-back {back} != {args}")
    return rec


def scenario_events(url, transports, expected):
    rec = exchange(url, transports, expected)
    leave(rec.client)


def scenario_acks(url):
    rec = exchange(url, ["websocket"], "websocket")
    answer = rec.client.call("ack-me", ({"n": 1}, [2, 3]), timeout=TIMEOUT)
    emit_line(event="ack", args=jsonable(answer))
    check(answer == ({"n": 1}, [2, 3]), f"ack {answer}")
    rec.client.emit("ask-client", ("q1", 7))
    answered = rec.wait("client-answered")
    emit_line(event="client-answered", args=jsonable(answered))
    check(answered == ["answer", "q1", 7], f"client-answered {answered}")
    leave(rec.client)


def scenario_binary(url, transports):
    rec = Recorder(url, transports)
    rec.wait("welcome")
    blob = bytes(range(256)) * 4
    rec.client.emit("echo", ("bin", blob, {"nested": b"\x00\x01\x02"}))
    back = rec.wait("echo-back")
    emit_line(event="echo-back", args=jsonable(back), transport=rec.client.transport())
    check(back == ["bin", blob, {"nested": b"\x00\x01\x02"}], "binary echo differs")
    answer = rec.client.call("ack-me", (b"\xff\xfe", "x"), timeout=TIMEOUT)
    emit_line(event="ack", args=jsonable(answer))
    check(answer == (b"\xff\xfe", "x"), f"binary ack {answer}")
    rec.client.emit("send-binary")
    sent = rec.wait("binary-back")
    emit_line(event="binary-back", args=jsonable(sent))
    check(sent == [b"\x01\x02\x03", {"x": b"\xaa"}], f"server binary {sent}")
    leave(rec.client)


def scenario_broadcast(url, count):
    received = [threading.Event() for _ in range(count)]
    payloads = [None] * count
    clients = []
    for index in range(count):
        client = socketio.Client(reconnection=False)

        def on_news(*args, index=index):
            payloads[index] = list(args)
            received[index].set()
        client.on("news", on_news)
        client.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
        clients.append(client)
    print(f"READY {len(clients)}", flush=True)
    for index, event in enumerate(received):
        check(event.wait(TIMEOUT), f"client {index} got no broadcast")
    distinct = {json.dumps(p) for p in payloads}
    check(len(distinct) == 1, f"clients saw different broadcasts: {distinct}")
    emit_line(event="news", received=count, args=payloads[0])
    for client in clients:
        leave(client)


def scenario_malformed(url, max_payload):
    base = url.rstrip("/")
    ws_url = base.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
    # A well-behaved client stays connected through all of it.
    good = exchange(url, ["websocket"], "websocket")

    def raw_socket():
        ws = websocket.create_connection(ws_url, timeout=TIMEOUT)
        check(ws.recv().startswith("0{"), "no Engine.IO handshake")
        return ws

    def expect_closed(ws, label):
        try:
            while True:
                opcode, data = ws.recv_data(control_frame=True)
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    break
        except websocket.WebSocketConnectionClosedException:
            pass
        emit_line(event="closed", case=label)

    ws = raw_socket()
    ws.send("40")
    check(ws.recv().startswith("40{"), "no Socket.IO handshake")
    ws.send("4abc")
    expect_closed(ws, "garbage socket.io packet")

    ws = raw_socket()
    ws.send("x garbage")
    expect_closed(ws, "garbage engine.io packet")

    ws = raw_socket()
    ws.send("40")
    ws.recv()
    ws.send('42["echo","' + "x" * (max_payload + 10) + '"]')
    expect_closed(ws, "oversized websocket message")

    session = requests.Session()
    polling = base + "/socket.io/?EIO=4&transport=polling"
    sid = json.loads(session.get(polling, timeout=TIMEOUT).text[1:])["sid"]
    oversized = session.post(polling + "&sid=" + sid, data="4" + "y" * (max_payload + 10), timeout=TIMEOUT)
    check(oversized.status_code == 413, f"oversized POST answered {oversized.status_code}")
    after = session.get(polling + "&sid=" + sid, timeout=TIMEOUT)
    check(after.status_code == 400, f"poll after oversized POST answered {after.status_code}")
    emit_line(event="rejected", case="oversized POST", status=oversized.status_code)

    sid = json.loads(session.get(polling, timeout=TIMEOUT).text[1:])["sid"]
    garbage = session.post(polling + "&sid=" + sid, data="\x1e\x1ezzz", timeout=TIMEOUT)
    check(garbage.status_code == 400, f"garbage POST answered {garbage.status_code}")
    emit_line(event="rejected", case="garbage POST", status=garbage.status_code)

    # Still serving: the first client and a new one.
    good.client.emit("echo", ("still", "here"))
    check(good.wait("echo-back") == ["still", "here"], "the good client lost its echo")
    fresh = exchange(url, ["polling", "websocket"], "websocket")
    emit_line(event="still-serving")
    leave(fresh.client)
    leave(good.client)


def main():
    if len(sys.argv) < 3:
        fail(__doc__)
    scenario, url = sys.argv[1], sys.argv[2]
    if scenario == "polling-upgrade":
        scenario_events(url, ["polling", "websocket"], "websocket")
    elif scenario == "polling-only":
        scenario_events(url, ["polling"], "polling")
    elif scenario == "websocket-only":
        scenario_events(url, ["websocket"], "websocket")
    elif scenario == "acks":
        scenario_acks(url)
    elif scenario == "binary-websocket":
        scenario_binary(url, ["websocket"])
    elif scenario == "binary-polling":
        scenario_binary(url, ["polling"])
    elif scenario == "broadcast":
        scenario_broadcast(url, int(sys.argv[3]) if len(sys.argv) > 3 else 100)
    elif scenario == "malformed":
        scenario_malformed(url, int(sys.argv[3]) if len(sys.argv) > 3 else 1000)
    else:
        fail(f"unknown scenario {scenario}")
    emit_line(ok=True)


if __name__ == "__main__":
    main()
