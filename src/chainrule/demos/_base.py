"""What every demo shares: where it writes, how it speaks, what it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .. import files
from ..errors import ConfigError


@dataclass
class DemoResult:
    """The outcome of one demo.

    ``numbers`` holds what the demo computed (plain Python values, JSON-ready), ``figures`` the
    PNG files it wrote, ``lines`` what it printed. ``result["key"]`` reads ``numbers``.
    """

    name: str
    title: str
    numbers: dict = field(default_factory=dict)
    figures: list[Path] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def __getitem__(self, key: str):
        return self.numbers[key]

    def __str__(self) -> str:
        return "\n".join(self.lines)


class Demo:
    """The context a demo runs in: ``say`` prints, ``save`` writes a figure into ``out``."""

    def __init__(
        self,
        name: str,
        title: str,
        out: Path | None,
        echo: Callable[[str], object] | None,
    ) -> None:
        self.result = DemoResult(name, title)
        self.out = out
        self._echo = echo

    @property
    def plots(self) -> bool:
        """Whether figures are drawn (an output folder was given)."""
        return self.out is not None

    def say(self, text: str = "") -> None:
        """Print (through the demo's echo) and keep the line in the result."""
        for line in str(text).splitlines() or [""]:
            self.result.lines.append(line)
            if self._echo is not None:
                self._echo(line)

    def save(self, fig, filename: str) -> Path:
        """Write ``fig`` as ``out/filename`` and list it among the demo's figures."""
        from ..plot import save

        path = save(fig, self.out / filename)
        self.result.figures.append(path)
        self.say(f"  figure: {path}")
        return path

    def write_text(self, filename: str, text: str) -> Path:
        """Write a text file (e.g. a Markdown trace) next to the figures."""
        path = files.write_atomically(self.out / filename, [text.encode("utf-8")], ConfigError)
        self.say(f"  written: {path}")
        return path


def prepare_out(out: object, name: str) -> Path:
    """The folder a demo writes into: ``out`` (created if missing) or a new one in the cwd."""
    if out is None:
        base = Path.cwd() / f"chainrule-demo-{name}"
        path, k = base, 1
        while path.exists():
            k += 1
            path = base.with_name(f"{base.name}-{k}")
    else:
        if not isinstance(out, (str, Path)):
            raise ConfigError(f"out={out!r} must be a folder path (str or pathlib.Path)")
        path = Path(out)
        if path.exists() and not path.is_dir():
            raise ConfigError(f"out={str(path)!r} is a file, not a folder; pass a folder path")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"out={str(path)!r} cannot be created: {exc.strerror}") from None
    return path
