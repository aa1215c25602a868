#!/usr/bin/env python3
"""Live checks of a StateTee engine (or the legacy fixture, where the
contract is the same) with real python-socketio clients.

    engine_live_clients.py URL --token TOKEN [--max-payload N] [--rate-limit N]

Prints one line per passed check and ``OK`` at the end; exits 1 with the
first failure (``FAIL <check>: <detail>``). Every wait has a timeout; the
absence of an emission is checked with a barrier: the client asks for the
state and waits for its own reply, which the server sends after anything
it had queued for that client before.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

import engineio.payload
import requests
import socketio
import socketio.packet

socketio.packet.Packet.json = json
engineio.payload.Payload.max_decode_packets = 1_000_000
WAIT = 10.0


class Failure(Exception):
    pass


def check(name: str, condition: bool, detail: object = "") -> None:
    if not condition:
        raise Failure(f"{name}: {detail}")
    print(f"ok {name}", flush=True)


class Client:
    """A socketio.Client that records every event it receives, in order."""

    def __init__(self, name: str, url: str, transports: list[str]):
        self.name = name
        self.events: list[tuple[str, object]] = []
        self.cond = threading.Condition()
        self.disconnected = threading.Event()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", self._any)
        self.sio.on("disconnect", lambda *a: self.disconnected.set())
        self.sio.connect(url, transports=transports, wait_timeout=WAIT)

    def _any(self, event, *args):
        with self.cond:
            self.events.append((event, args[0] if args else None))
            self.cond.notify_all()

    def named(self, event: str) -> list:
        with self.cond:
            return [p for (e, p) in self.events if e == event]

    def wait_count(self, event: str, count: int, what: str) -> list:
        deadline = time.monotonic() + WAIT
        with self.cond:
            while len([1 for (e, _) in self.events if e == event]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure(f"{self.name}: timed out waiting for {what} "
                                  f"({event} #{count}); got {self.events!r}"[:2000])
                self.cond.wait(left)
            return [p for (e, p) in self.events if e == event]

    def barrier(self) -> dict:
        """request_game_state and wait for the reply; returns it."""
        before = len(self.named("game_state_update"))
        self.sio.emit("request_game_state")
        return self.wait_count("game_state_update", before + 1, "the barrier reply")[-1]

    def close(self):
        try:
            self.sio.disconnect()
        except Exception:  # noqa: BLE001
            pass


def control(url: str, token: str | None, method: str, path: str, body=None):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.request(method, f"{url}/statetee/v1/{path}", json=body, headers=headers, timeout=WAIT)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--token", required=True)
    parser.add_argument("--max-payload", type=int, default=0)
    parser.add_argument("--rate-limit", type=int, default=0)
    args = parser.parse_args()
    url = args.url.rstrip("/")
    clients: list[Client] = []
    try:
        # Connect-time state goes to the connecting client only.
        a = Client("A", url, ["websocket"])
        clients.append(a)
        a_first = a.wait_count("game_state_update", 1, "A's connect-time state")[0]
        check("connect-time state to A", a_first.get("game_phase") == "setup", a_first)
        b = Client("B", url, ["polling"])  # long-polling, then upgrade, like a browser
        clients.append(b)
        b.wait_count("game_state_update", 1, "B's connect-time state")
        a.barrier()
        check("B's connect did not reach A", len(a.named("game_state_update")) == 2, a.events)

        # request_game_state answers the requester only.
        b.barrier()
        a.barrier()
        check("B's request did not reach A", len(a.named("game_state_update")) == 3, a.events)

        # A Pi event: acked, broadcast to everyone.
        pi = Client("Pi", url, ["websocket"])
        clients.append(pi)
        pi.wait_count("game_state_update", 1, "the Pi's connect-time state")
        ack = pi.sio.call("start_new_game", timeout=WAIT)
        check("Pi ack", ack == {"ok": True}, ack)
        a_states = a.wait_count("game_state_update", 4, "the broadcast of start_new_game")
        check("broadcast reached A", a_states[3].get("game_phase") == "name_entry", a_states[3])
        b_states = b.wait_count("game_state_update", 3, "the broadcast of start_new_game")
        check("broadcast reached B", b_states[2].get("game_phase") == "name_entry", b_states[2])
        ack = pi.sio.call("deployment_roll", {"player_id": 3}, timeout=WAIT)
        check("Pi ack of a failing handler", ack == {"ok": False, "error": "KeyError: 'player3'"}, ack)
        ack = pi.sio.call("start_game", timeout=WAIT)
        check("Pi ack of a refusal", ack == {"ok": False, "error": "First turn player not set."}, ack)

        # Bad input: an error event to the sender alone, the state untouched.
        before = b.barrier()
        a_count = len(a.named("game_state_update"))
        a.sio.emit("update_score", {"player_id": 1, "score_type": "primary", "value": "abc"})
        errors = a.wait_count("error", 1, "the error event of bad input")
        check("error event to the sender", errors[0].get("code") == "INVALID_STATE"
              and errors[0].get("details", {}).get("event") == "update_score", errors[0])
        a.sio.emit("update_score", "not an object")
        errors = a.wait_count("error", 2, "the error event of a non-object payload")
        check("second error event", errors[1].get("code") == "INVALID_STATE", errors[1])
        after = b.barrier()
        check("state untouched by bad input", after == before, (before, after))
        check("no error event to B", b.named("error") == [], b.events)
        a.barrier()
        check("no broadcast for bad input", len(a.named("game_state_update")) == a_count + 1, a.events)

        # Control API: 401 without or with a wrong token, and nothing changes.
        for token in (None, "wrong-" + args.token):
            r = control(url, token, "PUT", "state", {"state": {"game_phase": "hacked"}, "broadcast": True})
            check(f"control PUT refused ({'no' if token is None else 'wrong'} token)",
                  r.status_code == 401 and r.json()["error"]["code"] == "AUTH_FAILED", (r.status_code, r.text))
            r = control(url, token, "PUT", "shadow", {"shadow": True})
            check("control shadow refused", r.status_code == 401, r.status_code)
        check("state unchanged after refused control", b.barrier() == after, "")

        r = control(url, args.token, "GET", "state")
        check("control GET state", r.status_code == 200 and r.json()["state"]["game_phase"] == "name_entry", r.text)
        sequence = r.json()["sequence"]
        r = control(url, args.token, "PATCH", "state", {"patches": [{"path": "/nope/x", "value": 1}]})
        check("control PATCH invalid path", r.status_code == 422 and r.json()["error"]["code"] == "INVALID_PATCH", r.text)
        r = control(url, args.token, "PATCH", "state", "not json {")
        check("control PATCH malformed body", r.status_code == 400, r.text)
        r = requests.patch(f"{url}/statetee/v1/state", data=b"{nope", timeout=WAIT,
                           headers={"Authorization": f"Bearer {args.token}", "Content-Type": "application/json"})
        check("control PATCH unparsable JSON", r.status_code == 400, r.text)
        r = control(url, args.token, "PATCH", "state",
                    {"patches": [{"path": "/player1/name", "value": "Zoe"}], "reason": "test", "broadcast": True})
        check("control PATCH", r.status_code == 200 and r.json()["sequence"] == sequence + 1, r.text)
        b.barrier()
        check("patch applied", b.named("game_state_update")[-1]["player1"]["name"] == "Zoe", b.events[-1])

        # Shadow mode at run time: requesters answered, nothing broadcast.
        r = control(url, args.token, "PUT", "shadow", {"shadow": True})
        check("shadow on", r.status_code == 200 and r.json() == {"shadow": True}, r.text)
        a_count = len(a.named("game_state_update"))
        ack = pi.sio.call("start_deployment_phase", timeout=WAIT)
        check("Pi ack in shadow mode", ack == {"ok": True}, ack)
        reply = a.barrier()
        check("shadow: processed", reply.get("game_phase") == "deployment_setup", reply)
        check("shadow: no broadcast", len(a.named("game_state_update")) == a_count + 1, a.events)
        r = control(url, args.token, "PUT", "shadow", {"shadow": False})
        check("shadow off", r.json() == {"shadow": False}, r.text)
        ack = pi.sio.call("start_first_turn_phase", timeout=WAIT)
        a.wait_count("game_state_update", a_count + 2, "the broadcast after shadow off")
        check("broadcasts again", a.named("game_state_update")[-1]["game_phase"] == "first_turn_setup", "")

        # Rate limit: a flood gets RATE_LIMITED.
        if args.rate_limit:
            flood = Client("Flood", url, ["websocket"])
            clients.append(flood)
            flood.wait_count("game_state_update", 1, "the flooder's connect-time state")
            for _ in range(args.rate_limit * 3):
                flood.sio.emit("request_game_state")
            errors = flood.wait_count("error", 1, "RATE_LIMITED")
            check("rate limited", errors[0]["code"] == "RATE_LIMITED", errors[0])

        # A message over maxPayload disconnects its sender; the state is untouched.
        if args.max_payload:
            big = Client("Big", url, ["websocket"])
            clients.append(big)
            big.wait_count("game_state_update", 1, "")
            before = a.barrier()
            big.sio.emit("set_player_name", {"player_id": 1, "name": "x" * (args.max_payload + 10)})
            check("oversized message disconnects", big.disconnected.wait(WAIT), "still connected")
            check("state untouched by oversized message", a.barrier() == before, "")
        print("OK", flush=True)
        return 0
    except Failure as failure:
        print(f"FAIL {failure}", flush=True)
        return 1
    finally:
        for c in clients:
            c.close()


if __name__ == "__main__":
    sys.exit(main())
