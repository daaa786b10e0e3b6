"""The lectures, runnable: one demo per idea, each printing, drawing and returning its numbers.

    >>> import chainrule.demos as demos
    >>> print(demos.describe())                       # the list
    >>> result = demos.run("worked-example", out="figures")
    >>> result["w_new"], result.figures

``run(name, out=...)`` prints what the demo shows, writes its PNG figures into ``out`` (a new
folder ``chainrule-demo-NAME`` in the current directory when ``out`` is None; no figures at all
with ``plots=False``) and returns a :class:`DemoResult` whose ``numbers`` hold what it computed.
Figures need matplotlib (the ``plot`` extra); ``digits`` needs scikit-learn (its bundled images).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from ..errors import ConfigError
from ._base import Demo, DemoResult, prepare_out

#: name → (module, one-line description), in the order of the tour.
DEMOS: dict[str, tuple[str, str]] = {
    "logic": ("logic", "McCulloch-Pitts units: OR, AND and the two-layer XOR, truth tables"),
    "perceptron": ("perceptron", "the perceptron rule converges on separable data, fails on XOR"),
    "xor": ("xor", "a multi-layer network learns XOR: decision boundary and loss curve"),
    "worked-example": (
        "worked_example",
        "the slide's one-neuron example as a full trace, then a network with a layer in front",
    ),
    "relu-softmax": (
        "relu_softmax",
        "scalar x, ReLU layer, softmax: the gradient softmax - onehot vs finite differences",
    ),
    "digits": (
        "digits",
        "digit 1 vs rest from symmetry and intensity: gradient descent vs SGD, log-log error",
    ),
    "vanishing": (
        "vanishing",
        "deep sigmoid vs ReLU/He network: per-layer gradient norms, saturation, dead units",
    ),
    "approximation": (
        "approximation",
        "ReLU networks of growing width fit a 1-D function: piecewise-linear fits, error",
    ),
    "numerical-vs-backprop": (
        "numerical_vs_backprop",
        "finite-difference gradient vs back-propagation: cost and agreement as weights grow",
    ),
    "classify2d": (
        "classify2d",
        "circle, XOR, Gaussians, spiral, moons: decision boundaries of chosen networks",
    ),
}

__all__ = ["DEMOS", "DemoResult", "describe", "names", "run", "run_all"]


def names() -> list[str]:
    """The demo names, in the order of the tour."""
    return list(DEMOS)


def describe() -> str:
    """One line per demo: its name and what it shows."""
    width = max(map(len, DEMOS))
    return "\n".join(f"{name.ljust(width)}  {text}" for name, (_, text) in DEMOS.items())


def _resolve(name: object) -> str:
    """The demo's name; '-' and '_' are interchangeable, case does not matter."""
    if isinstance(name, str):
        key = name.strip().lower().replace("_", "-")
        if key in DEMOS:
            return key
    raise ConfigError(
        f"name={name!r} is not a demo; choose one of: {', '.join(DEMOS)} (or 'all' on the "
        "command line)"
    )


def run(
    name: str,
    out: str | Path | None = None,
    *,
    plots: bool = True,
    echo: Callable[[str], object] | None = print,
) -> DemoResult:
    """Run one demo; see the module docstring.

    Parameters
    ----------
    name : one of :func:`names` (``-`` and ``_`` are interchangeable).
    out : folder for the figures; default a new ``chainrule-demo-NAME`` folder in the cwd.
    plots : False to compute and print only (no folder, no matplotlib needed).
    echo : where printed lines go (``print``; None for silence). Lines are kept in
        ``result.lines`` either way.
    """
    name = _resolve(name)
    if plots:
        from .. import plot  # noqa: F401  (fails here, before any work, without matplotlib)
    module_name, _ = DEMOS[name]
    module = importlib.import_module(f"{__name__}.{module_name}")
    folder = prepare_out(out, name) if plots else None
    demo = Demo(name, module.TITLE, folder, echo)
    demo.say(f"== {name}: {module.TITLE} ==")
    module.run(demo)
    return demo.result


def run_all(
    out: str | Path | None = None,
    *,
    plots: bool = True,
    echo: Callable[[str], object] | None = print,
) -> dict[str, DemoResult]:
    """The whole tour: every demo in order, each in its own subfolder of ``out``."""
    folder = prepare_out(out, "all") if plots else None
    results = {}
    for name in DEMOS:
        results[name] = run(name, None if folder is None else folder / name, plots=plots, echo=echo)
        if echo is not None:
            echo("")
    return results
