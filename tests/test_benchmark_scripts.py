"""The arithmetic of benchmark scripts whose figures go into docs/ (on synthetic result files)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def results_file(path, finals: dict[int, float]):
    """An nb201_search.py results file whose cifar10 trials end at the given best val per seed."""
    results = [{"dataset": "cifar10", "seed": s, "best_val": [80.0, v]} for s, v in finals.items()]
    path.write_text(json.dumps({"command": "x", "optima_val": {"cifar10": 91.0, "cifar100": 73.0,
                                                               "ImageNet16-120": 47.0}, "results": results}))
    return path


def test_seed_sets_pool_files_and_pair_seeds(tmp_path, capsys):
    script = load_script("nb201_seed_sets")
    a1 = results_file(tmp_path / "a1.json", {0: 91.0, 1: 90.0})
    a2 = results_file(tmp_path / "a2.json", {2: 90.5})
    b = results_file(tmp_path / "b.json", {0: 91.0, 1: 91.0, 2: 91.0})
    out = tmp_path / "table.md"
    script.main([f"a={a1}", f"a={a2}", f"b={b}", "--out", str(out)])
    text = out.read_text()
    assert capsys.readouterr().out == text + "\n"
    assert "| a | 0-1 | `a1.json` | 0.500 (1/2) | – | – |" in text
    assert "| **a, pooled** | 3 seeds | | 0.500 (1/3) |" in text
    assert "| **b, pooled** | 3 seeds | | 0.000 (3/3) |" in text
    # b - a per seed: 0, -1, -0.5 -> mean -0.5, sd 0.5, t(2) = 4.303 -> half width 1.242
    assert "-0.500 [-1.742, +0.742] (n=3)" in text


def test_seed_sets_refuse_a_seed_twice_and_foreign_files(tmp_path):
    script = load_script("nb201_seed_sets")
    a = results_file(tmp_path / "a.json", {0: 91.0})
    with pytest.raises(SystemExit, match="seeds \\[0\\] of cifar10 already come from another a file"):
        script.main([f"a={a}", f"a={a}"])
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(SystemExit, match="not a results file"):
        script.main([f"a={tmp_path / 'bad.json'}"])
    with pytest.raises(SystemExit, match="expected NAME=FILE"):
        script.main([str(a)])


def test_transformed_grid_tables_configs_and_check(tmp_path, data_dir, capsys):
    """scripts/hw_transformed_grid.py: the x1000 / negated tables load with the transformed values,
    the grid's tasks get the transformed limits, and --check tells identical runs from others."""
    import numpy as np

    from naslib_agnet.benchmarks.metrics import load_metric_table
    from naslib_agnet.experiments.grid import load_compare_config, parse_compare

    script = load_script("hw_transformed_grid")
    original = load_metric_table("hw-nas-bench", data_dir, "ImageNet16-120")
    for transform, column, sign, scale in (("x1000", "edgegpu_latency", 1, 1000), ("negated", "edgegpu_latency_neg",
                                                                                    -1, 1)):
        table = load_metric_table(str(script.write_table(data_dir, "ImageNet16-120", transform, tmp_path)),
                                  dataset="ImageNet16-120")
        np.testing.assert_allclose(table.values(column), sign * scale * original.values("edgegpu_latency"))
        config = script.write_config(transform, tmp_path, str(tmp_path / f"hw_{transform}_{{dataset}}.csv"))
        tasks = parse_compare(load_compare_config(str(config))).tasks
        assert len(tasks) == 20
        assert tasks["edgegpu_4ms"] == {"hardware.constraints": "edgegpu_latency <= 4000.0" if sign > 0
                                        else "edgegpu_latency_neg >= -4.0"}
    run = tmp_path / "a" / "t" / "nasbench201" / "ImageNet16-120" / "agnet" / "config_0" / "0"
    run.mkdir(parents=True)
    queries = [{"arch": [1, 2, 3, 4, 0, 1], "feasible": True, "best_feasible_val_acc": 40.0}]
    (run / "summary.json").write_text(json.dumps({"finished": True, "queries": queries}))
    twin = tmp_path / "b" / run.relative_to(tmp_path / "a")
    twin.mkdir(parents=True)
    (twin / "summary.json").write_text(json.dumps({"finished": True, "queries": queries}))
    assert script.check(tmp_path / "a", tmp_path / "b") == 0
    queries[0]["feasible"] = False
    (twin / "summary.json").write_text(json.dumps({"finished": True, "queries": queries}))
    assert script.check(tmp_path / "a", tmp_path / "b") == 1
    assert "1 different" in capsys.readouterr().out
