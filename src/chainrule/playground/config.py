"""A playground setup: every choice the page offers, validated, with the server's limits.

The page keeps the same fields in its URL (``#dataset=spiral&layers=8,8&…``), so a link
reproduces a setup; the server re-validates whatever the page sends. Limits bound the work one
browser tab can ask for: network size, data size, batch size and training rate.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields

from .._checks import show
from ..errors import ConfigError

# Limits (TF Playground: 6 hidden layers of 8 neurons, batch 30, 2 classes, 500 points).
MAX_LAYERS = 10
MAX_NEURONS = 32
MAX_CLASSES = 8
MAX_SAMPLES = 2000
MIN_SAMPLES = 10
MAX_BATCH = MAX_SAMPLES
MAX_LR = 10.0
MAX_REG_RATE = 10.0
MAX_STOP_EPOCHS = 10_000_000
MAX_SPEED = 50_000  # epochs per second one session may ask for
MAX_STEP_EPOCHS = 1000  # epochs one "step" request may run

FEATURES: dict[str, str] = {
    "x1": "X₁",
    "x2": "X₂",
    "x1sq": "X₁²",
    "x2sq": "X₂²",
    "x1x2": "X₁X₂",
    "sinx1": "sin(X₁)",
    "sinx2": "sin(X₂)",
}
HIDDEN_ACTIVATIONS = ("tanh", "sigmoid", "relu", "leaky_relu", "identity")
CLASSIFICATION_SETS = ("circle", "xor", "gauss", "spiral")
REGRESSION_SETS = ("plane", "multigauss")
MULTICLASS_SETS = ("gauss", "spiral")
OPTIMIZERS = ("sgd", "momentum", "adam")
REGULARIZATIONS = ("none", "l1", "l2")
# Fields whose change means new data (and so a new network), and those that need a new network.
DATA_FIELDS = ("problem", "dataset", "classes", "noise", "samples", "ratio", "seed")
NETWORK_FIELDS = ("features", "layers", "activations")


@dataclass
class Config:
    """One playground setup. Defaults are TF Playground's opening page."""

    problem: str = "classification"
    dataset: str = "circle"
    classes: int = 2
    noise: int = 0  # percent, 0..50, as on TF Playground
    samples: int = 500
    ratio: int = 50  # percent of the samples used for training
    seed: int = 0
    batch: int = 10
    features: list[str] = field(default_factory=lambda: ["x1", "x2"])
    layers: list[int] = field(default_factory=lambda: [4, 2])
    activations: list[str] = field(default_factory=lambda: ["tanh", "tanh"])
    lr: float = 0.03
    optimizer: str = "sgd"
    reg: str = "none"
    regRate: float = 0.0  # the URL keys are spelled as on TF Playground
    stopEpochs: int = 0  # 0: no limit
    stopLoss: float = 0.0  # 0: no limit; else stop when the test loss is below
    speed: int = 0  # epochs per second at most; 0: as fast as the server allows

    @property
    def n_outputs(self) -> int:
        if self.problem == "regression" or self.classes == 2:
            return 1
        return self.classes

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object, base: Config | None = None) -> Config:
        """Validate ``data`` (a JSON object, e.g. from the page) over ``base`` (or defaults).

        Raises ConfigError naming the field, the problem and the allowed range.
        """
        if not isinstance(data, Mapping):
            raise ConfigError("the setup must be a JSON object of field: value")
        known = {f.name for f in fields(cls)}
        unknown = sorted(map(show, set(data) - known))  # any key type, any length
        if unknown:
            raise ConfigError(
                f"unknown setup field(s) {', '.join(unknown)}; "
                f"known fields: {', '.join(sorted(known))}"
            )
        values = (base or cls()).to_dict()
        values.update(data)
        cfg = cls(
            problem=_choice(values["problem"], "problem", ("classification", "regression")),
            dataset=_choice(values["dataset"], "dataset", CLASSIFICATION_SETS + REGRESSION_SETS),
            classes=_int(values["classes"], "classes", 2, MAX_CLASSES),
            noise=_int(values["noise"], "noise", 0, 50),
            samples=_int(values["samples"], "samples", MIN_SAMPLES, MAX_SAMPLES),
            ratio=_int(values["ratio"], "ratio", 10, 90),
            seed=_int(values["seed"], "seed", 0, 2**31 - 1),
            batch=_int(values["batch"], "batch", 1, MAX_BATCH),
            features=_features(values["features"]),
            layers=_layers(values["layers"]),
            activations=_activations(values["activations"]),
            lr=_number(values["lr"], "lr", 0.0, MAX_LR, open_low=True),
            optimizer=_choice(values["optimizer"], "optimizer", OPTIMIZERS),
            reg=_choice(values["reg"], "reg", REGULARIZATIONS),
            regRate=_number(values["regRate"], "regRate", 0.0, MAX_REG_RATE),
            stopEpochs=_int(values["stopEpochs"], "stopEpochs", 0, MAX_STOP_EPOCHS),
            stopLoss=_number(values["stopLoss"], "stopLoss", 0.0, 1e6),
            speed=_int(values["speed"], "speed", 0, MAX_SPEED),
        )
        sets = CLASSIFICATION_SETS if cfg.problem == "classification" else REGRESSION_SETS
        if cfg.dataset not in sets:
            raise ConfigError(
                f"dataset={cfg.dataset!r} is not a {cfg.problem} set; choose one of: "
                f"{', '.join(sets)}"
            )
        if cfg.classes != 2 and cfg.dataset not in MULTICLASS_SETS:
            raise ConfigError(
                f"classes={cfg.classes} needs a data set with more than two classes "
                f"({' or '.join(MULTICLASS_SETS)}); {cfg.dataset!r} has 2"
            )
        if len(cfg.activations) != len(cfg.layers):
            raise ConfigError(
                f"activations has {len(cfg.activations)} entries but layers has "
                f"{len(cfg.layers)}; give one activation per hidden layer"
            )
        return cfg


