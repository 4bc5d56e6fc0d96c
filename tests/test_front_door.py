"""The front door (issue 13): run folders are never silently replaced, configs are strict, the
headline of a constrained run is its best feasible architecture, errors are messages, start-up is
quick. Driven through the command line (``main``), as a user meets it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import naslib_agnet
from naslib_agnet.cli.main import main

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "configs" / "agnet_nb201_cifar10.yaml"
HW_CONFIG = REPO / "configs" / "agnet_hw_nb201_ImageNet16-120.yaml"
FAST = ["search.epochs", "20", "search.agnet.loop.retrain_epochs", "1"]


def search(out: Path, data_dir: Path, *opts: str, flags: tuple[str, ...] = ("--quiet",), command="search",
           config=CONFIG) -> int:
    return main([command, "--config-file", str(config), "--data-dir", str(data_dir), *flags,
                 "out_dir", str(out), *FAST, *opts])


def run_folder(out: Path, optimizer="agnet", dataset="cifar10", seed=0) -> Path:
    return out / "nasbench201" / dataset / optimizer / "config_0" / str(seed)


def snapshot(folder: Path) -> dict:
    return {f.name: (f.read_bytes(), f.stat().st_mtime_ns) for f in sorted(folder.iterdir())}


# ------------------------------------------------------------------------ 1. run folders
def test_a_finished_run_is_reported_and_left_as_it_is(tmp_path, data_dir, capsys):
    assert search(tmp_path, data_dir) == 0
    folder = run_folder(tmp_path)
    before = snapshot(folder)
    capsys.readouterr()
    assert search(tmp_path, data_dir) == 0
    out = capsys.readouterr().out
    assert "already finished" in out and "left as it is" in out and "best val" in out
    assert snapshot(folder) == before


def test_another_config_in_the_folder_is_refused_with_the_way_out(tmp_path, data_dir, capsys):
    assert search(tmp_path, data_dir) == 0
    folder = run_folder(tmp_path)
    before = snapshot(folder)
    capsys.readouterr()
    assert search(tmp_path, data_dir, "search.agnet.loop.lr", "0.01") == 2
    err = capsys.readouterr().err
    assert "holds a run of a different config (search.agnet.loop.lr: recorded 0.001, now 0.01)" in err
    assert "'out_dir " in err and "--force" in err
    assert snapshot(folder) == before
    # the other implementation (NASLib's own class) and other code are conflicts too
    summary = json.loads((folder / "summary.json").read_text())
    (folder / "summary.json").write_text(json.dumps({**summary, "fingerprint": {**summary["fingerprint"],
                                                                                "code_sha256": "0" * 16}}))
    assert search(tmp_path, data_dir) == 2
    assert "made by other code, data or weights (code_sha256: recorded '0000000000000000'" in capsys.readouterr().err


def test_force_moves_the_old_run_aside_and_starts_afresh(tmp_path, data_dir, capsys):
    assert search(tmp_path, data_dir) == 0
    folder = run_folder(tmp_path)
    old = snapshot(folder)
    assert search(tmp_path, data_dir, "search.agnet.loop.lr", "0.01", flags=("--quiet", "--force")) == 0
    aside = [p for p in folder.parent.iterdir() if p.name.startswith("0.replaced-")]
    assert len(aside) == 1 and {k: v[0] for k, v in snapshot(aside[0]).items()} == {k: v[0] for k, v in old.items()}
    assert "moved to" in capsys.readouterr().out
    config, _ = json.loads((folder / "errors.json").read_text())
    assert config["search"]["agnet"]["loop"]["lr"] == 0.01
    # the moved-aside folder is not read as a run by the report
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "rep")]) == 0
    assert "report: 1 runs" in capsys.readouterr().out


def test_an_interrupted_search_resumes_and_ends_as_an_uninterrupted_one(tmp_path, data_dir, capsys, monkeypatch):
    """Ctrl-C ends with one line (no traceback) and keeps every finished query; the same command
    resumes: the recorded queries are replayed and checked, and the run ends as if uninterrupted."""
    assert search(tmp_path / "whole", data_dir) == 0
    whole = json.loads((run_folder(tmp_path / "whole") / "summary.json").read_text())

    from naslib_agnet.bridge.optimizer import AGNet

    original = AGNet.new_epoch

    def interrupted(self, epoch):
        if epoch == 17:
            raise KeyboardInterrupt
        return original(self, epoch)

    monkeypatch.setattr(AGNet, "new_epoch", interrupted)
    capsys.readouterr()
    try:
        code = search(tmp_path, data_dir)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped the command as a traceback")
    assert code == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    partial = json.loads((run_folder(tmp_path) / "summary.json").read_text())
    assert not partial["finished"] and partial["num_queries"] == 17
    monkeypatch.setattr(AGNet, "new_epoch", original)
    assert search(tmp_path, data_dir) == 0
    assert "resumed, the 17 recorded queries replayed and matched" in capsys.readouterr().out
    resumed = json.loads((run_folder(tmp_path) / "summary.json").read_text())
    assert resumed["finished"] and resumed["queries"] == whole["queries"]


def test_a_second_writer_on_the_same_folder_is_refused(tmp_path, data_dir, capsys):
    from naslib_agnet.experiments.rundir import RunLock

    folder = run_folder(tmp_path)
    folder.parent.mkdir(parents=True)
    with RunLock(folder):  # another search writing this folder (flock: refused even within one process)
        assert search(tmp_path, data_dir) == 2
        assert "is being written by another process (pid" in capsys.readouterr().err
    assert not folder.exists()
    assert search(tmp_path, data_dir) == 0  # the lock is gone with its holder


def test_two_searches_started_at_once_into_one_folder_leave_one_consistent_run(tmp_path, data_dir):
    """Two budgets (64 and 65 queries) started together into the same folder: one runs, the other is
    refused (by the lock while the first runs, as a different config once it has finished); the two
    files are of the same run."""
    def cmd(epochs: int) -> list[str]:
        return [sys.executable, "-m", "naslib_agnet.cli.main", "search", "--config-file", str(CONFIG), "--data-dir",
                str(data_dir), "--quiet", "out_dir", str(tmp_path), "search.epochs", str(epochs),
                "search.agnet.loop.retrain_epochs", "2"]

    procs = {n: subprocess.Popen(cmd(n), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in (64, 65)}
    errs = {n: p.communicate(timeout=300)[1] for n, p in procs.items()}
    codes = {n: p.returncode for n, p in procs.items()}
    assert sorted(codes.values()) == [0, 2], errs
    winner, loser = sorted(procs, key=lambda n: codes[n])
    assert "being written by another process" in errs[loser] or "holds a run of a different config" in errs[loser]
    config, trajectory = json.loads((run_folder(tmp_path) / "errors.json").read_text())
    summary = json.loads((run_folder(tmp_path) / "summary.json").read_text())
    assert summary["finished"] and summary["num_queries"] == winner == len(trajectory["valid_acc"])
    assert config["search"]["epochs"] == winner


# ------------------------------------------------------------------------ 2. strict configs
@pytest.mark.parametrize("text, message", [
    ("", "is empty"),
    ("# only a comment\n# and another\n", "is empty"),
    ("search:\n  bogus_key: 1\n", "'search.bogus_key' is not a config key"),
    ("search:\n  agnet:\n    loop:\n      top_kk: 8\n", "did you mean 'top_k'"),
    ("optimzer: agnet\n", "'optimzer' is not a config key"),
])
def test_bad_yaml_files_stop_the_run(tmp_path, data_dir, capsys, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert main(["search", "--config-file", str(path), "--data-dir", str(data_dir), "out_dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "nasbench201").exists()


def test_naslib_only_keys_of_a_naslib_config_are_accepted(tmp_path):
    from naslib_agnet.experiments.config import load_config

    path = tmp_path / "naslib.yaml"
    path.write_text(CONFIG.read_text() + "  predictor: var_sparse_gp\n  debug_predictor: false\n")
    assert load_config(path)["search"]["predictor"] == "var_sparse_gp"


@pytest.mark.parametrize("epochs", ["0", "-5"])
def test_a_budget_below_one_query_is_refused(tmp_path, data_dir, capsys, epochs):
    assert main(["search", "--config-file", str(CONFIG), "--data-dir", str(data_dir), "out_dir", str(tmp_path),
                 "search.epochs", epochs]) == 2
    assert f"search.epochs is the query budget and must be >= 1, got {epochs}" in capsys.readouterr().err
    assert not (tmp_path / "nasbench201").exists()


def test_compare_jobs_below_one_is_refused(tmp_path, data_dir, capsys):
    assert main(["compare", "--config-file", str(REPO / "configs" / "compare_nb201.yaml"), "--data-dir",
                 str(data_dir), "--jobs", "0", "out_dir", str(tmp_path), "compare.optimizers", "[rs]",
                 "compare.datasets", "[cifar10]", "compare.seeds", "1", "search.epochs", "3",
                 "compare.budgets", "[3]"]) == 2
    assert "--jobs must be >= 1" in capsys.readouterr().err


def test_pretrain_without_a_training_step_is_refused_and_an_existing_file_kept(tmp_path, capsys):
    out = tmp_path / "g.pt"
    assert main(["pretrain", "--search-space", "nasbench201", "--out", str(out), "--samples", "0"]) == 2
    assert "would not be trained at all" in capsys.readouterr().err and not out.exists()
    out.write_bytes(b"earlier weights")
    assert main(["pretrain", "--search-space", "nasbench201", "--out", str(out), "--samples", "64"]) == 2
    assert "exists; not overwriting it" in capsys.readouterr().err and out.read_bytes() == b"earlier weights"


@pytest.mark.parametrize("spelling, canonical", [("CIFAR10", "cifar10"), ("ImageNet16", "ImageNet16-120"),
                                                 ("imagenet16-120", "ImageNet16-120")])
def test_dataset_spellings_give_the_canonical_folder(tmp_path, data_dir, spelling, canonical):
    assert main(["run", "--config-file", str(CONFIG), "--data-dir", str(data_dir), "--quiet", "out_dir",
                 str(tmp_path), "optimizer", "rs", "search.epochs", "3", "dataset", spelling]) == 0
    assert [p.name for p in (tmp_path / "nasbench201").iterdir()] == [canonical]
    summary = json.loads((run_folder(tmp_path, "rs", canonical) / "summary.json").read_text())
    assert summary["dataset"] == canonical


def test_compare_refuses_one_dataset_under_two_spellings(tmp_path, data_dir, capsys):
    assert main(["compare", "--config-file", str(REPO / "configs" / "compare_nb201.yaml"), "--data-dir",
                 str(data_dir), "out_dir", str(tmp_path), "compare.datasets", "[cifar10, CIFAR10]",
                 "compare.optimizers", "[rs]", "compare.seeds", "1", "search.epochs", "3", "compare.budgets", "[3]"]) == 2
    assert "names ['cifar10'] more than once" in capsys.readouterr().err


def test_options_after_the_overrides_get_a_hint(tmp_path, data_dir, capsys):
    assert main(["search", "--config-file", str(CONFIG), "--data-dir", str(data_dir), "seed", "3", "--quiet"]) == 2
    assert "options go first" in capsys.readouterr().err


# ------------------------------------------------------------------------ 4. constrained headline
def test_the_headline_of_a_constrained_run_is_its_best_feasible_architecture(tmp_path, data_dir, capsys):
    assert search(tmp_path, data_dir, "optimizer", "rs", "hardware.constraints", "edgegpu_latency <= 4",
                  config=HW_CONFIG, command="run") == 0
    out = capsys.readouterr().out
    folder = run_folder(tmp_path, "rs", dataset="ImageNet16-120")
    last = json.loads((folder / "summary.json").read_text())["queries"][-1]
    assert last["best_feasible_val_acc"] < last["best_val_acc"]  # the case the headline must get right
    assert f"best feasible (edgegpu_latency <= 4 ms): val {last['best_feasible_val_acc']:.2f}" in out
    assert f"edgegpu_latency {last['best_feasible_metrics']['edgegpu_latency']:g} ms) after" in out
    assert f"{last['best_val_acc']:.2f}" not in out


def test_a_limit_nothing_meets_says_so(tmp_path, data_dir, capsys):
    assert search(tmp_path, data_dir, "hardware.constraints", "edgegpu_latency <= 0.01",
                  config=HW_CONFIG, command="run", flags=()) == 0
    captured = capsys.readouterr()
    queries = json.loads((run_folder(tmp_path, dataset="ImageNet16-120") / "summary.json").read_text())["queries"]
    nearest = min(queries, key=lambda q: q["metrics"]["edgegpu_latency"])
    assert f"NO feasible architecture (edgegpu_latency <= 0.01 ms) in 20 queries; least violating: val " \
           f"{nearest['val_acc']:.2f} with edgegpu_latency {nearest['metrics']['edgegpu_latency']:g} ms" in captured.out
    assert "no architecture in the table meets edgegpu_latency <= 0.01 ms" in captured.err
    assert "warning: no evaluated architecture meets the constraint" in captured.err


# ------------------------------------------------------------------------ 5. messages, not tracebacks
def test_an_out_dir_that_is_a_file_is_named(tmp_path, data_dir, capsys):
    blocker = tmp_path / "results"
    blocker.write_text("not a folder")
    assert search(blocker, data_dir) == 2
    err = capsys.readouterr().err
    assert f"{blocker} is a file, not a folder; choose another out_dir" in err and "Traceback" not in err


def test_an_unwritable_out_dir_is_named(tmp_path, data_dir, capsys, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    assert search(tmp_path / "locked", data_dir) == 2
    err = capsys.readouterr().err
    assert f"under out_dir {tmp_path / 'locked'}: Permission denied; choose a writable out_dir" in err


def test_report_names_a_truncated_summary_and_reports_the_other_runs(tmp_path, data_dir, capsys):
    for seed in ("0", "1"):
        assert search(tmp_path, data_dir, "optimizer", "rs", "seed", seed, command="run") == 0
    damaged = run_folder(tmp_path, "rs", seed=1) / "summary.json"
    damaged.write_text(damaged.read_text()[:200])
    capsys.readouterr()
    assert main(["report", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert f"left out {damaged} is not valid JSON (truncated or damaged" in captured.err
    assert "| rs | 1 |" in captured.out


def test_report_leaves_out_a_run_without_queries(tmp_path, data_dir, capsys):
    assert search(tmp_path, data_dir, "optimizer", "rs", command="run") == 0
    folder = run_folder(tmp_path, "rs")
    empty = run_folder(tmp_path, "rs", seed=1)
    empty.mkdir()
    summary = json.loads((folder / "summary.json").read_text())
    (empty / "summary.json").write_text(json.dumps({**summary, "seed": 1, "num_queries": 0, "queries": []}))
    capsys.readouterr()
    assert main(["report", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert f"left out {empty}: no query recorded" in captured.err
    assert (tmp_path / "best_val_vs_queries.png").stat().st_size > 0


# ------------------------------------------------------------------------ 6. start-up and progress
def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def test_help_and_version_do_not_load_torch():
    done = _python("import sys\nfrom naslib_agnet.cli.main import main\n"
                   "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
                   "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
                   "print('heavy:', sorted(m for m in ('torch', 'matplotlib', 'naslib') if m in sys.modules))")
    assert done.returncode == 0, done.stderr
    assert "heavy: []" in done.stdout and f"naslib-agnet {naslib_agnet.__version__}" in done.stdout and "compare" in done.stdout


def test_progress_without_a_terminal_is_a_line_every_n_queries(tmp_path, data_dir, capsys):
    assert search(tmp_path, data_dir, flags=("--log-every", "8")) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if " queries, best val " in line]
    assert [line.split(": ", 1)[1].split(" queries")[0] for line in lines] == ["8/20", "16/20", "20/20"]
    assert err.index("loading torch") < err.index("loading nasbench201/cifar10") < err.index("8/20")


def test_the_printed_time_says_what_it_covers(tmp_path, data_dir, capsys):
    assert search(tmp_path, data_dir) == 0
    out = capsys.readouterr().out
    assert "search time" in out and "the whole command took" in out


# ------------------------------------------------------------------------ review findings (issue 13)
def test_a_damaged_or_foreign_record_is_refused_not_overwritten(tmp_path, data_dir, capsys):
    assert search(tmp_path, data_dir) == 0
    folder = run_folder(tmp_path)
    for damage in ("{truncated", json.dumps({"queries": {"not": "a list"}, "identity": None})):
        (folder / "summary.json").write_text(damage)
        before = snapshot(folder)
        assert search(tmp_path, data_dir) == 2
        assert "cannot be read" in capsys.readouterr().err and snapshot(folder) == before
    (folder / "summary.json").unlink()  # a NASLib runner's folder: errors.json alone
    assert search(tmp_path, data_dir) == 2
    assert "holds an errors.json without summary.json" in capsys.readouterr().err
    assert search(tmp_path, data_dir, flags=("--quiet", "--force")) == 0
    assert len(list(folder.parent.glob("0.replaced-*"))) == 1


def test_force_keeps_a_finished_run_of_the_same_config(tmp_path, data_dir, capsys):
    assert search(tmp_path, data_dir) == 0
    before = snapshot(run_folder(tmp_path))
    assert search(tmp_path, data_dir, flags=("--quiet", "--force")) == 0
    assert "already finished" in capsys.readouterr().out and snapshot(run_folder(tmp_path)) == before


def test_a_record_that_does_not_reproduce_is_replaced_with_force(tmp_path, data_dir, capsys):
    assert search(tmp_path, data_dir, "optimizer", "rs", command="run") == 0
    folder = run_folder(tmp_path, "rs")
    summary = json.loads((folder / "summary.json").read_text())
    summary["queries"] = summary["queries"][:5]
    summary["queries"][2]["val_acc"] += 1.0
    (folder / "summary.json").write_text(json.dumps({**summary, "finished": False, "num_queries": 5}))
    capsys.readouterr()
    assert search(tmp_path, data_dir, "optimizer", "rs", command="run") == 2
    assert "query 3 of the resumed run differs" in capsys.readouterr().err
    assert search(tmp_path, data_dir, "optimizer", "rs", command="run", flags=("--quiet", "--force")) == 0
    assert json.loads((folder / "summary.json").read_text())["finished"]
    assert len(list(folder.parent.glob("0.replaced-*"))) == 1


def test_another_constraint_or_other_data_is_another_run(tmp_path, data_dir, capsys):
    """The constraint is part of the run's identity; the metric table's contents are part of its
    fingerprint (a user table edited after the run is noticed)."""
    import csv

    table = tmp_path / "lat.csv"
    with (data_dir / "hw-nas-bench" / "hw_nas_bench_ImageNet16-120.csv").open() as fh:
        lines = [f"{r['naslib_op_indices']},{r['edgegpu_latency']}" for r in csv.DictReader(fh)]
    lines.insert(0, "naslib_op_indices,edgegpu_latency")
    table.write_text("\n".join(lines) + "\n")
    opts = ("optimizer", "rs", "hardware.table", str(table))
    four, five = ("hardware.constraints", "edgegpu_latency <= 4"), ("hardware.constraints", "edgegpu_latency <= 5")
    assert search(tmp_path / "out", data_dir, *opts, *four, config=HW_CONFIG, command="run") == 0
    capsys.readouterr()
    assert search(tmp_path / "out", data_dir, *opts, *five, config=HW_CONFIG, command="run") == 2
    assert "hardware.constraints: recorded ['edgegpu_latency <= 4'], now ['edgegpu_latency <= 5']" in \
        capsys.readouterr().err
    # the same constraint in another spelling is the same run
    assert search(tmp_path / "out", data_dir, *opts, "hardware.constraints", "[edgegpu_latency<=4.0]",
                  config=HW_CONFIG, command="run") == 0
    assert "already finished" in capsys.readouterr().out
    table.write_text("\n".join(lines[:-1] + [lines[-1] + "0"]) + "\n")  # one value changed
    assert search(tmp_path / "out", data_dir, *opts, *four, config=HW_CONFIG, command="run") == 2
    assert "made by other code, data or weights (data_sha256: recorded" in capsys.readouterr().err


@pytest.mark.parametrize("opts, message", [
    (["seed", str(2**32)], "seed must be an integer in 0..4294967295"),
    (["seed", "-1"], "seed must be an integer in 0..4294967295"),
    (["config_id", "-1"], "config_id must be an integer >= 0"),
    (["seed", "null"], "'seed' must be of type int"),
    (["search.epochs", "~"], "'search.epochs' must be of type int"),
    (["out_dir", "' '"], "out_dir is empty"),
])
def test_out_of_range_or_null_run_keys_are_refused(tmp_path, data_dir, capsys, opts, message):
    assert main(["search", "--config-file", str(CONFIG), "--data-dir", str(data_dir), *opts]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("text, message", [("{}\n", "is empty"), ("- a\n- b\n", "must hold a mapping of keys"),
                                           ("seed:\n", "'seed' must be of type int")])
def test_yaml_that_is_no_config_is_refused(tmp_path, data_dir, capsys, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert main(["search", "--config-file", str(path), "--data-dir", str(data_dir)]) == 2
    assert message in capsys.readouterr().err


def test_compare_task_names_stay_inside_out_dir(tmp_path):
    from naslib_agnet.experiments.config import ConfigError
    from naslib_agnet.experiments.grid import load_compare_config, parse_compare

    for name in ("..", ".", ".hidden"):
        bad = tmp_path / "bad.yaml"
        bad.write_text(f"compare:\n  optimizers: [rs]\n  datasets: [cifar10]\n  seeds: 1\n  tasks:\n"
                       f"    '{name}': {{search.epochs: 5}}\n")
        with pytest.raises(ConfigError, match="starts with a letter or digit"):
            parse_compare(load_compare_config(bad))


def test_moving_aside_twice_in_one_second_keeps_both(tmp_path):
    from naslib_agnet.experiments.rundir import move_aside

    targets = []
    for text in ("first", "second"):
        (tmp_path / "0").mkdir()
        (tmp_path / "0" / "summary.json").write_text(text)
        targets.append(move_aside(tmp_path / "0"))
    assert targets[0] != targets[1]
    assert [(t / "summary.json").read_text() for t in targets] == ["first", "second"]


def test_report_over_several_folders(tmp_path, data_dir, capsys):
    """Two folders: --out needed; a folder reached twice is read once; runs of the same row and seed
    from two folders are not pooled but labelled with their folder."""
    for name, epochs in (("a", "5"), ("b", "8")):
        assert main(["run", "--config-file", str(CONFIG), "--data-dir", str(data_dir), "--quiet", "out_dir",
                     str(tmp_path / name), "optimizer", "rs", "search.epochs", epochs]) == 0
    assert main(["report", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    assert "--out DIR" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "a"), str(tmp_path / "a" / "nasbench201"), "--out",
                 str(tmp_path / "r1")]) == 0
    assert "report: 1 runs" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "r2")]) == 0
    captured = capsys.readouterr()
    assert "same seed in several folders" in captured.err
    rows = (tmp_path / "r2" / "results.md").read_text()
    assert f"| rs [{tmp_path / 'a'}] | 1 |" in rows and f"| rs [{tmp_path / 'b'}] | 1 |" in rows


def test_compare_reports_a_refused_cell_in_one_line(tmp_path, data_dir, capsys):
    from naslib_agnet.experiments.rundir import RunLock

    folder = tmp_path / "nasbench201" / "cifar10" / "rs" / "config_0" / "1"
    folder.parent.mkdir(parents=True)
    with RunLock(folder):
        assert main(["compare", "--config-file", str(REPO / "configs" / "compare_nb201.yaml"), "--data-dir",
                     str(data_dir), "--jobs", "1", "out_dir", str(tmp_path), "compare.optimizers", "[rs]",
                     "compare.datasets", "[cifar10]", "compare.seeds", "2", "search.epochs", "3",
                     "compare.budgets", "[3]"]) == 1
    captured = capsys.readouterr()
    assert "rs cifar10 seed 1 failed:" in captured.err and "is being written by another process" in captured.err
    assert "Traceback" not in captured.err


def test_ctrl_c_in_pretrain_says_nothing_was_written(tmp_path, capsys, monkeypatch):
    import naslib_agnet.experiments.pretrain as pretrain

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pretrain, "run_pretrain", interrupted)
    assert main(["pretrain", "--search-space", "nasbench201", "--out", str(tmp_path / "g.pt"), "--samples",
                 "64"]) == 130
    assert "nothing was written" in capsys.readouterr().err


def test_report_does_not_load_torch(tmp_path):
    folder = tmp_path / "nasbench201" / "cifar10" / "re" / "config_0" / "0"
    folder.mkdir(parents=True)
    (folder / "errors.json").write_text(json.dumps([{"optimizer": "re"}, {"valid_acc": [80.0, 85.0]}]))
    done = _python(f"import sys\nfrom naslib_agnet.cli.main import main\nassert main(['report', {str(tmp_path)!r}]) == 0\n"
                   "print('torch loaded:', 'torch' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert "torch loaded: False" in done.stdout
