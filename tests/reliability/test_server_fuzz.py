"""Seeded, bounded fuzzing of the playground server: HTTP requests, CSV uploads, WebSocket messages.

Every request and socket command the page sends is mutated with its structure in mind (fields
given other types, huge, negative, NaN/Infinity literals, deep nesting, huge strings, missing and
extra keys, duplicate keys, broken bytes; wrong methods, content types, session ids and query
strings), CSV uploads are broken in the ways files are, and socket messages arrive as non-JSON,
binary, invalid UTF-8, oversized and in floods. The real server runs (uvicorn on 127.0.0.1, a
free port) with its log captured. Asserted: no response of 500 or more, a JSON error message in
every API refusal, no traceback or error line in the log, an error reply to each malformed
command from a session that then goes on, and a server that still serves the page at the end.

``pytest -s`` prints the figures. CHAINRULE_FUZZ_LONG=1 runs ten times as many cases.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx2 as httpx
import pytest
import websockets
from playground_util import playground_server_log

from chainrule.playground.config import MAX_SAMPLES, Config
from chainrule.playground.frames import decode_frame
from chainrule.playground.server import MAX_BODY, MAX_MESSAGE, MAX_MESSAGES_PER_S
from chainrule.playground.wire import MAX_DEPTH

SEED = 20261123
SCALE = 10 if os.environ.get("CHAINRULE_FUZZ_LONG") == "1" else 1
HTTP_CASES = 1200 * SCALE
CSV_CASES = 300 * SCALE
WS_CASES = 300 * SCALE  # per socket, three sockets
SECONDS = 40 * SCALE  # each part stops early once past this
BATCH = 16  # concurrent HTTP requests
JSON = "application/json"

ODD_VALUES: list[object] = [
    None, True, False, 0, -1, 1, 2**31, -(2**31), 10**19, -(10**19), 0.5, -0.0, 1e-320,
    1.7e308, -1.7e308, float("nan"), float("inf"), float("-inf"), "", "x1", "tanh", "0",
    "1e400", "\u0000", "\ud800", "é✓🙂", "\u202e" * 40, "x" * 5000, "x" * 20_000, [], [None],
    [[]], [1] * 1000, [["x1"]], [{"a": 1}], {}, {"type": "play"}, [4] * 11,
]  # fmt: skip
CONTENT_TYPES = [
    None, "", "text/plain", "text/csv", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", "application/json; charset=utf-16", "APPLICATION/JSON",
    "application/json, text/plain", "application/json;;;", "\u00e9/\u00e9",
]  # fmt: skip
SESSION_IDS = ["", "nosuch", "0" * 24, "%00", "..%2f..", "é", "a" * 5000, "%ff%fe", " "]
QUERIES = ["?a=1&a=2", "?" + "x" * 3000, "?%ff", "?index=1&sid=x", "?=", "?\u00e9=\u00e9"]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]


# ---------------------------------------------------------------------- bookkeeping
@dataclass
class Figures:
    """What the fuzz saw; ``problems`` must stay empty."""

    statuses: Counter = field(default_factory=Counter)
    slowest: tuple[float, str] = (0.0, "")
    ws_sent: int = 0
    ws_error_replies: int = 0
    ws_closes: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def timed(self, label: str, seconds: float) -> None:
        self.slowest = max(self.slowest, (seconds, label))

    def response(self, label: str, response: httpx.Response, seconds: float) -> None:
        self.statuses[response.status_code] += 1
        self.timed(f"{label} -> {response.status_code}", seconds)
        if response.status_code >= 500:
            self.problems.append(f"{label} -> {response.status_code}: {response.text[:200]}")
        elif response.status_code >= 400 and api_answer(response):
            try:
                assert isinstance(response.json()["error"], str) and response.json()["error"]
            except (ValueError, KeyError, AssertionError):
                self.problems.append(f"{label} -> {response.status_code} without a JSON error")

    def report(self, part: str, seconds: float) -> str:
        codes = dict(sorted(self.statuses.items()))
        line = f"\n[fuzz] {part}:"
        if codes:
            line += f" {sum(codes.values())} requests, statuses {codes},"
        if self.ws_sent:
            line += (
                f" {self.ws_sent} socket messages, {self.ws_error_replies} error replies, "
                f"closes {dict(self.ws_closes)},"
            )
        slow = f"{self.slowest[0] * 1000:.0f} ms ({self.slowest[1][:90]})"
        return line + f" slowest {slow}, {seconds:.1f} s"


def api_answer(response: httpx.Response) -> bool:
    """Whether the response is the API's, which has a body (HEAD answers have none)."""
    return "/api/" in str(response.url) and response.request.method != "HEAD"


