"""Helpers shared by the playground tests: a real server in a subprocess, Chromium options."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@contextmanager
def playground_server_log(*extra: str) -> Iterator[tuple[str, list[str]]]:
    """Run ``python -m chainrule.playground --port 0``; yield its URL and its log so far.

    The log is a list of the server's output lines, growing while it runs.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "chainrule.playground", "--port", "0", "--no-browser", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://\S+/", line)
        if match is None:
            proc.kill()
            raise RuntimeError(f"the playground did not start: {line}{proc.stdout.read()}")
        # Keep reading its output so a chatty server never blocks on a full pipe.
        log: list[str] = []
        threading.Thread(target=lambda: log.extend(proc.stdout), daemon=True).start()
        yield match.group(0), log
        assert proc.poll() is None, "the server died: " + "".join(log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def playground_server(*extra: str) -> Iterator[str]:
    """Run ``python -m chainrule.playground --port 0`` and yield its URL (ends with '/')."""
    with playground_server_log(*extra) as (url, _):
        yield url
