#!/usr/bin/env python3
"""Manual check: a person's full game in a real browser, against any server
speaking the legacy contract (the engine, the legacy fixture, the proxy).

    engine_browser_check.py URL --token TOKEN [--chromium /usr/bin/chromium] [--screenshot out.png]

Headless Chromium opens the fixture's Pi page (`/pi.html`) and both player
pages (`/player/1`, `/player/2`, which connect by long-polling and upgrade
to WebSocket like any browser), then clicks their buttons as players would:
new game, names, deployment and first-turn roll-offs (rolling again on a
tie), roles, start, and five rounds of score / CP / end turn until the game
is over. The state is read through the control API (`--token`) to decide
the next click and to check the end. Needs the Socket.IO browser client
(`fixtures/legacy-server/fetch-client.sh`). Not part of the test suite: it
drives a browser, which CI machines may lack.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import requests
import websocket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Tab:
    def __init__(self, devtools: int, url: str):
        info = requests.put(f"http://127.0.0.1:{devtools}/json/new?{url}", timeout=10).json()
        self.ws = websocket.create_connection(info["webSocketDebuggerUrl"], timeout=10)
        self.next_id = 0

    def call(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def js(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, what: str, timeout: float = 15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.js(expression):
                return
            time.sleep(0.1)
        raise RuntimeError(f"timed out waiting for {what}")

    def click(self, selector: str):
        ok = self.js(f"(function(){{var b=document.querySelector({json.dumps(selector)});"
                     f"if(!b)return false;b.click();return true;}})()")
        if not ok:
            raise RuntimeError(f"no button {selector}")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--token", required=True)
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--screenshot")
    args = p.parse_args()
    url = args.url.rstrip("/")
    headers = {"Authorization": f"Bearer {args.token}"}

    def state() -> dict:
        return requests.get(f"{url}/statetee/v1/state", headers=headers, timeout=10).json()["state"]

    def wait_state(predicate, what: str, timeout: float = 15.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = state()
            if predicate(s):
                return s
            time.sleep(0.1)
        raise RuntimeError(f"timed out waiting for {what}: {state()}")

    devtools = free_port()
    profile = tempfile.mkdtemp(prefix="engine-browser-")
    browser = subprocess.Popen(
        [args.chromium, "--headless=new", "--no-sandbox", "--disable-gpu", f"--remote-debugging-port={devtools}",
         f"--user-data-dir={profile}", "--window-size=1200,1400", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                requests.get(f"http://127.0.0.1:{devtools}/json/version", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        pi = Tab(devtools, f"{url}/pi.html")
        players = {1: Tab(devtools, f"{url}/player/1"), 2: Tab(devtools, f"{url}/player/2")}
        for tab in [pi, *players.values()]:
            tab.wait_for("document.getElementById('conn') && document.getElementById('conn').textContent.indexOf('connected') === 0",
                         "the page's Socket.IO connection")
        print("ok three pages connected", flush=True)

        pi.click("button[data-ev=start_new_game]")
        wait_state(lambda s: s["game_phase"] == "name_entry", "name_entry")
        pi.click("#btn_name1")
        pi.click("#btn_name2")
        pi.click("button[data-ev=start_deployment_phase]")
        wait_state(lambda s: s["game_phase"] == "deployment_setup", "deployment_setup")
        while state().get("deployment_initiative_winner_id") is None:
            pi.click("button[data-ev=deployment_roll][data-p='{\"player_id\":1}']")
            wait_state(lambda s: s["player1"]["deployment_roll"] or s.get("deployment_initiative_winner_id"), "roll 1")
            pi.click("button[data-ev=deployment_roll][data-p='{\"player_id\":2}']")
            # The second roll decides (a winner) or ties (both rolls back to 0).
            wait_state(lambda s: s.get("deployment_initiative_winner_id") is not None
                       or (s["player1"]["deployment_roll"] == 0 and s["player2"]["deployment_roll"] == 0), "roll 2")
        pi.click("#btn_attacker")
        wait_state(lambda s: s.get("deployment_attacker_id") is not None, "roles")
        pi.click("button[data-ev=start_first_turn_phase]")
        wait_state(lambda s: s["game_phase"] == "first_turn_setup", "first_turn_setup")
        while state().get("first_turn_initiative_winner_id") is None:
            pi.click("button[data-ev=first_turn_roll][data-p='{\"player_id\":1}']")
            wait_state(lambda s: s["player1"]["first_turn_roll"] or s.get("first_turn_initiative_winner_id"), "roll 1")
            pi.click("button[data-ev=first_turn_roll][data-p='{\"player_id\":2}']")
            wait_state(lambda s: s.get("first_turn_initiative_winner_id") is not None
                       or (s["player1"]["first_turn_roll"] == 0 and s["player2"]["first_turn_roll"] == 0), "roll 2")
        pi.click("#btn_self")
        wait_state(lambda s: s.get("first_turn_player_id") is not None, "first player")
        pi.click("button[data-ev=start_game]")
        s = wait_state(lambda s: s["game_phase"] == "game_play", "game_play")
        print(f"ok set-up done through the Pi page; player {s['active_player_id']} starts", flush=True)

        turns = 0
        while s["game_phase"] == "game_play":
            active = s["active_player_id"]
            page = players[active]
            page.js(f"document.getElementById('score_value').value = '{s['current_round'] * 3 + active}'")
            page.click("#btn_primary")
            page.click("#btn_cp_add")
            page.click("#btn_end_turn")
            turns += 1
            s = wait_state(lambda n: n["active_player_id"] != active or n["game_phase"] != "game_play", "the next turn")
        check = state()
        assert check["game_phase"] == "game_over" and check["current_round"] == 6, check
        for n in (1, 2):
            shown = players[n].js("document.getElementById('phase').textContent")
            assert shown == "game_over", f"player {n} page shows {shown}"
        print(f"ok game over after {turns} turns clicked on the player pages; "
              f"scores {check['player1']['primary_score']}-{check['player2']['primary_score']}", flush=True)
        if args.screenshot:
            shot = players[1].call("Page.captureScreenshot", format="png")
            with open(args.screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        print("OK", flush=True)
        return 0
    finally:
        browser.terminate()
        browser.wait(10)


if __name__ == "__main__":
    sys.exit(main())
