"""Hardware-aware search (spec §7): metric tables, constraint and rank-sum logic, the
two-output predictor, HardwareAGNetSearch, and the runner's hardware records."""
from __future__ import annotations

import copy
import csv
import json
import math

import numpy as np
import pytest
import torch

from naslib_agnet.benchmarks import BenchmarkDataError, load_nb201_oracle
from naslib_agnet.benchmarks.constraints import Constraint
from naslib_agnet.benchmarks.hardware_task import HardwareTask
from naslib_agnet.benchmarks.metrics import check_covers, load_metric_table
from naslib_agnet.experiments.config import ConfigError, load_config
from naslib_agnet.experiments.hardware_report import write_hardware_report
from naslib_agnet.experiments.runner import run_search
from naslib_agnet.model import ConditionedMLPPredictor, Generator, GeneratorConfig, reconstruction_loss
from naslib_agnet.model.fast_backprop import objective_loss_and_grad
from naslib_agnet.search import HardwareAGNetSearch, hardware_settings
from naslib_agnet.search.scorers import Candidates
from naslib_agnet.search.multiobjective import (feasible, hardware_rank_weights, hypervolume, pareto_front,
                                                rank_sum_order)
from naslib_agnet.spaces import get_codec
from naslib_agnet.weights import load_generator

IN16 = "ImageNet16-120"
ONE_HOT = [1, 0, 0, 0, 0, 0]


def below(limit: float, metric: str = "edgegpu_latency") -> list[Constraint]:
    return [Constraint(metric, "<=", limit)]


# ------------------------------------------------------------------------------ pure logic
def test_feasible_treats_unknown_as_infeasible_and_the_limit_as_feasible():
    assert feasible([1.0, 2.0, 2.0001, np.nan], 2.0).tolist() == [True, True, False, False]
    # an unconstrained column (limit inf, an objective of Joint=1 only) does not decide feasibility
    assert feasible([np.nan], math.inf).tolist() == [True]
    # several columns: every finite limit must hold
    two = np.array([[1.0, 5.0], [1.0, 7.0], [3.0, 5.0], [np.nan, 5.0], [1.0, np.nan]])
    assert feasible(two, [2.0, 6.0]).tolist() == [True, False, False, False, False]
    assert feasible(two, [2.0, math.inf]).tolist() == [True, True, False, False, True]


def test_rank_weights_joint0_penalise_infeasible_points():
    acc = [50.0, 40.0, 30.0]
    metric = [9.0, 1.0, 1.0]  # the most accurate point is infeasible under limit 2
    w = hardware_rank_weights(acc, metric, limits=2.0, objectives=False, k=0.01)
    # c = (r_acc) * p = [1*1000, 2, 3] -> ranks [2, 0, 1]; w = 1 / (0.03 + rank)
    np.testing.assert_allclose(w, [1 / 2.03, 1 / 0.03, 1 / 1.03])


def test_rank_weights_joint1_add_metric_ranks():
    acc = [50.0, 40.0, 30.0]
    metric = [5.0, 1.0, 3.0]
    w = hardware_rank_weights(acc, metric, limits=10.0, objectives=True, k=0.01)
    # r_acc = [1, 2, 3], r_metric = [3, 1, 2]; c = [4, 3, 5] -> ranks [1, 0, 2]
    np.testing.assert_allclose(w, [1 / 1.03, 1 / 0.03, 1 / 2.03])


def test_rank_weights_break_ties_by_position():
    w = hardware_rank_weights([40.0, 40.0, 40.0], [1.0, 1.0, 1.0], limits=2.0, objectives=True)
    # equal accuracies and metrics: ranks follow the order of observation
    assert w[0] > w[1] > w[2]
    # an unmeasured metric ranks behind measured ones and is penalised as infeasible
    w = hardware_rank_weights([40.0, 30.0], [np.nan, 1.0], limits=2.0, objectives=False)
    assert w[1] > w[0]


def test_rank_sum_order_uses_one_based_ranks_so_the_penalty_always_bites():
    # the most accurate candidate is predicted infeasible: with 0-based ranks it would score 0 * 1000 = 0
    order = rank_sum_order([0.9, 0.5, 0.4], [5.0, 1.0, 1.5], limits=2.0, objectives=False)
    assert order.tolist() == [1, 2, 0]
    # joint: acc ranks [1, 2, 3] + metric ranks [3, 1, 2] = [4, 3, 5]
    assert rank_sum_order([0.9, 0.5, 0.45], [1.9, 0.2, 1.0], limits=2.0, objectives=True).tolist() == [1, 0, 2]
    # equal sums keep the candidates' order
    assert rank_sum_order([0.9, 0.5, 0.4], [1.9, 1.0, 0.1], limits=2.0, objectives=True).tolist() == [0, 1, 2]


