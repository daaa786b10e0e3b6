"""The errors chainrule raises.

Every error caused by bad input derives from :class:`ChainruleError`, and also from the builtin
exception callers already catch for that kind of problem (``ValueError`` or ``TypeError``).
Messages name the argument, the problem and, where one exists, the fix.
"""

from __future__ import annotations


class ChainruleError(Exception):
    """Base class of every error chainrule raises on bad input or a failed run."""


class InputError(ChainruleError, ValueError):
    """An input array (X, Y, labels) is malformed: wrong shape, NaN/inf, empty, out of range."""


class ConfigError(ChainruleError, ValueError):
    """A parameter or hyper-parameter is invalid: unknown name, out of range, wrong type."""


class NotDifferentiableError(ChainruleError, ValueError):
    """Back-propagation was asked to go through an activation with no useful derivative."""


class ModelFileError(ChainruleError, ValueError):
    """A model file cannot be read or written: missing, corrupt, not a chainrule file."""


class TrainingDivergedError(ChainruleError, FloatingPointError):
    """The loss became NaN or infinite during training.

    The network has been restored to its last weights with a finite loss; the partial
    training record is available as :attr:`history`.
    """

    def __init__(self, message: str, history: object = None) -> None:
        super().__init__(message)
        self.history = history


class ConvergenceWarning(UserWarning):
    """An iterative method stopped before it converged (e.g. the perceptron on XOR)."""
