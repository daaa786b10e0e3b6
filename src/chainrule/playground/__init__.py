"""The chainrule playground: TensorFlow Playground's page, training a real chainrule network.

Start it with ``chainrule playground`` (or ``python -m chainrule.playground``); it needs the
``web`` extra (Starlette and uvicorn). The server trains in Python with the library itself and
streams frames to a canvas page served from this package (no CDN, no build step).
"""

from __future__ import annotations

from .config import Config

__all__ = ["Config", "create_app", "serve"]


def create_app(settings=None):
    """The ASGI app (see :func:`chainrule.playground.server.create_app`)."""
    from .server import create_app as _create_app

    return _create_app(settings)


def serve(host: str = "127.0.0.1", port: int = 8000, *, open_browser: bool = True, **kwargs):
    """Serve the playground until Ctrl-C (see :func:`chainrule.playground.server.serve`)."""
    from .server import serve as _serve

    _serve(host, port, open_browser=open_browser, **kwargs)
