"""The benchmark module runs end to end (tiny settings; no timing is asserted)."""

import json

from chainrule import benchmark


def test_step_benchmark_reports_every_available_contender(tmp_path, capsys):
    path = tmp_path / "bench.json"
    results = benchmark.run_all(0.05, ["tiny"], 1, ["step"], path)
    row = results["step"]["nets"]["tiny"]
    assert row["us_per_step"]["chainrule"] > 0 and row["us_per_step"]["limit"] > 0
    assert set(row["chainrule_ratio"]) >= {"limit", "sklearn"}
    assert json.loads(path.read_text())["step"]["nets"]["tiny"] == row
    assert "tiny" in capsys.readouterr().out


def test_scaling_and_memory_probes_measure_something():
    sc = benchmark.scaling(counts=(200, 400))
    assert len(sc["seconds_per_epoch"]) == 2 and all(t > 0 for t in sc["seconds_per_epoch"])
    mem = benchmark.memory(("small",))
    for row in mem.values():
        # the run holds at least the parameters, optimizer state and activations it needs
        assert row["peak"] >= row["params"] + row["optimizer_state"]