def _choice(value: object, name: str, options: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in options:
        raise ConfigError(f"{name}={show(value)} is not known; choose one of: {', '.join(options)}")
    return value


def _int(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"{name}={show(value)} must be a whole number from {low} to {high}")
    if not low <= value <= high:
        raise ConfigError(f"{name}={show(value)} is out of range; it must be from {low} to {high}")
    return int(value)


def _number(value: object, name: str, low: float, high: float, open_low: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name}={show(value)} must be a number from {low:g} to {high:g}")
    # Compared before converting: float() of a huge int raises OverflowError.
    ok = (low < value if open_low else low <= value) and value <= high
    if not ok:
        bound = ">" if open_low else ">="
        raise ConfigError(
            f"{name}={show(value)} is out of range; it must be {bound} {low:g} and <= {high:g}"
        )
    return float(value)


def _features(value: object) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ConfigError(
            f"features={show(value)} must be a non-empty list of: {', '.join(FEATURES)}"
        )
    for item in value:
        if not isinstance(item, str) or item not in FEATURES:  # a list item is unhashable
            raise ConfigError(
                f"features holds {show(item)}, which is not known; "
                f"choose from: {', '.join(FEATURES)}"
            )
    if len(set(value)) != len(value):
        raise ConfigError(f"features={show(value)} lists a feature twice; give each once")
    return [name for name in FEATURES if name in value]  # the page's fixed order


def _layers(value: object) -> list[int]:
    if not isinstance(value, list):
        raise ConfigError(
            f"layers={show(value)} must be a list of neuron counts, one per hidden layer"
        )
    if len(value) > MAX_LAYERS:
        raise ConfigError(
            f"layers has {len(value)} hidden layers; the playground allows at most {MAX_LAYERS}"
        )
    return [_int(n, f"layers[{i}]", 1, MAX_NEURONS) for i, n in enumerate(value)]


def _activations(value: object) -> list[str]:
    if not isinstance(value, list):
        raise ConfigError(f"activations={show(value)} must be a list, one name per hidden layer")
    return [_choice(a, f"activations[{i}]", HIDDEN_ACTIVATIONS) for i, a in enumerate(value)]
