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


def _numbers(text: str, name: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise cr.ConfigError(f"{name}={text!r} must be comma-separated numbers") from None


@app.command()
def trace(
    model: Annotated[
        Path | None, typer.Argument(help="A saved model; default: the Mirabello worked example.")
    ] = None,
    x: Annotated[str | None, typer.Option(help="The sample, comma-separated.")] = None,
    y: Annotated[str | None, typer.Option(help="Its target: a class label or values.")] = None,
    lr: Annotated[float, typer.Option(help="Learning rate of the recorded update.")] = 1.0,
    fmt: Annotated[str, typer.Option("--format", help="text, markdown or json.")] = "text",
    graph: Annotated[
        Path | None,
        typer.Option(help="Also draw the computation graph here (.png, .svg or .pdf)."),
    ] = None,
):
    """Show one forward pass, the loss, the backward pass and the update, with every number."""
    from ._checks import choice

    fmt = choice(fmt, "--format", ["text", "markdown", "json"])
    if graph is not None:
        from .plot import check_path

        check_path(graph)  # a bad name (or no matplotlib) fails before any output
    if model is None:
        from .demos.worked_example import slide_network

        net = slide_network()
        x = x or "0.50,0.51"
        y = y or "0.10"
    else:
        net = cr.load(model)
        if x is None or y is None:
            raise cr.ConfigError("--x and --y are needed with a model: the sample to trace")
    target = _numbers(y, "--y")
    target = target[0] if net.loss_fn.name == "cross_entropy" and len(target) == 1 else target
    record = net.trace(_numbers(x, "--x"), target, lr=lr)
    if fmt == "json":
        typer.echo(record.to_json())
    elif fmt == "markdown":
        typer.echo(record.to_markdown())
    else:
        typer.echo(str(record))
    if graph is not None:
        record.graph().draw(graph)
        typer.echo(f"computation graph: {graph}", err=True)


@app.command()
def gradcheck(
    model: Annotated[
        Path | None,
        typer.Argument(help="A saved model; default: every activation and loss on small nets."),
    ] = None,
    samples: Annotated[int, typer.Option(help="Random probe samples for a model.")] = 8,
    seed: Annotated[int, typer.Option(help="Seed of the probe samples.")] = 0,
    tolerance: Annotated[float, typer.Option(help="Largest relative error that passes.")] = 1e-6,
):
    """Compare back-propagation with finite differences; exit 1 if any gradient disagrees."""
    from . import selfcheck

    if model is None:
        results = selfcheck.check_all(seed, tolerance)
    else:
        report = selfcheck.check_model(cr.load(model), samples, seed, tolerance)
        results = [selfcheck.CaseResult(str(model), report)]
    for case in results:
        typer.echo(f"{case.name}\n{case.report}")
    failed = [case.name for case in results if not case.report.passed]
    typer.echo(f"{len(results) - len(failed)} of {len(results)} passed")
    if failed:
        raise typer.Exit(1)


@app.command()
def demo(
    name: Annotated[
        str | None, typer.Argument(help="A demo's name, or 'all' for the tour; none lists them.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the figures; default: a new one in the current folder."),
    ] = None,
    figures: Annotated[bool, typer.Option(help="Draw the figures (needs matplotlib).")] = True,
):
    """Run the lectures' demos: each prints its numbers and writes its figures (PNG)."""
    from . import demos

    if name is None:
        typer.echo(demos.describe())
        typer.echo(
            "\nRun one with: chainrule demo NAME [--out DIR], or all of them: chainrule demo all"
        )
    elif name.strip().lower() == "all":
        demos.run_all(out, plots=figures, echo=typer.echo)
    else:
        demos.run(name, out, plots=figures, echo=typer.echo)


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
