"""Rosenblatt's perceptron: one layer of step (or sign) units trained by the perceptron rule.

For each misclassified sample, w ← w + η (y - ŷ) x and b ← b + η (y - ŷ). On linearly separable
data this converges in finitely many updates; on XOR it never does (Minsky and Papert), which
:meth:`Perceptron.fit` reports with a :class:`~chainrule.errors.ConvergenceWarning`.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import _checks
from .errors import ConfigError, ConvergenceWarning, InputError

_FIX = "standardise (rescale) the features or lower lr"


class Perceptron:
    """A single layer of threshold units.

    Parameters
    ----------
    n_in, n_out : inputs and units.
    activation : ``"step"`` (targets 0/1) or ``"sign"`` (targets -1/+1).
    lr : the learning rate η of the perceptron rule.
    max_epochs : passes over the data before giving up.
    shuffle, seed : visit the samples in a fresh random order each epoch (seeded).

    Attributes
    ----------
    W : ndarray (n_in, n_out); b : ndarray (n_out,)
    converged_ : whether the last :meth:`fit` reached an epoch with no mistakes.
    errors_ : misclassified samples per epoch.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int = 1,
        activation: str = "step",
        *,
        lr: float = 1.0,
        max_epochs: int = 100,
        shuffle: bool = False,
        seed: int | None = None,
    ) -> None:
        self.n_in = _checks.units(n_in, "n_in")
        self.n_out = _checks.units(n_out, "n_out")
        _checks.param_count((self.n_in + 1) * self.n_out, "the perceptron")
        self.activation = _checks.choice(activation, "activation", ["step", "sign"])
        self.lr = _checks.positive_number(lr, "lr")
        self.max_epochs = _checks.positive_int(max_epochs, "max_epochs")
        self.shuffle = _checks.flag(shuffle, "shuffle")
        self.rng = np.random.default_rng(_checks.seed(seed))
        self.W = np.zeros((self.n_in, self.n_out))
        self.b = np.zeros(self.n_out)
        self.converged_ = False
        self.errors_: list[int] = []

    @property
    def _low(self) -> float:
        return 0.0 if self.activation == "step" else -1.0

    def _threshold(self, e: np.ndarray) -> np.ndarray:
        return np.where(e > 0, 1.0, self._low)

    def predict(self, X: object) -> np.ndarray:
        """Unit outputs, shape (n, n_out): 0/1 for step units, -1/+1 for sign units."""
        X = _checks.features(X, "X", self.n_in, np.float64)
        with np.errstate(over="ignore", invalid="ignore"):  # reported below, once
            e = X @ self.W + self.b
        _checks.computed_finite(e, "the excitations", np.float64, _FIX)
        return self._threshold(e)

    def fit(self, X: object, y: object) -> Perceptron:
        """Apply the perceptron rule until an epoch has no mistakes or ``max_epochs`` pass."""
        X = _checks.features(X, "X", self.n_in, np.float64)
        Y = _checks.numeric_array(y, "y").astype(np.float64)
        if Y.ndim == 1 and self.n_out == 1:
            Y = Y[:, None]
        if Y.shape != (len(X), self.n_out):
            raise InputError(f"y has shape {Y.shape}; expected ({len(X)}, {self.n_out})")
        allowed = (self._low, 1.0)
        if not np.isin(Y, allowed).all():
            raise InputError(f"y must hold only {allowed[0]:g} and 1 for {self.activation!r} units")
        self.errors_ = []
        self.converged_ = False
        for epoch in range(self.max_epochs):
            start = self.W.copy(), self.b.copy()
            with np.errstate(over="ignore", invalid="ignore"):  # checked once per epoch
                mistakes = self._epoch(X, Y)
            if not (np.isfinite(self.W).all() and np.isfinite(self.b).all()):
                self.W, self.b = start
                raise _checks.overflow(
                    f"the perceptron's weights (epoch {epoch + 1}; they are kept from the "
                    "start of that epoch)",
                    np.float64,
                    _FIX,
                )
            self.errors_.append(mistakes)
            if mistakes == 0:
                self.converged_ = True
                break
        if not self.converged_:
            warnings.warn(
                f"the perceptron did not converge in {self.max_epochs} epochs "
                f"({self.errors_[-1]} mistakes in the last); the data may not be linearly "
                "separable (XOR is not) — use a multi-layer network",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _epoch(self, X: np.ndarray, Y: np.ndarray) -> int:
        """One pass of the perceptron rule; returns the number of mistakes."""
        order = self.rng.permutation(len(X)) if self.shuffle else range(len(X))
        mistakes = 0
        for i in order:
            out = self._threshold(X[i] @ self.W + self.b)
            diff = Y[i] - out
            if diff.any():
                mistakes += 1
                self.W += self.lr * np.outer(X[i], diff)
                self.b += self.lr * diff
        return mistakes

    def to_network(self):
        """The same units as a one-layer :class:`~chainrule.Network` (for predict and trace)."""
        from .layers import Dense
        from .network import Network

        if not np.isfinite(self.W).all():
            raise ConfigError("the perceptron's weights are not finite")
        layer = Dense(self.n_in, self.n_out, self.activation, weights=self.W, bias=self.b)
        return Network([layer], loss="squared_error", dtype="float64")
