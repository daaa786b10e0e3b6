"""The numerical gradient (central differences) and its comparison with back-propagation.

As in Magdon-Ismail's lecture: ∂L/∂w ≈ (L(w + ε) - L(w - ε)) / 2ε for every weight, which costs
two forward passes per parameter, against one backward pass for all of them. Both are computed on
a float64 copy of the network, so the check measures the algorithm, not float32 rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import flag, number, positive_number, show
from .errors import ConfigError


def numerical_gradients(
    net, X: object, Y: object, eps: float = 1e-6, *, richardson: bool = False
) -> list[dict]:
    """Finite-difference gradients of ``net.loss(X, Y)``, same structure as ``net.gradients``.

    The central difference D(ε) = (L(w + ε) - L(w - ε)) / 2ε per parameter; its error is
    O(ε²) from truncation plus O(u·L/ε) from rounding (u ≈ 1e-16). With ``richardson=True``,
    D(ε), D(ε/2) and D(ε/4) are combined by two Richardson extrapolation steps, cancelling the ε²
    and ε⁴ terms, so a much larger ε (≈1e-2) can be used and rounding shrinks ten-thousandfold:
    the reference :func:`gradcheck` uses.
    Computed in float64 on a copy of ``net`` (the network itself is not changed).
    """
    eps = _step(eps)
    richardson = flag(richardson, "richardson")
    work = _network(net).astype("float64")
    X, T = work.check_XY(X, Y)
    # A loss that overflows is reported here, not as NaN differences.
    work._check_computed(np.float64(work._evaluate(X, T)[0]), "the loss")

    def central(flat: np.ndarray, i: int, step: float) -> float:
        saved = flat[i]
        flat[i] = saved + step
        up = work._evaluate(X, T)[0]
        flat[i] = saved - step
        down = work._evaluate(X, T)[0]
        flat[i] = saved
        return (up - down) / (2 * step)

    result = []
    for layer in work.layers:
        entry = {}
        for key in ("W", "b"):
            param = getattr(layer, key)
            if param is None:
                entry[key] = None
                continue
            grad = np.empty_like(param)
            flat, gflat = param.reshape(-1), grad.reshape(-1)
            for i in range(flat.size):
                if richardson:
                    d1, d2, d4 = (central(flat, i, eps / k) for k in (1, 2, 4))
                    # Two Richardson levels cancel the ε² and ε⁴ error terms.
                    r1, r2 = (4 * d2 - d1) / 3, (4 * d4 - d2) / 3
                    gflat[i] = (16 * r2 - r1) / 15
                else:
                    gflat[i] = central(flat, i, eps)
            entry[key] = grad
            work._check_computed(grad, f"the numerical gradient of layer {len(result)} {key}")
        result.append(entry)
    return result


def _network(net: object):
    """Check that ``net`` is a :class:`~chainrule.Network`."""
    from .network import Network

    if not isinstance(net, Network):
        raise ConfigError(f"net={show(net)} must be a cr.Network, got {type(net).__name__}")
    return net


def _step(eps: object) -> float:
    """A finite-difference step: below 1e-15 (or its quarter) is lost to rounding, or is 0."""
    return number(eps, "eps", low=1e-15, high=1.0)


@dataclass
class GradcheckReport:
    """Back-propagation versus finite differences.

    ``errors[(layer, "W" or "b")]`` is the largest element-wise relative error
    (see :func:`relative_error`) of that parameter; ``passed`` is True when every error is
    at most ``tolerance``.
    """

    errors: dict[tuple[int, str], float]
    tolerance: float
    analytic: list[dict]
    numerical: list[dict]
    eps: float

    @property
    def max_error(self) -> float:
        return max(self.errors.values())

    @property
    def passed(self) -> bool:
        return self.max_error <= self.tolerance

    def __str__(self) -> str:
        lines = [
            f"gradient check: {'passed' if self.passed else 'FAILED'} (tol {self.tolerance:g})"
        ]
        for (layer, key), err in self.errors.items():
            mark = "ok" if err <= self.tolerance else "FAIL"
            lines.append(f"  layer {layer} d{key}: max relative error {err:.3e}  {mark}")
        return "\n".join(lines)


def relative_error(a: np.ndarray, n: np.ndarray, floor: float = 1e-3) -> float:
    """Largest element-wise relative error between two gradient arrays.

    Each element's error |a - n| is divided by max(|a|, |n|, floor · s), where s is the largest
    magnitude in either array. The floor keeps an element a thousand times smaller than its
    neighbours (which finite differences cannot resolve to many digits, and which barely moves
    the weights) from dominating the report; elements above it are measured truly relative.
    """
    a, n = np.asarray(a, np.float64), np.asarray(n, np.float64)
    scale = max(float(np.abs(a).max(initial=0.0)), float(np.abs(n).max(initial=0.0)))
    denom = np.maximum(np.maximum(np.abs(a), np.abs(n)), max(floor * scale, 1e-30))
    with np.errstate(over="ignore"):  # a - n of opposite huge values: an infinite error
        return float((np.abs(a - n) / denom).max(initial=0.0))


def gradcheck(
    net,
    X: object,
    Y: object,
    *,
    eps: float | None = None,
    tolerance: float = 1e-6,
    floor: float = 1e-3,
) -> GradcheckReport:
    """Compare ``gradients`` with Richardson-extrapolated central differences (float64).

    Every parameter of every layer is checked. ``eps`` is the larger of the two steps; by
    default 1e-2, made smaller when a ReLU excitation lies so close to its kink at 0 that a
    step of ``eps`` in a weight could cross it (the derivative jumps there). Returns a
    :class:`GradcheckReport`; ``report.passed`` and ``str(report)`` tell the result.
    """
    tolerance = positive_number(tolerance, "tolerance")
    floor = number(floor, "floor", low=0.0, high=1.0)
    if eps is not None:
        eps = _step(eps)
    work = _network(net).astype("float64")
    analytic = work.gradients(X, Y)
    if eps is None:
        # A ReLU excitation exactly at its kink leaves no safe step: the derivative is not
        # defined there, and a tiny step shows the one-sided disagreement honestly.
        eps = max(min(1e-2, 0.25 * _kink_margin(work, work.check_X(X))), 1e-8)
    numerical = numerical_gradients(work, X, Y, eps, richardson=True)
    errors = {}
    for i, (a, n) in enumerate(zip(analytic, numerical)):
        for key in ("W", "b"):
            if a[key] is not None:
                errors[(i, key)] = relative_error(a[key], n[key], floor)
    return GradcheckReport(errors, tolerance, analytic, numerical, eps)


def _kink_margin(net, X: np.ndarray) -> float:
    """How far a weight may move before some ReLU-family excitation changes sign."""
    margin = np.inf
    inputs: list[np.ndarray] = [X]

    def record(i: int, e: np.ndarray, h: np.ndarray) -> None:
        nonlocal margin
        if net.layers[i].activation.name in ("relu", "leaky_relu"):
            # Moving W[j, k] by s moves e[:, k] by s·h_prev[:, j]; the bias moves it by s.
            reach = max(float(np.abs(inputs[i]).max()), 1.0)
            margin = min(margin, float(np.abs(e).min()) / reach)
        inputs.append(h)

    net.forward(net.workspace(len(X)), X, record=record)
    return margin
