"""The playground server: limits answer 4xx, sessions are isolated, exports reproduce the run."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time

import httpx2 as httpx
import numpy as np
import pytest
import websockets
from playground_util import playground_server, playground_server_log
from starlette.testclient import TestClient

import chainrule as cr
from chainrule._json import nesting_depth
from chainrule.playground import data as pdata
from chainrule.playground.codegen import python_script
from chainrule.playground.config import MAX_LAYERS, MAX_NEURONS, MAX_SAMPLES, MAX_SPEED, Config
from chainrule.playground.frames import decode_frame, encode_frame
from chainrule.playground.server import MAX_BODY, Settings, create_app
from chainrule.playground.session import Session
from chainrule.playground.wire import parse_json


@pytest.fixture
def client():
    with TestClient(create_app(Settings(max_sessions=4)), base_url="http://127.0.0.1") as c:
        yield c


def new_session(client, **config) -> str:
    r = client.post("/api/sessions", json=config)
    assert r.status_code == 201, r.text
    return r.json()["id"]


# ---------------------------------------------------------------------- limits and errors
@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"layers": [4] * (MAX_LAYERS + 1), "activations": ["tanh"] * (MAX_LAYERS + 1)}, "at most"),
        ({"layers": [MAX_NEURONS + 1], "activations": ["tanh"]}, "layers[0]"),
        ({"samples": MAX_SAMPLES + 1}, "samples"),
        ({"batch": 0}, "batch"),
        ({"speed": MAX_SPEED + 1}, "speed"),
        ({"lr": 0}, "lr"),
        ({"lr": 100}, "lr"),
        ({"dataset": "moon"}, "dataset"),
        ({"problem": "regression"}, "not a regression set"),
        ({"classes": 3}, "classes=3"),
        ({"features": []}, "features"),
        ({"features": ["x3"]}, "'x3'"),
        ({"activations": ["tanh"]}, "one activation per hidden layer"),
        ({"layers": "4,2"}, "layers"),
        ({"wings": 2}, "unknown setup field"),
    ],
)
def test_bad_setups_are_refused_with_422_and_a_clear_message(client, config, words):
    r = client.post("/api/sessions", json=config)
    assert r.status_code == 422
    assert words in r.json()["error"]


def test_request_size_type_and_json_limits(client):
    big = b'{"seed": 1' + b" " * MAX_BODY + b"}"
    r = client.post("/api/sessions", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "limit" in r.json()["error"]
    r = client.post("/api/sessions", content=b"seed=1", headers={"content-type": "text/plain"})
    assert r.status_code == 415
    r = client.post("/api/sessions", content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 400
    r = client.post("/api/sessions", json=[1, 2])
    assert r.status_code == 422


def test_foreign_host_headers_are_refused(client):
    assert client.get("/", headers={"host": "evil.example:8000"}).status_code == 400
    assert client.get("/", headers={"host": "localhost:8000"}).status_code == 200
    r = client.get("/")
    assert r.status_code == 200 and "chainrule playground" in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/static/playground.js").status_code == 200


def test_session_endpoints_validate_their_input(client):
    sid = new_session(client)
    base = f"/api/sessions/{sid}"
    assert client.get("/api/sessions/nosuchsession").status_code == 404
    r = client.put(base + "/weights", json={"layer": 9, "row": 0, "col": 0, "value": 1.0})
    assert r.status_code == 422 and "layer=9" in r.json()["error"]
    r = client.put(base + "/weights", json={"layer": 0, "row": 0, "col": 0, "value": 1e9})
    assert r.status_code == 422
    r = client.post(base + "/points", json={"x": 50.0, "y": 0.0, "label": 1})
    assert r.status_code == 422 and "outside" in r.json()["error"]
    r = client.post(base + "/points", json={"x": 1.0, "y": 0.0, "label": 5})
    assert r.status_code == 422 and "label=5" in r.json()["error"]
    assert client.delete(base + "/points/100000").status_code == 422
    r = client.post(base + "/step", json={"epochs": 5000})
    assert r.status_code == 422 and "epochs=5000" in r.json()["error"]
    r = client.post(base + "/upload", content=b"1,2\n", headers={"content-type": "text/csv"})
    assert r.status_code == 422 and "row 1" in r.json()["error"]
    rows = "".join(f"{i % 7},{i % 5},{i % 2}\n" for i in range(MAX_SAMPLES + 1)).encode()
    r = client.post(base + "/upload", content=rows, headers={"content-type": "text/csv"})
    assert r.status_code == 422 and str(MAX_SAMPLES) in r.json()["error"]
    r = client.post(base + "/trace", json={"index": -1})
    # A bad index is the caller's mistake; a chainrule without Network.trace says so plainly.
    assert r.status_code == (422 if hasattr(cr.Network, "trace") else 501)
    r = client.put(base + "/config", json={"layers": [64], "activations": ["tanh"]})
    assert r.status_code == 422
    assert client.get(base).json()["config"]["layers"] == [4, 2]  # the refused change left no trace


def test_too_many_sessions_is_429(client):
    for _ in range(4):
        new_session(client)
    r = client.post("/api/sessions", json={})
    assert r.status_code == 429 and "limit" in r.json()["error"]


def test_cross_origin_sockets_are_refused(client):
    sid = new_session(client)
    with (
        pytest.raises(Exception) as info,
        client.websocket_connect(
            f"/api/sessions/{sid}/ws",
            headers={"host": "127.0.0.1:8000", "origin": "http://evil.example"},
        ) as ws,
    ):
        ws.receive_text()
    assert getattr(info.value, "code", None) == 1008


# ---------------------------------------------------------------------- the session itself
def test_steps_train_and_frames_carry_what_the_page_draws(client):
    sid = new_session(client, dataset="spiral", classes=3, layers=[6], activations=["relu"])
    base = f"/api/sessions/{sid}"
    before, _ = decode_frame(client.get(base + "/frame").content)
    r = client.post(base + "/step", json={"epochs": 200})
    assert r.json()["epoch"] == 200
    header, blobs = decode_frame(client.get(base + "/frame").content)
    assert header["epoch"] == 200
    assert header["trainLoss"] < before["trainLoss"]
    assert blobs["output"].shape == (3 * 100 * 100,)  # one probability map per class
    assert blobs["neurons"].shape == ((6 + 3) * 25 * 25,)
    assert blobs["weights"].size == (2 + 1) * 6 + (6 + 1) * 3
    confusion = np.array(header["confusion"]["test"])
    n_test = 500 - 250
    assert confusion.sum() == n_test
    assert header["testAcc"] == pytest.approx(np.trace(confusion) / n_test)
    assert len(header["gradNorms"]) == 2


def test_frame_round_trip():
    header = {"epoch": 3, "x": None}
    blobs = {"a": np.arange(5, dtype=np.uint8), "b": np.linspace(0, 1, 3, dtype=np.float32)}
    h, b = decode_frame(encode_frame(header, blobs))
    assert h["epoch"] == 3 and h["x"] is None
    assert np.array_equal(b["a"], blobs["a"]) and np.array_equal(b["b"], blobs["b"])


def test_gradient_norms_match_network_gradients():
    session = Session(Config.from_dict({"layers": [3], "activations": ["sigmoid"]}))
    session.step(5)
    X, y = session.points.part(True)
    grads = session.net.gradients(pdata.features(X, ["x1", "x2"]), y)
    expected = [float(np.linalg.norm(g["W"])) for g in grads]
    assert session.gradient_norms() == pytest.approx(expected, rel=1e-5)


def test_edits_weights_and_points(client):
    sid = new_session(client)
    base = f"/api/sessions/{sid}"
    r = client.put(base + "/weights", json={"layer": 1, "row": 2, "col": 0, "value": -0.75})
    assert r.status_code == 200
    _, blobs = decode_frame(client.get(base + "/frame").content)
    # Layer 0 is (2+1)x4, then layer 1's row 2 is its first... the block [W; b] is row-major.
    assert blobs["weights"][3 * 4 + 2 * 2 + 0] == np.float32(-0.75)
    state = client.post(base + "/points", json={"x": 1.0, "y": -2.0, "label": 0}).json()
    assert len(state["points"]) == 501 and state["custom"]
    assert state["points"][-1] == [1.0, -2.0, 0.0, 1.0]
    state = client.delete(base + "/points/500").json()
    assert len(state["points"]) == 500


def test_csv_upload_rescales_and_sets_classes(client):
    sid = new_session(client)
    rows = "x1,x2,label\n" + "".join(
        f"{10 * np.cos(a):.5f},{10 * np.sin(a):.5f},{i % 3}\n"
        for i, a in enumerate(np.linspace(0, 6, 90))
    )
    r = client.post(
        f"/api/sessions/{sid}/upload", content=rows, headers={"content-type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    state = r.json()
    assert state["classes"] == 3 and state["sizes"][-1] == 3
    assert len(state["points"]) == 90
    assert max(abs(v) for p in state["points"] for v in p[:2]) <= 5.0 + 1e-6
    assert "scaled" in state["notes"][0]


def test_multi_gaussian_targets():
    X, y = cr.datasets.multi_gaussian(4000, seed=1)
    assert X.shape == (4000, 2) and y.shape == (4000,)
    near = np.hypot(X[:, 0] - 4, X[:, 1] - 2.5) < 0.3  # close to the centre of a +1 bump
    assert near.any() and np.all(y[near] > 0.85)
    assert np.all(np.abs(y) <= 1)


def test_exported_script_reproduces_the_network_bit_for_bit(tmp_path):
    cfg = Config.from_dict(
        {
            "dataset": "gauss",
            "classes": 3,
            "noise": 10,
            "features": ["x1", "x2", "x1x2", "sinx1"],
            "layers": [5, 3],
            "activations": ["relu", "tanh"],
            "optimizer": "momentum",
            "reg": "l2",
            "regRate": 0.001,
            "batch": 7,
            "seed": 4,
        }
    )
    session = Session(cfg)
    for _ in range(4):  # several slices, as the page trains
        session.train(0.002)
    session.step(3)
    (tmp_path / "script.py").write_text(python_script(session))
    out = subprocess.run(
        [sys.executable, "script.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert f"epochs: {session.epoch}" in out.stdout
    replay = cr.load(tmp_path / "playground_network.crnet")
    for mine, theirs in zip(session.net.layers, replay.layers):
        assert np.array_equal(mine.Wb, theirs.Wb)


def test_exported_script_embeds_edited_points(tmp_path):
    session = Session(Config.from_dict({"problem": "regression", "dataset": "plane"}))
    session.add_point(1.25, -3.5, 0.7)
    session.step(2)
    (tmp_path / "script.py").write_text(python_script(session))
    out = subprocess.run(
        [sys.executable, "script.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    replay = cr.load(tmp_path / "playground_network.crnet")
    for mine, theirs in zip(session.net.layers, replay.layers):
        assert np.array_equal(mine.Wb, theirs.Wb)


def test_model_download_loads_with_chainrule(client, tmp_path):
    sid = new_session(client, layers=[3], activations=["tanh"], features=["x1", "x2", "x1sq"])
    client.post(f"/api/sessions/{sid}/step", json={"epochs": 20})
    r = client.get(f"/api/sessions/{sid}/model")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    path = tmp_path / "m.crnet"
    path.write_bytes(r.content)
    net = cr.load(path)
    assert [layer.n_out for layer in net.layers] == [3, 1]
    assert net.metadata["playground"]["features"] == ["x1", "x2", "x1sq"]
    _, blobs = decode_frame(client.get(f"/api/sessions/{sid}/frame").content)
    weights = np.concatenate([layer.Wb.ravel() for layer in net.layers])
    assert np.array_equal(weights, blobs["weights"])


# ---------------------------------------------------------------------- a real server
async def _run_session(url: str, config: dict) -> tuple[str, int]:
    async with httpx.AsyncClient(base_url=url) as http:
        r = await http.post("api/sessions", json=config)
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        async with websockets.connect(url.replace("http", "ws") + f"api/sessions/{sid}/ws") as ws:
            await ws.send(json.dumps({"type": "play"}))
            epoch = None
            while True:
                message = await asyncio.wait_for(ws.recv(), 60)
                if isinstance(message, bytes):
                    header, _ = decode_frame(message)
                    epoch = header["epoch"]
                    await ws.send(json.dumps({"type": "ack"}))
                elif json.loads(message)["type"] == "stopped":
                    break
            r = await http.get(f"api/sessions/{sid}/model")
            assert r.status_code == 200
            state = (await http.get(f"api/sessions/{sid}")).json()
            assert state["config"] == Config.from_dict(config).to_dict()  # its own, nobody else's
        return r.content, epoch


def test_twenty_concurrent_sessions_train_without_interfering(tmp_path):
    sets = ["circle", "xor", "gauss", "spiral"]
    configs = [
        {
            "dataset": sets[i % 4],
            "seed": i,
            "layers": [3 + i % 4, 2],
            "activations": ["tanh", "relu"],
            "optimizer": ["sgd", "adam", "momentum"][i % 3],
            "lr": 0.03,
            "stopEpochs": 40 + i,
        }
        for i in range(20)
    ]

    async def everyone(url):
        return await asyncio.gather(*(_run_session(url, c) for c in configs))

    with playground_server() as url:
        results = asyncio.run(everyone(url))
    for i, (config, (model, _)) in enumerate(zip(configs, results)):
        path = tmp_path / f"{i}.crnet"
        path.write_bytes(model)
        served = cr.load(path)
        alone = Session(Config.from_dict(config))  # the same run, alone and in one go
        alone.step(config["stopEpochs"])
        for a, b in zip(alone.net.layers, served.layers):
            assert np.array_equal(a.Wb, b.Wb), f"session {i} differs from its solo run"


def test_server_survives_a_tab_closed_mid_training():
    async def scenario(url):
        async with httpx.AsyncClient(base_url=url) as http:
            sid = (
                await http.post(
                    "api/sessions", json={"layers": [8, 8], "activations": ["tanh"] * 2}
                )
            ).json()["id"]
            ws = await websockets.connect(url.replace("http", "ws") + f"api/sessions/{sid}/ws")
            await ws.send(json.dumps({"type": "play"}))
            for _ in range(3):
                await ws.recv()
            ws.transport.abort()  # the tab is gone: no close handshake
            deadline = time.monotonic() + 10
            while (await http.get(f"api/sessions/{sid}")).status_code != 404:
                assert time.monotonic() < deadline, "the closed tab's session was never dropped"
                await asyncio.sleep(0.1)
            content, epoch = await _run_session(url, {"stopEpochs": 5})
            assert epoch == 5

    with playground_server() as url:
        asyncio.run(scenario(url))


def test_cli_reports_a_busy_port_in_one_line():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "chainrule.cli",
                "playground",
                "--port",
                str(port),
                "--no-browser",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert out.returncode == 1
    message = " ".join(out.stderr.split())  # rich wraps long lines at the console width
    assert "Address already in use" in message and "pass another --port" in message
    assert "Traceback" not in message


def test_stop_on_test_loss():
    cfg = Config.from_dict({"stopLoss": 0.4, "layers": [4], "activations": ["tanh"], "lr": 0.1})
    session = Session(cfg)
    while not session.stop_reached():
        assert session.epoch < 5000, "the loss never reached the stop value"
        session.train(0.01)
    # fit's callback stopped at the first epoch whose test loss is below the mark.
    assert session.losses()[1] <= 0.4
    assert session.step(1) == 1  # the page may go on past the mark by stepping


def test_warped_view_is_two_units_of_a_layer():
    session = Session(Config.from_dict({"layers": [5, 3], "activations": ["relu", "tanh"]}))
    session.step(10)
    session.view.warp = (2, 0, 2)  # layer 2 = the second hidden layer, units 0 and 2
    _, blobs = decode_frame(session.frame())
    warp = blobs["warp"].reshape(2, -1)
    X = pdata.features(session.points.X, ["x1", "x2"])
    first, second = session.net.layers[:2]
    h = np.tanh(np.maximum(X @ first.W + first.b, 0) @ second.W + second.b)
    n = len(X)
    np.testing.assert_allclose(warp[0, :n], h[:, 0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(warp[1, :n], h[:, 2], rtol=1e-4, atol=1e-5)
    assert warp.shape[1] == n + len(pdata.warp_lines())


def test_divergence_is_reported_and_the_session_stays_usable():
    cfg = Config.from_dict(
        {
            "problem": "regression",
            "dataset": "plane",
            "features": ["x1sq", "x2sq"],
            "layers": [],
            "activations": [],
            "lr": 10.0,
            "batch": 500,
        }
    )
    session = Session(cfg)
    with pytest.raises(cr.TrainingDivergedError):
        session.step(50)
    assert "diverged" in session.error
    header, _ = decode_frame(session.frame())  # the weights were rolled back to finite ones
    assert header["error"] == session.error
    assert header["trainLoss"] is not None


def test_the_training_rate_cap_holds():
    async def scenario(url):
        async with httpx.AsyncClient(base_url=url) as http:
            sid = (await http.post("api/sessions", json={"speed": 40})).json()["id"]
            async with websockets.connect(
                url.replace("http", "ws") + f"api/sessions/{sid}/ws"
            ) as ws:
                await ws.send(json.dumps({"type": "play"}))
                start = time.monotonic()
                epoch = 0
                while time.monotonic() - start < 1.5:
                    message = await asyncio.wait_for(ws.recv(), 10)
                    if isinstance(message, bytes):
                        epoch = decode_frame(message)[0]["epoch"]
                        await ws.send(json.dumps({"type": "ack"}))
                elapsed = time.monotonic() - start
        return epoch, elapsed

    with playground_server() as url:
        epoch, elapsed = asyncio.run(scenario(url))
    # An upper bound only (a busy machine can only train fewer): 40 epochs/s plus one burst.
    assert 0 < epoch <= 40 * elapsed + 2


# ---------------------------------------------------------------------- hardening, round two
JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"[" * 10_000, 400, "levels deep"),
        (b'{"seed": ' + b"[" * 2000 + b"]" * 2000 + b"}", 400, "levels deep"),
        (b'{"lr": NaN}', 400, "NaN"),
        (b'{"lr": -Infinity}', 400, "Infinity"),
        (b'{"lr": 1e400}', 400, "1e400"),
        (b'{"seed": 1' + b"0" * 4400 + b"}", 400, "digits"),
        (b'{"seed": 1, "seed": 2}', 400, "repeats the key 'seed'"),
        (b'{"seed": "\xff"}', 400, "UTF-8"),
        (b'{"features": [["x1"]]}', 422, "features"),
        (b'{"features": [{"x1": 1}]}', 422, "features"),
        (b'{"layers": [[4]], "activations": ["tanh"]}', 422, "layers[0]"),
        (b'{"lr": ' + str(10**300).encode() + b"}", 400, "digits"),
        (b"null", 422, "JSON object"),
    ],
)
def test_malformed_json_is_a_4xx_naming_the_problem(client, body, status, words):
    r = client.post("/api/sessions", content=body, headers=JSON)
    assert r.status_code == status, r.text
    assert words in r.json()["error"]


def test_nesting_depth_skips_strings():
    assert nesting_depth('{"a": "[[[[{{{{\\"[[[[", "b": [[1]]}') == 3
    assert nesting_depth("[" * 5000) == 5000
    r = parse_json('{"dataset": "' + "[" * 100 + '"}')  # brackets in a string are not nesting
    assert r == {"dataset": "[" * 100}


def test_huge_and_wrong_numbers_in_session_requests_are_4xx(client):
    sid = new_session(client)
    base = f"/api/sessions/{sid}"
    huge = str(10**19).encode()  # within the digit limit, beyond anything the session takes
    for path, body in [
        ("/points", b'{"x": 1, "y": 0, "label": ' + huge + b"}"),
        ("/trace", b'{"x": 1, "y": 1, "label": ' + huge + b"}"),
        ("/trace", b'{"index": ' + huge + b"}"),
        ("/step", b'{"epochs": ' + huge + b"}"),
        ("/points", b'{"x": [1], "y": 0, "label": 0}'),
    ]:
        r = client.post(base + path, content=body, headers=JSON)
        assert 400 <= r.status_code < 500, (path, body, r.text)
    r = client.delete(base + "/points/" + "9" * 5000)
    assert r.status_code == 422 and "index" in r.json()["error"]
    r = client.delete(base + "/points/x")
    assert r.status_code == 422 and "index" in r.json()["error"]


def test_config_from_python_refuses_huge_numbers():
    for field in ("lr", "regRate", "stopLoss"):
        with pytest.raises(cr.ConfigError, match=field):
            Config.from_dict({field: 10**400})
    with pytest.raises(cr.ConfigError, match="unknown"):
        Config.from_dict({1: 2, "a": 3})


def _upload(client, sid, content: bytes):
    return client.post(
        f"/api/sessions/{sid}/upload", content=content, headers={"content-type": "text/csv"}
    )


def test_csv_with_bare_carriage_returns_or_huge_fields(client):
    sid = new_session(client)
    r = _upload(client, sid, b"x1,x2,label\r1,2,0\r3,4,1\r-1,0.5,1\r")  # classic Mac line ends
    assert r.status_code == 200, r.text
    assert sorted(p[:3] for p in r.json()["points"]) == [[-1, 0.5, 1], [1, 2, 0], [3, 4, 1]]
    r = _upload(client, sid, b"1,2\r,0\n3,4,1\n")  # a stray \r inside a row
    assert r.status_code == 422 and "row 1" in r.json()["error"]
    r = _upload(client, sid, b"1,2,0\n" + b"3," * 2 + b"1" * 140_000 + b"\n")
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert "row 2" in error and "field" in error and len(error) < 400
    r = _upload(client, sid, b"1,2,0\n3,4,1\n" + b'"' + b"7" * 100_000 + b'",1,0\n')
    assert r.status_code == 422 and len(r.json()["error"]) < 400  # the row is not echoed whole


def test_csv_with_extreme_values_is_refused_or_rescaled(client):
    sid = new_session(client, problem="regression", dataset="plane")
    r = _upload(client, sid, b"1.5e308,1.7e308,0\n1.6e308,-1.7e308,1\n0,0,0.5\n")
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:
        assert all(abs(v) <= 6 for p in r.json()["points"] for v in p[:2])
    r = _upload(client, sid, b"1,2,1e300\n3,4,1\n")
    assert r.status_code == 422 and "label" in r.json()["error"]
    assert client.get(f"/api/sessions/{sid}/frame").status_code == 200  # still consistent


def test_a_session_whose_socket_never_joins_frees_its_slot():
    settings = Settings(max_sessions=2, socket_wait=1.0)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        new_session(client)
        new_session(client)
        assert client.post("/api/sessions", json={}).status_code == 429  # both still waiting
        time.sleep(1.2)
        new_session(client)  # their sockets never came: the slots went to the new tab


@pytest.mark.parametrize(
    ("origin", "accepted"),
    [
        ("http://127.0.0.1:8000", True),
        ("https://127.0.0.1:8000", False),
        ("http://127.0.0.1:8001", False),
        ("http://127.0.0.1", False),
        ("http://evil.example:8000", False),
        ("null", False),
        ("http://127.0.0.1:99999", False),
    ],
)
def test_socket_origin_must_match_scheme_host_and_port(client, origin, accepted):
    sid = new_session(client)
    headers = {"host": "127.0.0.1:8000", "origin": origin}
    if accepted:
        with client.websocket_connect(f"/api/sessions/{sid}/ws", headers=headers) as ws:
            assert json.loads(ws.receive_text())["type"] == "state"
        return
    with (
        pytest.raises(Exception) as info,
        client.websocket_connect(f"/api/sessions/{sid}/ws", headers=headers) as ws,
    ):
        ws.receive_text()
    assert getattr(info.value, "code", None) == 1008


async def _open_socket(http, url: str):
    sid = (await http.post("api/sessions", json={})).json()["id"]
    ws = await websockets.connect(url.replace("http", "ws") + f"api/sessions/{sid}/ws")
    return sid, ws


async def _until_text(ws, kind: str, timeout: float = 10) -> dict:
    """The next text message of type ``kind`` (frames and other messages are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        message = await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
        if isinstance(message, str) and json.loads(message)["type"] == kind:
            return json.loads(message)


async def _until_frame(ws, timeout: float = 10) -> dict:
    """The header of the next frame whose epoch is past 0."""
    deadline = time.monotonic() + timeout
    while True:
        message = await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
        if isinstance(message, bytes) and decode_frame(message)[0]["epoch"]:
            return decode_frame(message)[0]


def test_malformed_socket_messages_get_an_error_reply_and_the_session_goes_on():
    bad = [
        "[" * 2000 + "]" * 2000,  # 4,000 characters of nesting: RecursionError before
        '{"type": ' + "[" * 1990 + "]" * 1990 + "}",
        b'{"type": "play"}',  # a binary frame
        "[1]",
        "5",
        '{"type": "ack", "n": NaN}',
        '{"type": "view", "hover": [' + "1," * 3000 + "1]}",  # over the size limit
        '{"no": "type"}',
    ]

    async def scenario(url):
        async with httpx.AsyncClient(base_url=url) as http:
            sid, ws = await _open_socket(http, url)
            async with ws:
                for message in bad:
                    await ws.send(message)
                    reply = await _until_text(ws, "error")
                    assert reply["error"], message
                await ws.send(json.dumps({"type": "ack", "n": 10}))
                await ws.send(json.dumps({"type": "step"}))  # still answering
                assert (await _until_frame(ws))["epoch"] == 1
                r = await http.get(f"api/sessions/{sid}")
                assert r.status_code == 200

    with playground_server_log() as (url, log):
        asyncio.run(scenario(url))
        time.sleep(0.2)
    assert "Traceback" not in "".join(log), "".join(log)


def test_invalid_utf8_and_disconnects_leave_no_traceback():
    async def scenario(url):
        host, port = url.split("//")[1].rstrip("/").rsplit(":", 1)
        async with httpx.AsyncClient(base_url=url) as http:
            _, ws = await _open_socket(http, url)
            await ws.send(b'{"type": "\xff"}', text=True)  # a text frame that is not UTF-8
            with pytest.raises(websockets.ConnectionClosed) as info:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            assert info.value.rcvd.code == 1007  # the protocol's answer to invalid text
            _, ws = await _open_socket(http, url)  # a tab closed mid-training
            await ws.send(json.dumps({"type": "play"}))
            await ws.recv()
            ws.transport.abort()
            sid = (await http.post("api/sessions", json={})).json()["id"]
            for path, kind in [
                (f"/api/sessions/{sid}/upload", "text/csv"),
                ("/api/sessions", JSON["content-type"]),
            ]:
                reader, writer = await asyncio.open_connection(host, int(port))
                writer.write(
                    f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {kind}\r\n"
                    "Content-Length: 10000\r\n\r\n1,2,3\n".encode()
                )
                await writer.drain()
                await asyncio.sleep(0.1)
                writer.transport.abort()  # gone before sending the whole body
            await asyncio.sleep(0.5)
            assert (await http.post("api/sessions", json={})).status_code == 201

    with playground_server_log() as (url, log):
        asyncio.run(scenario(url))
        time.sleep(0.2)
    assert "Traceback" not in "".join(log), "".join(log)
