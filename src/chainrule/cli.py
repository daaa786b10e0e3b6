"""The ``chainrule`` command line (typer + rich; the ``cli`` extra).

Every command delegates to the library. User errors (a ``ChainruleError``) print one clear line and
exit 1, never a traceback; usage errors exit 2 with typer's message.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

import chainrule as cr

app = typer.Typer(
    name="chainrule",
    help="Feed-forward neural networks trained by back-propagation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Feed-forward neural networks trained by back-propagation."""


@app.command()
def summary(model: Annotated[Path, typer.Argument(help="A model file saved by chainrule.")]):
    """Show a model's layers, shapes, activations and parameter counts."""
    console.print(cr.load(model).summary(), highlight=False)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``chainrule`` console script.

    typer handles --help and usage errors itself (exit 2); a ``ChainruleError`` from the library
    is the user's mistake, shown as one line with exit code 1.
    """
    try:
        app(args=argv, prog_name="chainrule")
    except cr.ChainruleError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
