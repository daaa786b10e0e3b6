"""Epochs per second and frames per second of the playground in headless Chromium.

For each setup: start the server, load the page, press play, wait a 1 s warm-up, then count
the epochs trained and the frames drawn over a 10 s window, second by second (so a slowdown
as the run grows shows up). Everything TF Playground draws is on screen too: the output
heatmap on a 100 × 100 grid, the neuron heatmaps, the links and the loss chart (plus our
accuracy, gradient-norm and warped-space panels).

    python bench/playground_speed.py [--window 10] [--json results.json]

TensorFlow Playground's figures on the same 2-core machine, for reference (its default setup
is capped at one epoch per animation frame): 60 epochs/s (7.1 ms per epoch uncapped) on the
default setup; 22.6 epochs/s (35.7 ms per epoch uncapped) on the spiral with 6 × 8 neurons.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SETUPS = {
    "default (circle, 4-2 tanh, batch 10)": ("", 60.0),
    "spiral, 6 x 8 tanh": (
        "#dataset=spiral&layers=8,8,8,8,8,8&activations=tanh,tanh,tanh,tanh,tanh,tanh",
        22.6,
    ),
}


def measure(page, url: str, window: float) -> dict:
    page.goto(url)
    page.wait_for_function("window.__playground && window.__playground.stats.frames > 0")
    read = "(() => { const s = window.__playground.stats; return [s.epoch, s.frames]; })()"
    page.click("#play")
    time.sleep(1.0)  # warm-up
    start = time.perf_counter()
    e0, f0 = page.evaluate(read)
    per_second = []
    last_e, last_t = e0, start
    while True:
        time.sleep(1.0)
        now = time.perf_counter()
        epoch, frames = page.evaluate(read)
        per_second.append((epoch - last_e) / (now - last_t))
        last_e, last_t = epoch, now
        if now - start >= window:
            break
    page.click("#play")
    elapsed = last_t - start
    return {
        "epochs_per_s": (last_e - e0) / elapsed,
        "frames_per_s": (frames - f0) / elapsed,
        "epochs_per_s_first_second": per_second[0],
        "epochs_per_s_last_second": per_second[-1],
        "epochs_per_s_min_second": min(per_second),
        "epoch_at_end": last_e,
        "epochs_per_s_each_second": [round(v) for v in per_second],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=10.0, help="seconds measured")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-m", "chainrule.playground", "--port", "0", "--no-browser"],
        stdout=subprocess.PIPE,
        text=True,
    )
    results = {}
    try:
        url = re.search(r"http://\S+/", server.stdout.readline()).group(0)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for name, (setup, tf) in SETUPS.items():
                context = browser.new_context(
                    viewport={"width": 1440, "height": 1000}, bypass_csp=True
                )
                page = context.new_page()
                result = measure(page, url + setup, args.window)
                result["tf_playground_epochs_per_s"] = tf
                result["ratio"] = result["epochs_per_s"] / tf
                results[name] = result
                context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait()
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'setup':38s} {'epochs/s':>9s} {'frames/s':>9s} {'TF':>6s} {'ratio':>6s}")
    for name, r in results.items():
        line = f"{name:38s} {r['epochs_per_s']:9.0f} {r['frames_per_s']:9.1f} "
        line += f"{r['tf_playground_epochs_per_s']:6.1f} {r['ratio']:5.0f}x"
        print(line)
        seconds = ", ".join(str(v) for v in r["epochs_per_s_each_second"])
        print(f"    epochs/s second by second: {seconds} (epoch {r['epoch_at_end']} at the end)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
