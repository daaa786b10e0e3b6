"""The playground in a real browser: Debian's Chromium driven by Playwright.

One server and one browser for the module; each test opens its own tab (its own session).
Playwright's helpers evaluate code in the page, which the page's content-security policy
forbids, so most tabs bypass the policy; one test loads the page under it and checks that
nothing the page does is refused.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from playground_util import CHROMIUM, CHROMIUM_ARGS, playground_server
from playwright.sync_api import sync_playwright

import chainrule as cr

# The README's picture is rewritten only on request, so a test run never changes tracked files.
README_SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "playground.png"
UPDATE_SCREENSHOT = os.environ.get("CHAINRULE_UPDATE_SCREENSHOT") == "1"


@pytest.fixture(scope="module")
def url():
    with playground_server() as address:
        yield address


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, bypass_csp=True)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, errors


def open_page(page, url: str, setup: str = "") -> None:
    page.goto(url + setup)
    page.wait_for_function("window.__playground && window.__playground.stats.frames > 0")


def state(page) -> dict:
    return page.evaluate("window.__playground.state")


def frame(page) -> dict:
    return page.evaluate("window.__playground.frame")


def wait_epoch(page, epoch: int) -> None:
    page.wait_for_function(f"window.__playground.stats.epoch >= {epoch}", timeout=30_000)


def pause(page) -> None:
    """Pause and wait until the frame on screen is the last one the server will send."""
    page.click("#play")
    last = -1
    for _ in range(100):
        time.sleep(0.1)
        epoch = page.evaluate("window.__playground.stats.epoch")
        if epoch == last:
            return
        last = epoch
    raise AssertionError("training did not stop after pause")


def plot_xy(x: float, y: float) -> dict:
    """Canvas position of the data point (x, y) on the 330-pixel plot of [-6, 6]²."""
    return {"x": (x + 6) / 12 * 330, "y": (6 - y) / 12 * 330}


def test_page_loads_under_its_security_policy(browser, url):
    context = browser.new_context()
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda exc: problems.append(str(exc)))
    tab.goto(url)
    for _ in range(100):
        if tab.evaluate("window.__playground.stats.frames") > 0:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("no frame was drawn")
    context.close()
    assert not problems, problems


def test_play_lowers_the_loss_and_changes_the_output(page, url):
    open_page(page, url, "#seed=3")
    before_loss = frame(page)["trainLoss"]
    before_pixels = page.evaluate("window.__playground.plotPixels()")
    page.click("#play")
    wait_epoch(page, 300)
    pause(page)
    after = frame(page)
    assert after["epoch"] >= 300
    assert after["trainLoss"] < 0.5 * before_loss
    assert after["trainAcc"] > 0.9
    assert page.evaluate("window.__playground.plotPixels()") != before_pixels
    shown = page.inner_text("#epoch").replace(",", "")
    assert int(shown) == after["epoch"]
    box = page.locator("#lossChart").bounding_box()
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    tip = page.inner_text("#lossTip")  # the exact values of the newest point
    losses = f"training {after['trainLoss']:.4f}, test {after['testLoss']:.4f}"
    assert tip == f"epoch {after['epoch']}: {losses}"


def test_add_and_delete_a_point(page, url):
    open_page(page, url)
    n = len(state(page)["points"])
    page.click("#labelPicker button[data-label='0']")
    page.click("#plot", position=plot_xy(5.5, 5.5))  # an empty corner: adds a point
    page.wait_for_function(f"window.__playground.state.points.length === {n + 1}")
    x, y, label, train = state(page)["points"][-1]
    assert x == pytest.approx(5.5, abs=0.05) and y == pytest.approx(5.5, abs=0.05)
    assert (label, train) == (0, 1)
    assert state(page)["custom"]
    page.click("#plot", position=plot_xy(5.5, 5.5))  # on the point: deletes it
    page.wait_for_function(f"window.__playground.state.points.length === {n}")
    assert all(abs(p[0] - 5.5) > 0.05 for p in state(page)["points"])


def test_three_classes(page, url):
    open_page(page, url)
    page.click("#datasets button[data-name='spiral']")
    page.wait_for_function("window.__playground.state.config.dataset === 'spiral'")
    page.select_option("#classes", "3")
    page.wait_for_function("window.__playground.state.classes === 3")
    assert state(page)["sizes"][-1] == 3
    assert page.locator("#labelPicker button").count() == 3
    labels = {p[2] for p in state(page)["points"]}
    assert labels == {0, 1, 2}
    page.click("#play")
    wait_epoch(page, 50)
    pause(page)
    assert len(page.evaluate("window.__playground.blob('output')")) == 3 * 100 * 100
    assert page.locator("#confusion tr").count() == 4  # header + one row per class
    matrix = np.array(frame(page)["confusion"]["test"])
    assert matrix.shape == (3, 3) and matrix.sum() == 250


def test_a_copied_link_reproduces_the_setup(page, url, browser):
    open_page(page, url)

    def settle(condition: str) -> None:
        page.wait_for_function(
            f"(() => {{ const c = window.__playground.config; return {condition}; }})()"
        )

    page.click("#datasets button[data-name='xor']")
    settle("c.dataset === 'xor'")
    page.select_option("#lr", "0.1")
    settle("c.lr === 0.1")
    page.select_option("#optimizer", "adam")
    settle("c.optimizer === 'adam'")
    page.select_option("#reg", "l2")
    settle("c.reg === 'l2'")
    page.select_option("#regRate", "0.01")
    settle("c.regRate === 0.01")
    page.click("#addLayer")
    settle("c.layers.length === 3")
    page.click("#layerControls button[data-layer='0'][data-op='add']")
    settle("c.layers[0] === 5")
    page.select_option("#layerControls select[data-layer='1']", "relu")
    settle("c.activations[1] === 'relu'")
    page.fill("#stopEpochs", "5000")
    page.press("#stopEpochs", "Tab")
    settle("c.stopEpochs === 5000")
    page.check("#showTest")
    link = page.url
    config = page.evaluate("window.__playground.config")
    assert config["layers"] == [5, 2, 2] and config["activations"] == ["tanh", "relu", "tanh"]

    other = browser.new_context(viewport={"width": 1440, "height": 1000}, bypass_csp=True)
    fresh = other.new_page()
    open_page(fresh, link)
    assert fresh.evaluate("window.__playground.config") == config
    assert fresh.evaluate("window.__playground.ui")["showTest"] is True
    assert fresh.evaluate("window.__playground.session") != page.evaluate(
        "window.__playground.session"
    )
    assert fresh.input_value("#lr") == "0.1" and fresh.input_value("#optimizer") == "adam"
    assert fresh.is_checked("#showTest")
    assert fresh.evaluate("window.__playground.state.points") == state(page)["points"]
    other.close()


def test_download_the_model_and_load_it(page, url, tmp_path):
    open_page(page, url, "#layers=3&activations=sigmoid&features=x1,x2,x1x2")
    for epoch in (1, 2, 3):
        page.click("#step")
        wait_epoch(page, epoch)
    with page.expect_download() as info:
        page.click("#downloadModel")
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    net = cr.load(path)
    assert net.metadata["playground"]["epoch"] == 3
    assert [layer.activation.name for layer in net.layers] == ["sigmoid", "sigmoid"]
    weights = np.concatenate([layer.Wb.ravel() for layer in net.layers])
    shown = np.array(page.evaluate("window.__playground.blob('weights')"), np.float32)
    assert np.array_equal(weights, shown)
    with page.expect_download() as info:
        page.click("#downloadCode")
    code = Path(info.value.path()).read_text()
    assert "cr.Dense(3, 3, 'sigmoid')" in code or 'cr.Dense(3, 3, "sigmoid")' in code


def test_trace_panel_shows_net_trace_for_the_same_weights(page, url):
    open_page(page, url, "#layers=3&activations=tanh&features=x1,x2,x1sq&seed=2")
    for epoch in (1, 2):
        page.click("#step")
        wait_epoch(page, epoch)
    page.check("input[name=mode][value=trace]")
    x, y, _, _ = next(p for p in state(page)["points"] if p[3])  # a training point
    page.click("#plot", position=plot_xy(x, y))
    page.wait_for_function("window.__playground.stats.trace !== null")
    point = page.evaluate("window.__playground.stats.trace.point")
    with page.expect_download() as info:
        page.click("#downloadModel")
    net = cr.load(info.value.path())  # the weights the page traced
    features = np.array([[point["x"], point["y"], point["x"] ** 2]])
    expected = net.trace(features, np.array([point["label"]]), lr=0.03).to_dict()
    cells = page.eval_on_selector_all(
        "#trace [data-path]", "els => els.map(e => [JSON.parse(e.dataset.path), e.dataset.v])"
    )
    # Every number shown: L, ŷ, y; per layer the vectors h(ℓ-1), e, h, dL/dh, g', δ, dL/db
    # (dL/dh and g' do not exist at the fused sigmoid output) and the matrices dL/dW, W, W_new.
    hidden = 3 + 6 * 3 + 3 * 3 * 3
    output = 3 + 4 * 1 + 3 * 3 * 1
    assert len(cells) == 3 + hidden + output
    for path, shown in cells:
        value = expected
        for key in path:
            value = value[key]
        if shown == "null":
            assert value is None, path
        else:
            assert float(shown) == pytest.approx(value, rel=1e-12, abs=0), path
    assert "Layer \u2113 = 2: 3 \u2192 1, sigmoid" in page.inner_text("#trace")


def test_screenshot_for_the_readme(page, url, tmp_path):
    """Set CHAINRULE_UPDATE_SCREENSHOT=1 to write the picture into docs/ for the README."""
    setup = (
        "#dataset=spiral&noise=10&features=x1,x2,sinx1,sinx2&layers=8,8,6"
        "&activations=tanh,tanh,tanh&lr=0.03&batch=10&stopEpochs=2000&showTest=1"
    )
    open_page(page, url, setup)
    page.click("#play")
    page.wait_for_function("window.__playground.stats.epoch >= 2000", timeout=60_000)
    assert frame(page)["testAcc"] > 0.9  # the picture shows a network that learned the spiral
    page.check("input[name=mode][value=trace]")
    x, y, _, _ = next(p for p in state(page)["points"] if p[3] and p[2] == 1)
    page.click("#plot", position=plot_xy(x, y))
    page.wait_for_function("window.__playground.stats.trace !== null")
    time.sleep(0.3)
    box = page.locator("#net").bounding_box()
    page.mouse.move(box["x"] + 1, box["y"] + 1)  # no hover highlight in the picture
    target = README_SCREENSHOT if UPDATE_SCREENSHOT else tmp_path / "playground.png"
    partial = target.with_suffix(".png.tmp")
    page.screenshot(path=str(partial), full_page=True, type="png")
    os.replace(partial, target)
    assert target.stat().st_size > 50_000


def test_hover_a_neuron_and_edit_a_weight(page, url):
    open_page(page, url)
    at = page.evaluate("window.__playground.neuron(0, 1)")
    page.mouse.move(at["x"], at["y"])
    page.wait_for_function(
        "(() => { const f = window.__playground.frame; return f.hover && f.hover[1] === 1; })()"
    )
    assert "Layer 1, neuron 2" in page.inner_text("#plotCaption")
    assert len(page.evaluate("window.__playground.blob('hover')")) == 100 * 100
    # Layer 1's link from neuron 3 to neuron 2: W[2, 1] of the second block.
    at = page.evaluate("window.__playground.link(1, 2, 1)")
    page.mouse.move(at["x"], at["y"])
    assert "L1 n3 \u2192 L2 n2" in page.inner_text("#tooltip")
    page.mouse.click(at["x"], at["y"])
    page.fill("#weightEditor", "1.625")
    page.press("#weightEditor", "Enter")
    index = 3 * 4 + 2 * 2 + 1  # after layer 0's (2+1)x4 block, row 2, column 1 of (4+1)x2
    page.wait_for_function(f"window.__playground.blob('weights')[{index}] === 1.625")


def test_upload_a_csv(page, url):
    open_page(page, url)
    rows = "x1,x2,label\n" + "".join(
        f"{np.cos(a) * 4:.4f},{np.sin(a) * 4:.4f},{i % 3}\n"
        for i, a in enumerate(np.linspace(0, 6.2, 60))
    )
    page.set_input_files(
        "#upload", files=[{"name": "points.csv", "mimeType": "text/csv", "buffer": rows.encode()}]
    )
    page.wait_for_function("window.__playground.state.points.length === 60")
    st = state(page)
    assert st["custom"] and st["classes"] == 3 and st["sizes"][-1] == 3
    assert "edited or uploaded" in page.inner_text("#dataNote")
