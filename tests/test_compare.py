"""``naslib-agnet compare`` / ``report``: a tiny grid end to end, resume, NASLib folders, bad configs."""
import csv
import json
import shutil
import statistics
from pathlib import Path

import pytest
import yaml

from naslib_agnet.experiments.grid import load_compare_config, parse_compare, run_compare
from naslib_agnet.experiments.report import load_run
from naslib_agnet.experiments.config import ConfigError, load_config
from naslib_agnet.cli.main import main

REPO = Path(__file__).resolve().parents[1]
COMPARE = REPO / "configs" / "compare_nb201.yaml"
OPTIMIZERS = ["rs", "re", "agnet"]
BUDGETS = [5, 10, 20]


def grid_opts(out: Path, optimizers=OPTIMIZERS, seeds="2") -> list[str]:
    return ["out_dir", str(out), "search.epochs", "20", "search.agnet.loop.retrain_epochs", "1",
            "compare.optimizers", json.dumps(optimizers), "compare.datasets", "[cifar10]",
            "compare.seeds", seeds, "compare.budgets", json.dumps(BUDGETS)]


def cell(out: Path, optimizer: str, seed: int) -> Path:
    return out / "nasbench201" / "cifar10" / optimizer / "config_0" / str(seed)


def files_of(folder: Path) -> dict:
    return {f: f.stat().st_mtime_ns for f in sorted(folder.rglob("*.json"))}


