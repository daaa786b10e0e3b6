"""The record of a training run: loss, accuracy and learning rate per epoch."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class History:
    """Loss and accuracy per epoch, for the training data and the validation data.

    ``loss[k]`` is the mean training loss of epoch k as training saw it: each sample's loss is
    taken from the forward pass of its own step, before that step's update (as Keras reports
    it; it costs nothing extra). With full-batch training that is the loss of the weights at the
    start of the epoch. Regularisation is included. ``accuracy`` is filled for classifiers; the
    ``val_`` lists, measured on the weights at the end of each epoch, when validation data is
    used.
    ``extra`` holds what callbacks record (e.g. per-layer gradient norms).
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    extra: dict[str, list] = field(default_factory=dict)
    stopped_early: bool = False
    interrupted: bool = False
    best_epoch: int | None = None

    @property
    def epochs(self) -> int:
        return len(self.loss)

    def as_dict(self) -> dict[str, list[float]]:
        """The per-epoch series that have values, by name."""
        series = {
            "loss": self.loss,
            "accuracy": self.accuracy,
            "val_loss": self.val_loss,
            "val_accuracy": self.val_accuracy,
            "lr": self.lr,
        }
        return {k: v for k, v in series.items() if v}

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.as_dict().items())
        return f"History(epochs={self.epochs}, {last})"
