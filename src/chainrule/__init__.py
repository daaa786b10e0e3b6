"""chainrule: feed-forward neural networks with explicit, vectorised back-propagation."""

from . import datasets
from .activations import ACTIVATIONS, Activation, get_activation
from .errors import (
    ChainruleError,
    ConfigError,
    ConvergenceWarning,
    InputError,
    ModelFileError,
    NotDifferentiableError,
    TrainingDivergedError,
)
from .gradcheck import GradcheckReport, gradcheck, numerical_gradients
from .graph import ComputationGraph
from .history import History
from .initializers import INITIALIZERS
from .io import load
from .layers import Dense
from .losses import LOSSES, Loss, get_loss
from .monitor import GradientMonitor
from .network import Network
from .optimizers import (
    SGD,
    Adam,
    AdamW,
    Constant,
    ExponentialDecay,
    InverseScaling,
    Optimizer,
    Schedule,
    StepDecay,
    WarmupCosine,
    clip_grad_norm,
)
from .perceptron import Perceptron
from .trace import Trace
from .training import Callback, EarlyStopping, ReduceLROnPlateau

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "LOSSES",
    "SGD",
    "Activation",
    "Adam",
    "AdamW",
    "Callback",
    "ChainruleError",
    "ComputationGraph",
    "ConfigError",
    "Constant",
    "ConvergenceWarning",
    "Dense",
    "EarlyStopping",
    "ExponentialDecay",
    "GradcheckReport",
    "GradientMonitor",
    "History",
    "InputError",
    "InverseScaling",
    "Loss",
    "ModelFileError",
    "Network",
    "NotDifferentiableError",
    "Optimizer",
    "Perceptron",
    "ReduceLROnPlateau",
    "Schedule",
    "StepDecay",
    "Trace",
    "WarmupCosine",
    "clip_grad_norm",
    "TrainingDivergedError",
    "datasets",
    "get_activation",
    "get_loss",
    "gradcheck",
    "load",
    "numerical_gradients",
]
