"""Data files: every supported format reads the same table; labels and scaling are kept."""

import numpy as np
import pandas as pd
import pytest

import chainrule as cr
from chainrule import data, workflow


@pytest.fixture
def table():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    frame = pd.DataFrame(X, columns=["a b", "c", "d"])
    frame["label"] = np.where(X[:, 0] > 0, "up", "down")
    return frame


def test_csv_parquet_npz_npy_read_alike(tmp_path, table):
    table.to_csv(tmp_path / "t.csv", index=False)
    table.to_csv(tmp_path / "t.tsv", index=False, sep="\t")
    table.to_parquet(tmp_path / "t.parquet")
    X = table[["a b", "c", "d"]].to_numpy()
    y = (table["label"] == "up").to_numpy().astype(int)
    np.savez(tmp_path / "t.npz", X=X, y=y)
    np.save(tmp_path / "t.npy", np.c_[X, y])
    for name in ("t.csv", "t.tsv", "t.parquet"):
        ds = data.load_training(tmp_path / name, "label")
        assert ds.features == ["a b", "c", "d"] and ds.classes == ["down", "up"]
        np.testing.assert_allclose(ds.X, X, rtol=1e-12)
        assert (ds.y == y).all()
    npz = data.load_training(tmp_path / "t.npz", "y")
    npy = data.load_training(tmp_path / "t.npy", "3")
    for ds in (npz, npy):
        np.testing.assert_allclose(ds.X, X)
        assert ds.classes == [0, 1] and (ds.y == y).all()


def test_task_guess_and_regression_targets(table):
    assert data.load_training(table, "label").classes == ["down", "up"]
    numbers = table.drop(columns="label")
    assert data.load_training(numbers, "c").classes is None  # many distinct floats: values
    assert data.load_training(numbers, "c", "regress").y.dtype == np.float64
    numbers["k"] = np.arange(80) % 3 * 1.0  # whole numbers, few of them: classes
    assert data.load_training(numbers, "k").classes == [0.0, 1.0, 2.0]


def test_model_keeps_labels_and_scaling(tmp_path, table):
    table.to_csv(tmp_path / "t.csv", index=False)
    settings = workflow.TrainSettings(hidden=(8,), epochs=60, lr=0.05, val_split=0.0)
    net, _ = workflow.train_file(tmp_path / "t.csv", "label", None, settings, tmp_path / "m.crnet")
    meta = cr.load(tmp_path / "m.crnet").metadata
    assert meta["classes"] == ["down", "up"] and meta["features"] == ["a b", "c", "d"]
    np.testing.assert_allclose(meta["scaling"]["mean"], table[["a b", "c", "d"]].mean(), atol=1e-12)
    labels, probs = workflow.predict_file(tmp_path / "m.crnet", tmp_path / "t.csv")
    assert set(labels) <= {"up", "down"} and probs.shape == (80, 2)
    assert np.mean(np.array(labels) == table["label"].to_numpy()) > 0.9
    metrics = workflow.evaluate_file(tmp_path / "m.crnet", tmp_path / "t.csv")
    assert sum(map(sum, metrics["confusion"])) == 80
    assert metrics["accuracy"] == pytest.approx(np.mean(np.array(labels) == table["label"]))


def test_bad_cells_are_named_by_column_and_row(table):
    broken = table.copy()
    broken.loc[5, "c"] = np.nan
    with pytest.raises(cr.InputError, match=r"column 'c' has a missing or infinite value in row 6"):
        data.load_training(broken, "label")
    broken = table.astype({"d": object})
    broken.loc[7, "d"] = "seven"
    with pytest.raises(cr.InputError, match=r"'d' is not numeric: row 8 holds 'seven'"):
        data.load_training(broken, "label")
