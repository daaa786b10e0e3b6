"""Writing files so that a crash never leaves half of one: a temporary file in the same folder,
flushed to disk, then renamed over the target (``os.replace`` is atomic on POSIX and Windows).

Every file chainrule writes — models, checkpoints, histories, predictions, figures, ONNX graphs,
benchmark results — goes through :func:`write_atomically`. Its temporary files are named
``.NAME.XXXXXXXX.tmp`` next to the target, which :mod:`chainrule.outputs` recognises as
leftovers of a killed run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from pathlib import Path

from .errors import ChainruleError


@contextlib.contextmanager
def signals_deferred():
    """Hold SIGINT/SIGTERM until the block ends, so a Ctrl-C cannot strand a temporary file.

    A signal that arrives meanwhile is re-delivered (KeyboardInterrupt raised) as soon as the
    file is in place. Python runs signal handlers in the main thread only, so elsewhere the
    block runs as it is (its except-clause still removes the temporary file).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {
        sig: signal.signal(sig, lambda signum, frame: caught.append(signum)) for sig in held
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for sig in caught[:1]:
        handler = previous[sig]
        if callable(handler):
            handler(sig, None)
        elif handler == signal.SIG_DFL:
            os.kill(os.getpid(), sig)


def write_atomically(
    path: str | os.PathLike, parts: list[bytes], error: type[ChainruleError]
) -> Path:
    """Write the concatenated ``parts`` to ``path`` atomically, with ordinary permissions
    (mkstemp's are private) and SIGINT/SIGTERM held until the file is in place. A failure to
    write is raised as ``error`` naming the path; the temporary file never stays behind."""
    path = Path(path)
    with signals_deferred():
        try:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        except OSError as exc:
            raise error(f"path={str(path)!r} cannot be written: {exc.strerror}") from None
        try:
            os.fchmod(fd, FILE_MODE)
            with os.fdopen(fd, "wb") as f:
                for part in parts:
                    f.write(part)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException as exc:  # KeyboardInterrupt too: never leave a half-written file
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise error(f"path={str(path)!r} cannot be written: {exc.strerror}") from None
            raise
    return path


def _file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


FILE_MODE = _file_mode()  # what open() would give a new file under this process's umask
