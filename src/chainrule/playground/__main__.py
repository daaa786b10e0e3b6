"""``python -m chainrule.playground [--host H] [--port N] [--no-browser]``."""

from __future__ import annotations

import argparse
import sys

from ..errors import ChainruleError
from . import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chainrule.playground")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (0: any free one)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    args = parser.parse_args(argv)
    try:
        serve(args.host, args.port, open_browser=not args.no_browser, on_ready=_ready)
    except ChainruleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _ready(line: str) -> None:
    print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
