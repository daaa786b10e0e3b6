"""GradientMonitor: per-layer gradient norms, saturated and dead units, epoch by epoch.

The lectures' warning about deep sigmoid networks — the gradient shrinks by orders of magnitude
per layer until the first layers stop learning — is something to watch while training:

    >>> monitor = cr.GradientMonitor(X[:256], y[:256])
    >>> history = net.fit(X, y, epochs=50, callbacks=[monitor])
    >>> history.extra["grad_norm"][-1]      # ‖dL/dW(ℓ)‖ per layer at the last epoch
    >>> monitor.plot("monitor.png")         # the plot extra

At the end of each (``every``-th) epoch the monitor runs one forward and backward pass of the
network on its probe samples (the network's own ``forward``/``backward``, not changing the
weights) and records, per layer:

``grad_norm``   the Frobenius norm of dL/dW(ℓ) (weights only, biases left out);
``saturated``   for sigmoid and tanh layers, the share of (sample, unit) pairs whose slope g'(e)
                is below ``saturation`` times its largest value (σ' < 0.0125, tanh' < 0.05 by
                default): units that pass almost no gradient back; None for other activations
                and for an output layer whose loss is fused with it (cross-entropy);
``dead``        for ReLU layers, the share of units that output 0 for every probe sample (their
                gradient is 0 for all of them, so they cannot recover); None otherwise.

The lists go into ``history.extra`` (and :meth:`GradientMonitor.as_dict`), one entry per
recorded epoch, each a list with one value per layer; ``monitor_epoch`` holds the epoch numbers
(0-based; -1 is the starting weights) and ``layer_names`` names the layers. The records travel
with the history into a checkpoint, and a run resumed from it (``fit(resume=...)``) continues
them, as if it had never stopped.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from .errors import ConfigError
from .training import Callback

_SLOPE_MAX = {"sigmoid": 0.25, "tanh": 1.0}
KEYS = ("monitor_epoch", "grad_norm", "saturated", "dead")


class GradientMonitor(Callback):
    """Record gradient norms, saturation and dead ReLUs per layer while ``fit`` runs.

    Parameters
    ----------
    X, Y : probe samples (n, n_inputs) and their targets, as ``fit`` takes them; at most
        ``max_samples`` rows are used (the first ones). Usually a slice of the training data.
    every : record every ``every``-th epoch (and the first and the last).
    saturation : a sigmoid/tanh unit counts as saturated where g'(e) < saturation · max g'.
    max_samples : cap on the probe rows (each record costs one forward and backward pass).
    """

    def __init__(
        self,
        X: object,
        Y: object,
        *,
        every: int = 1,
        saturation: float = 0.05,
        max_samples: int = 1024,
    ) -> None:
        self.every = _checks.positive_int(every, "every")
        self.saturation = _checks.fraction(saturation, "saturation")
        self.max_samples = _checks.positive_int(max_samples, "max_samples")
        self._X, self._Y = X, Y
        self.epochs: list[int] = []
        self.grad_norm: list[list[float]] = []
        self.saturated: list[list[float | None]] = []
        self.dead: list[list[float | None]] = []
        self.layer_names: list[str] = []
        self._net = None

    # ------------------------------------------------------------------ callback hooks
    def on_train_begin(self, net, history) -> None:
        X, T = net.check_XY(self._X, self._Y)
        X, T = X[: self.max_samples], T[: self.max_samples]
        net.check_differentiable()
        self._net, self._probe, self._history = net, (X, T), history
        self.layer_names = [
            f"layer {i + 1} ({layer.activation.name})" for i, layer in enumerate(net.layers)
        ]
        # A fresh fit starts a fresh record; a resumed one (fit(resume=...): its history comes
        # back from the checkpoint, extra included) continues the record it left off.
        done = len(history.loss)
        old = history.extra if done and "monitor_epoch" in history.extra else {}
        keep = [k for k, e in enumerate(old.get("monitor_epoch", [])) if e < done]
        self.epochs = [old["monitor_epoch"][k] for k in keep]
        self.grad_norm = [list(old["grad_norm"][k]) for k in keep]
        self.saturated = [list(old["saturated"][k]) for k in keep]
        self.dead = [list(old["dead"][k]) for k in keep]
        self._sync()
        history.extra["layer_names"] = list(self.layer_names)
        if not self.epochs or self.epochs[-1] != done - 1:
            self.record(net, done - 1)  # the starting weights: epoch -1 of a fresh run

    def on_epoch_end(self, net, epoch: int, logs: dict) -> None:
        if (epoch + 1) % self.every == 0:
            self.record(net, epoch)
        return None

    def on_train_end(self, net, history) -> None:
        # The weights now are those at the end of the last completed epoch (Ctrl-C rolls an
        # unfinished epoch back, and may land after this monitor recorded that epoch).
        last = len(history.loss) - 1
        if self.epochs and self.epochs[-1] > last:
            k = next(i for i, e in enumerate(self.epochs) if e > last)
            del self.epochs[k:], self.grad_norm[k:], self.saturated[k:], self.dead[k:]
            self._sync()
        if not self.epochs or self.epochs[-1] != last:
            self.record(net, last)  # the final weights, whatever `every` is

    def _sync(self) -> None:
        """Make ``history.extra`` hold this monitor's record (copies, one list per key)."""
        extra = self._history.extra
        extra["monitor_epoch"] = list(self.epochs)
        extra["grad_norm"] = [list(r) for r in self.grad_norm]
        extra["saturated"] = [list(r) for r in self.saturated]
        extra["dead"] = [list(r) for r in self.dead]

    # ------------------------------------------------------------------ measuring
    def measure(self, net) -> tuple[list[float], list[float | None], list[float | None]]:
        """One probe pass: (gradient norm, saturated share, dead share) per layer."""
        from .network import Workspace

        X, T = self._probe
        ws = Workspace(net, len(X))
        outputs: dict[int, np.ndarray] = {}
        with np.errstate(over="ignore", invalid="ignore"):
            net.forward(ws, X, record=lambda i, e, h: outputs.__setitem__(i, h))
            net.backward(ws, X, T)
        norms, saturated, dead = [], [], []
        top = len(net.layers) - 1
        for i, layer in enumerate(net.layers):
            norms.append(float(np.linalg.norm(ws.dW[i][: layer.n_in].astype(np.float64))))
            h = outputs[i]
            name = layer.activation.name
            # A fused loss takes δ from the logits: its output units' slope never gates anything.
            if name in _SLOPE_MAX and not (i == top and net.loss_fn.fused):
                slope = layer.activation.backward(np.ones_like(h), h)
                limit = self.saturation * _SLOPE_MAX[name]
                saturated.append(float(np.mean(slope < limit)))
            else:
                saturated.append(None)
            dead.append(float(np.mean((h <= 0).all(axis=0))) if name == "relu" else None)
        return norms, saturated, dead

    def record(self, net, epoch: int) -> None:
        """Measure now and append the numbers as those of ``epoch`` (0-based; -1 = start)."""
        if self._net is None:
            raise ConfigError("the monitor records during fit: pass it in fit(callbacks=[...])")
        norms, saturated, dead = self.measure(net)
        self.epochs.append(epoch)
        self.grad_norm.append(norms)
        self.saturated.append(saturated)
        self.dead.append(dead)
        extra = self._history.extra
        extra["monitor_epoch"].append(epoch)
        extra["grad_norm"].append(list(norms))
        extra["saturated"].append(list(saturated))
        extra["dead"].append(list(dead))

    # ------------------------------------------------------------------ results
    def as_dict(self) -> dict[str, list]:
        """The records: monitor_epoch, grad_norm, saturated, dead, layer_names."""
        return {
            "monitor_epoch": list(self.epochs),
            "grad_norm": [list(r) for r in self.grad_norm],
            "saturated": [list(r) for r in self.saturated],
            "dead": [list(r) for r in self.dead],
            "layer_names": list(self.layer_names),
        }

    def summary(self) -> str:
        """A text table: per layer, the first and the last record (see :func:`summary`)."""
        if not self.epochs:
            raise ConfigError("nothing recorded yet: use the monitor in fit(callbacks=[...])")
        return summary(self.as_dict())

    def plot(self, path=None, *, title: str | None = None):
        """Gradient norms (log scale) and saturated/dead shares per epoch (the plot extra)."""
        if not self.epochs:
            raise ConfigError("nothing recorded yet: use the monitor in fit(callbacks=[...])")
        from .plot import gradient_monitor

        return gradient_monitor(self, path, title=title)


