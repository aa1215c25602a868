"""The legacy fixture, lagging: ``increment_cp`` is applied LAG seconds after it
arrives (in arrival order, by one worker thread), while everything else, state
requests included, is answered at once. It stands for a server that has not yet
read its last events but answers reads: a threaded legacy starved of CPU.

    python tee_lagging_server.py --lag 0.6 [the options of server.py]

For the tee proxy's switchover tests (the drain must not take the old state,
read twice alike, for a settled one).
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "fixtures", "legacy-server"))

import legacy_game  # noqa: E402
import server  # noqa: E402


class LaggingGame(legacy_game.LegacyGame):
    lag = 0.6

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._due: queue.Queue = queue.Queue()
        threading.Thread(target=self._apply_late, name="lag", daemon=True).start()

    def handle_web_increment_cp(self, data):
        # Called with self.lock held, in arrival order (--ordered).
        self._due.put((time.monotonic() + self.lag, data))

    def _apply_late(self):
        while True:
            due, data = self._due.get()
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            with self.lock:
                legacy_game.LegacyGame.handle_web_increment_cp(self, data)


def main() -> int:
    argv = sys.argv[1:]
    if "--lag" in argv:
        i = argv.index("--lag")
        LaggingGame.lag = float(argv[i + 1])
        del argv[i:i + 2]
    server.LegacyGame = LaggingGame  # server.main builds its game by this name
    return server.main(argv)


if __name__ == "__main__":
    sys.exit(main())
