"""Constraints '<=' and '>=', several at once, objectives, and the scale invariance of the
constrained search: the same task in other units, with an offset, or negated with the
direction flipped gives the same AG-Net trajectory."""
from __future__ import annotations


import numpy as np
import pytest

from naslib_agnet.benchmarks import load_nb201_oracle
from naslib_agnet.benchmarks.constraints import Constraint, Objective, parse_constraints, parse_objectives
from naslib_agnet.benchmarks.hardware_task import HardwareTask
from naslib_agnet.benchmarks.metrics import load_metric_table
from naslib_agnet.benchmarks.tabular import TabularOracle
from naslib_agnet.search import HardwareAGNetSearch, hardware_settings
from naslib_agnet.search.multiobjective import hardware_rank_weights, rank_sum_order
from naslib_agnet.spaces import get_codec
from naslib_agnet.weights import load_generator

IN16 = "ImageNet16-120"


# ------------------------------------------------------------------------------ parsing
def test_constraints_read_naturally_as_text_or_lists():
    assert parse_constraints("edgegpu_latency <= 4") == (Constraint("edgegpu_latency", "<=", 4.0),)
    assert parse_constraints("lat<=4, robust_acc >= 40") == (Constraint("lat", "<=", 4.0),
                                                              Constraint("robust_acc", ">=", 40.0))
    assert parse_constraints(["a <= 1e-3", "b >= -2"]) == (Constraint("a", "<=", 0.001), Constraint("b", ">=", -2.0))
    assert parse_constraints(None) == () == parse_constraints("none") == parse_constraints("")
    assert str(Constraint("a", ">=", 40.0)) == "a >= 40" and Constraint("a", "<=", 4).text("ms") == "a <= 4 ms"
    for bad, message in (("a < 4", "use <="), ("a <= fast", "not a number"), ("a <= inf", "must be finite"),
                         ("a == 4", "not understood"), ("a <= 1, a <= 2", "more than once"), ([4], "must be a string")):
        with pytest.raises(ValueError, match=message):
            parse_constraints(bad)


def test_a_limit_is_kept_exactly_and_spellings_are_one_identity():
    from naslib_agnet.experiments.config import load_config, run_identity

    def identity(text):
        return run_identity(load_config("configs/agnet_hw_nb201_ImageNet16-120.yaml",
                                        ["hardware.constraints", text]))["hardware"]["constraints"]

    assert identity("edgegpu_latency <= 3.4270215") == ["edgegpu_latency <= 3.4270215"]
    assert identity("fpga_latency <= 1234567") == ["fpga_latency <= 1234567"]
    assert identity("a <= 4.0000001") != identity("a <= 4.0000004")
    assert identity("b >= 2; a =< 4.0") == identity("[a <= 4, b >= 2]") == ["a <= 4", "b >= 2"]


def test_objectives_default_to_the_constrained_metrics_in_their_direction():
    cons = parse_constraints("lat <= 4, acc_robust >= 40")
    assert parse_objectives(None, cons) == (Objective("lat", "min"), Objective("acc_robust", "max"))
    assert parse_objectives("max energy, lat", cons) == (Objective("energy", "max"), Objective("lat", "min"))
    with pytest.raises(ValueError, match="min METRIC"):
        parse_objectives("fastest lat", cons)


def test_a_floor_is_a_negated_ceiling_for_feasibility_and_weights():
    acc = np.array([50.0, 40.0, 30.0, 20.0])
    robust = np.array([35.0, 45.0, 38.0, 41.0])  # robust_acc >= 40: points 1 and 3 are feasible
    floor = Constraint("robust_acc", ">=", 40.0)
    assert floor.satisfied(robust).tolist() == [False, True, False, True]
    w_floor = hardware_rank_weights(acc, -robust, floor.oriented_limit, infeasible_metric_rank=True)
    w_ceiling = hardware_rank_weights(acc, -robust, -40.0, infeasible_metric_rank=True)
    np.testing.assert_array_equal(w_floor, w_ceiling)
    assert np.argmax(w_floor) == 1


