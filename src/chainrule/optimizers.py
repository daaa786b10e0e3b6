"""Gradient-descent optimizers (SGD with momentum/Nesterov, Adam, AdamW), gradient clipping and
learning-rate schedules.

``opt.step(params, grads)`` takes plain gradients ∂L/∂p and applies the learning rate itself,
for every optimizer. Inside ``fit``, SGD may instead have η folded into the output sensitivity
before back-propagation (its private ``_fold``/``_step_folded``), which saves one pass over the
parameters per step; a caller of ``step`` never sees it.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import choice, count, flag, fraction, number, positive_int, positive_number, show
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


class WarmupCosine(Schedule):
    """Linear warm-up for ``warmup`` epochs, then cosine decay to ``min_factor`` at ``total``.

    t < warmup: (t + 1) / (warmup + 1), rising to 1 at t = warmup.
    warmup <= t <= total: min_factor + (1 - min_factor) · (1 + cos(π (t - warmup) /
    (total - warmup))) / 2; after ``total`` it stays at ``min_factor``. (PyTorch: LinearLR with
    start_factor 1/(warmup+1) over ``warmup`` steps, then CosineAnnealingLR with
    T_max = total - warmup, via SequentialLR.)
    """

    def __init__(self, warmup: int = 5, total: int = 100, min_factor: float = 0.0) -> None:
        self.warmup = count(warmup, "warmup")
        self.total = positive_int(total, "total")
        if self.total <= self.warmup:
            raise ConfigError(
                f"WarmupCosine needs total > warmup, got total={self.total}, "
                f"warmup={self.warmup}; make total the whole run's epochs"
            )
        self.min_factor = number(min_factor, "min_factor", low=0.0, high=1.0)

    def factor(self, epoch: int) -> float:
        if epoch < self.warmup:
            return (epoch + 1) / (self.warmup + 1)
        progress = min(epoch - self.warmup, self.total - self.warmup) / (self.total - self.warmup)
        return self.min_factor + (1 - self.min_factor) * (1 + math.cos(math.pi * progress)) / 2


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
SCHEDULE_CLASSES = (Constant, StepDecay, ExponentialDecay, InverseScaling, WarmupCosine)


def get_schedule(spec: str | Schedule | None) -> Schedule:
    if spec is None:
        return Constant()
    if isinstance(spec, Schedule):
        return spec
    return _SCHEDULES[choice(spec, "schedule", _SCHEDULES)]()


def clip_grad_norm(grads: list[np.ndarray], max_norm: float) -> float:
    """Scale ``grads`` in place so that their global L2 norm is at most ``max_norm``.

    grads: arrays of any shapes, treated as one vector. Returns the norm before clipping. As
    ``torch.nn.utils.clip_grad_norm_``: the factor is max_norm / (norm + 1e-6), applied only when
    it is below 1 (the 1e-6 keeps a zero gradient from dividing by zero).
    """
    max_norm = positive_number(max_norm, "max_norm")
    grads = _arrays(grads, "grads")
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for g in grads:
            g *= coef
    return total


def _arrays(values: object, name: str) -> list[np.ndarray]:
    """A list (or tuple) of float ndarrays."""
    ok = isinstance(values, (list, tuple)) and all(
        isinstance(v, np.ndarray) and v.dtype.kind == "f" for v in values
    )
    if not ok:
        raise ConfigError(f"{name}={show(values)} must be a list of float NumPy arrays")
    return list(values)


def _pairs(params: object, grads: object) -> None:
    """params and grads: lists of float arrays, one gradient of the same shape per parameter."""
    params, grads = _arrays(params, "params"), _arrays(grads, "grads")
    if [p.shape for p in params] != [g.shape for g in grads]:
        shapes = [p.shape for p in params], [g.shape for g in grads]
        raise ConfigError(
            f"grads (shapes {shapes[1]}) must match params (shapes {shapes[0]}): one gradient "
            "of the same shape per parameter"
        )


class Optimizer:
    """Base class. ``lr`` is the base learning rate; ``schedule`` scales it per epoch.

    ``clipnorm`` rescales a step's gradients so that their global L2 norm is at most it
    (:func:`clip_grad_norm`; inside ``fit`` there is one parameter vector, so Keras' per-variable
    clipnorm and its global_clipnorm coincide); ``clipvalue`` clips each component to
    [-clipvalue, clipvalue]. One of the two at most; both act on the plain gradient.
    """

    def __init__(
        self,
        lr: float,
        schedule: str | Schedule | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
    ) -> None:
        self.lr = positive_number(lr, "lr")
        self.schedule = get_schedule(schedule)
        self.clipnorm = None if clipnorm is None else positive_number(clipnorm, "clipnorm")
        self.clipvalue = None if clipvalue is None else positive_number(clipvalue, "clipvalue")
        if self.clipnorm is not None and self.clipvalue is not None:
            raise ConfigError("pass clipnorm or clipvalue, not both (set the other to None)")
        self.epoch = 0
        self.owner: object = None  # the network whose parameters the state belongs to

    @property
    def current_lr(self) -> float:
        """The learning rate in force for the current epoch."""
        return self.lr * self.schedule.factor(self.epoch)

    @property
    def clips(self) -> bool:
        """Whether gradients are clipped before the update."""
        return self.clipnorm is not None or self.clipvalue is not None

    def reset(self) -> None:
        """Forget the state accumulated by previous steps (velocities, moments)."""
        self.epoch = 0

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Update each parameter in place from its plain gradient ∂L/∂p (same shape).

        The gradients are clipped first when ``clipnorm``/``clipvalue`` is set (on copies: the
        caller's arrays are left as they are), then the class's rule is applied with
        η = :attr:`current_lr`.
        """
        _pairs(params, grads)
        if self.clipnorm is not None:
            grads = [g.copy() for g in grads]
            clip_grad_norm(grads, self.clipnorm)
        elif self.clipvalue is not None:
            grads = [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        self._update(params, grads, self.current_lr)

    def _update(self, params: list[np.ndarray], grads: list[np.ndarray], lr: float) -> None:
        """The rule itself: plain (clipped) gradients, learning rate ``lr``."""
        raise NotImplementedError

    def _fold(self) -> float | None:
        """A factor fit may fold into back-propagation, then calling :meth:`_step_folded` with
        gradients already multiplied by it (no clipping then: it needs the plain gradient).
        None: fit calls :meth:`step`."""
        return None

    def _step_folded(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        raise NotImplementedError

    def state(self) -> dict[str, list[np.ndarray]]:
        """The optimizer's arrays (for checkpoints)."""
        return {}

    def load_state(self, state: dict[str, list[np.ndarray]]) -> None:
        for key, arrays in state.items():
            for mine, saved in zip(getattr(self, key), arrays, strict=True):
                mine[...] = saved

    def _config(self) -> dict:
        """The settings every optimizer has (for :meth:`to_config`)."""
        return {
            "lr": self.lr,
            "schedule": self.schedule.to_config(),
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
        }


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum; g the plain gradient.

    Plain: p ← p − η g. Momentum: v ← μ v − η g; p ← p + v.
    Nesterov: v ← μ v − η g; p ← p + μ v − η g.

    The velocity holds steps (η g terms, as in Keras and Sutskever et al.), so a new η acts on
    new gradients only. PyTorch keeps v ← μ v + g and steps p ← p − η v, which rescales the
    whole velocity when η changes: the two agree exactly while η is constant and differ under
    a schedule or ReduceLROnPlateau.
    """

    def __init__(
        self,
        lr: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        schedule: str | Schedule | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
    ) -> None:
        super().__init__(lr, schedule, clipnorm, clipvalue)
        self.momentum = fraction(momentum, "momentum")
        nesterov = flag(nesterov, "nesterov")
        if nesterov and self.momentum == 0:
            raise ConfigError("nesterov=True needs momentum > 0; set momentum=0.9, say")
        self.nesterov = nesterov
        self.velocity: list[np.ndarray] = []

    def reset(self) -> None:
        super().reset()
        self.velocity = []

    def _update(self, params, grads, lr):
        self._step_folded(params, [lr * g for g in grads])

    def _fold(self) -> float | None:
        # Folding η into the output sensitivity saves a pass over the parameters per step.
        return None if self.clips else self.current_lr

    def _step_folded(self, params, grads):
        """The rule from steps η·g (fit's fused back-propagation, or :meth:`_update`)."""
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
            **self._config(),
            "momentum": self.momentum,
            "nesterov": self.nesterov,
        }


class Adam(Optimizer):
    """Adam (Kingma & Ba) in the paper's efficient form; g the plain gradient, t the step count:

    m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;
    p ← p − η √(1 − β₂ᵗ) / (1 − β₁ᵗ) · m / (√v + ε).

    ε is added to √v before the bias correction (as Keras does). PyTorch adds it to
    √v̂ = √(v / (1 − β₂ᵗ)); ours equals PyTorch's with ε replaced by ε / √(1 − β₂ᵗ), which
    differs only where √v̂ is within a few ε of zero, mostly in the first steps.
    """

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        schedule: str | Schedule | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
    ) -> None:
        super().__init__(lr, schedule, clipnorm, clipvalue)
        self.beta1 = fraction(beta1, "beta1")
        self.beta2 = fraction(beta2, "beta2")
        self.eps = positive_number(eps, "eps")
        self.t = 0
        self.m: list[np.ndarray] = []
        self.v: list[np.ndarray] = []

    def reset(self) -> None:
        super().reset()
        self.t, self.m, self.v = 0, [], []

    def _update(self, params, grads, lr):
        if not self.m:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        # Fold both bias corrections into the step size (the paper's efficient form).
        step = lr * math.sqrt(1 - b2**self.t) / (1 - b1**self.t)
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
            **self._config(),
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
            "t": self.t,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay λ (Loshchilov & Hutter), as ``torch.optim.AdamW``:

    p ← p − η λ p, then the :class:`Adam` step (same ε convention). The decay does not pass
    through the moments, unlike an L2 term in the loss.
    """

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        schedule: str | Schedule | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
    ) -> None:
        super().__init__(lr, beta1, beta2, eps, schedule, clipnorm, clipvalue)
        self.weight_decay = positive_number(weight_decay, "weight_decay", allow_zero=True)

    def _update(self, params, grads, lr):
        for p in params:
            p *= 1 - lr * self.weight_decay
        super()._update(params, grads, lr)

    def to_config(self) -> dict:
        return {**super().to_config(), "name": "adamw", "weight_decay": self.weight_decay}


_OPTIMIZERS = {"sgd": SGD, "momentum": SGD, "nesterov": SGD, "adam": Adam, "adamw": AdamW}


def get_optimizer(spec: str | Optimizer | None, lr: float | None = None) -> Optimizer:
    """Resolve an optimizer: an instance, or 'sgd', 'momentum', 'nesterov', 'adam', 'adamw'."""
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
            kind = {cls.__name__: cls for cls in SCHEDULE_CLASSES}[schedule.pop("name")]
            config["schedule"] = kind(**schedule)
        t = config.pop("t", 0)
        opt = {"sgd": SGD, "adam": Adam, "adamw": AdamW}[name](**config)
        if isinstance(opt, Adam):
            opt.t = int(t)
        return opt
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"optimizer configuration {show(config, 200)} is invalid ({exc})"
        ) from None
