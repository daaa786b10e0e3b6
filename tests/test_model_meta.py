"""The metadata of a model trained from a data file is checked against its network on load:
every malformed field is a ModelFileError naming it, not an error in the middle of predict."""

import copy

import pytest

import chainrule as cr
from chainrule import workflow

pd = pytest.importorskip("pandas")


def _frame(n=40, classify=True):
    import numpy as np

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n) * 10 + 3})
    frame["label"] = np.where(frame["a"] > 0, "yes", "no") if classify else frame["a"] * 2.0
    return frame


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A classifier and a regressor written by train_file, and a CSV to predict on."""
    root = tmp_path_factory.mktemp("models")
    settings = workflow.TrainSettings(hidden=(4,), epochs=2, batch_size=8)
    paths, csvs = {}, {}
    for task in ("classify", "regress"):
        paths[task] = root / f"{task}.crnet"
        frame = _frame(classify=task == "classify")
        workflow.train_file(frame, "label", task, settings, paths[task])
        csvs[task] = root / f"{task}.csv"
        frame[:10].to_csv(csvs[task], index=False)
    return paths, csvs


def _with_metadata(models, tmp_path, task, edit):
    paths, csvs = models
    net = cr.load(paths[task])
    meta = copy.deepcopy(net.metadata)
    edit(meta)
    net.metadata = meta
    return net.save(tmp_path / "edited.crnet"), csvs[task]


def _set(key, value):
    return lambda m: m.__setitem__(key, value)


def _scaling(key, value):
    return lambda m: m["scaling"].__setitem__(key, value)


# The first three were a TypeError, a broadcasting ValueError and a KeyError in predict.
BAD = [
    ("classify", _set("classes", 3), "'classes'"),
    ("classify", _set("features", []), "'features'"),
    ("classify", lambda m: m["scaling"].pop("scale"), "'scaling'"),
    ("classify", _set("features", ["a", "a"]), "'features'"),
    ("classify", _set("features", ["a", 2]), r"'features\[1\]'"),
    ("classify", _set("features", "ab"), "'features'"),
    ("classify", _set("target", 5), "'target'"),
    ("classify", _set("target", "a"), "'target'"),
    ("classify", _set("classes", ["no"]), "'classes'"),
    ("classify", _set("classes", ["no", "no"]), "'classes'"),
    ("classify", _set("classes", [1, True]), "'classes'"),  # one label to a lookup
    ("classify", _set("classes", ["no", ["yes"]]), r"'classes\[1\]'"),
    ("classify", _set("classes", None), "'classes'"),
    ("regress", _set("classes", ["no", "yes"]), "'classes'"),
    ("classify", _set("scaling", [0, 1]), "'scaling'"),
    ("classify", _scaling("scale", [1.0, 0.0]), r"'scaling.scale\[1\]'"),
    ("classify", _scaling("scale", [1.0, -2.0]), r"'scaling.scale\[1\]'"),
    ("classify", _scaling("mean", [0.0]), "'scaling.mean'"),
    ("classify", _scaling("mean", [0.0, "3"]), r"'scaling.mean\[1\]'"),
    ("classify", _scaling("mean", [0.0, 10**400]), r"'scaling.mean\[1\]'"),
    ("classify", _scaling("extra", 1), "'scaling'"),
]


@pytest.mark.parametrize("task, edit, field", BAD)
def test_bad_metadata_is_refused_by_predict_and_evaluate(models, tmp_path, task, edit, field):
    path, csv = _with_metadata(models, tmp_path, task, edit)
    for run in (workflow.predict_file, workflow.evaluate_file):
        with pytest.raises(cr.ModelFileError, match=f"metadata field {field}"):
            run(path, csv)


@pytest.mark.parametrize("task", ["classify", "regress"])
def test_models_written_by_train_file_pass(models, task):
    from chainrule.model_meta import check_file_metadata

    paths, csvs = models
    net = cr.load(paths[task])
    checked = check_file_metadata(net.metadata, net, paths[task])
    assert checked == net.metadata  # nothing changed on the way through
    labels, _ = workflow.predict_file(paths[task], csvs[task])
    assert len(labels) == 10


def test_other_notes_ride_along(models, tmp_path):
    path, csv = _with_metadata(models, tmp_path, "classify", _set("note", {"any": ["json"]}))
    labels, _ = workflow.predict_file(path, csv)
    assert set(labels) <= {"no", "yes"}