def log_problems(log: list[str], start: int) -> list[str]:
    """Tracebacks and error lines the server logged since line ``start``."""
    return [line for line in log[start:] if "Traceback" in line or line.startswith("ERROR")]


@pytest.fixture(scope="module")
def server():
    with playground_server_log() as (url, log):
        yield url, log


def label_of(method: str, path: str, body: bytes | None) -> str:
    shown = repr(body[:60]) if body else ""
    return f"{method} /{path[:70]} {shown}"


# ---------------------------------------------------------------------- JSON mutations
def page_config(rng: random.Random) -> dict:
    """A setup the page could send."""
    layers = [rng.randint(1, 6) for _ in range(rng.randint(0, 3))]
    return dict(
        Config().to_dict(),
        dataset=rng.choice(["circle", "xor", "gauss", "spiral"]),
        seed=rng.randint(0, 99),
        samples=rng.choice([10, 100, 500]),
        layers=layers,
        activations=[rng.choice(["tanh", "relu", "sigmoid"]) for _ in layers],
    )


def mutate_object(rng: random.Random, data: dict) -> bytes:
    """``data`` as JSON with one structure-aware fault (or, one time in ten, none)."""
    data = json.loads(json.dumps(data))  # a private copy
    keys = list(data)
    choice = rng.randrange(10)
    if choice == 0 and keys:  # a field of another type or out of range
        data[rng.choice(keys)] = rng.choice(ODD_VALUES)
    elif choice == 1:  # inside a list field
        lists = [k for k in keys if isinstance(data[k], list) and data[k]]
        if lists:
            items = data[rng.choice(lists)]
            items[rng.randrange(len(items))] = rng.choice(ODD_VALUES)
    elif choice == 2 and keys:
        del data[rng.choice(keys)]
    elif choice == 3:
        data[rng.choice(["wings", "", "type", "__proto__", "é" * 30])] = rng.choice(ODD_VALUES)
    elif choice == 4:
        depth = rng.choice([MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 100, 3000])
        data[rng.choice(keys or ["x"])] = json.loads("[" * min(depth, 50) + "]" * min(depth, 50))
        if depth > 50:
            return _nested(data, depth)
    elif choice == 5:  # not an object at all
        return json.dumps(rng.choice(ODD_VALUES[:20] + [[data], "text"])).encode()
    elif choice == 6:
        return _raw_fault(rng, json.dumps(data).encode())
    elif choice == 7 and keys:  # a duplicate key
        text = json.dumps(data)
        return ("{" + json.dumps(keys[0]) + ": 1, " + text[1:]).encode()
    elif choice == 8 and keys:  # a long number literal
        digits = "1" + "0" * rng.choice([18, 19, 25, 400, 4400])
        return (
            json.dumps(dict(data, **{rng.choice(keys): 0}))
            .replace(": 0", ": " + digits, 1)
            .encode()
        )
    return json.dumps(data).encode()  # NaN and Infinity come out as such literals


