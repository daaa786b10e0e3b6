"""Gradient-descent optimizers (SGD with momentum/Nesterov, Adam) and learning-rate schedules.

The network hands an optimizer one (parameter, gradient) list per step. For plain SGD the
learning rate is folded into the output sensitivity before back-propagation (``grad_scale``), so
the gradients arrive already multiplied by η and the update is a single in-place subtraction.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import choice, flag, fraction, number, positive_int, positive_number, show
from .errors import ConfigError


class Schedule:
    """A learning-rate schedule: the factor applied to the base rate at a given epoch (0-based)."""

    def factor(self, epoch: int) -> float:
        raise NotImplementedError

    def to_config(self) -> dict:
        return {"name": type(self).__name__, **vars(self)}


class Constant(Schedule):
    """η_t = η."""

    def factor(self, epoch: int) -> float:
        return 1.0


class StepDecay(Schedule):
    """η_t = η · gamma^⌊t / step_size⌋: drop by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, step_size: int = 10, gamma: float = 0.5) -> None:
        self.step_size = positive_int(step_size, "step_size")
        self.gamma = _decay(gamma)

    def factor(self, epoch: int) -> float:
        return self.gamma ** (epoch // self.step_size)


class ExponentialDecay(Schedule):
    """η_t = η · gamma^t."""

    def __init__(self, gamma: float = 0.95) -> None:
        self.gamma = _decay(gamma)

    def factor(self, epoch: int) -> float:
        return self.gamma**epoch


class InverseScaling(Schedule):
    """η_t = η / (1 + t)^power (scikit-learn's 'invscaling', counted in epochs)."""

    def __init__(self, power: float = 0.5) -> None:
        self.power = positive_number(power, "power", allow_zero=True)

    def factor(self, epoch: int) -> float:
        try:
            return 1.0 / (1.0 + epoch) ** self.power
        except OverflowError:  # a huge power: the rate has decayed to nothing
            return 0.0


def _decay(gamma: object) -> float:
    """A decay factor in (0, 1]: larger ones would grow the rate until it overflows."""
    return number(gamma, "gamma", low=0.0, high=1.0, open_low=True)


_SCHEDULES = {
    "constant": Constant,
    "step": StepDecay,
    "exponential": ExponentialDecay,
    "inverse_scaling": InverseScaling,
    "invscaling": InverseScaling,
}


def get_schedule(spec: str | Schedule | None) -> Schedule:
    if spec is None:
        return Constant()
    if isinstance(spec, Schedule):
        return spec
    return _SCHEDULES[choice(spec, "schedule", _SCHEDULES)]()


class Optimizer:
    """Base class. ``lr`` is the base learning rate; ``schedule`` scales it per epoch."""

    def __init__(self, lr: float, schedule: str | Schedule | None = None) -> None:
        self.lr = positive_number(lr, "lr")
        self.schedule = get_schedule(schedule)
        self.epoch = 0
        self.owner: object = None  # the network whose parameters the state belongs to

    @property
    def current_lr(self) -> float:
        """The learning rate in force for the current epoch."""
        return self.lr * self.schedule.factor(self.epoch)

    @property
    def grad_scale(self) -> float:
        """The factor the gradients passed to :meth:`step` are already multiplied by."""
        return 1.0

    def reset(self) -> None:
        """Forget the state accumulated by previous steps (velocities, moments)."""
        self.epoch = 0

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Update each parameter in place from its gradient (times :attr:`grad_scale`)."""
        raise NotImplementedError

    def state(self) -> dict[str, list[np.ndarray]]:
        """The optimizer's arrays (for checkpoints)."""
        return {}

    def load_state(self, state: dict[str, list[np.ndarray]]) -> None:
        for key, arrays in state.items():
            for mine, saved in zip(getattr(self, key), arrays, strict=True):
                mine[...] = saved


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    Plain: w ← w - η g. Momentum: v ← μ v - η g; w ← w + v.
    Nesterov: v ← μ v - η g; w ← w + μ v - η g.
    """

    def __init__(
        self,
        lr: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        schedule: str | Schedule | None = None,
    ) -> None:
        super().__init__(lr, schedule)
        self.momentum = fraction(momentum, "momentum")
        nesterov = flag(nesterov, "nesterov")
        if nesterov and self.momentum == 0:
            raise ConfigError("nesterov=True needs momentum > 0; set momentum=0.9, say")
        self.nesterov = nesterov
        self.velocity: list[np.ndarray] = []

    @property
    def grad_scale(self) -> float:
        return self.current_lr

    def reset(self) -> None:
        super().reset()
        self.velocity = []

    def step(self, params, grads):
        # grads already hold η·g (see grad_scale).
        if self.momentum == 0.0:
            for p, g in zip(params, grads):
                p -= g
            return
        if not self.velocity:
            self.velocity = [np.zeros_like(p) for p in params]
        mu = self.momentum
        for p, g, v in zip(params, grads, self.velocity):
            v *= mu
            v -= g
            if self.nesterov:
                p += mu * v
                p -= g
            else:
                p += v

    def state(self):
        return {"velocity": self.velocity} if self.velocity else {}

    def load_state(self, state):
        if "velocity" in state:
            self.velocity = [a.copy() for a in state["velocity"]]

    def to_config(self) -> dict:
        return {
            "name": "sgd",
            "lr": self.lr,
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "schedule": self.schedule.to_config(),
        }


class Adam(Optimizer):
    """Adam (Kingma & Ba): bias-corrected first and second moment estimates."""

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        schedule: str | Schedule | None = None,
    ) -> None:
        super().__init__(lr, schedule)
        self.beta1 = fraction(beta1, "beta1")
        self.beta2 = fraction(beta2, "beta2")
        self.eps = positive_number(eps, "eps")
        self.t = 0
        self.m: list[np.ndarray] = []
        self.v: list[np.ndarray] = []

    def reset(self) -> None:
        super().reset()
        self.t, self.m, self.v = 0, [], []

    def step(self, params, grads):
        if not self.m:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        # Fold both bias corrections into the step size (the paper's efficient form).
        step = self.current_lr * math.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= step * m / (np.sqrt(v) + self.eps)

    def state(self):
        return {"m": self.m, "v": self.v} if self.m else {}

    def load_state(self, state):
        if "m" in state:
            self.m = [a.copy() for a in state["m"]]
            self.v = [a.copy() for a in state["v"]]

    def to_config(self) -> dict:
        return {
            "name": "adam",
            "lr": self.lr,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
            "t": self.t,
            "schedule": self.schedule.to_config(),
        }


_OPTIMIZERS = {"sgd": SGD, "momentum": SGD, "nesterov": SGD, "adam": Adam}


def get_optimizer(spec: str | Optimizer | None, lr: float | None = None) -> Optimizer:
    """Resolve an optimizer: an instance, or 'sgd', 'momentum', 'nesterov', 'adam'."""
    if isinstance(spec, Optimizer):
        return spec
    if spec is None:
        spec = "sgd"
    key = choice(spec, "optimizer", _OPTIMIZERS)
    kwargs = {} if lr is None else {"lr": lr}
    if key == "momentum":
        return SGD(momentum=0.9, **kwargs)
    if key == "nesterov":
        return SGD(momentum=0.9, nesterov=True, **kwargs)
    return _OPTIMIZERS[key](**kwargs)


def optimizer_from_config(config: dict) -> Optimizer:
    """Rebuild an optimizer (without its arrays) from :meth:`Optimizer.to_config`."""
    try:
        config = dict(config)
        name = config.pop("name")
        schedule = config.pop("schedule", None)
        if schedule is not None:
            schedule = dict(schedule)
            kind = {
                cls.__name__: cls for cls in (Constant, StepDecay, ExponentialDecay, InverseScaling)
            }[schedule.pop("name")]
            config["schedule"] = kind(**schedule)
        t = config.pop("t", 0)
        opt = {"sgd": SGD, "adam": Adam}[name](**config)
        if isinstance(opt, Adam):
            opt.t = int(t)
        return opt
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"optimizer configuration {show(config, 200)} is invalid ({exc})"
        ) from None