def test_pareto_front_and_hypervolume_on_a_hand_example():
    acc = np.array([10.0, 20.0, 15.0, 30.0, 5.0, 30.0])
    metric = np.array([1.0, 2.0, 3.0, 4.0, np.nan, 4.0])
    front = pareto_front(acc, metric)
    assert front.tolist() == [0, 1, 3]  # (15, 3) is dominated by (20, 2); NaN left out; duplicate dropped
    # reference (0, 5): slices [0,10]x(5-1) + [10,20]x(5-2) + [20,30]x(5-4) = 40 + 30 + 10
    assert hypervolume(acc, metric, 0.0, 5.0) == pytest.approx(80.0)
    assert hypervolume(acc, metric, 25.0, 5.0) == pytest.approx(5.0)
    assert hypervolume([1.0], [np.nan], 0.0, 5.0) == 0.0


# ------------------------------------------------------------------------------ metric tables
def test_hw_nas_bench_table_marks_missing_edgetpu_as_nan(data_dir):
    table = load_metric_table("hw-nas-bench", data_dir, IN16)
    assert len(table) == 15_625
    assert "nb201_index" not in table.metric_names
    edgetpu = table.values("edgetpu_latency")
    assert int(np.isnan(edgetpu).sum()) == 4_699 and np.nanmin(edgetpu) > 0
    hw = HardwareTask(table, below(1.0, "edgetpu_latency"))
    missing = table.keys()[int(np.flatnonzero(np.isnan(edgetpu))[0])]
    assert math.isnan(hw.values(missing)[0]) and not hw.is_feasible(missing)
    assert hw.condition.tolist() == [0, 0, 1, 0, 0, 0]


def test_constrained_optimum_is_the_best_feasible_row(data_dir):
    oracle = load_nb201_oracle(data_dir, IN16)
    hw = HardwareTask(load_metric_table("hw-nas-bench", data_dir, IN16), below(4.0))
    arch, acc, value = hw.constrained_optimum(oracle)
    values = np.array([hw.values(k)[0] for k in oracle.keys()])
    ok = values <= 4.0
    assert value[0] <= 4.0 and acc == pytest.approx(oracle.values("val_acc")[ok].max())
    assert acc < oracle.values("val_acc").max()


