"""The files one command writes, handled as a unit: proven writable before the work starts,
and on failure put back exactly as they were (see :class:`Outputs`)."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

from .errors import ConfigError


def _stale_temporaries(path: Path) -> list[Path]:
    """Temporary files a killed run left next to ``path``: ``.NAME.XXXXXXXX.tmp``, the names
    ``files.write_atomically`` gives them (from ``tempfile.mkstemp``)."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.tmp")
    with contextlib.suppress(OSError):
        return [p for p in path.parent.iterdir() if pattern.fullmatch(p.name) and p.is_file()]
    return []


class Outputs:
    """The files one run writes, handled as a unit.

    :meth:`prepare` (before training) creates the folders, proves each writable, removes the
    temporaries of an earlier killed run and keeps a hard link to every file the run will
    replace. :meth:`rollback` (the run failed) puts each path back as it was: files the run
    created are removed, replaced ones restored, created folders removed. :meth:`commit` (the
    run succeeded, or stopped on Ctrl-C with its checkpoint) drops the kept links and the
    created folders left empty.
    """

    def __init__(self, files: dict[Path, str], folders: dict[Path, str] | None = None):
        self.files = files  # path -> the option that named it, for messages
        self.folders = folders or {}
        self.kept: dict[Path, Path] = {}  # path -> a link to its content before the run
        self.new: list[Path] = []  # paths that held no file before the run
        self.created: list[Path] = []  # folders this run made, outermost first

    def prepare(self) -> None:
        try:
            for folder, option in self.folders.items():
                self._make_folder(folder, option)
            for path, option in self.files.items():
                self._prepare_file(path, option)
        except BaseException:
            self.rollback()
            raise

    def _prepare_file(self, path: Path, option: str) -> None:
        if path.is_dir():
            raise ConfigError(f"{option}: {str(path)!r} is a folder; a file is written there")
        _prove_writable(path.parent, option, path)
        for stale in _stale_temporaries(path):
            with contextlib.suppress(OSError):
                stale.unlink()
        if path.is_file():
            self.kept[path] = _keep(path, option)
        elif not path.exists():
            self.new.append(path)

    def _make_folder(self, folder: Path, option: str) -> None:
        missing = [p for p in (folder, *folder.parents) if not p.exists()][::-1]
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"{option} {str(folder)!r}: the folder cannot be created ({exc.strerror})"
            ) from None
        self.created += missing

    def rollback(self) -> None:
        for path, link in self.kept.items():
            with contextlib.suppress(OSError):  # a no-op where both are still one file (POSIX)
                os.replace(link, path)
        for path in self.new:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        self.new.clear()
        self.commit()

    def commit(self) -> None:
        for link in self.kept.values():
            with contextlib.suppress(OSError):
                link.unlink()
        self.kept.clear()
        for folder in reversed(self.created):  # those left empty: an interrupted run's plots
            with contextlib.suppress(OSError):
                folder.rmdir()


def _prove_writable(folder: Path, option: str, path: Path) -> None:
    """Create and remove a file in ``folder``: the only sure test (permissions, read-only
    mounts, a full quota or a file where a folder should be all show here)."""
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".chainrule-probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(
            f"{option} {str(path)!r}: the folder {str(folder)!r} cannot be written to "
            f"({exc.strerror})"
        ) from None


def _keep(path: Path, option: str) -> Path:
    """A second name for ``path``'s current content (a hard link; a copy where links are not
    supported), named like a temporary so a killed run's leftover is cleaned up later."""
    for _ in range(100):
        link = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            os.link(path, link)
            return link
        except FileExistsError:
            continue
        except OSError:
            try:
                shutil.copy2(path, link)
                return link
            except OSError as exc:
                link.unlink(missing_ok=True)
                raise ConfigError(
                    f"{option} {str(path)!r} cannot be kept while it is replaced "
                    f"({exc.strerror}); free some space or choose another path"
                ) from None
    raise ConfigError(f"{option} {str(path)!r}: no free name for a temporary file next to it")
