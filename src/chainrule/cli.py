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


@app.command()
def bench(
    only: Annotated[
        str, typer.Option(help="Comma-separated subset of: step, digits, memory, scaling.")
    ] = "step,digits,memory,scaling",
    nets: Annotated[str, typer.Option(help="Networks for the step benchmark.")] = (
        "tiny,small,medium,large"
    ),
    seconds: Annotated[float, typer.Option(help="Sampling time per contender.")] = 4.0,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write results here.")] = None,
):
    """Benchmark training speed against the matmul limit, PyTorch, JAX and scikit-learn."""
    from .benchmark import NETWORKS, run_all

    chosen = [n.strip() for n in nets.split(",")]
    unknown = [n for n in chosen if n not in NETWORKS]
    if unknown:
        raise cr.ConfigError(f"--nets: unknown network(s) {unknown}; choose from {list(NETWORKS)}")
    if seconds <= 0:
        raise cr.ConfigError(f"--seconds={seconds} must be > 0")
    run_all(seconds, chosen, 5, [o.strip() for o in only.split(",")], json_out)


@app.command()
def playground(
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free one).")] = 8000,
    host: Annotated[
        str, typer.Option(help="Address to bind; the default serves this machine only.")
    ] = "127.0.0.1",
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open a browser.")
    ] = False,
):
    """Train networks live in the browser: TensorFlow Playground on the real engine."""
    try:
        from .playground import server
    except ImportError as exc:
        raise cr.ConfigError(
            f"the playground needs the 'web' extra ({exc.name} is missing); install it: "
            "pip install 'chainrule[web]'"
        ) from None
    server.serve(host, port, open_browser=not no_browser, on_ready=console.print)


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