def _write_csv(path, rows, header="naslib_op_indices,my_latency"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def test_user_metric_csv(tmp_path):
    _write_csv(tmp_path / "lat_cifar10.csv", ["4-3-3-0-0-0,1.5", "2-2-0-4-2-0,", "0-0-0-0-0-0,nan"])
    table = load_metric_table(str(tmp_path / "lat_{dataset}.csv"), dataset="cifar10")
    hw = HardwareTask(table, below(2.0, "my_latency"))
    assert hw.values((4, 3, 3, 0, 0, 0))[0] == 1.5 and hw.is_feasible((4, 3, 3, 0, 0, 0))
    assert math.isnan(hw.values((2, 2, 0, 4, 2, 0))[0])
    assert hw.condition.tolist() == [0.0] * 6  # not an HW-NAS-Bench device


def test_bad_metric_tables_give_clear_errors(tmp_path, data_dir):
    with pytest.raises(BenchmarkDataError, match="does not exist"):
        load_metric_table(str(tmp_path / "nope.csv"))
    bad = _write_csv(tmp_path / "bad.csv", ["4-3-3-0-0-0,fast"])
    with pytest.raises(BenchmarkDataError, match=r"line 2: column 'my_latency' has the non-numeric value 'fast'"):
        load_metric_table(str(bad))
    nokey = _write_csv(tmp_path / "nokey.csv", ["1,2"], header="arch,my_latency")
    with pytest.raises(BenchmarkDataError, match="no 'naslib_op_indices' column"):
        load_metric_table(str(nokey))
    table = load_metric_table(str(_write_csv(tmp_path / "ok.csv", ["4-3-3-0-0-0,1.5"])))
    with pytest.raises(BenchmarkDataError, match="no column 'gpu_latency'"):
        HardwareTask(table, below(1.0, "gpu_latency"))
    oracle = load_nb201_oracle(data_dir, IN16)
    with pytest.raises(BenchmarkDataError, match="lacks 15,624 of the architectures"):
        check_covers(table, oracle.keys(), "the NB201 space")


def test_hw_nas_bench_minus_one_still_loads_as_missing(tmp_path):
    """HW-NAS-Bench's -1 ("not measured") is NaN in its own table, in a latency and an energy column."""
    path = tmp_path / "hw-nas-bench" / "hw_nas_bench_cifar10.csv"
    path.parent.mkdir()
    _write_csv(path, ["0,4-3-3-0-0-0,-1,2.5", "1,2-2-0-4-2-0,1.5,-1"],
               header="nb201_index,naslib_op_indices,edgetpu_latency,edgegpu_energy")
    table = load_metric_table("hw-nas-bench", tmp_path, "cifar10")
    assert np.isnan(table.values("edgetpu_latency")[0]) and table.values("edgetpu_latency")[1] == 1.5
    assert table.values("edgegpu_energy")[0] == 2.5 and np.isnan(table.values("edgegpu_energy")[1])


@pytest.mark.parametrize("column, expected", [("my_latency", "a latency in ms"), ("gpu_energy", "an energy in mJ")])
def test_user_metric_csv_refuses_a_negative_latency_or_energy(tmp_path, column, expected):
    path = _write_csv(tmp_path / "hw.csv", ["4-3-3-0-0-0,1.5,0", "2-2-0-4-2-0,2.0,-3.5"],
                      header=f"naslib_op_indices,other,{column}")
    with pytest.raises(BenchmarkDataError) as info:
        load_metric_table(str(path))
    msg = str(info.value)
    assert f"{path}, line 3: column {column!r} has value '-3.5'" in msg
    assert f"out of range: expected {expected} >= 0." in msg
    assert "A missing measurement is an empty cell" in msg


@pytest.mark.parametrize("column", ["top1_acc", "val_accuracy"])
@pytest.mark.parametrize("value", ["-5", "150"])
def test_user_metric_csv_refuses_an_accuracy_outside_0_100(tmp_path, column, value):
    path = _write_csv(tmp_path / "acc.csv", ["4-3-3-0-0-0,100", f"2-2-0-4-2-0,{value}"],
                      header=f"naslib_op_indices,{column}")
    with pytest.raises(BenchmarkDataError) as info:
        load_metric_table(str(path))
    msg = str(info.value)
    assert f"{path}, line 3: column {column!r} has value {value!r}" in msg
    assert "an accuracy in percent in [0, 100]" in msg and "are in percent" in msg


def test_user_metric_csv_keeps_negative_values_of_columns_of_unknown_meaning(tmp_path):
    path = _write_csv(tmp_path / "m.csv", ["4-3-3-0-0-0,-71.5,-2,0", "2-2-0-4-2-0,-40.25,3,", "0-0-0-0-0-0,,-0.5,12"],
                      header="naslib_op_indices,neg_robust_acc,score,my_latency")
    table = load_metric_table(str(path))
    assert table.values("neg_robust_acc")[:2].tolist() == [-71.5, -40.25]
    assert np.isnan(table.values("neg_robust_acc")[2])
    assert table.values("score").tolist() == [-2.0, 3.0, -0.5]
    assert table.values("my_latency")[0] == 0.0 and np.isnan(table.values("my_latency")[1])


def test_config_hardware_section_is_type_checked():
    config = load_config(None, ["hardware.constraints", "raspi4_latency <= 6"])
    assert config["hardware"]["constraints"] == ["raspi4_latency <= 6"]
    with pytest.raises(ConfigError, match="the limit 'fast' is not a number"):
        load_config(None, ["hardware.constraints", "raspi4_latency <= fast"])
    with pytest.raises(ConfigError, match="was replaced by hardware.constraints"):
        load_config(None, ["hardware.metric", "raspi4_latency", "hardware.limit", "6"])


# ------------------------------------------------------------------------------ the networks
def test_conditioned_predictor_has_the_authors_size_and_uses_the_condition():
    onehot = torch.eye(6)[0]
    pred = ConditionedMLPPredictor(84, onehot)
    assert sum(p.numel() for p in pred.parameters()) == 34_574
    x = torch.randn(5, 84)
    other = ConditionedMLPPredictor(84, torch.eye(6)[3])
    other.load_state_dict({k: v for k, v in pred.state_dict().items() if k != "condition"}, strict=False)
    assert pred(x).shape == (5, 2)
    assert not torch.allclose(pred(x), other(x))


def test_objective_backprop_matches_autograd():
    """objective_loss_and_grad (NumPy generator + torch objective) against float64 autograd."""
    torch.manual_seed(0)
    cfg = GeneratorConfig(num_classes=7, max_nodes=8)
    gen = Generator(cfg)
    pred = ConditionedMLPPredictor(cfg.output_dim, torch.eye(6)[1])
    B = 16
    z = torch.randn(B, cfg.latent_dim)
    tn, te = torch.randint(0, 7, (B, 8)), torch.randint(0, 2, (B, cfg.num_edges))
    acc, met, w = torch.rand(B), torch.rand(B) * 8, torch.rand(B) + 0.5

    def objective_of(p):
        def objective(out, recon):
            y = p(out)
            a = (y[:, 0] - acc.to(out.dtype)) ** 2
            m = (y[:, 1] - met.to(out.dtype)) ** 2
            terms = 0.05 * recon / recon.detach().clamp(min=1) + 0.95 * (
                0.5 * a / a.detach().clamp(min=1) + 0.5 * m / m.detach().clamp(min=1))
            return (w.to(out.dtype) * terms).mean()
        return objective

    gen64, pred64 = copy.deepcopy(gen).double(), copy.deepcopy(pred).double()
    out = gen64(z.double())
    ref = objective_of(pred64)(out, reconstruction_loss(out, tn, te, cfg))
    ref.backward()
    pred.zero_grad()
    loss = objective_loss_and_grad(gen, z.numpy(), tn.numpy(), te.numpy(), objective_of(pred))
    assert loss == pytest.approx(ref.item(), rel=1e-5)
    for p, p64 in zip(list(gen.parameters()) + list(pred.parameters()),
                      list(gen64.parameters()) + list(pred64.parameters())):
        scale = max(p64.grad.abs().max().item(), 1e-3)
        assert (p.grad.double() - p64.grad).abs().max().item() <= 1e-4 * scale


# ------------------------------------------------------------------------------ the search
def _search(data_dir, metric, limit, joint, queries, seed=0, settings=None):
    oracle = load_nb201_oracle(data_dir, IN16)
    hw = HardwareTask(load_metric_table("hw-nas-bench", data_dir, IN16), below(limit, metric))
    state, cfg = load_generator("nasbench201", "default")
    search = HardwareAGNetSearch(get_codec("nasbench201"), settings or hardware_settings(), constraints=hw.constraints,
                                 joint=joint, condition=hw.condition, generator_state=state, generator_config=cfg,
                                 seed=seed)
    keys = oracle.keys()
    rng = np.random.default_rng(seed)
    for i in rng.permutation(len(keys))[:16]:
        search.observe(keys[i], oracle.query(keys[i])["val_acc"], hw.values(keys[i]))
    while len(search.archs) < queries:
        for k in search.propose():
            search.observe(k, oracle.query(k)["val_acc"], hw.values(k))
    return search, hw


def test_hardware_search_proposes_the_best_predicted_rank_sums(data_dir):
    """The proposals of an iteration are the candidates with the best predicted rank sums: the
    predicted-feasible ones (every predicted value within its limit) before the others, and by
    predicted accuracy among them (Joint=0). How often that finds feasible cells is a search-quality
    figure, measured by the Table-5 grid (docs/results.md), not here."""
    search, hw = _search(data_dir, "edgegpu_latency", 4.0, joint=False, queries=32)
    chosen = search.propose()
    candidates = search.last_candidates
    assert len(chosen) == search.settings.loop.top_k and len(candidates) > len(chosen)
    acc = np.array([p[0] for _, p in candidates])
    metric = np.array([search.predicted_metrics(p)[0] for _, p in candidates])
    ok = metric <= 4.0 + 1e-9
    expected = sorted(range(len(candidates)), key=lambda i: (not ok[i], -acc[i]))[:len(chosen)]
    assert chosen == [candidates[i][0] for i in expected]
    best = search.best_feasible()
    init_ok = search.feasible_mask()[:16]
    init_best = max((s for s, ok in zip(search.scores[:16], init_ok) if ok), default=-1.0)
    assert best is not None and best[2][0] <= 4.0 and best[1] >= init_best


def test_hardware_search_with_nothing_feasible_does_not_crash(data_dir):
    search, _ = _search(data_dir, "edgegpu_latency", 0.1, joint=True, queries=32)  # no architecture is this fast
    assert search.best_feasible() is None
    assert not search.feasible_mask().any() and len(search.archs) >= 32


# ------------------------------------------------------------------------------ runner + report
def test_run_records_feasibility_and_the_report_reads_it(tmp_path, data_dir):
    outs = []
    for optimizer in ("agnet_joint", "rs"):
        config = load_config("configs/agnet_hw_nb201_ImageNet16-120.yaml",
                             ["optimizer", optimizer, "out_dir", str(tmp_path), "search.epochs", "24",
                              "hardware.constraints", "pixel3_latency <= 4",
                              "search.agnet.loop.retrain_epochs", "3"])
        outs.append(run_search(config, data_dir, progress="off").path)
    summary = json.loads((outs[0] / "summary.json").read_text())
    hw, queries = summary["hardware"], summary["queries"]
    assert hw["constraints"] == [{"metric": "pixel3_latency", "sense": "<=", "limit": 4.0, "unit": "ms"}]
    assert hw["optimum"]["metrics"]["pixel3_latency"] <= 4.0 and hw["condition"] == "pixel3_latency <= 4 ms"
    assert len(queries) == 24
    for q in queries:
        value = q["metrics"]["pixel3_latency"]
        assert q["feasible"] == (value is not None and value <= 4.0)
    feasible_vals = [q["val_acc"] for q in queries if q["feasible"]]
    last = queries[-1]
    assert last["best_feasible_val_acc"] == (max(feasible_vals) if feasible_vals else None)
    paths = write_hardware_report(outs, tmp_path / "report", [12, 24], optimizer_order=["agnet_joint", "rs"])
    text = paths[2].read_text()
    assert "pixel3_latency <= 4 ms" in text and "agnet_joint feas" in text
    assert "pixel3_latency (ms, lower is better)" in text
    assert "1 tasks; number of tasks where" in text and "| feasibility ratio above rs |" in text
    # a run of NASLib's own rs (--baselines naslib) is reported apart from the built-in rs
    naslib_rs = tmp_path / "naslib" / "rs" / "0"
    naslib_rs.mkdir(parents=True)
    record = json.loads((outs[1] / "summary.json").read_text())
    (naslib_rs / "summary.json").write_text(json.dumps({**record, "implementation": "naslib"}))
    paths = write_hardware_report([*outs, naslib_rs], tmp_path / "report2", [24])
    rows = list(csv.DictReader(paths[0].open()))
    assert sorted(r["optimizer"] for r in rows) == ["agnet_joint", "rs", "rs (NASLib)"]


def test_compare_tasks_of_the_table5_grid_and_their_errors():
    from naslib_agnet.experiments.grid import load_compare_config, parse_compare, plan_cells

    config = load_compare_config("configs/compare_hw_nb201.yaml")
    spec = parse_compare(config)
    assert spec.optimizers == ["agnet", "agnet_joint", "rs"] and spec.datasets == [IN16]
    assert len(spec.tasks) == 20 and spec.tasks["raspi4_10ms"] == {"hardware.constraints": "raspi4_latency <= 10"}
    config["compare"]["seeds"] = 1
    cells = plan_cells(config, parse_compare(config))
    assert len(cells) == 60
    assert parse_compare(load_compare_config("configs/compare_hw_nb201.yaml", ["compare.tasks",
                                                                               "{t: {hardware.constraints: a <= 2.5}}"])).tasks
    cell = next(c for c in cells if c.task == "fpga_2ms" and c.optimizer == "agnet_joint")
    assert cell.config["hardware"] == {"table": "hw-nas-bench", "constraints": ["fpga_latency <= 2"],
                                       "objectives": None}
    assert cell.out.parts[-7:-5] == ("hw_compare", "fpga_2ms") and cell.label.startswith("fpga_2ms: ")
    for tasks, message in (({"a b": {"hardware.constraints": "x <= 1"}}, "must be a folder name of letters"),
                           ({"t": {"optimizer": "rs"}}, "set by the grid"),
                           ({"t": {"hardware.speed": 1}}, "not a config key"),
                           ({"t": {"hardware.constraints": "edgegpu_latency < 4"}}, "use <="),
                           ({"t": {"hardware.constraints": "edgegpu_latency <= fast"}}, "is not a number"),
                           ([], "non-empty mapping")):
        config["compare"]["tasks"] = tasks
        with pytest.raises(ConfigError, match=message):
            parse_compare(config)


def test_every_hw_nas_bench_column_works_as_a_constraint(data_dir):
    oracle = load_nb201_oracle(data_dir, "cifar10")
    table = load_metric_table("hw-nas-bench", data_dir, "cifar10")
    columns = ["edgegpu_latency", "edgegpu_energy", "raspi4_latency", "edgetpu_latency", "pixel3_latency",
               "eyeriss_latency", "eyeriss_energy", "eyeriss_arithmetic_intensity", "fpga_latency", "fpga_energy"]
    assert table.metric_names == columns
    for column in columns:
        values = table.values(column)
        limit = float(np.nanmedian(values))
        hw = HardwareTask(table, below(limit, column))
        arch, acc, value = hw.constrained_optimum(oracle)
        assert value[0] <= limit and hw.is_feasible(arch)
        device = column.split("_")[0]
        assert hw.condition.sum() == 1 and hw.condition[["edgegpu", "raspi4", "edgetpu", "pixel3", "eyeriss",
                                                         "fpga"].index(device)] == 1


def test_scoreboard_counts_a_mean_only_without_extra_empty_runs():
    from naslib_agnet.experiments.hardware_report import _scoreboard

    def cell(mean, none, feas, opt):
        return {"mean_val": mean, "no_feasible": none, "feasibility": feas, "optimum_runs": opt}

    table = {("t1", IN16, "rs"): cell(40.0, 0, 0.1, 0), ("t1", IN16, "agnet"): cell(41.0, 2, 0.05, 1),
             ("t1", IN16, "agnet_joint"): cell(39.0, 0, 0.5, 0),
             ("t2", IN16, "rs"): cell(40.0, 0, 0.9, 0), ("t2", IN16, "agnet"): cell(40.5, 0, 0.95, 0),
             ("t2", IN16, "agnet_joint"): cell(40.5, 0, 0.85, 1)}
    text = "\n".join(_scoreboard(table, ["agnet", "agnet_joint", "rs"], ["t1", "t2"]))
    assert "| mean val above rs | 1 | 1 | 1 |" in text  # t1's agnet mean has two empty runs: not counted
    assert "| constrained optimum found (best of the runs) | 1 | 1 | 2 |" in text
    assert "| feasibility ratio above rs | 1 | 1 | 2 |" in text


# ------------------------------------------------------------------------------ metric_units variant
def test_metric_units_limit_scales_the_metric_target_and_unscales_predictions():
    codec = get_codec("nasbench201")
    settings = hardware_settings(metric_units="limit")
    search = HardwareAGNetSearch(codec, settings, constraints=below(4.0), joint=False, condition=ONE_HOT)
    raw = HardwareAGNetSearch(codec, hardware_settings(metric_units="raw"), constraints=below(4.0), joint=False,
                              condition=ONE_HOT)
    keys = [k for _, k in zip(range(3), codec.enumerate())]
    for s in (search, raw):
        for k, acc, ms in zip(keys, (40.0, 30.0, 20.0), (2.0, 6.0, float("nan"))):
            s.observe(k, acc, ms)
    np.testing.assert_allclose(search._targets()[:2, 1], [0.5, 1.5])
    np.testing.assert_allclose(raw._targets()[:2, 1], [2.0, 6.0])
    assert np.isnan(search._targets()[2, 1])
    out = torch.zeros(2, search.generator.config.output_dim)
    with torch.no_grad():
        pred_scaled = search.predictor(out)[:, 1].numpy()
        values = search.scorer.score(Candidates([], np.zeros((2, 0)), np.zeros((2, 0)), out))
        reported = [search.predicted_metrics(p)[0] for p in values]
    np.testing.assert_allclose(reported, pred_scaled * 4.0, rtol=1e-6)


@pytest.mark.parametrize("constraints", [[], below(0.0)])
def test_metric_units_limit_needs_a_finite_nonzero_limit(constraints):
    from naslib_agnet.benchmarks.constraints import Objective

    with pytest.raises(ValueError, match="metric_units 'limit'.*finite non-zero limit"):
        HardwareAGNetSearch(get_codec("nasbench201"), hardware_settings(metric_units="limit"), constraints=constraints,
                            objectives=[Objective("edgegpu_latency", "min")], joint=True, condition=ONE_HOT)


def test_metric_units_must_be_known():
    with pytest.raises(ValueError, match="hardware.metric_units must be one of 'scaled', 'raw', 'limit'"):
        hardware_settings(metric_units="ms")


# ------------------------------------------------------------------------------ infeasible_order variant
def test_infeasible_order_ranks_infeasible_points_by_accuracy_and_metric_under_joint0():
    acc, metric = [50.0, 40.0, 30.0, 20.0], [9.0, 5.0, 7.0, 1.0]  # limit 2: only the last is feasible
    spec = hardware_rank_weights(acc, metric, 2.0, objectives=False)
    variant = hardware_rank_weights(acc, metric, 2.0, objectives=False, infeasible_metric_rank=True)
    n = len(acc)
    # spec: feasible first, then the infeasible by accuracy; variant: by accuracy rank + metric rank
    # (50: 1+4, 40: 2+2, 30: 3+3 -> 40 before 50 before 30)
    np.testing.assert_allclose(spec, 1 / (0.01 * n + np.array([1, 2, 3, 0])))
    np.testing.assert_allclose(variant, 1 / (0.01 * n + np.array([2, 1, 3, 0])))
    # Joint=1 already ranks every point by its metric: the flag changes nothing
    np.testing.assert_array_equal(hardware_rank_weights(acc, metric, 2.0, objectives=True),
                                  hardware_rank_weights(acc, metric, 2.0, objectives=True, infeasible_metric_rank=True))
    assert list(rank_sum_order(acc, metric, 2.0, objectives=False)) == [3, 0, 1, 2]
    assert list(rank_sum_order(acc, metric, 2.0, objectives=False, infeasible_metric_rank=True)) == [3, 1, 0, 2]


def test_infeasible_order_setting_reaches_the_search_and_is_checked():
    search = HardwareAGNetSearch(get_codec("nasbench201"), hardware_settings(infeasible_order="accuracy+metric"),
                                 constraints=below(2.0), joint=False, condition=ONE_HOT)
    for k, acc, ms in zip(get_codec("nasbench201").enumerate(), (50.0, 40.0, 30.0), (9.0, 5.0, 7.0)):
        search.observe(k, acc, ms)
    np.testing.assert_allclose(search._weights(), 1 / (0.03 + np.array([1, 0, 2])))
    with pytest.raises(ValueError, match="infeasible_order must be one of 'accuracy', 'accuracy\\+metric'"):
        hardware_settings(infeasible_order="metric")


@pytest.mark.parametrize("scorer", ["encoding", "xgb"])
def test_hardware_search_refuses_the_other_scorers(scorer):
    with pytest.raises(ValueError, match="only the scorers spec, ranker \\(search.agnet.scorer\\)"):
        HardwareAGNetSearch(get_codec("nasbench201"), hardware_settings(scorer=scorer),
                            constraints=below(4.0), joint=False, condition=ONE_HOT)


def test_hardware_ranker_scores_candidates_by_ensembles_of_accuracy_and_metric(data_dir):
    """scorer ranker under a constraint: the spec's conditioned training, then one ensemble per target;
    a candidate's value is (accuracy, metric in the target units), and the ranked metric follows the
    table's metric (Spearman > 0.5 on the candidates after 48 observations)."""
    from scipy.stats import spearmanr

    task = HardwareTask(load_metric_table("hw-nas-bench", data_dir, IN16), below(4.0))
    oracle = load_nb201_oracle(data_dir, IN16)
    search = HardwareAGNetSearch(get_codec("nasbench201"), hardware_settings(scorer="ranker", retrain_epochs=1),
                                 constraints=task.constraints, joint=False,
                                 condition=task.condition_for(["edgegpu_latency"]), seed=0,
                                 generator_state=load_generator("nasbench201", "default")[0])
    keys = oracle.keys()
    for i in np.random.default_rng(0).choice(len(keys), 48, replace=False):
        search.observe(keys[i], oracle.query(keys[i])["val_acc"], task.values(keys[i]))
    chosen = search.propose()
    assert len(chosen) == 16
    values = dict(search.last_candidates)
    predicted = [search.predicted_metrics(v)[0] for v in values.values()]
    truth = [task.values(a)[0] for a in values]
    assert spearmanr(predicted, truth).statistic > 0.5