def test_two_constraints_need_both_and_joint_ranks_every_objective():
    acc = [50.0, 40.0, 30.0]
    values = np.array([[1.0, 9.0], [1.0, 2.0], [3.0, 1.0]])  # lat <= 2 and energy <= 5: only row 1
    assert rank_sum_order(acc, values, [2.0, 5.0]).tolist()[0] == 1
    # all feasible, Joint=1: acc ranks [1,2,3] + lat ranks [1,2,3] + energy ranks [3,2,1] = [5,6,7]; with
    # energy alone [4,4,4] -> ties by position; with the energy ranks reversed [5,6,7] too, so also
    # check a case where the second objective decides: acc [1,2,3] + lat [3,2,1] + energy [3,1,2] = [7,5,6]
    w = hardware_rank_weights(acc, values, [np.inf, np.inf], objectives=[True, True], k=0.01)
    np.testing.assert_allclose(w, 1 / (0.03 + np.array([0, 1, 2])))
    second = np.array([[3.0, 9.0], [2.0, 1.0], [1.0, 5.0]])
    assert rank_sum_order(acc, second, [np.inf, np.inf], objectives=[True, True]).tolist() == [1, 2, 0]
    assert rank_sum_order(acc, second, [np.inf, np.inf], objectives=[True, False]).tolist() == [0, 1, 2]
    assert rank_sum_order(acc, -second, [np.inf, np.inf], objectives=[True, True]).tolist() == [0, 1, 2]


# ------------------------------------------------------------------------------ the task
def _transformed(table: TabularOracle, column: str, name: str, transform) -> TabularOracle:
    values = transform(table.values(column))
    out = TabularOracle(name, table.keys(), {name: values}, source=f"{column} transformed")
    out.units = {name: None}
    return out


def test_hardware_task_with_a_floor_and_a_ceiling(data_dir):
    table = load_metric_table("hw-nas-bench", data_dir, IN16)
    oracle = load_nb201_oracle(data_dir, IN16)
    both = HardwareTask(table, parse_constraints("edgegpu_latency <= 5, edgegpu_energy <= 20"))
    ceiling = HardwareTask(table, parse_constraints("edgegpu_latency <= 5"))
    values = both.values_for(oracle.keys())
    ok = both.feasible(values)
    assert 0 < ok.sum() < ceiling.feasible(ceiling.values_for(oracle.keys())).sum()
    np.testing.assert_array_equal(ok, (values[:, 0] <= 5) & (values[:, 1] <= 20))
    arch, acc, opt = both.constrained_optimum(oracle)
    assert opt[0] <= 5 and opt[1] <= 20 and acc == pytest.approx(oracle.values("val_acc")[ok].max())
    assert both.constraint_text() == "edgegpu_latency <= 5 ms and edgegpu_energy <= 20 mJ"
    assert both.condition.tolist() == [1, 0, 0, 0, 0, 0]
    assert (both.violation(values) == 0).tolist() == ok.tolist()


# ------------------------------------------------------------------------------ scale invariance
def _trajectory(task: HardwareTask, units: str, queries: int = 40, seed: int = 3, scorer: str = "spec") -> list:
    oracle = TRAJ_ORACLE
    state, cfg = load_generator("nasbench201", "default")
    settings = hardware_settings(scorer=scorer, metric_units=units, retrain_epochs=4, top_k=8,
                                 infeasible_order="accuracy+metric")
    search = HardwareAGNetSearch(get_codec("nasbench201"), settings, constraints=task.constraints, joint=False,
                                 condition=task.condition, generator_state=state, generator_config=cfg, seed=seed)
    keys = oracle.keys()
    for i in np.random.default_rng(seed).permutation(len(keys))[:16]:
        search.observe(keys[i], oracle.query(keys[i])["val_acc"], task.values(keys[i]))
    while len(search.archs) < queries:
        for k in search.propose():
            search.observe(k, oracle.query(k)["val_acc"], task.values(k))
    LAST["search"] = search
    return search.archs


TRAJ_ORACLE = None
LAST: dict = {}


@pytest.fixture(scope="module")
def latency_tasks(data_dir):
    global TRAJ_ORACLE
    TRAJ_ORACLE = load_nb201_oracle(data_dir, IN16)
    table = load_metric_table("hw-nas-bench", data_dir, IN16)
    limit = 4.0
    return {"ms": HardwareTask(_transformed(table, "edgegpu_latency", "edgegpu_latency", lambda v: v),
                               [Constraint("edgegpu_latency", "<=", limit)]),
            "x1000": HardwareTask(_transformed(table, "edgegpu_latency", "edgegpu_latency", lambda v: v * 1000),
                                  [Constraint("edgegpu_latency", "<=", limit * 1000)]),
            "+100": HardwareTask(_transformed(table, "edgegpu_latency", "edgegpu_latency", lambda v: v + 100),
                                 [Constraint("edgegpu_latency", "<=", limit + 100)]),
            "negated": HardwareTask(_transformed(table, "edgegpu_latency", "neg_edgegpu_latency", lambda v: -v),
                                    [Constraint("neg_edgegpu_latency", ">=", -limit)])}


