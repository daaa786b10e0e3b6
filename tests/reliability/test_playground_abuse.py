"""The playground server under abuse: 1,000 hostile requests while 20 sessions train.

No crash, every refusal a 4xx, memory growth under 100 MB, and the training sessions end with
exactly the weights they reach when trained alone.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import threading

import httpx2 as httpx
import numpy as np
import websockets
from test_playground_server import _run_session

import chainrule as cr
from chainrule.playground.config import Config
from chainrule.playground.server import MAX_BODY
from chainrule.playground.session import Session

HOSTILE = 1000


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        kb = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
    return kb / 1024


def _hostile(i: int, sid: str) -> tuple[str, str, dict]:
    """The i-th hostile request: (method, path, httpx keyword arguments)."""
    kind = i % 10
    if kind == 0:
        return "POST", "api/sessions", {"content": b"x" * (MAX_BODY + 1 + i)}
    if kind == 1:
        return (
            "POST",
            "api/sessions",
            {"content": b'{"layers": [4, ', "headers": {"content-type": "application/json"}},
        )
    if kind == 2:
        return (
            "POST",
            "api/sessions",
            {"json": {"layers": [10**6] * 50, "activations": ["tanh"] * 50}},
        )
    if kind == 3:
        return "GET", "", {"headers": {"host": f"evil{i}.example.com"}}
    if kind == 4:
        paths = [
            "static/../../../../etc/passwd",
            "static/%2e%2e/%2e%2e/etc/passwd",
            "static/..%2f..%2fserver.py",
            "static/%00",
            "static/" + "a/" * 200,
        ]
        return "GET", paths[i % len(paths)], {}
    if kind == 5:
        return "PUT", f"api/sessions/{sid}/config", {"json": {"samples": 10**9}}
    if kind == 6:
        return "POST", f"api/sessions/{sid}/points", {"json": {"x": "nan", "y": [], "label": 9}}
    if kind == 7:
        return "GET", f"api/sessions/{'0' * 32}", {}
    if kind == 8:
        return "POST", f"api/sessions/{sid}/upload", {"content": b"\xff\xfe" + b"1,2,\n" * 10}
    return "DELETE", f"api/sessions/{sid}/points/{10**12}", {}


async def _abuse(url: str) -> dict[int, int]:
    statuses: dict[int, int] = {}
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        sid = (await http.post("api/sessions", json={})).json()["id"]
        for start in range(0, HOSTILE, 50):
            batch = [_hostile(i, sid) for i in range(start, min(start + 50, HOSTILE))]
            replies = await asyncio.gather(
                *(http.request(method, path, **kw) for method, path, kw in batch)
            )
            for r in replies:
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

        # A WebSocket flood: garbage, oversized and unknown messages, as fast as possible.
        # The server closes a socket that misbehaves: reconnect and go on.
        async def connect():  # a closed socket ends its session, as a closed tab does
            fresh = (await http.post("api/sessions", json={})).json()["id"]
            return await websockets.connect(
                url.replace("http", "ws") + f"api/sessions/{fresh}/ws", max_size=None
            )

        messages = [
            "{",
            "x" * 100_000,
            json.dumps({"type": "boom"}),
            json.dumps({"type": "play", "speed": 1e9}),
        ]
        ws = await connect()
        for i in range(300):
            try:
                await ws.send(messages[i % 4])
                await asyncio.sleep(0)
            except websockets.ConnectionClosed:
                statuses["ws closed"] = statuses.get("ws closed", 0) + 1
                ws = await connect()
        await ws.close()
    return statuses


def test_hostile_requests_while_sessions_train(tmp_path, capsys):
    proc = subprocess.Popen(
        [sys.executable, "-m", "chainrule.playground", "--port", "0", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = re.search(r"http://\S+/", proc.stdout.readline()).group(0)
        log: list[str] = []
        threading.Thread(target=lambda: log.extend(proc.stdout), daemon=True).start()
        configs = [
            {
                "dataset": ["circle", "xor", "spiral", "gauss"][i % 4],
                "seed": i,
                "layers": [4, 3],
                "activations": ["tanh", "relu"],
                "stopEpochs": 30 + i,
            }
            for i in range(20)
        ]
        asyncio.run(_run_session(url, {"stopEpochs": 5}))  # warm up: imports, compiled code
        before = _rss_mb(proc.pid)

        async def everything():
            return await asyncio.gather(_abuse(url), *(_run_session(url, c) for c in configs))

        statuses, *runs = asyncio.run(everything())
        growth = _rss_mb(proc.pid) - before
        assert proc.poll() is None, "the server crashed:\n" + "".join(log)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    refused = {c: n for c, n in statuses.items() if isinstance(c, int) and c >= 400}
    assert sum(refused.values()) >= HOSTILE - 50  # nearly all refused (a few are harmless GETs)
    assert all(400 <= code < 500 for code in refused), statuses
    assert growth < 100, f"memory grew {growth:.0f} MB"
    for i, (config, (model, _)) in enumerate(zip(configs, runs)):
        path = tmp_path / f"{i}.crnet"
        path.write_bytes(model)
        alone = Session(Config.from_dict(config))
        alone.step(config["stopEpochs"])
        assert all(
            np.array_equal(a.Wb, b.Wb) for a, b in zip(alone.net.layers, cr.load(path).layers)
        )
    with capsys.disabled():
        print(
            f"\n[reliability] playground abuse: {HOSTILE} hostile requests + 300 WebSocket "
            f"flood messages, statuses {statuses}, 5xx 0, server "
            f"memory growth {growth:.1f} MB, 20 concurrent sessions unaffected"
        )
