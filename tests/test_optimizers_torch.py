"""Every optimizer, clipping, ReduceLROnPlateau and WarmupCosine, step by step against PyTorch.

float64 throughout, several steps of random gradients; parameters agree to ~1e-12 relative.
SGD with momentum is compared at a constant learning rate: PyTorch's velocity v ← μv + g,
p ← p − ηv equals ours (v ← μv − ηg, p ← p + v) only while η does not change. Adam is compared
with PyTorch's ε set, at each step t, to ε/√(1 − β₂ᵗ): that is the whole difference between
PyTorch's ε convention (added to √v̂) and ours (added to √v, the paper's efficient form).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip(
    "torch", reason="torch (in the test extra) is needed to compare with torch.optim"
)

SHAPES = [(5, 3), (4,)]
STEPS = 12
TOL = 1e-12


def _gradients(seed: int, scale: float = 1.0) -> list[list[np.ndarray]]:
    """STEPS lists of random gradients, one per parameter shape, of varied sizes."""
    rng = np.random.default_rng(seed)
    return [
        [scale * rng.normal(size=s) * rng.uniform(0.1, 3) for s in SHAPES] for _ in range(STEPS)
    ]


def _relative(ours: np.ndarray, theirs: np.ndarray) -> float:
    return float(np.abs(ours - theirs).max() / np.abs(theirs).max())


def _compare(ours, make_torch, grads, clip=None, before_step=None) -> float:
    """Run ``ours`` and the torch optimizer on the same start and gradients; the worst
    relative difference of the parameters over all steps."""
    rng = np.random.default_rng(0)
    params = [rng.normal(size=s) for s in SHAPES]
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    topt = make_torch(tparams)
    worst = 0.0
    for t, step_grads in enumerate(grads, start=1):
        ours.step(params, step_grads)
        for tp, g in zip(tparams, step_grads):
            tp.grad = torch.tensor(g.copy())
        if clip is not None:
            clip(tparams)
        if before_step is not None:
            before_step(topt, t)
        topt.step()
        for p, tp in zip(params, tparams):
            worst = max(worst, _relative(p, tp.detach().numpy()))
    print(f"max relative difference: {worst:.2e}")
    return worst


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"momentum": 0.9}, {"momentum": 0.8, "nesterov": True}],
    ids=["plain", "momentum", "nesterov"],
)
def test_sgd_matches_torch(kwargs):
    worst = _compare(
        cr.SGD(0.05, **kwargs),
        lambda ps: torch.optim.SGD(ps, lr=0.05, **kwargs),
        _gradients(1),
    )
    assert worst < TOL


def _torch_eps(eps: float, beta2: float):
    """Set PyTorch's ε so that its convention gives ours: ε/√(1 − β₂ᵗ) at step t."""

    def before_step(topt, t):
        topt.param_groups[0]["eps"] = eps / math.sqrt(1 - beta2**t)

    return before_step


def test_adam_matches_torch_with_its_eps_rescaled():
    worst = _compare(
        cr.Adam(0.01, beta1=0.8, beta2=0.99, eps=1e-3),
        lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-3, foreach=False),
        _gradients(2),
        before_step=_torch_eps(1e-3, 0.99),
    )
    assert worst < TOL


def test_adam_eps_conventions_differ_only_near_eps():
    """With PyTorch's fixed ε the runs differ, by about ε/√v̂ of a step: a test that the
    rescaling above is what the conventions differ by, not a tolerance hiding something."""
    grads = _gradients(2)
    worst = _compare(
        cr.Adam(0.01, eps=1e-3),
        lambda ps: torch.optim.Adam(ps, lr=0.01, eps=1e-3, foreach=False),
        grads,
    )
    assert 1e-6 < worst < 1e-2


def test_adamw_matches_torch():
    worst = _compare(
        cr.AdamW(0.01, weight_decay=0.1, eps=1e-6),
        lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1, eps=1e-6, foreach=False),
        _gradients(3),
        before_step=_torch_eps(1e-6, 0.999),
    )
    assert worst < TOL


def test_adamw_default_weight_decay_is_torchs():
    assert cr.AdamW().weight_decay == torch.optim.AdamW([torch.zeros(1)]).defaults["weight_decay"]