def test_the_default_search_does_not_depend_on_units_offset_or_direction(latency_tasks):
    assert latency_tasks["negated"].condition.tolist() == latency_tasks["ms"].condition.tolist() == [1, 0, 0, 0, 0, 0]
    reference = _trajectory(latency_tasks["ms"], "scaled")
    spread = LAST["search"]._spread.copy()
    # the units come from the initial sample and stay: the predictor carries over between iterations
    initial = LAST["search"]._oriented()[:16, 0]
    np.testing.assert_allclose(spread, [initial.std()])
    for name in ("x1000", "+100", "negated"):
        assert _trajectory(latency_tasks[name], "scaled") == reference, name


def test_the_ranker_under_constraints_does_not_depend_on_units_offset_or_direction(latency_tasks):
    reference = _trajectory(latency_tasks["ms"], "scaled", queries=32, scorer="ranker")
    for name in ("x1000", "+100", "negated"):
        assert _trajectory(latency_tasks[name], "scaled", queries=32, scorer="ranker") == reference, name


def test_the_spec_raw_units_do_depend_on_them(latency_tasks):
    """The check above is not vacuous: with the spec's raw units the same transforms change the search."""
    reference = _trajectory(latency_tasks["ms"], "raw")
    assert _trajectory(latency_tasks["x1000"], "raw") != reference
    assert _trajectory(latency_tasks["+100"], "raw") != reference


# ------------------------------------------------------------------------------ runs, headlines, reports
def _cli(out, data_dir, *opts, flags=("--quiet",)):
    from naslib_agnet.cli.main import main

    return main(["run", "--config-file", "configs/agnet_hw_nb201_ImageNet16-120.yaml", "--data-dir", str(data_dir),
                 *flags, "out_dir", str(out), "search.epochs", "24", "search.agnet.loop.retrain_epochs", "2", *opts])


def _negated_table(tmp_path, data_dir):
    import csv

    with (data_dir / "hw-nas-bench" / "hw_nas_bench_ImageNet16-120.csv").open() as fh:
        rows = [f"{r['naslib_op_indices']},{-float(r['edgegpu_latency'])},{r['edgegpu_energy']}"
                for r in csv.DictReader(fh)]
    path = tmp_path / "neg.csv"
    path.write_text("# units: neg_lat=ms\nnaslib_op_indices,neg_lat,edgegpu_energy\n" + "\n".join(rows) + "\n")
    return path


def test_a_floor_runs_reports_and_heads_like_the_ceiling_it_mirrors(tmp_path, data_dir, capsys):
    import json

    from naslib_agnet.experiments.report import run_report

    table = _negated_table(tmp_path, data_dir)
    assert _cli(tmp_path / "ceil", data_dir, "optimizer", "rs", "hardware.constraints", "edgegpu_latency <= 4") == 0
    assert _cli(tmp_path / "floor", data_dir, "optimizer", "rs", "hardware.table", str(table),
                "hardware.constraints", "neg_lat >= -4") == 0
    out = capsys.readouterr().out
    run = "nasbench201/ImageNet16-120/rs/config_0/0/summary.json"
    ceil, floor = (json.loads((tmp_path / d / run).read_text()) for d in ("ceil", "floor"))
    assert [q["feasible"] for q in ceil["queries"]] == [q["feasible"] for q in floor["queries"]]
    assert ceil["queries"][-1]["best_feasible_val_acc"] == floor["queries"][-1]["best_feasible_val_acc"]
    assert "best feasible (neg_lat >= -4 ms): val" in out and "best feasible (edgegpu_latency <= 4 ms): val" in out
    run_report(tmp_path / "floor", log=lambda _: None)
    run_report(tmp_path / "ceil", log=lambda _: None)
    rows = {}
    for d in ("ceil", "floor"):
        import csv as _csv

        with (tmp_path / d / "hardware_results.csv").open() as fh:
            rows[d] = [r for r in _csv.DictReader(fh) if r["budget"] == "24"][0]
    # a mirrored task has the same hypervolume and the mirrored best value
    assert float(rows["floor"]["hv"]) == pytest.approx(float(rows["ceil"]["hv"])) and float(rows["ceil"]["hv"]) > 0
    assert float(rows["floor"]["best_metric"]) == -float(rows["ceil"]["best_metric"])
    md = (tmp_path / "floor" / "hardware_results.md").read_text()
    assert "neg_lat >= -4 ms" in md and "neg_lat (ms, higher is better)" in md
    results = (tmp_path / "floor" / "results.md").read_text()
    assert "ImageNet16-120 (neg_lat >= -4 ms)" in results and "*feasible*" in results


