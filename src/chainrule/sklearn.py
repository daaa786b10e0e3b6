"""scikit-learn estimators on chainrule networks (the ``sklearn`` extra).

``MLPClassifier`` and ``MLPRegressor`` take scikit-learn's own parameter names, so they drop into
pipelines, grid searches and code written for ``sklearn.neural_network``. Under them is a
:class:`chainrule.Network` (``estimator.network_``) trained by :meth:`Network.fit`.

Differences from scikit-learn, by design: solvers are 'sgd' and 'adam' (no L-BFGS); learning
rate schedules 'constant' and 'invscaling' ('adaptive' is refused). ``alpha`` is scikit-learn's
L2 penalty, α/2·ΣW² divided by the batch size (times the mean sample weight, when weighted),
so weighing a sample k times trains like repeating it k times (full-batch training).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state, compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .layers import Dense
from .network import Network
from .optimizers import SGD, Adam, InverseScaling
from .training import EarlyStopping

_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}


class _BaseMLP(BaseEstimator):
    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change

    # ---------------------------------------------------------------- set-up
    def _check_params(self):
        if self.activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation={self.activation!r} is not supported; use one of {list(_ACTIVATIONS)}"
            )
        if self.solver not in ("sgd", "adam"):
            raise ValueError(f"solver={self.solver!r} is not supported; use 'sgd' or 'adam'")
        if self.learning_rate not in ("constant", "invscaling"):
            raise ValueError(
                f"learning_rate={self.learning_rate!r} is not supported; use 'constant' or "
                "'invscaling'"
            )
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, numbers.Integral) else list(sizes)
        if any(not isinstance(s, numbers.Integral) or s < 1 for s in sizes):
            raise ValueError(f"hidden_layer_sizes={self.hidden_layer_sizes!r} must be positive")
        for name in ("max_iter", "n_iter_no_change"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer")
        if not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction={self.validation_fraction!r} must be in (0, 1)")
        if self.alpha < 0:
            raise ValueError(f"alpha={self.alpha!r} must be >= 0")
        return [int(s) for s in sizes]

    def _optimizer(self):
        schedule = InverseScaling(self.power_t) if self.learning_rate == "invscaling" else None
        if self.solver == "sgd":
            return SGD(
                self.learning_rate_init,
                momentum=self.momentum,
                nesterov=bool(self.nesterovs_momentum and self.momentum > 0),
                schedule=schedule,
            )
        return Adam(
            self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon, schedule=schedule
        )

    def _build(self, n_in, n_out, output, loss):
        sizes = [n_in, *self._check_params()]
        layers = [Dense(a, b, _ACTIVATIONS[self.activation]) for a, b in zip(sizes, sizes[1:])]
        layers.append(Dense(sizes[-1], n_out, output))
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        return Network(layers, loss=loss, dtype="float64", seed=seed)  # l2 is set by _train

    def _train(self, X, T, sample_weight, epochs, incremental):
        n = len(X)
        batch = min(200, n) if self.batch_size == "auto" else int(self.batch_size)
        if batch < 1:
            raise ValueError(f"batch_size={self.batch_size!r} must be positive or 'auto'")
        batch = min(batch, n)
        scores = []
        callbacks = []
        validation = None
        stopper = False
        if self.early_stopping and not incremental:
            stratify = T if self._is_classifier and len(np.unique(T)) > 1 else None
            split = train_test_split(
                np.arange(n),
                test_size=self.validation_fraction,
                random_state=self.network_.seed,
                stratify=stratify,
            )
            train, val = split
            validation = (X[val], T[val])
            X, T = X[train], T[train]
            sample_weight = None if sample_weight is None else sample_weight[train]
            callbacks.append(lambda net, epoch, logs: scores.append(self._score_on(*validation)))
            stopper = EarlyStopping(
                patience=self.n_iter_no_change, min_delta=self.tol, monitor="val_loss"
            )
        elif not incremental:
            stopper = EarlyStopping(
                patience=self.n_iter_no_change,
                min_delta=self.tol,
                monitor="loss",
                restore_best=False,
            )
        # scikit-learn divides alpha by each batch's size (its total weight, when weighted);
        # so a weight of 2 and a repeated sample give the same penalty
        mean_weight = 1.0 if sample_weight is None else float(np.mean(sample_weight))
        self.network_.l2 = self.alpha / (min(batch, len(X)) * mean_weight) if mean_weight else 0.0
        if not hasattr(self, "_optimizer_state") or not incremental:
            self._optimizer_state = self._optimizer()
        history = self.network_.fit(
            X,
            T,
            epochs=epochs,
            batch_size=batch,
            optimizer=self._optimizer_state,
            shuffle=bool(self.shuffle),
            sample_weight=sample_weight,
            validation_data=validation,
            early_stopping=stopper,
            callbacks=callbacks,
        )
        self.loss_curve_ = getattr(self, "loss_curve_", []) if incremental else []
        self.loss_curve_ = self.loss_curve_ + list(history.loss)
        self.loss_ = self.loss_curve_[-1]
        self.n_iter_ = getattr(self, "n_iter_", 0) * incremental + history.epochs
        self.validation_scores_ = scores if self.early_stopping else None
        self.best_validation_score_ = max(scores) if scores else None
        if not incremental and not history.stopped_early and epochs == self.max_iter:
            warnings.warn(
                f"stopped at max_iter={self.max_iter} before the loss settled; raise max_iter",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _score_on(self, X, T):
        return self._score_fn(T, self._decode(self.network_.predict(X)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multi-layer perceptron classifier (softmax + cross-entropy) on chainrule."""

    _is_classifier = True
    _score_fn = staticmethod(accuracy_score)

    def _decode(self, out):
        return out.argmax(axis=1)

    def _prepare(self, X, y, sample_weight, reset):
        X, y = validate_data(self, X, y, reset=reset, dtype=np.float64)
        check_classification_targets(y)
        return X, y, sample_weight

    def fit(self, X, y, sample_weight=None):
        """Train on X (n, d) and labels y (n,); returns self."""
        X, y, _ = self._prepare(X, y, sample_weight, reset=True)
        self._encoder = LabelEncoder().fit(y)
        self.classes_ = self._encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has one class only ({self.classes_[0]!r}); a classifier needs at least two"
            )
        weights = self._weights(X, y, sample_weight)
        if not (self.warm_start and hasattr(self, "network_")):
            self.network_ = self._build(X.shape[1], len(self.classes_), "softmax", "cross_entropy")
        self._train(X, self._encoder.transform(y), weights, self.max_iter, incremental=False)
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over (X, y); the first call needs ``classes``."""
        first = not hasattr(self, "network_")
        X, y, _ = self._prepare(X, y, sample_weight, reset=first)
        if first:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit")
            self._encoder = LabelEncoder().fit(classes)
            self.classes_ = self._encoder.classes_
            self.network_ = self._build(X.shape[1], len(self.classes_), "softmax", "cross_entropy")
        unseen = np.setdiff1d(y, self.classes_)
        if unseen.size:
            raise ValueError(f"y holds labels {unseen.tolist()} not in classes {self.classes_}")
        weights = self._weights(X, y, sample_weight)
        self._train(X, self._encoder.transform(y), weights, 1, incremental=not first)
        return self

    def _weights(self, X, y, sample_weight):
        weights = None if sample_weight is None else _check_sample_weight(sample_weight, X)
        if getattr(self, "class_weight", None) is not None:
            per_class = compute_sample_weight(self.class_weight, y)
            weights = per_class if weights is None else weights * per_class
        return weights

    def predict_proba(self, X):
        """Class probabilities (n, n_classes)."""
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self.network_.predict(X)

    def predict(self, X):
        """Class labels (n,)."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    # scikit-learn reads the parameters from the signature, so they are spelled out here too.
    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        class_weight=None,
    ):
        super().__init__(
            hidden_layer_sizes,
            activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
        )
        self.class_weight = class_weight

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multi-layer perceptron regressor (identity output, squared error) on chainrule."""

    _is_classifier = False
    _score_fn = staticmethod(r2_score)

    def _decode(self, out):
        return out[:, 0] if self._single else out

    def fit(self, X, y, sample_weight=None):
        """Train on X (n, d) and targets y (n,) or (n, k); returns self."""
        X, y = validate_data(
            self, X, y, reset=True, dtype=np.float64, multi_output=True, y_numeric=True
        )
        self._single = y.ndim == 1
        Y = y[:, None] if self._single else y
        weights = None if sample_weight is None else _check_sample_weight(sample_weight, X)
        if not (self.warm_start and hasattr(self, "network_")):
            # squared_error = ½Σ(y - ŷ)², scikit-learn's own regression loss
            self.network_ = self._build(X.shape[1], Y.shape[1], "identity", "squared_error")
        self._train(X, Y, weights, self.max_iter, incremental=False)
        return self

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y)."""
        first = not hasattr(self, "network_")
        X, y = validate_data(
            self, X, y, reset=first, dtype=np.float64, multi_output=True, y_numeric=True
        )
        if first:
            self._single = y.ndim == 1
            n_out = 1 if self._single else y.shape[1]
            self.network_ = self._build(X.shape[1], n_out, "identity", "squared_error")
        Y = y[:, None] if y.ndim == 1 else y
        weights = None if sample_weight is None else _check_sample_weight(sample_weight, X)
        self._train(X, Y, weights, 1, incremental=not first)
        return self

    def predict(self, X):
        """Predicted values (n,), or (n, k) for k targets."""
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self._decode(self.network_.predict(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