@pytest.fixture(scope="module")
def grid(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("compare")
    assert main(["compare", "--config-file", str(COMPARE), "--data-dir", str(data_dir), "--jobs", "2",
                 *grid_opts(out)]) == 0
    # an uninterrupted run of every cell, kept for the resume test
    originals = {(o, s): (json.loads((cell(out, o, s) / "summary.json").read_text()),
                          json.loads((cell(out, o, s) / "errors.json").read_text()))
                 for o in OPTIMIZERS for s in (0, 1)}
    return out, originals


def test_compare_config_holds_the_nb201_grid():
    spec = parse_compare(load_compare_config(COMPARE))
    assert spec.optimizers == ["agnet", "rs", "re", "ls", "bananas", "npenas"]
    assert spec.datasets == ["cifar10", "cifar100", "ImageNet16-120"]
    assert spec.seeds == list(range(10)) and spec.budgets == [16, 32, 48, 96, 144, 192]
    assert load_config(COMPARE)["out_dir"] == "runs/compare"


def test_grid_writes_runs_and_a_table_matching_the_summaries(grid):
    out, originals = grid
    for (o, s), (summary, _) in originals.items():
        assert summary["finished"] and summary["num_queries"] == 20
        assert (summary["optimizer"], summary["seed"]) == (o, s)
    for name in ("results.csv", "results.md", "best_val_vs_queries.png"):
        assert (out / name).stat().st_size > 0
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [(r["optimizer"], int(r["budget"])) for r in rows] == [(o, b) for o in OPTIMIZERS for b in BUDGETS]
    md = (out / "results.md").read_text()
    for r in rows:
        runs = [originals[(r["optimizer"], s)][0]["queries"][int(r["budget"]) - 1] for s in (0, 1)]
        vals, tests = [q["best_val_acc"] for q in runs], [q["best_test_acc"] for q in runs]
        assert float(r["val_mean"]) == pytest.approx(statistics.mean(vals), abs=1e-9)
        assert float(r["val_std"]) == pytest.approx(statistics.stdev(vals), abs=1e-9)
        assert float(r["test_mean"]) == pytest.approx(statistics.mean(tests), abs=1e-9)
        assert float(r["test_std"]) == pytest.approx(statistics.stdev(tests), abs=1e-9)
        assert int(r["n_seeds"]) == 2 and r["source"] == "naslib_agnet"
        walls = [originals[(r["optimizer"], s)][0]["wall_time_s"] for s in (0, 1)]
        assert float(r["wall_s_mean"]) == pytest.approx(statistics.mean(walls), abs=1e-9)
        assert f"| {r['optimizer']} | 2 | {statistics.mean(walls):.1f} |" in md
        assert (f"{statistics.mean(vals):.2f} ± {statistics.stdev(vals):.2f} / "
                f"{statistics.mean(tests):.2f} ± {statistics.stdev(tests):.2f}") in md


def test_resume_skips_finished_cells_and_completes_an_interrupted_one(grid, data_dir, capsys):
    out, originals = grid
    victim = cell(out, "rs", 1)
    summary, (config, trajectory) = originals[("rs", 1)]
    # an interruption after 7 queries: what RunRecorder had written at that point
    (victim / "summary.json").write_text(json.dumps({**summary, "finished": False, "num_queries": 7,
                                                     "queries": summary["queries"][:7]}))
    (victim / "errors.json").write_text(json.dumps([config, {k: v[:7] if isinstance(v, list) else v
                                                             for k, v in trajectory.items()}]))
    before = {f: t for f, t in files_of(out).items() if victim not in f.parents}
    capsys.readouterr()
    assert main(["compare", "--config-file", str(COMPARE), "--data-dir", str(data_dir), "--jobs", "2",
                 *grid_opts(out)]) == 0
    log = capsys.readouterr().out
    assert "5 finished (skipped), 1 to resume, 0 to run" in log and "replayed 7 recorded queries" in log
    assert {f: t for f, t in files_of(out).items() if victim not in f.parents} == before  # untouched
    resumed = json.loads((victim / "summary.json").read_text())
    assert resumed["finished"] and resumed["queries"] == summary["queries"]
    new_config, new_trajectory = json.loads((victim / "errors.json").read_text())
    assert new_config == config
    for key in ("train_acc", "valid_acc", "test_acc", "train_time"):
        assert new_trajectory[key] == trajectory[key]
    # and nothing to do on a third run
    assert main(["compare", "--config-file", str(COMPARE), "--data-dir", str(data_dir), *grid_opts(out)]) == 0
    assert "6 finished (skipped), 0 to resume, 0 to run" in capsys.readouterr().out


def test_a_resume_that_does_not_reproduce_its_record_fails_and_keeps_it(grid, data_dir, tmp_path):
    _, originals = grid
    summary, (config, trajectory) = originals[("rs", 0)]
    target = cell(tmp_path, "rs", 0)
    target.mkdir(parents=True)
    queries = json.loads(json.dumps(summary["queries"][:5]))
    queries[2]["val_acc"] += 1.0
    (target / "summary.json").write_text(json.dumps({**summary, "finished": False, "queries": queries}))
    (target / "errors.json").write_text(json.dumps([config, trajectory]))
    before = {f: f.read_bytes() for f in target.iterdir()}
    lines = []
    cfg = load_compare_config(COMPARE, grid_opts(tmp_path, ["rs"], "[0]"))
    _, failures = run_compare(cfg, data_dir, jobs=1, log=lines.append)
    assert len(failures) == 1 and "query 3 of the resumed run differs" in failures[0]["error"]
    assert "['val_acc']" in failures[0]["error"]
    assert {f: f.read_bytes() for f in target.iterdir()} == before


def test_a_cell_of_another_config_is_refused(grid, data_dir, capsys):
    out, _ = grid
    assert main(["compare", "--config-file", str(COMPARE), "--data-dir", str(data_dir),
                 *grid_opts(out), "search.agnet.loop.lr", "0.01"]) == 2
    err = capsys.readouterr().err
    assert "holds a run of a different config" in err and "search.agnet.loop.lr" in err


def test_a_run_recorded_without_a_key_of_the_config_is_refused(grid, data_dir, tmp_path):
    """No special cases for records of earlier versions: a recorded config that lacks a key the config
    now has (here search.naslib_quirks, at its default) is a different config, named in the refusal."""
    _, originals = grid
    summary, errors = originals[("rs", 0)]
    old = json.loads(json.dumps(summary))
    del old["identity"]["search"]["fidelity"]
    target = cell(tmp_path, "rs", 0)
    target.mkdir(parents=True)
    (target / "summary.json").write_text(json.dumps(old))
    (target / "errors.json").write_text(json.dumps(errors))
    cfg = load_compare_config(COMPARE, grid_opts(tmp_path, ["rs"], "[0]"))
    with pytest.raises(ConfigError, match=r"different config \(search.fidelity: recorded '<absent>', now -1\)"):
        run_compare(cfg, data_dir, jobs=1, log=lambda _: None)


def test_an_agnet_run_from_other_generator_weights_or_code_is_refused(grid, data_dir, tmp_path):
    """The config says agnet_pretrained: default either way; the run record's fingerprint of the weights
    file (and of the code) tells a run of re-trained shipped weights (or other code) apart. A record
    without a fingerprint (an earlier version's) is refused too; --force moves it aside and reruns."""
    from naslib_agnet.weights import generator_fingerprint

    out, originals = grid
    summary, errors = originals[("agnet", 0)]
    assert summary["fingerprint"]["generator_sha256"] == generator_fingerprint("nasbench201", "default")
    assert len(summary["fingerprint"]["generator_sha256"]) == 16
    assert len(summary["fingerprint"]["code_sha256"]) == 16
    cfg = load_compare_config(COMPARE, grid_opts(tmp_path, ["agnet"], "[0]"))
    target = cell(tmp_path, "agnet", 0)
    target.mkdir(parents=True)
    (target / "errors.json").write_text(json.dumps(errors))
    for key, recorded in (("generator_sha256", "0123456789abcdef"), ("code_sha256", "fedcba9876543210")):
        (target / "summary.json").write_text(json.dumps({**summary, "fingerprint": {**summary["fingerprint"],
                                                                                    key: recorded}}))
        with pytest.raises(ConfigError, match=f"made by other code, data or weights \\({key}: recorded '{recorded}'"):
            run_compare(cfg, data_dir, jobs=1, log=lambda _: None)
    (target / "summary.json").write_text(json.dumps({k: v for k, v in summary.items() if k != "fingerprint"}))
    with pytest.raises(ConfigError, match="cannot be read \\(no 'fingerprint' entry; written by an earlier version"):
        run_compare(cfg, data_dir, jobs=1, log=lambda _: None)
    lines = []
    cells, failures = run_compare(cfg, data_dir, jobs=1, log=lines.append, force=True)
    assert failures == [] and [c.state for c in cells] == ["conflict"]
    assert "1 to replace (--force)" in lines[0] and "moved to" in lines[1]
    aside = [p for p in target.parent.iterdir() if p.name.startswith("0.replaced-")]
    assert len(aside) == 1 and "fingerprint" not in json.loads((aside[0] / "summary.json").read_text())
    assert json.loads((target / "summary.json").read_text())["queries"] == summary["queries"]


def test_a_cell_of_the_other_implementation_is_refused_and_labelled_apart(grid, data_dir, tmp_path):
    """A finished run of NASLib's own class (``--baselines naslib``) in the folder of a built-in
    grid's cell is neither skipped as done nor overwritten; the report keeps the two apart."""
    out, originals = grid
    summary, errors = originals[("rs", 0)]
    assert summary["implementation"] == "builtin"
    target = cell(tmp_path, "rs", 0)
    target.mkdir(parents=True)
    (target / "summary.json").write_text(json.dumps({**summary, "implementation": "naslib"}))
    (target / "errors.json").write_text(json.dumps(errors))
    cfg = load_compare_config(COMPARE, grid_opts(tmp_path, ["rs"], "[0]"))
    with pytest.raises(ConfigError, match=r"holds a run of the naslib rs \(--baselines naslib\), this one asks "
                                          r"for the builtin one. Not touching it: .*'out_dir "):
        run_compare(cfg, data_dir, jobs=1, log=lambda _: None)
    other = cell(tmp_path / "b", "rs", 0)
    shutil.copytree(cell(out, "rs", 0), other)
    assert load_run(target).implementation == "naslib" and load_run(other).implementation == "builtin"
    assert main(["report", str(tmp_path), "--budgets", "5", "--out", str(tmp_path / "rep")]) == 0
    rows = list(csv.DictReader((tmp_path / "rep" / "results.csv").open()))
    assert sorted(r["optimizer"] for r in rows) == ["rs", "rs (NASLib)"]


def test_report_reads_naslib_errors_json(tmp_path, capsys):
    valid = {0: [80.0, 85.0, 83.0, 90.0, 88.0], 1: [70.0, 72.0, 91.0, 60.0, 92.0]}
    for seed, accs in valid.items():
        folder = tmp_path / "run_cpu" / "nasbench201" / "cifar100" / "re" / "config_0" / str(seed)
        folder.mkdir(parents=True)
        config = {"optimizer": "re", "dataset": "cifar100", "search_space": "nasbench201", "seed": seed,
                  "config_id": 0, "search": {"epochs": 5}}
        (folder / "errors.json").write_text(json.dumps([config, {
            "train_acc": accs, "valid_acc": accs, "test_acc": accs, "runtime": [0.1] * 5,
            "train_time": [1.0] * 5, "params": 0.0}]))
    run = load_run(tmp_path / "run_cpu" / "nasbench201" / "cifar100" / "re" / "config_0" / "1")
    assert run.source == "naslib" and run.best_val == [70.0, 72.0, 91.0, 91.0, 92.0] and run.best_test is None
    assert main(["report", str(tmp_path / "run_cpu"), "--budgets", "2", "5", "--out", str(tmp_path / "rep")]) == 0
    rows = list(csv.DictReader((tmp_path / "rep" / "results.csv").open()))
    assert [(r["dataset"], r["optimizer"], r["budget"]) for r in rows] == [("cifar100", "re (NASLib)", "2"),
                                                                          ("cifar100", "re (NASLib)", "5")]
    assert float(rows[0]["val_mean"]) == statistics.mean([85.0, 72.0])
    assert float(rows[0]["val_std"]) == pytest.approx(statistics.stdev([85.0, 72.0]))
    assert float(rows[1]["val_mean"]) == statistics.mean([90.0, 92.0])
    assert rows[1]["test_mean"] == "" and "validation split" in rows[1]["test_note"]
    md = (tmp_path / "rep" / "results.md").read_text()
    assert "78.50 ± 9.19 / –†" in md and "validation split" in md
    assert (tmp_path / "rep" / "best_val_vs_queries.png").stat().st_size > 0
    assert "78.50 ± 9.19" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "rep")]) == 2
    assert "no run folders" in capsys.readouterr().err