def test_two_constraints_at_once(tmp_path, data_dir, capsys):
    import json

    assert _cli(tmp_path, data_dir, "optimizer", "agnet_joint", "hardware.constraints",
                "edgegpu_latency <= 5, edgegpu_energy <= 20") == 0
    out = capsys.readouterr().out
    summary = json.loads((tmp_path / "nasbench201/ImageNet16-120/agnet_joint/config_0/0/summary.json").read_text())
    assert summary["hardware"]["metrics"] == ["edgegpu_energy", "edgegpu_latency"]  # sorted: order means nothing
    for q in summary["queries"]:
        lat, energy = q["metrics"]["edgegpu_latency"], q["metrics"]["edgegpu_energy"]
        assert q["feasible"] == (lat <= 5 and energy <= 20)
    assert "best feasible (edgegpu_energy <= 20 mJ and edgegpu_latency <= 5 ms): val" in out


def test_no_valid_candidate_is_said_once_and_counted(tmp_path, data_dir, capsys, caplog):
    """A randomly initialised generator with one latent draw per iteration rarely decodes a new valid
    cell: the fallback is announced once, and the run's last line gives the count."""
    import json

    assert _cli(tmp_path, data_dir, "search.agnet.pretrained", "none", "search.agnet.loop.chunk_size", "1",
                "search.agnet.loop.max_chunks", "1", "search.agnet.loop.top_k", "1", "hardware.constraints",
                "edgegpu_latency <= 4", flags=()) == 0
    captured = capsys.readouterr()
    summary = json.loads((tmp_path / "nasbench201/ImageNet16-120/agnet/config_0/0/summary.json").read_text())
    fallbacks, iterations = summary["agnet"]["random_fallbacks"], summary["agnet"]["iterations"]
    assert fallbacks >= 2
    said = [r for r in caplog.records if "found no new valid candidate in 1 latent draws" in r.getMessage()]
    assert len(said) == 1
    assert f"AG-Net found no new valid candidate in {fallbacks} of its {iterations} iterations" in captured.out


def test_report_keeps_runs_under_different_constraints_apart(tmp_path, data_dir):
    from naslib_agnet.experiments.report import load_run, run_report

    for limit in ("4", "6"):
        assert _cli(tmp_path / "runs" / limit, data_dir, "optimizer", "rs", "hardware.constraints",
                    f"edgegpu_latency <= {limit}") == 0
    run_report(tmp_path / "runs", log=lambda _: None)
    rows = [line for line in (tmp_path / "runs" / "results.md").read_text().splitlines() if "edgegpu_latency" in line]
    assert len(rows) == 2
    for limit, row in zip(("4", "6"), sorted(rows)):
        best = load_run(tmp_path / "runs" / limit / "nasbench201/ImageNet16-120/rs/config_0/0").best_val[-1]
        assert f"(edgegpu_latency <= {limit} ms)" in row
        assert row.split("|")[-2].strip().startswith(f"{best:.2f} ± 0.00 /")


def test_a_run_names_the_table_columns_it_ignores_and_its_constraint_in_progress(tmp_path, data_dir, capsys):
    import csv

    with (data_dir / "hw-nas-bench" / "hw_nas_bench_ImageNet16-120.csv").open() as fh:
        rows = [f"{r['naslib_op_indices']},jetson,{r['edgegpu_latency']}" for r in csv.DictReader(fh)]
    table = tmp_path / "t.csv"
    table.write_text("\ufeffnaslib_op_indices,device,gpu_latency\n" + "\n".join(rows) + "\n")  # with a BOM
    assert _cli(tmp_path, data_dir, "optimizer", "rs", "hardware.table", str(table), "hardware.constraints",
                "gpu_latency <= 4", flags=("--progress", "lines")) == 0
    captured = capsys.readouterr()
    assert "metric table: column 'device' is text; ignored" in captured.err
    assert "rs ImageNet16-120 seed 0 (gpu_latency <= 4 ms): 16/24 queries, best feasible val" in captured.err


def test_joint0_ignores_objectives_and_needs_a_constraint(tmp_path, data_dir, capsys):
    import json

    run = "nasbench201/ImageNet16-120/agnet/config_0/0/summary.json"
    assert _cli(tmp_path / "a", data_dir, "hardware.constraints", "edgegpu_latency <= 4") == 0
    assert _cli(tmp_path / "b", data_dir, "hardware.constraints", "edgegpu_latency <= 4",
                "hardware.objectives", "max edgegpu_energy, min edgegpu_latency") == 0
    a, b = (json.loads((tmp_path / d / run).read_text())["queries"] for d in ("a", "b"))
    assert [q["arch"] for q in a] == [q["arch"] for q in b]
    capsys.readouterr()
    assert _cli(tmp_path / "c", data_dir, "hardware.constraints", "none", "hardware.objectives", "min edgegpu_latency") == 2
    assert "hardware.constraints is empty" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()
