"""Figures with matplotlib (the ``plot`` extra): graphs, boundaries, curves, monitors.

Figures are built as ``matplotlib.figure.Figure`` objects, never through ``pyplot``: no GUI
backend is touched and no global state changes (PNG and PDF are rendered by Agg, SVG by the SVG
backend), so the functions are safe in scripts, servers and threads. Each returns its Figure
and, given a ``path``, writes it atomically (temporary file in the same folder, then rename);
the format follows the suffix: ``.png``, ``.svg`` or ``.pdf``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from . import files
from .errors import ConfigError

try:
    from matplotlib import rc_context
    from matplotlib.colors import LinearSegmentedColormap, ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle, FancyArrowPatch
    from matplotlib.ticker import MaxNLocator
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ConfigError(
        f"plots need matplotlib ({exc.name} is missing); install the extra: "
        "pip install 'chainrule[plot]'"
    ) from None

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
VALUE = "#1a1a1a"  # forward values
GRAD = "#c0392b"  # gradients dL/d·
WEIGHT = "#1f4e99"  # weights
CLASS_COLORS = ["#e67e22", "#2471a3", "#27ae60", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d"]
# Lines of curves(): blue first; green and teal far apart (five curves stay distinguishable).
CURVE_COLORS = ["#2471a3", "#27ae60", "#8e44ad", "#c0392b", "#e67e22", "#7f8c8d", "#16a085"]
DPI = 110


def figure(width: float = 6.4, height: float = 4.8, nrows: int = 1, ncols: int = 1, **kw):
    """A new Figure and its axes (``subplots`` semantics: one Axes, or an array of them)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=True, **kw)


def check_path(path: object) -> Path:
    """``path`` as a Path, if its suffix names a format figures are written in."""
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigError(f"path={path!r} must be a file path (str or pathlib.Path)")
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ConfigError(
            f"path={str(path)!r} has suffix {path.suffix!r}; figures are written as "
            f"{', '.join(FORMATS)}: name the file accordingly"
        )
    return path


def save(fig: Figure, path: str | os.PathLike, dpi: int = DPI) -> Path:
    """Write ``fig`` to ``path`` atomically; the suffix picks the format (png, svg, pdf)."""
    path = check_path(path)
    fmt = FORMATS[path.suffix.lower()]
    buf = io.BytesIO()
    # A fixed date keeps SVG/PDF output byte-for-byte reproducible.
    meta = {"Date": None} if fmt in ("svg", "pdf") else {}
    # SVG keeps its text as text (searchable, selectable, small) rather than outlines.
    with rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=meta)
    return files.write_atomically(path, [buf.getvalue()], ConfigError)


def _finish(fig: Figure, path: str | os.PathLike | None) -> Figure:
    if path is not None:
        save(fig, path)
    return fig


def _num(v: float) -> str:
    """A short, readable number: 3 significant digits, no exponent for ordinary magnitudes."""
    if v == 0:
        return "0"
    if 1e-3 <= abs(v) < 1e4:
        return f"{v:.3g}"
    return f"{v:.2e}"


# ---------------------------------------------------------------------- computation graph
_FILL = {
    "input": "#eceff1",
    "bias": "#ffffff",
    "excitation": "#fff3c4",
    "activation": "#d5f5e3",
    "target": "#eceff1",
    "loss": "#fadbd8",
}
_GRAD_NAME = {"input": "dL/dx", "excitation": "δ", "activation": "dL/dh"}