@pytest.mark.parametrize("opts, message", [
    (["compare.optimizers", "[rs, darts]"], r"unknown optimizer 'darts'; available: \[.*'agnet'"),
    (["compare.datasets", "[]"], "compare.datasets is empty"),
    (["compare.optimizers", "[rs, rs]"], r"lists \['rs'\] more than once"),
    (["compare.seeds", "0"], "seed count must be >= 1"),
    (["compare.seeds", "[]"], "compare.seeds is empty"),
    (["compare.budgets", "[16, 500]"], r"budgets \[500\] above search.epochs \(192\)"),
    (["compare.budgets", "[0, 16]"], "must be integers >= 1"),
    (["compare.budget", "[16]"], "compare keys are"),
])
def test_bad_compare_sections_are_named(opts, message):
    with pytest.raises(ConfigError, match=message):
        parse_compare(load_compare_config(COMPARE, opts))


def test_bad_compare_configs(tmp_path, data_dir, capsys):
    with pytest.raises(ConfigError, match="no 'compare:' section"):
        parse_compare(load_compare_config(REPO / "configs" / "agnet_nb201_cifar10.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"compare": {"optimizers": ["rs"], "datasets": ["cifar10"], "seeds": 1,
                                               "budget": [5]}}))
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['budget'\]"):
        parse_compare(load_compare_config(bad))
    assert main(["compare", "--config-file", str(COMPARE), "--data-dir", str(data_dir),
                 *grid_opts(tmp_path), "compare.datasets", "[mnist]"]) == 2
    assert "unknown NAS-Bench-201 dataset 'mnist'" in capsys.readouterr().err
    assert not (tmp_path / "nasbench201").exists()


def test_report_cli_on_the_grid(grid, tmp_path):
    out, _ = grid
    shutil.copytree(out / "nasbench201", tmp_path / "nasbench201")
    assert main(["report", str(tmp_path)]) == 0
    rows = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert sorted({r["budget"] for r in rows}, key=int) == ["16", "20"]  # default budgets up to the run length