def _nested(data: dict, depth: int) -> bytes:
    text = json.dumps(data)
    return (text[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}").encode()


def _raw_fault(rng: random.Random, body: bytes) -> bytes:
    """Byte-level damage: truncation, garbage, BOM, NUL, invalid UTF-8, empty."""
    at = rng.randrange(len(body) + 1)
    return rng.choice(
        [
            body[:at],
            body + b"garbage",
            b"\xef\xbb\xbf" + body,
            body[:at] + b"\x00" + body[at:],
            body[:at] + b"\xff\xfe" + body[at:],
            body.decode().encode("utf-16"),
            b"",
            b" " * 100,
        ]
    )


# ---------------------------------------------------------------------- HTTP
def page_requests(rng: random.Random, sid: str) -> list[tuple[str, str, dict | None]]:
    """(method, path, JSON body or None) of each request the page sends."""
    base = f"api/sessions/{sid}"
    return [
        ("POST", "api/sessions", page_config(rng)),
        ("PUT", f"{base}/config", page_config(rng)),
        ("POST", f"{base}/reset", None),
        ("POST", f"{base}/regenerate", None),
        ("POST", f"{base}/points", {"x": 1.5, "y": -2.0, "label": rng.randint(0, 1)}),
        ("DELETE", f"{base}/points/{rng.randint(0, 20)}", None),
        ("PUT", f"{base}/weights", {"layer": 0, "row": 1, "col": 0, "value": 0.5}),
        ("POST", f"{base}/trace", {"index": rng.randint(0, 9)}),
        ("POST", f"{base}/trace", {"x": 1.0, "y": 2.0, "label": 0}),
        ("POST", f"{base}/step", {"epochs": rng.randint(1, 3)}),
        ("GET", base, None),
        ("GET", f"{base}/frame", None),
        ("GET", f"{base}/model", None),
        ("GET", f"{base}/code", None),
        ("DELETE", base, None),
        ("GET", "", None),
        ("GET", "static/playground.js", None),
    ]


def http_case(rng: random.Random, sid: str) -> tuple[str, str, bytes | None, dict]:
    """One mutated page request: (method, path, body, headers)."""
    method, path, data = rng.choice(page_requests(rng, sid))
    body = None if data is None else mutate_object(rng, data)
    kind = JSON if data is not None else None
    roll = rng.random()
    if roll < 0.08:
        method = rng.choice(METHODS)
    elif roll < 0.16:
        kind = rng.choice(CONTENT_TYPES)
    elif roll < 0.24 and sid in path:
        path = path.replace(sid, rng.choice(SESSION_IDS))
    elif roll < 0.30:
        path += rng.choice(QUERIES)
    elif roll < 0.36 and "/points/" in path:
        path = path.rsplit("/", 1)[0] + "/" + rng.choice(["-1", "9" * 5000, "1.5", "0x1", "١"])
    elif roll < 0.40 and body is None:
        body, kind = mutate_object(rng, {"epochs": 1}), JSON
    headers = {} if kind is None else {"content-type": kind.encode()}  # bytes: may be non-ASCII
    return method, path, body, headers


async def send(http, figures: Figures, method: str, path: str, body, headers: dict) -> None:
    label = label_of(method, path, body)
    start = time.monotonic()
    try:
        response = await http.request(method, path, content=body, headers=headers)
    except httpx.HTTPError as exc:
        figures.problems.append(f"{label} -> {type(exc).__name__}: {exc}")
        return
    figures.response(label, response, time.monotonic() - start)
    if response.status_code == 201 and path.startswith("api/sessions"):
        await http.delete(f"api/sessions/{response.json()['id']}")  # keep the slots free


class Pool:
    """Sessions for the fuzz to aim at, replaced when a fuzzed request ended one."""

    def __init__(self, http, configs: list[dict]) -> None:
        self.http, self.configs, self.ids = http, configs, [""] * len(configs)

    async def refresh(self) -> None:
        for i, config in enumerate(self.configs):
            if not self.ids[i] or (await self.http.get(f"api/sessions/{self.ids[i]}")).is_error:
                r = await self.http.post("api/sessions", json=config)
                assert r.status_code == 201, r.text
                self.ids[i] = r.json()["id"]


async def run_cases(
    url: str, cases: int, make: Callable[[random.Random, Pool], tuple], seed: int
) -> Figures:
    """Send ``cases`` requests made by ``make``, BATCH at a time, for at most SECONDS."""
    rng, figures = random.Random(seed), Figures()
    deadline = time.monotonic() + SECONDS
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        pool = Pool(
            http,
            [
                {},
                {"dataset": "spiral", "classes": 3},
                {"problem": "regression", "dataset": "plane"},
            ],
        )
        for start in range(0, cases, BATCH):
            if time.monotonic() > deadline:
                break
            await pool.refresh()
            batch = [make(rng, pool) for _ in range(min(BATCH, cases - start))]
            await asyncio.gather(*(send(http, figures, *case) for case in batch))
        await pool.refresh()
    return figures


def test_http_fuzz(server):
    url, log = server
    start_line, start = len(log), time.monotonic()
    figures = asyncio.run(
        run_cases(url, HTTP_CASES, lambda rng, pool: http_case(rng, rng.choice(pool.ids)), SEED)
    )
    print(figures.report("HTTP", time.monotonic() - start))
    assert not figures.problems, "\n".join(figures.problems[:20])
    assert not log_problems(log, start_line), "".join(log[start_line:])[-5000:]
    assert max(figures.statuses) < 500 and sum(figures.statuses.values()) >= min(HTTP_CASES, 200)


# ---------------------------------------------------------------------- CSV uploads
NON_NUMBERS = ["abc", "", "nan", "inf", "-inf", "1e400", "0x10", "1_0", " 1 ", "١", "None", '"1"']


def csv_rows(rng: random.Random) -> list[list[str]]:
    n = rng.choice([0, 1, 2, 3, 10, 100, MAX_SAMPLES, MAX_SAMPLES + 1])
    return [
        [f"{rng.uniform(-8, 8):.4f}", f"{rng.uniform(-8, 8):.4f}", str(rng.randint(0, 2))]
        for _ in range(n)
    ]


def csv_cell_fault(rng: random.Random, rows: list[list[str]]) -> None:
    """Damage one cell or row in place: text, ragged rows, odd labels, extreme values."""
    if not rows:
        return
    row = rows[rng.randrange(len(rows))]
    choice = rng.randrange(6)
    if choice == 0:
        row[rng.randrange(len(row))] = rng.choice(NON_NUMBERS)
    elif choice == 1:  # a ragged row
        if rng.random() < 0.5:
            row.append("1")
        else:
            row.pop()
    elif choice == 2:
        row[-1] = rng.choice(["7", "8", "-1", "0.5", "1e300", "-1e300"])
    elif choice == 3:
        row[0] = rng.choice(["1e308", "-1.7e308", "1e-320", "1e15"])
    elif choice == 4:
        row[rng.randrange(len(row))] = rng.choice(["1" * 140_000, '"' + "7" * 131_073 + '"'])
    else:
        row[rng.randrange(len(row))] = '"1\n2"'


def csv_case(rng: random.Random, pool: Pool) -> tuple[str, str, bytes, dict]:
    """One upload: rows with a fault or two, encoded with odd line ends and bytes."""
    rows = csv_rows(rng)
    for _ in range(rng.randint(0, 2)):
        csv_cell_fault(rng, rows)
    if rng.random() < 0.1 and rows:
        rows = [row[: rng.choice([2, 5])] + ["1"] * 3 for row in rows]  # wrong column count
    end = rng.choice(["\n", "\r\n", "\r", "\n\r", "\n\n"])
    header = rng.choice(["", "x1,x2,label" + end, "a,b" + end, "\ufeffx1,x2,label" + end])
    text = header + end.join(",".join(row) for row in rows) + rng.choice(["", end, " "])
    body = text.encode("utf-8")
    roll = rng.random()
    if roll < 0.08:
        body = b"\xef\xbb\xbf" + body
    elif roll < 0.14:
        body = text.encode("utf-16")
    elif roll < 0.20:
        at = rng.randrange(len(body) + 1)
        body = body[:at] + rng.choice([b"\x00", b"\xe9", b"\xff"]) + body[at:]
    elif roll < 0.23:
        body = b"1,2,0\n" * (MAX_BODY // 6 + 1)
    kind = rng.choice(["text/csv"] * 6 + ["text/plain", "text/csv; charset=latin-1", JSON, None])
    headers = {} if kind is None else {"content-type": kind}
    return "POST", f"api/sessions/{rng.choice(pool.ids)}/upload", body, headers


def test_csv_upload_fuzz(server):
    url, log = server
    start_line, start = len(log), time.monotonic()
    figures = asyncio.run(run_cases(url, CSV_CASES, csv_case, SEED + 1))
    print(figures.report("CSV uploads", time.monotonic() - start))
    assert not figures.problems, "\n".join(figures.problems[:20])
    assert not log_problems(log, start_line), "".join(log[start_line:])[-5000:]
    assert figures.statuses[200] > 0 and figures.statuses[422] > 0  # both kinds were reached


# ---------------------------------------------------------------------- WebSocket
VALID_COMMANDS: list[dict] = [
    {"type": "ack", "n": 1},
    {"type": "pause"},
    {"type": "step"},
    {"type": "view", "hover": [1, 0], "warp": None},
    {"type": "view", "hover": None, "warp": [1, 0, 1]},
]


def ws_case(rng: random.Random) -> tuple[str | bytes, bool]:
    """One socket message and whether it is malformed for sure (so must get an error reply)."""
    roll = rng.random()
    if roll < 0.6:
        text = mutate_object(rng, rng.choice(VALID_COMMANDS))
        try:
            return text.decode("utf-8"), False
        except UnicodeDecodeError:
            return text, True  # sent as binary: not a command
    if roll < 0.7:
        return rng.choice(["hello", "{", "", " ", "\u0000", "null", "[]", "42", '"play"']), True
    if roll < 0.8:
        return rng.choice([b"", b"\x00" * 10, b'{"type": "play"}', bytes(range(256))]), True
    if roll < 0.9:
        depth = rng.choice([MAX_DEPTH + 1, 100, 1500, 2040])
        return '{"type": "step", "x": ' + "[" * depth + "]" * depth + "}", True
    return json.dumps({"type": "view", "hover": "x" * rng.choice([MAX_MESSAGE, 30_000])}), True


async def recv_until_marker(ws, marker: str) -> int:
    """Read (acking frames) until the error reply naming ``marker``; the other errors seen."""
    errors = 0
    while True:
        message = await asyncio.wait_for(ws.recv(), 20)
        if isinstance(message, bytes):
            decode_frame(message)
            await ws.send(json.dumps({"type": "ack"}))
        elif json.loads(message)["type"] == "error":
            if marker in message:
                return errors
            errors += 1


async def socket_session(http, url: str):
    sid = (await http.post("api/sessions", json={"layers": [3], "activations": ["tanh"]})).json()
    return await websockets.connect(
        url.replace("http", "ws") + f"api/sessions/{sid['id']}/ws", max_size=None
    )


async def ws_fuzz_one(http, url: str, rng: random.Random, figures: Figures, deadline: float):
    """WS_CASES messages on one socket, each followed by a marker that must get its reply."""
    ws = await socket_session(http, url)
    async with ws:
        for i in range(WS_CASES):
            if time.monotonic() > deadline:
                break
            message, malformed = ws_case(rng)
            marker = f"marker-{i}"
            started = time.monotonic()
            try:
                await ws.send(message)
                await ws.send(json.dumps({"type": marker}))
                errors = await recv_until_marker(ws, marker)
            except (websockets.ConnectionClosed, asyncio.TimeoutError) as exc:
                figures.problems.append(f"the session ended after {message!r:.80}: {exc!r}")
                return
            figures.ws_sent += 2
            figures.ws_error_replies += errors + 1
            figures.timed(f"socket {message!r:.60} + marker", time.monotonic() - started)
            if malformed and not errors:
                figures.problems.append(f"no error reply to {message!r:.80}")
            # Stay under the per-socket rate limit: up to 5 messages a case, acks included.
            await asyncio.sleep(max(0.0, 5 / MAX_MESSAGES_PER_S - (time.monotonic() - started)))


async def ws_closing(http, url: str, figures: Figures) -> None:
    """Messages the protocol answers by closing: invalid UTF-8, over 64 KB, a flood."""
    for name, expected, messages in [
        ("invalid UTF-8", 1007, [(b'{"type": "\xff"}', True)]),
        ("over the size limit", 1009, [("x" * 70_000, None)]),
        ("flood", 1008, [(json.dumps({"type": "pause"}), None)] * (MAX_MESSAGES_PER_S * 3)),
    ]:
        ws = await socket_session(http, url)
        try:
            for message, text in messages:
                await ws.send(message, text=text)
                figures.ws_sent += 1
            while True:
                await asyncio.wait_for(ws.recv(), 20)
        except websockets.ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else None
            figures.ws_closes[code] += 1
            if code != expected:
                figures.problems.append(f"{name}: closed with {code}, expected {expected}")
        except asyncio.TimeoutError:
            figures.problems.append(f"{name}: the socket was neither answered nor closed")
        finally:
            await ws.close()


async def ws_while_playing(http, url: str, rng: random.Random, figures: Figures) -> None:
    """Malformed messages while the session trains: replies come, and so do frames."""
    ws = await socket_session(http, url)
    async with ws:
        await ws.send(json.dumps({"type": "play"}))
        epochs = []
        for i in range(20 * SCALE):
            message, _ = ws_case(rng)
            await ws.send(message)
            await ws.send(json.dumps({"type": "play"}))  # in case the message was a pause
            await ws.send(json.dumps({"type": f"playing-{i}"}))
            await recv_until_marker(ws, f"playing-{i}")
            figures.ws_sent += 2
            frame = await asyncio.wait_for(ws.recv(), 20)
            while not isinstance(frame, bytes):
                frame = await asyncio.wait_for(ws.recv(), 20)
            epochs.append(decode_frame(frame)[0]["epoch"])
            await ws.send(json.dumps({"type": "ack"}))
            await asyncio.sleep(0.02)
        await ws.send(json.dumps({"type": "pause"}))
    if not epochs[-1] > epochs[0]:
        figures.problems.append(f"training stalled while fuzzed: epochs {epochs}")


async def ws_fuzz(url: str) -> Figures:
    figures = Figures()
    deadline = time.monotonic() + SECONDS
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        await asyncio.gather(
            *(
                ws_fuzz_one(http, url, random.Random(SEED + 10 + i), figures, deadline)
                for i in range(3)
            )
        )
        await ws_while_playing(http, url, random.Random(SEED + 20), figures)
        await ws_closing(http, url, figures)
    return figures


def test_websocket_fuzz(server):
    url, log = server
    start_line, start = len(log), time.monotonic()
    figures = asyncio.run(ws_fuzz(url))
    print(figures.report("WebSocket", time.monotonic() - start))
    assert not figures.problems, "\n".join(figures.problems[:20])
    assert not log_problems(log, start_line), "".join(log[start_line:])[-5000:]


# ---------------------------------------------------------------------- disconnects, the end
async def disconnects(url: str, rounds: int) -> None:
    """Clients that vanish: mid-body, before reading an answer, mid-training."""
    host, port = url.split("//")[1].rstrip("/").rsplit(":", 1)
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        for i in range(rounds):
            sid = (await http.post("api/sessions", json={})).json()["id"]
            reader, writer = await asyncio.open_connection(host, int(port))
            request = [
                f"POST /api/sessions/{sid}/upload HTTP/1.1\r\nContent-Length: 9999\r\n"
                f"Host: {host}\r\nContent-Type: text/csv\r\n\r\n1,2,0\n",
                f"GET /api/sessions/{sid}/model HTTP/1.1\r\nHost: {host}\r\n\r\n",
                f"POST /api/sessions HTTP/1.1\r\nHost: {host}\r\nContent-Length: 50\r\n"
                "Content-Type: application/json\r\n\r\n{",
            ][i % 3]
            writer.write(request.encode())
            await writer.drain()
            await asyncio.sleep(0.01 * (i % 4))
            writer.transport.abort()
            await http.delete(f"api/sessions/{sid}")
            ws = await socket_session(http, url)
            await ws.send(json.dumps({"type": "play"}))
            await ws.recv()
            ws.transport.abort()  # a tab closed mid-training


async def still_serving(url: str) -> int:
    """The page loads and a fresh session trains one step: the epoch of its frame."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        assert (await http.get("")).status_code == 200
        async with await socket_session(http, url) as ws:
            await ws.send(json.dumps({"type": "step"}))
            while True:
                message = await asyncio.wait_for(ws.recv(), 20)
                if isinstance(message, bytes) and decode_frame(message)[0]["epoch"]:
                    return decode_frame(message)[0]["epoch"]


def test_disconnects_leave_no_traceback_and_the_server_serves_on(server):
    url, log = server
    start_line, start = len(log), time.monotonic()
    asyncio.run(disconnects(url, 12 * SCALE))
    time.sleep(0.5)  # let the server notice the last of them
    assert asyncio.run(still_serving(url)) == 1
    print(f"\n[fuzz] {12 * SCALE} vanished clients, {time.monotonic() - start:.1f} s")
    assert not log_problems(log, start_line), "".join(log[start_line:])[-5000:]
