"""The lecture demos: each one's numbers, its figures, and the `chainrule demo` command."""

import json
import struct
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

import chainrule as cr
import chainrule.demos as demos
from chainrule.cli import app


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Every demo, run once with its figures, each into its own folder."""
    root = tmp_path_factory.mktemp("demos")
    return {name: demos.run(name, root / name, echo=None) for name in demos.names()}


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_every_demo_writes_legible_png_figures_and_json_ready_numbers(results):
    assert list(results) == demos.names() and len(results) == 10
    for name, result in results.items():
        assert result.figures, f"{name} drew no figure"
        for path in result.figures:
            width, height = _png_size(path)
            assert width >= 600 and height >= 400, (path, width, height)
            assert str(path) in "\n".join(result.lines)  # it says where it wrote
        assert result.lines[0].startswith(f"== {name}:")
        json.dumps(result.numbers)  # plain numbers, ready to save or compare


def test_logic_truth_tables(results):
    r = results["logic"]
    assert r["OR"] == [0, 1, 1, 1] and r["AND"] == [0, 0, 0, 1] and r["XOR"] == [0, 1, 1, 0]
    assert r["hidden"] == [[1, 0], [0, 0], [0, 0], [0, 1]]  # (h1, h2) per input row
    solutions = r["single_unit_solutions"]
    assert solutions["XOR"] == 0 and solutions["OR"] > 0 and solutions["AND"] > 0
    assert "  1  1 |  1   1 |  0  1 |  0" in r.lines  # the printed table's last row


def test_perceptron_converges_on_separable_data_and_not_on_xor(results):
    sep, xor = results["perceptron"]["separable"], results["perceptron"]["xor"]
    assert sep["converged"] and sep["errors"][-1] == 0 and sep["accuracy"] == 1.0
    assert sep["epochs"] == len(sep["errors"]) > 1
    assert not xor["converged"] and xor["warned"] and xor["min_errors"] >= 1
    assert xor["accuracy"] <= 0.75  # no line gets all four XOR points right


def test_xor_is_learned(results):
    r = results["xor"]
    assert r["classes"] == [0, 1, 1, 0]
    assert np.allclose(r["after"], [0, 1, 1, 0], atol=0.05)
    assert r["loss_end"] < 0.01 < 0.5 < r["loss_start"]
    assert r["solved_at_epoch"] is not None and r["solved_at_epoch"] <= 500


def test_worked_example_matches_the_slide_and_mazur(results):
    r = results["worked-example"]
    # Mirabello's slide, to 1e-3 (its factors are printed to two digits: ±0.005).
    assert r["sigma"] == pytest.approx(0.379, abs=1e-3)
    assert r["y_hat"] == pytest.approx(0.594, abs=1e-3)
    assert r["J"] == pytest.approx(0.122, abs=1e-3)
    assert r["dJ_dyhat"] == pytest.approx(0.49, abs=5e-3)
    assert r["dyhat_dsigma"] == pytest.approx(0.24, abs=5e-3)
    assert r["dsigma_dw"] == [0.50, 0.51]
    assert r["grad"] == pytest.approx([0.06, 0.06], abs=5e-3)
    assert r["w_new"] == pytest.approx([0.290, 0.339], abs=1e-3)
    assert r["new_y_hat"] == pytest.approx(0.579, abs=1e-3)
    assert r["new_J"] < r["J"] and r["new_J"] == pytest.approx(0.5 * (0.579 - 0.1) ** 2, abs=1e-3)
    assert r["fit_gap"] < 1e-12  # the trace's update is the one fit makes
    # The layer in front: Mazur's published numbers.
    assert r["mazur_E"] == pytest.approx(0.298371109, abs=1e-9)
    assert r["mazur_dE_dw5"] == pytest.approx(0.082167041, abs=1e-9)
    assert r["mazur_W2_new"][0][0] == pytest.approx(0.35891648, abs=1e-8)
    assert r["mazur_W2_new"][1][0] == pytest.approx(0.408666186, abs=1e-9)
    assert r["mazur_W2_new"][0][1] == pytest.approx(0.511301270, abs=1e-9)
    assert r["mazur_W2_new"][1][1] == pytest.approx(0.561370121, abs=1e-9)
    assert np.array(r["mazur_W1_new"]) == pytest.approx(
        np.array([[0.149780716, 0.24975114], [0.19956143, 0.29950229]]), abs=1e-8
    )
    assert r["mazur_E_after_weights"] == pytest.approx(0.291027924, abs=1e-6)
    assert r["mazur_E_after_fit"] < r["mazur_E_after_weights"]
    folder = r.figures[0].parent
    md = (folder / "worked-example-trace.md").read_text()
    assert "| 0.2905 |" in md and "| 0.3589 |" in md
    assert {p.name for p in r.figures} == {
        "worked-example-graph.png",
        "worked-example-forward.png",
        "worked-example-two-layers.png",
    }


def test_relu_softmax_gradient_is_softmax_minus_onehot(results):
    r = results["relu-softmax"]
    assert sum(r["probs"]) == pytest.approx(1.0)
    assert r["delta"] == pytest.approx(r["softmax_minus_onehot"], abs=1e-15)
    assert r["delta"] == pytest.approx(r["numeric"], abs=1e-8)
    assert r["max_gap"] < 1e-8 and r["gradcheck_max_error"] < 1e-7
    assert r["trained_accuracy"] >= 0.95
    # What the demo says about the random restarts: some learn, the stalled ones have dead units.
    assert max(r["restart_accuracies"]) >= 0.95
    for acc, dead in zip(r["restart_accuracies"], r["restart_dead_units"]):
        if acc < 0.9:
            assert dead >= 1 and acc == pytest.approx(r["share_of_class_0"], abs=0.02)


def test_digits_sgd_beats_gradient_descent_in_the_same_epochs(results):
    r = results["digits"]
    assert r["n"] == 1797 and r["ones"] == 182
    assert r["sgd_error_at_epochs"] < r["gd_error_at_epochs"]
    assert r["gd_epochs_to_match_sgd"] is None or r["gd_epochs_to_match_sgd"] > r["epochs"]
    assert len(r["sgd_error"]) == r["epochs"] and len(r["gd_error"]) == 1000
    # What it found about the data: average intensity hardly varies between digits (the 8×8
    # images are size-normalised), so the two features beat the baseline only a little.
    intensities = [m[1] for m in r["feature_means"].values()]
    assert max(intensities) - min(intensities) < 0.03
    assert r["baseline"] <= r["accuracy_sgd"] < 0.95


def test_vanishing_gradients_in_numbers(results):
    sig, relu = results["vanishing"]["sigmoid (Xavier)"], results["vanishing"]["ReLU (He)"]
    # The deep sigmoid net's first-layer gradient is orders of magnitude below its last's.
    assert sig["first_over_last"] < 1e-3 and sig["orders_of_magnitude"] >= 3
    norms = sig["grad_norm_start"]
    assert all(a < b for a, b in zip(norms, norms[1:]))  # shrinking layer by layer
    assert relu["orders_of_magnitude"] < 1
    # What back-propagation multiplies by: σ' ≤ ¼ at every sigmoid layer (none saturated, all
    # near ¼), a ReLU's slope is 1 on its active share (0 elsewhere).
    assert all(0.2 < v <= 0.25 for v in sig["mean_slope_start"])
    assert all(0.2 < v < 0.9 for v in relu["mean_slope_start"])
    assert relu["epochs_to_target"] is not None and relu["final_accuracy"] >= 0.95
    assert sig["epochs_to_target"] is None or sig["epochs_to_target"] > relu["epochs_to_target"]
    assert 0 <= relu["dead_end"] < 0.5 and sig["dead_end"] is None
    assert sig["saturated_end"] is not None and relu["saturated_end"] is None


def test_approximation_error_falls_with_width(results):
    r = results["approximation"]
    trained = {int(k): v for k, v in r["trained_rmse"].items()}
    built = {int(k): v for k, v in r["built_rmse"].items()}
    assert -2.3 < r["built_slope"] < -1.7  # the interpolant's error ∝ 1/width²
    assert built[32] < 0.02 and built[16] < built[8] < built[4]
    assert trained[32] < trained[1] / 10 and trained[32] < 0.05


def test_numerical_and_backprop_gradients_agree_and_costs_are_counted(results):
    rows = results["numerical-vs-backprop"]["rows"]
    assert [row["width"] for row in rows] == [2, 4, 8, 16, 32, 64, 128, 256]
    for row in rows:
        h = row["width"]
        assert row["weights"] == (4 + 1) * h + (h + 1) * 3
        assert row["evaluations"] == 2 * row["weights"]
        assert row["max_relative_error"] < 1e-5


def test_classify2d_boundaries_fit_and_generalise(results):
    r = results["classify2d"]
    assert set(r.numbers) == {"circle", "xor", "gaussians", "spiral", "moons"}
    for name, entry in r.numbers.items():
        assert entry["accuracy"] >= 0.95, name
        assert entry["test_accuracy"] >= 0.9, name
    assert r["gaussians"]["architecture"] == "2-1 (no hidden)"


def test_python_api_without_figures_and_its_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = demos.run("LOGIC", plots=False, echo=None)
    assert r.figures == [] and r["XOR"] == [0, 1, 1, 0] and list(tmp_path.iterdir()) == []
    lines = []
    demos.run("worked_example", plots=False, echo=lines.append)
    assert (
        lines[0].startswith("== worked-example:")
        and lines == demos.run("worked-example", plots=False, echo=None).lines
    )
    with pytest.raises(cr.ConfigError, match="not a demo; choose one of: logic"):
        demos.run("nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(cr.ConfigError, match="is a file"):
        demos.run("logic", tmp_path / "file", echo=None)


def _cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "chainrule.cli", *args], capture_output=True, text=True, cwd=cwd
    )


def test_demo_command(tmp_path):
    done = _cli("demo", cwd=tmp_path)
    assert done.returncode == 0
    for name in demos.names():
        assert name in done.stdout
    done = _cli("demo", "logic", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "  1  1 |  1   1 |  0  1 |  0" in done.stdout
    assert (tmp_path / "chainrule-demo-logic" / "logic.png").exists()
    again = _cli("demo", "logic", cwd=tmp_path)  # a new folder, never overwriting the last
    assert again.returncode == 0 and (tmp_path / "chainrule-demo-logic-2" / "logic.png").exists()
    done = _cli("demo", "perceptron", "--out", str(tmp_path / "figs"), cwd=tmp_path)
    assert done.returncode == 0 and (tmp_path / "figs" / "perceptron.png").exists()
    bad = _cli("demo", "nope", cwd=tmp_path)
    assert bad.returncode == 1 and "not a demo" in bad.stderr and "Traceback" not in bad.stderr


def test_demo_all_runs_the_tour_in_subfolders(tmp_path, monkeypatch):
    # The tour itself, shortened to two demos so the test stays fast.
    monkeypatch.setattr(demos, "DEMOS", {k: demos.DEMOS[k] for k in ("logic", "perceptron")})
    out = tmp_path / "tour"
    done = CliRunner().invoke(app, ["demo", "all", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert (out / "logic" / "logic.png").exists()
    assert (out / "perceptron" / "perceptron.png").exists()
    assert done.output.index("== logic") < done.output.index("== perceptron")


def test_gradcheck_and_trace_commands(tmp_path):
    done = _cli("gradcheck", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8 of 8 passed" in done.stdout and "softmax → identity" in done.stdout
    net = cr.Network([cr.Dense(3, 4, "relu"), cr.Dense(4, 2, "softmax")], "cross_entropy", seed=0)
    net.save(tmp_path / "m.crnet")
    done = _cli("gradcheck", "m.crnet", "--samples", "5", cwd=tmp_path)
    assert done.returncode == 0 and "1 of 1 passed" in done.stdout
    assert "layer 1 dW" in done.stdout
    # A loose tolerance passes, an impossible one fails with exit 1.
    strict = _cli("gradcheck", "m.crnet", "--tolerance", "1e-30", cwd=tmp_path)
    assert strict.returncode == 1 and "0 of 1 passed" in strict.stdout
    done = _cli("trace", "--graph", "g.svg", cwd=tmp_path)
    assert done.returncode == 0 and "computation graph: g.svg" in done.stderr
    assert "∂ 0.0595" in (tmp_path / "g.svg").read_text()
    bad = _cli("trace", "--graph", "g.txt", cwd=tmp_path)
    assert bad.returncode == 1 and "suffix" in bad.stderr and bad.stdout == ""