def computation_graph(graph, path: str | os.PathLike | None = None, *, title: str | None = None):
    """Draw a :class:`~chainrule.graph.ComputationGraph`: nodes, weights, values, gradients.

    Forward values are black under each node, weights blue on their edges; gradients (red)
    appear only once the graph has had a backward pass.
    """
    nodes, edges = graph.nodes, graph.edges
    columns: dict[int, list] = {}
    for node in nodes.values():
        columns.setdefault(node.column, []).append(node)
    # Weight gaps (activation → excitation) are wide enough for the weight labels.
    xs, x = {}, 0.0
    for col in sorted(columns):
        xs[col] = x
        if col % 2 == 0:  # a weight gap: wider for more edges
            fan = len(columns[col]) * len(columns.get(col + 1, []))
            x += 3.4 + 0.12 * max(fan - 4, 0)
        else:
            x += 2.0
    step = 1.7
    pos = {}
    for col, members in columns.items():
        members.sort(key=lambda n: n.row)
        height = max(n.row for n in members)
        for n in members:
            pos[n.id] = (xs[col], (height / 2 - n.row) * step)
    ys = [p[1] for p in pos.values()]
    x_lo, x_hi = -1.0, max(xs.values()) + 1.0
    below = [pos[n.id][1] - (0.5 if n.kind == "bias" else 1.15) for n in nodes.values()]
    y_lo, y_hi = min(below), max(ys) + 0.8
    scale = 0.95  # inches per data unit: fixes the text size relative to the drawing
    fig = Figure(figsize=((x_hi - x_lo) * scale, (y_hi - y_lo) * scale / 0.8 + 0.2))
    ax = fig.add_axes((0.0, 0.1, 1.0, 0.8))
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_aspect("equal")
    ax.axis("off")
    radius = 0.36
    done = graph.has_gradients
    char_w, line_h = 0.075 / scale, 0.16 / scale  # a 7.5 pt character and line, in data units
    # Rectangles already taken (nodes and their captions), for placing the edge labels.
    taken = [
        (cx - radius, cy - radius - (0.75 if done else 0.4), cx + radius, cy + radius)
        for cx, cy in pos.values()
    ]

    def free_spot(x0, y0, x1, y1, w, h):
        """The point along the edge nearest its start whose w × h label overlaps nothing."""
        best = None
        for t in np.linspace(0.18, 0.82, 17):
            lx, ly = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
            box = (lx - w / 2, ly - h / 2, lx + w / 2, ly + h / 2)
            hits = sum(
                not (box[2] < r[0] or r[2] < box[0] or box[3] < r[1] or r[3] < box[1])
                for r in taken
            )
            if best is None or hits < best[0]:
                best = (hits, lx, ly, box)
            if hits == 0:
                break
        taken.append(best[3])
        return best[1], best[2]

    for edge in edges:
        (x0, y0), (x1, y1) = pos[edge.source], pos[edge.target]
        style = "--" if edge.kind in ("bias", "target") else "-"
        color = WEIGHT if edge.kind in ("weight", "bias") else "#555555"
        ax.add_patch(
            FancyArrowPatch(
                (x0, y0),
                (x1, y1),
                arrowstyle="-|>",
                mutation_scale=10,
                shrinkA=radius * 72 * scale,
                shrinkB=radius * 72 * scale,
                color=color,
                linestyle=style,
                linewidth=1.0,
                alpha=0.6,
            )
        )
        if edge.kind in ("weight", "bias") and edge.value is not None:
            name = "w" if edge.kind == "weight" else "b"
            top = f"{name} {_num(edge.value)}"
            bottom = f"∂ {_num(edge.grad)}" if done and edge.grad is not None else ""
            w = char_w * max(len(top), len(bottom)) + 0.1
            h = line_h * (2 if bottom else 1) + 0.05
            lx, ly = free_spot(x0, y0, x1, y1, w, h)
            box = {"boxstyle": "round,pad=0.12", "fc": "white", "ec": "none", "alpha": 0.9}
            if bottom:
                ax.text(
                    lx,
                    ly,
                    top,
                    color=WEIGHT,
                    fontsize=7.5,
                    ha="center",
                    va="bottom",
                    bbox=box,
                    zorder=5,
                )
                ax.text(
                    lx,
                    ly,
                    bottom,
                    color=GRAD,
                    fontsize=7.5,
                    ha="center",
                    va="top",
                    bbox=box,
                    zorder=5,
                )
            else:
                ax.text(
                    lx,
                    ly,
                    top,
                    color=WEIGHT,
                    fontsize=7.5,
                    ha="center",
                    va="center",
                    bbox=box,
                    zorder=5,
                )
        elif edge.kind == "activation":
            mx, my = (x0 + x1) / 2, y0 + 0.12
            ax.text(mx, my, edge.name, fontsize=7.5, ha="center", color="#555555")

    for node in nodes.values():
        cx, cy = pos[node.id]
        ax.add_patch(
            Circle(
                (cx, cy),
                radius,
                fc=_FILL[node.kind],
                ec="#333333",
                lw=1.6 if node.kind == "loss" else 1.0,
                ls="--" if node.kind == "bias" else "-",
                zorder=3,
            )
        )
        ax.text(cx, cy, node.label, ha="center", va="center", fontsize=12, zorder=4)
        below = cy - radius - 0.08
        if node.kind == "bias":
            continue
        value = node.value
        if node.kind == "target" and value is None and getattr(graph, "targets", None) is not None:
            shown = "(" + ", ".join(_num(v) for v in graph.targets) + ")"
        elif value is not None:
            shown = _num(value)
        else:
            shown = None
        if shown is not None:
            ax.text(cx, below, shown, ha="center", va="top", fontsize=8.5, color=VALUE, zorder=4)
        if done and node.grad is not None and node.kind in _GRAD_NAME:
            ax.text(
                cx,
                below - 0.3,
                f"{_GRAD_NAME[node.kind]} {_num(node.grad)}",
                ha="center",
                va="top",
                fontsize=8,
                color=GRAD,
                zorder=4,
            )
    if title is None:
        what = (
            "forward values and gradients"
            if done
            else ("forward values" if graph.x is not None else "structure")
        )
        title = f"Computation graph: {what}"
        if done:
            title += f" (loss {graph.loss_name}, L = {_num(graph.nodes['L'].value)})"
    fig.suptitle(title, fontsize=12)
    legend = "black: forward value   blue: weight w, bias b"
    legend += (
        "   red: gradient (δ = dL/de, dL/dh, dL/dx on nodes; ∂ = dL/dw on edges)"
        if done
        else "   (gradients appear after a backward pass)"
    )
    fig.text(0.5, 0.02, legend, ha="center", fontsize=8.5, color="#333333")
    return _finish(fig, path)