def summary(record) -> str:
    """Per layer: ‖dL/dW‖ at the first and the last record, and the saturated or dead share.

    ``record`` is :meth:`GradientMonitor.as_dict` or a History's ``extra`` it recorded into
    (a History itself is accepted too).
    """
    record = getattr(record, "extra", record)
    if not isinstance(record, dict) or not record.get("monitor_epoch"):
        raise ConfigError(
            "nothing to summarise: pass a History a cr.GradientMonitor recorded into (or its "
            "as_dict())"
        )
    epochs, norms = record["monitor_epoch"], record["grad_norm"]
    names = record.get("layer_names") or [f"layer {i + 1}" for i in range(len(norms[0]))]

    def share(row: list, i: int) -> str:
        return "-" if row[i] is None else f"{row[i]:.0%}"

    def when(epoch: int) -> str:
        return "start" if epoch < 0 else f"epoch {epoch + 1}"

    first, last = when(epochs[0]), when(epochs[-1])
    head = ("layer", f"‖dL/dW‖ {first}", f"‖dL/dW‖ {last}", "saturated", "dead ReLUs")
    rows = [
        (
            name,
            f"{norms[0][i]:.3g}",
            f"{norms[-1][i]:.3g}",
            share(record["saturated"][-1], i),
            share(record["dead"][-1], i),
        )
        for i, name in enumerate(names)
    ]
    widths = [max(len(r[c]) for r in [head, *rows]) for c in range(len(head))]
    lines = [
        "  ".join(
            cell.ljust(w) if c == 0 else cell.rjust(w) for c, (cell, w) in enumerate(zip(r, widths))
        )
        for r in [head, *rows]
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines) + f"\n(saturated and dead shares at {last}, on the probe samples)"
