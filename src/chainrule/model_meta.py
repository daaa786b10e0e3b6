"""The metadata ``chainrule train`` stores with a model, checked before predict/evaluate use it.

A model trained from a data file carries in ``net.metadata`` the feature columns, the target
column, the class labels (None for a regression) and the standardisation fitted on the training
data (see :func:`chainrule.workflow.train_file`). Every field is checked against the network it
travels with, so a damaged or edited file is refused with a ModelFileError naming the field,
not met later as a TypeError or a broadcasting error in the middle of a prediction.
"""

from __future__ import annotations

import math
import os

from ._checks import show
from .io import Fields

_FIX = "the model file is damaged or was edited: train the model again with 'chainrule train'"
_REQUIRED = ("features", "target", "scaling")
_LABEL_TYPES = (str, int, float, bool)  # what a label column's values become in JSON


def check_file_metadata(meta: object, net, path: str | os.PathLike) -> dict:
    """``meta`` (a data-file model's ``net.metadata``) checked against ``net``; returns a copy
    with the checked values. Raises ModelFileError naming the first bad field."""
    fields = Fields(f"{str(path)!r} is corrupt: metadata field", _FIX)
    if not isinstance(meta, dict):
        fields.fail("metadata", f"is {show(meta)}, not an object")
    fields.mapping(meta, "metadata", _REQUIRED, tuple(meta))  # other notes may ride along
    features = _features(fields, meta["features"], net.n_inputs)
    target = fields.string(meta["target"], "target")
    if target in features:
        fields.fail("target", f"is {show(target)}, which is also a feature column")
    n = net.n_inputs
    scaling = fields.mapping(meta["scaling"], "scaling", ("mean", "scale"))
    return {
        **meta,
        "features": features,
        "target": target,
        "classes": _classes(fields, meta.get("classes"), net),
        "scaling": {
            "mean": fields.numbers(scaling["mean"], "scaling.mean", (n,)),
            # Inputs are divided by the scale: it must be positive (constant columns get 1).
            "scale": fields.numbers(scaling["scale"], "scaling.scale", (n,), low=0, open_low=True),
        },
    }


def _features(fields: Fields, features: object, n_inputs: int) -> list[str]:
    """One distinct column name per network input, in input order."""
    if not isinstance(features, list) or len(features) != n_inputs:
        got = f"{len(features)} names" if isinstance(features, list) else show(features)
        fields.fail("features", f"holds {got}; the network has {n_inputs} inputs, one per column")
    names = [fields.string(name, f"features[{i}]") for i, name in enumerate(features)]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            fields.fail("features", f"names the column {show(name)} twice")
        seen.add(name)
    return names


def _classes(fields: Fields, classes: object, net) -> list | None:
    """None for a regression (one output); else one distinct label per softmax output."""
    k = net.n_outputs
    if classes is None:
        if net.is_classifier or k != 1:
            fields.fail("classes", f"is null, but the network is a classifier with {k} outputs")
        return None
    if not net.is_classifier or k < 2:
        network = f"{net.loss_fn.name}, {k} output{'s' if k > 1 else ''}"
        fields.fail("classes", f"lists labels, but the network ({network}) has no classes")
    if not isinstance(classes, list) or len(classes) != k:
        got = f"{len(classes)} labels" if isinstance(classes, list) else show(classes)
        fields.fail("classes", f"holds {got}; it must list {k} labels, one per output")
    for i, label in enumerate(classes):
        bad_float = isinstance(label, float) and not math.isfinite(label)
        if type(label) not in _LABEL_TYPES or bad_float:
            fields.fail(f"classes[{i}]", f"is {show(label)}; a label is a string or a number")
    if len(set(classes)) != k:  # 1, 1.0 and True are one label to a lookup
        fields.fail("classes", f"is {show(classes)}; its labels must be distinct")
    return list(classes)