# ---------------------------------------------------------------------- data and boundaries
def scatter_classes(ax, X: np.ndarray, y: np.ndarray, names: Sequence[str] | None = None, **kw):
    """Points of each class in its own colour, with a legend entry per class."""
    y = np.asarray(y)
    labels = np.unique(y)
    for i, label in enumerate(labels):
        mask = y == label
        name = names[i] if names is not None else f"class {label:g}"
        ax.scatter(
            X[mask, 0],
            X[mask, 1],
            s=kw.get("s", 18),
            c=CLASS_COLORS[i % len(CLASS_COLORS)],
            edgecolors="black" if kw.get("s", 18) >= 40 else "white",
            linewidths=0.5,
            label=name,
            zorder=3,
        )


def decision_boundary(
    ax,
    net,
    X: np.ndarray,
    y: np.ndarray,
    *,
    features: Callable[[np.ndarray], np.ndarray] | None = None,
    resolution: int = 150,
    margin: float = 0.1,
    names: Sequence[str] | None = None,
    title: str | None = None,
    xlabel: str = "$x_1$",
    ylabel: str = "$x_2$",
) -> None:
    """Shade the plane by the network's output and draw its decision boundary over the data.

    ``X`` (n, 2) are the points as plotted; ``features`` maps plotted points (m, 2) to the
    network's inputs when they differ (scaling, extra features). A single output is shaded by
    its value with the boundary at the classifier's threshold (0.5, or 0 for tanh/sign);
    several outputs by the predicted class.
    """
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = margin * (hi - lo) + 1e-9
    g0 = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    g1 = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    G0, G1 = np.meshgrid(g0, g1)
    grid = np.c_[G0.ravel(), G1.ravel()]
    inputs = grid if features is None else features(grid)
    out = net.predict(inputs)
    if out.shape[1] == 1:
        act = net.layers[-1].activation.name
        low, threshold = (-1.0, 0.0) if act in ("tanh", "sign") else (0.0, 0.5)
        Z = out[:, 0].reshape(G0.shape)
        levels = np.linspace(low, 1.0, 11)
        cmap = LinearSegmentedColormap.from_list(
            "classes", [CLASS_COLORS[0], "white", CLASS_COLORS[1]]
        )
        filled = ax.contourf(G0, G1, np.clip(Z, low, 1.0), levels=levels, cmap=cmap, alpha=0.45)
        ax.contour(G0, G1, Z, levels=[threshold], colors="black", linewidths=1.5)
        bar = ax.figure.colorbar(filled, ax=ax, shrink=0.85, pad=0.02)
        bar.set_label(f"network output ŷ (boundary at {threshold:g})", fontsize=8)
    else:
        k = out.shape[1]
        Z = out.argmax(axis=1).reshape(G0.shape)
        cmap = ListedColormap(CLASS_COLORS[:k])
        ax.contourf(G0, G1, Z, levels=np.arange(k + 1) - 0.5, cmap=cmap, alpha=0.25)
        ax.contour(G0, G1, Z, levels=np.arange(k) + 0.5, colors="black", linewidths=1.0)
    scatter_classes(ax, X, y, names, s=70 if len(X) < 50 else 16)
    ax.set_xlim(g0[0], g0[-1])
    ax.set_ylim(g1[0], g1[-1])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.85)


