"""The ``chainrule`` command line (typer + rich; the ``cli`` extra).

Every command delegates to the library. User errors (a ``ChainruleError``) print one clear line and
exit 1, never a traceback; usage errors exit 2 with typer's message.
"""

from __future__ import annotations

import math
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
err_console = Console(stderr=True, soft_wrap=True)  # one error, one line


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
def train(
    data_file: Annotated[
        Path | None, typer.Argument(help="CSV, Parquet, .npy or .npz; default: bundled digits.")
    ] = None,
    target: Annotated[str | None, typer.Option(help="The column to predict.")] = None,
    task: Annotated[str | None, typer.Option(help="classify or regress (default: guess).")] = None,
    hidden: Annotated[str, typer.Option(help="Hidden layer sizes, e.g. 64,32.")] = "64",
    activation: Annotated[str, typer.Option(help="Hidden activation.")] = "relu",
    epochs: Annotated[int, typer.Option(help="Passes over the data.")] = 30,
    batch_size: Annotated[int, typer.Option(help="Samples per step.")] = 32,
    optimizer: Annotated[str, typer.Option(help="sgd, momentum, nesterov, adam, adamw.")] = "adam",
    lr: Annotated[float | None, typer.Option(help="Learning rate (default per optimizer).")] = None,
    l2: Annotated[float, typer.Option(help="L2 regularisation strength.")] = 0.0,
    val_split: Annotated[float, typer.Option(help="Share held out for validation.")] = 0.2,
    early_stopping: Annotated[bool, typer.Option(help="Stop when validation stalls.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of weights, shuffling and split.")] = 0,
    out: Annotated[Path, typer.Option(help="The model file to write.")] = Path("model.crnet"),
    plot: Annotated[Path | None, typer.Option(help="Folder for the learning-curve PNG.")] = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="Checkpoint written every epoch and on Ctrl-C; default: MODEL.ckpt."),
    ] = None,
    resume: Annotated[Path | None, typer.Option(help="Continue from this checkpoint.")] = None,
    monitor: Annotated[
        bool,
        typer.Option(
            help="Record per-layer gradient norms, saturated and dead units each epoch; "
            "table and PNG (into --plot, or next to the model)."
        ),
    ] = False,
):
    """Train a network on a data file and save it, with its history; Ctrl-C checkpoints."""
    from . import workflow
    from .outputs import Outputs

    numbers = _numbers(hidden, "--hidden")
    if not numbers or not all(1 <= v < math.inf and v == int(v) for v in numbers):
        raise cr.ConfigError(f"--hidden={hidden!r} must be positive integers, e.g. 64,32")
    sizes = tuple(int(v) for v in numbers)
    if data_file is None:
        source, target = workflow.digits_frame(), target or "digit"
    elif target is None:
        raise cr.ConfigError("--target is needed: the name of the column to predict")
    else:
        source = data_file
    settings = workflow.TrainSettings(
        sizes, activation, epochs, batch_size, optimizer, lr, l2, val_split, early_stopping, seed
    )
    checkpoint = _train_outputs(out, plot, checkpoint)
    files = _train_files(out, plot, checkpoint, monitor)
    _refuse_overwriting(data_file, files)
    outputs = Outputs(files, _folders(plot))
    outputs.prepare()  # every output proven writable before the first epoch
    try:
        history = _fit(source, target, task, settings, out, checkpoint, resume, monitor)
        written = [] if history.interrupted else _write_results(history, out, plot, monitor)
    except BaseException:  # a failed run leaves what was there before, and nothing else
        outputs.rollback()
        raise
    outputs.commit()
    if history.interrupted:
        err_console.print(
            f"interrupted after epoch {len(history.loss)}; the state is in {checkpoint}: continue "
            f"with --resume {checkpoint}",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(130)
    for line in written:
        console.print(line, markup=False)


def _fit(
    source,
    target: str,
    task: str | None,
    settings,
    out: Path,
    checkpoint: Path,
    resume: Path | None,
    monitor: bool,
):
    """Train (and save the model) with a progress bar; returns the history."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from . import workflow

    columns = [
        TextColumn("epoch {task.completed}/{task.total}"),
        BarColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=console, transient=False) as bar:
        job = bar.add_task("train", total=settings.epochs, info="")

        def show(net, epoch, logs):
            info = "  ".join(f"{k} {v:.4f}" for k, v in logs.items())
            bar.update(job, completed=epoch + 1, info=info)

        _, history = workflow.train_file(
            source,
            target,
            task,
            settings,
            out,
            callbacks=[show],
            checkpoint=checkpoint,
            resume=resume,
            monitor=monitor,
        )
    return history


def _write_results(history, out: Path, plot: Path | None, monitor: bool) -> list[str]:
    """Print the final metrics; write the history, the learning curve and the monitor's
    figure; return the lines naming what was written."""
    import csv
    import io as _io

    from rich.table import Table

    from . import workflow

    series = history.as_dict()
    table = Table(title="final metrics")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, values in series.items():
        table.add_row(name, f"{values[-1]:.4f}")
    console.print(table)
    buffer = _io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["epoch", *series])
    for i in range(history.epochs):
        writer.writerow([i + 1, *(f"{v[i]:.8g}" for v in series.values())])
    history_path = _history_path(out)
    workflow.write_text(history_path, buffer.getvalue())
    written = [f"model: {out}   history: {history_path}"]
    if plot is not None:
        from . import plot as plots

        fig, ax = plots.figure(7, 4)
        curves = {k: v for k, v in series.items() if k in ("loss", "val_loss")}
        plots.curves(ax, curves, title="Learning curve")
        written.append(f"learning curve: {plots.save(fig, plot / 'learning-curve.png')}")
    if monitor:
        written += _monitor_report(history, out, plot)
    return written


def _train_files(out: Path, plot: Path | None, checkpoint: Path, monitor: bool) -> dict:
    """Every file 'train' may write, with the option that names it."""
    files = {
        out: "--out",
        _history_path(out): "the history of --out",
        checkpoint: "--checkpoint",
    }
    if plot is not None:
        files[plot / "learning-curve.png"] = "--plot"
    if monitor:
        files[_monitor_path(out, plot)] = "--plot" if plot is not None else "--monitor"
    return files


def _history_path(out: Path) -> Path:
    return out.with_name(out.stem + ".history.csv")


def _refuse_overwriting(data_file: Path | None, files: dict[Path, str]) -> None:
    """No output may land on the data file being trained on."""
    for path, option in files.items():
        if data_file is not None and path.resolve() == data_file.resolve():
            raise cr.ConfigError(
                f"{option} {str(path)!r} is the data file itself, which the run would "
                "overwrite; choose another name"
            )


def _folders(plot: Path | None) -> dict:
    return {} if plot is None else {plot: "--plot"}


def _train_outputs(out: Path, plot: Path | None, checkpoint: Path | None) -> Path:
    """Check the shape of every path 'train' writes before it trains (no model without its
    history and plot); returns the checkpoint path."""
    if out.name in ("", ".", "..") or out.is_dir():
        raise cr.ConfigError(f"--out {str(out)!r} is a folder; name a file, e.g. model.crnet")
    if not out.parent.is_dir():
        raise cr.ConfigError(f"--out {str(out)!r}: folder {str(out.parent)!r} does not exist")
    history = _history_path(out)
    if history.is_dir():
        raise cr.ConfigError(f"the history file {str(history)!r} would replace a folder")
    if plot is not None:
        if plot.exists() and not plot.is_dir():
            raise cr.ConfigError(f"--plot {str(plot)!r} is a file; it needs a folder")
        from . import plot as _needs_matplotlib  # noqa: F401  (ConfigError if it is missing)
    checkpoint = checkpoint or out.with_name(out.name + ".ckpt")
    if checkpoint.is_dir() or not checkpoint.parent.is_dir():
        raise cr.ConfigError(
            f"--checkpoint {str(checkpoint)!r} must be a file in an existing folder"
        )
    if checkpoint.resolve() == out.resolve():
        raise cr.ConfigError("--checkpoint must differ from --out (the model file)")
    return checkpoint


def _monitor_path(out: Path, folder: Path | None) -> Path:
    return folder / "gradient-monitor.png" if folder else out.with_name(out.stem + ".monitor.png")


def _monitor_report(history, out: Path, folder: Path | None) -> list[str]:
    """The GradientMonitor's table, and its figure in ``folder`` (or next to the model)."""
    from . import monitor

    console.print(monitor.summary(history), markup=False, highlight=False)
    try:
        from .plot import gradient_monitor
    except cr.ConfigError as exc:  # no matplotlib: the model and the table are still there
        err_console.print(f"no gradient-monitor figure: {exc}", markup=False)
        return []
    path = _monitor_path(out, folder)
    gradient_monitor(history, path, title=f"Gradient monitor: {out.name}")
    return [f"gradient monitor: {path}"]


@app.command()
def predict(
    model: Annotated[Path, typer.Argument(help="A model from 'chainrule train'.")],
    data_file: Annotated[Path, typer.Argument(help="CSV, Parquet, .npy or .npz.")],
    out: Annotated[Path | None, typer.Option(help="Write a CSV here (default: print).")] = None,
):
    """Predict a data file's rows, in the labels the model was trained with."""
    from . import workflow

    labels, outputs = workflow.predict_file(model, data_file)
    if out is None:
        for label in labels:
            typer.echo(label)
        return
    classes = cr.load(model).metadata.get("classes")
    workflow.write_predictions(out, labels, outputs, classes)
    console.print(f"{len(labels)} predictions written to {out}")


@app.command()
def evaluate(
    model: Annotated[Path, typer.Argument(help="A model from 'chainrule train'.")],
    data_file: Annotated[Path, typer.Argument(help="A labelled CSV, Parquet, .npy or .npz.")],
):
    """Accuracy, confusion matrix and log-loss; or RMSE, MAE and R² for regression."""
    from rich.table import Table

    from . import workflow

    m = workflow.evaluate_file(model, data_file)
    if m["task"] == "regress":
        console.print(
            f"RMSE {m['rmse']:.6g}   MAE {m['mae']:.6g}   R² {m['r2']:.4f}   ({m['n']} rows)"
        )
        return
    console.print(f"accuracy {m['accuracy']:.4f}   log-loss {m['log_loss']:.4f}   ({m['n']} rows)")
    table = Table(title="confusion matrix (rows: true, columns: predicted)")
    table.add_column("")
    for c in m["classes"]:
        table.add_column(str(c), justify="right")
    for c, row in zip(m["classes"], m["confusion"]):
        table.add_row(str(c), *(str(v) for v in row))
    console.print(table)


@app.command()
def export(
    model: Annotated[Path, typer.Argument(help="A chainrule model file.")],
    onnx: Annotated[Path, typer.Option("--onnx", help="The ONNX file to write.")],
):
    """Export a model to ONNX, for onnxruntime and other runtimes."""
    from .onnx import to_onnx

    net = cr.load(model)
    scaling = net.metadata.get("scaling")  # a model from 'chainrule train' standardises first
    path = to_onnx(net, onnx, scaling=scaling)
    console.print(f"ONNX model written to {path}", highlight=False)
    if scaling is not None and "features" in net.metadata:
        names = ", ".join(net.metadata["features"])
        console.print(f"input X: the raw columns {names}, in this order", highlight=False)
    if net.metadata.get("classes") is not None:
        console.print(f"output Y: probabilities of {net.metadata['classes']}", highlight=False)


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
    is the user's mistake, and an ``OSError`` (disk full, permission denied) or a
    ``MemoryError`` the machine's refusal: each is shown as one line with exit code 1.
    """
    try:
        app(args=argv, prog_name="chainrule")
    except cr.ChainruleError as exc:
        _error(str(exc))
        return 1
    except OSError as exc:
        _error(_os_error(exc))
        return 1
    except MemoryError:
        _error("out of memory: use a smaller data file or network (--hidden, --batch-size)")
        return 1
    return 0


def _error(message: str) -> None:
    """One line on stderr: the message's own brackets and colons are text, not rich markup
    or emoji codes (a column may be called '[bold]' or ':x:')."""
    from rich.markup import escape

    text = " ".join(message.splitlines())
    err_console.print(f"[bold red]error:[/] {escape(text)}", highlight=False, emoji=False)


def _os_error(exc: OSError) -> str:
    """'PATH: reason' for an OSError, as the shell would put it."""
    if exc.strerror is None:
        return str(exc) or type(exc).__name__
    return exc.strerror if exc.filename is None else f"{str(exc.filename)!r}: {exc.strerror}"


if __name__ == "__main__":
    sys.exit(main())