def test_clipnorm_matches_torch():
    # Gradients of norm ~5-50 against max_norm 10: some steps are clipped, some are not.
    worst = _compare(
        cr.SGD(0.05, momentum=0.9, clipnorm=10.0),
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9),
        _gradients(4, scale=3.0),
        clip=lambda ps: torch.nn.utils.clip_grad_norm_(ps, 10.0),
    )
    assert worst < TOL


def test_clipvalue_matches_torch():
    worst = _compare(
        cr.Adam(0.01, clipvalue=0.5),
        lambda ps: torch.optim.Adam(ps, lr=0.01, foreach=False),
        _gradients(5),
        clip=lambda ps: torch.nn.utils.clip_grad_value_(ps, 0.5),
        before_step=_torch_eps(1e-8, 0.999),
    )
    assert worst < TOL


@pytest.mark.parametrize("max_norm", [0.5, 3.0, 1e6])
def test_clip_grad_norm_equals_torchs(max_norm):
    grads = _gradients(6)[0]
    tgrads = [torch.tensor(g.copy(), requires_grad=True) for g in grads]
    for tg, g in zip(tgrads, grads):
        tg.grad = torch.tensor(g.copy())
    theirs = float(torch.nn.utils.clip_grad_norm_(tgrads, max_norm))
    ours = cr.clip_grad_norm(grads, max_norm)
    assert abs(ours - theirs) <= TOL * theirs
    for g, tg in zip(grads, tgrads):
        assert _relative(g, tg.grad.numpy()) < TOL


def _metrics(seed: int, n: int = 120) -> list[float]:
    """A loss curve with improvements, plateaus, tiny improvements and setbacks."""
    rng = np.random.default_rng(seed)
    value, out = 1.0, []
    for _ in range(n):
        kind = rng.choice(4, p=[0.1, 0.4, 0.25, 0.25])  # long plateaus
        value *= (0.9, 1.0, 1 - 5e-5, 1.02)[kind]  # better, same, below threshold, worse
        out.append(value)
    return out


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"patience": 2, "cooldown": 3, "factor": 0.5},
        {"patience": 1, "min_lr": 0.02, "factor": 0.3},
        {"patience": 3, "threshold_mode": "abs", "min_delta": 0.01},
        {"patience": 0, "factor": 0.9, "min_lr": 0.4},
    ],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_reduce_lr_on_plateau_matches_torch(kwargs, seed):
    plateau = cr.ReduceLROnPlateau(**kwargs)
    plateau.optimizer = opt = cr.SGD(1.0)
    plateau.on_train_begin(None, None)
    renamed = {{"min_delta": "threshold"}.get(k, k): v for k, v in kwargs.items()}
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, mode="min", **renamed)
    lrs = []
    for epoch, value in enumerate(_metrics(seed)):
        plateau.on_epoch_end(None, epoch, {"loss": value})
        sched.step(value)
        assert opt.lr == topt.param_groups[0]["lr"], epoch
        lrs.append(opt.lr)
    assert len(set(lrs)) > 1  # the rate was cut at least once


@pytest.mark.parametrize("warmup, total, min_factor", [(3, 10, 0.0), (1, 7, 0.1), (5, 40, 0.05)])
def test_warmup_cosine_matches_torch_composition(warmup, total, min_factor):
    """LinearLR for the warm-up, then CosineAnnealingLR, joined by SequentialLR."""
    base = 0.1
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base)
    sched = torch.optim.lr_scheduler.SequentialLR(
        topt,
        [
            torch.optim.lr_scheduler.LinearLR(topt, 1 / (warmup + 1), 1.0, total_iters=warmup),
            torch.optim.lr_scheduler.CosineAnnealingLR(
                topt, T_max=total - warmup, eta_min=base * min_factor
            ),
        ],
        milestones=[warmup],
    )
    schedule = cr.WarmupCosine(warmup=warmup, total=total, min_factor=min_factor)
    worst = 0.0
    for epoch in range(total + 1):
        theirs = topt.param_groups[0]["lr"]
        worst = max(worst, abs(base * schedule.factor(epoch) - theirs) / base)
        topt.step()
        sched.step()
    print(f"max difference: {worst:.2e} of the base rate")
    assert worst < TOL