def line_2d(ax, w: Sequence[float], b: float, X: np.ndarray, **kw) -> None:
    """The line w·x + b = 0 across the range of ``X`` (n, 2)."""
    lo, hi = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    w0, w1 = float(w[0]), float(w[1])
    if abs(w1) > 1e-12:
        xs = np.linspace(lo[0], hi[0], 2)
        ax.plot(xs, -(w0 * xs + b) / w1, **kw)
    elif abs(w0) > 1e-12:
        ax.axvline(-b / w0, **kw)


def curves(
    ax,
    series: Mapping[str, Sequence[float]],
    *,
    x: Mapping[str, Sequence[float]] | None = None,
    logx: bool = False,
    logy: bool = False,
    xlabel: str = "epoch",
    ylabel: str = "loss",
    title: str | None = None,
) -> None:
    """One line per named series (e.g. training curves), with a legend."""
    for i, (name, values) in enumerate(series.items()):
        xs = np.arange(1, len(values) + 1) if x is None or name not in x else np.asarray(x[name])
        ax.plot(xs, values, label=name, color=CURVE_COLORS[i % len(CURVE_COLORS)], lw=1.6)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3, which="both")
    ax.legend(fontsize=8)


# ---------------------------------------------------------------------- training monitor
def gradient_monitor(source, path: str | os.PathLike | None = None, *, title: str | None = None):
    """Per-layer gradient norms (log scale), saturated and dead units per epoch.

    ``source`` is a :class:`~chainrule.monitor.GradientMonitor` or a History it recorded into.
    """
    from .monitor import GradientMonitor

    record = source.as_dict() if isinstance(source, GradientMonitor) else source.extra
    if "grad_norm" not in record:
        raise ConfigError(
            "nothing to plot: pass a cr.GradientMonitor used in fit(callbacks=[...]) or the "
            "History it recorded into (history.extra['grad_norm'])"
        )
    epochs = np.asarray(record["monitor_epoch"]) + 1
    norms = np.asarray(record["grad_norm"], dtype=float)  # (epochs, layers)
    saturated = np.array(record["saturated"], dtype=float)  # None → nan
    dead = np.array(record["dead"], dtype=float)
    names = record.get("layer_names") or [f"layer {i + 1}" for i in range(norms.shape[1])]
    fig, (a0, a1) = figure(10.5, 4.0, 1, 2)
    for i in range(norms.shape[1]):
        color = _layer_color(i, norms.shape[1])
        a0.plot(epochs, np.where(norms[:, i] > 0, norms[:, i], np.nan), label=names[i], c=color)
    a0.set_yscale("log")
    a0.set_xlabel("epoch")
    a0.set_ylabel("‖dL/dW(ℓ)‖ (Frobenius norm)")
    a0.set_title("Gradient norm per layer")
    a0.grid(True, alpha=0.3, which="both")
    a0.legend(fontsize=7, ncol=2 if norms.shape[1] > 6 else 1)
    drawn = False
    for i in range(norms.shape[1]):
        color = _layer_color(i, norms.shape[1])
        if not np.isnan(saturated[:, i]).all():
            a1.plot(epochs, 100 * saturated[:, i], c=color, label=f"{names[i]} saturated")
            drawn = True
        if not np.isnan(dead[:, i]).all():
            a1.plot(epochs, 100 * dead[:, i], c=color, ls="--", label=f"{names[i]} dead")
            drawn = True
    a1.set_xlabel("epoch")
    if epochs[-1] > 100:  # long runs: early epochs, where most happens, get room (0 included)
        for ax in (a0, a1):
            ax.set_xscale("symlog", linthresh=1)
            ax.set_xlim(0, epochs[-1] * 1.05)
            ax.set_xlabel("epoch (log scale)")
    else:
        for ax in (a0, a1):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    a1.set_ylabel("share of units (%)")
    a1.set_ylim(-3, 103)
    a1.set_title("Saturated units (solid), dead ReLUs (dashed)")
    a1.grid(True, alpha=0.3)
    if drawn:
        a1.legend(fontsize=7, ncol=2 if norms.shape[1] > 6 else 1)
    else:
        a1.text(
            0.5, 0.5, "no sigmoid, tanh or ReLU hidden layers", ha="center", transform=a1.transAxes
        )
    fig.suptitle(title or "Training monitor")
    return _finish(fig, path)


def _layer_color(i: int, n: int):
    from matplotlib import colormaps

    return colormaps["viridis"](0.9 * i / max(n - 1, 1))
