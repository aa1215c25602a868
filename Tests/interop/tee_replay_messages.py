#!/usr/bin/env python3
"""fixtures/sessions/replay.py with every client's received messages in its report.

    python3 tee_replay_messages.py SESSION.jsonl --url URL --report FILE [replay.py options]

Runs replay.py's ``main`` unchanged, recording in arrival order each message a
replay client receives on its current connection (the same filter replay.py
applies: a late message of an earlier connection is dropped), and adds to the
report ``"messages": {client: [{"name": ..., "payload": first arg or null}, ...]}``
(the final-state observer is client ``$final``).  Used by the tee tests to compare,
client by client, what the legacy sent directly with what arrived through the proxy.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
spec = importlib.util.spec_from_file_location(
    "replay", os.path.join(ROOT, "fixtures", "sessions", "replay.py"))
replay = importlib.util.module_from_spec(spec)
sys.modules["replay"] = replay
spec.loader.exec_module(replay)

messages: dict[str, list[dict]] = {}
lock = threading.Lock()
original_on_any = replay.ReplayClient._on_any


def on_any(self, generation, event, *args):
    with self.cond:
        current = generation == self.generation
    if current:
        with lock:
            messages.setdefault(self.name, []).append(
                {"name": event, "payload": args[0] if args else None})
    original_on_any(self, generation, event, *args)


replay.ReplayClient._on_any = on_any


def main(argv: list[str]) -> int:
    report = None
    for i, arg in enumerate(argv):
        if arg == "--report" and i + 1 < len(argv):
            report = argv[i + 1]
    status = replay.main(argv)
    if report is not None and os.path.exists(report):
        with open(report) as f:
            data = json.load(f)
        with lock:
            data["messages"] = messages
        with open(report, "w") as f:
            json.dump(data, f, indent=2, sort_keys=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
