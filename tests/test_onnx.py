"""ONNX export: onnxruntime runs the file and matches predict."""

import numpy as np
import onnxruntime as ort
import pytest

import chainrule as cr

NETS = {
    "relu-softmax": lambda: cr.Network(
        [cr.Dense(4, 16, "relu"), cr.Dense(16, 3, "softmax")], loss="cross_entropy", seed=0
    ),
    "tanh-sigmoid": lambda: cr.Network(
        [cr.Dense(4, 8, "tanh"), cr.Dense(8, 8, "sigmoid"), cr.Dense(8, 1, "sigmoid")],
        loss="binary_cross_entropy",
        seed=1,
    ),
    "leaky-identity-nobias": lambda: cr.Network(
        [cr.Dense(4, 6, "leaky_relu", alpha=0.2, bias=False), cr.Dense(6, 2)], seed=2
    ),
    "float64": lambda: cr.Network(
        [cr.Dense(4, 5, "tanh"), cr.Dense(5, 2, "softmax")],
        loss="cross_entropy",
        dtype="float64",
        seed=3,
    ),
    "step-and-sign": lambda: cr.Network(
        [
            cr.Dense(4, 3, "step", weights=np.eye(4, 3), bias=[-0.1, 0.0, 0.2]),
            cr.Dense(3, 2, "sign", weights=[[1, -1], [1, 1], [-1, 1]], bias=[0.5, -0.5]),
        ]
    ),
}


@pytest.mark.parametrize("name", list(NETS))
def test_onnx_runtime_matches_predict(tmp_path, name):
    net = NETS[name]()
    X = np.random.default_rng(0).normal(size=(50, 4)).astype(net.dtype)
    path = net.to_onnx(tmp_path / "m.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {"X": X})
    assert out.dtype == net.dtype and out.shape == (50, net.n_outputs)
    np.testing.assert_allclose(out, net.predict(X), atol=1e-5, rtol=0)


def test_export_command_and_errors(tmp_path):
    import subprocess
    import sys

    net = NETS["relu-softmax"]()
    net.save(tmp_path / "m.crnet")
    done = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "export", "m.crnet", "--onnx", "m.onnx"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    X = np.ones((2, 4), np.float32)
    np.testing.assert_allclose(session.run(None, {"X": X})[0], net.predict(X), atol=1e-5)
    bad = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "export", "m.crnet", "--onnx", "no/such/m.onnx"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1 and "does not exist" in bad.stderr and "Traceback" not in bad.stderr


def test_exported_file_model_takes_raw_columns(tmp_path):
    """A model from 'chainrule train' exports with its standardisation and labels."""
    import json
    import subprocess
    import sys

    import pandas as pd

    from chainrule import workflow

    rng = np.random.default_rng(4)
    X = rng.normal(loc=[50.0, -3.0, 1000.0], scale=[10.0, 0.5, 200.0], size=(120, 3))
    frame = pd.DataFrame(X, columns=["age (years)", "ph", "income"])
    frame["band"] = np.where(X[:, 0] + 0.02 * X[:, 2] > 70, "high", "low")
    frame.to_csv(tmp_path / "d.csv", index=False)
    settings = workflow.TrainSettings(hidden=(8,), epochs=5, val_split=0.0)
    workflow.train_file(tmp_path / "d.csv", "band", None, settings, tmp_path / "m.crnet")
    done = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "export", "m.crnet", "--onnx", "m.onnx"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "age (years), ph, income" in done.stdout
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {"X": X.astype(np.float32)})  # raw, unstandardised columns
    _, expected = workflow.predict_file(tmp_path / "m.crnet", tmp_path / "d.csv")
    assert np.abs(expected - 0.5).max() > 0.1  # not a constant network
    np.testing.assert_allclose(out, expected, atol=1e-5, rtol=0)
    props = session.get_modelmeta().custom_metadata_map
    assert json.loads(props["classes"]) == ["high", "low"]
    assert json.loads(props["features"]) == ["age (years)", "ph", "income"]
