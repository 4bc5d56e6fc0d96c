#!/usr/bin/env python
"""Agreement check: the built-in RE/LS/BANANAS against NASLib's own implementations, same data.

For each optimizer, dataset and seed it runs ``naslib-agnet run``'s code path
(:func:`naslib_agnet.experiments.runner.run_search`) twice from the same config, once with
``baselines="builtin"`` and once with ``baselines="naslib"`` (NASLib's own optimizer class
on NASLib's own ``NasBench201SearchSpace``, with NASLib's NB201 ``dataset_api`` built from
the same table; see :class:`naslib_agnet.bridge.naslib_baselines.NASLibBaseline`). Every run is one
sequential process-local loop (no worker processes). It then reports, per implementation,
mean ± std over seeds of the best validation accuracy after ``--queries`` queries, and the
difference built-in minus NASLib (target: |difference| <= 0.15 points) with a 95 % interval
(paired by seed: mean per-seed difference ± t(0.975, n−1) times its standard error). "search s/run" is the
run's search time as its summary.json records it (the sum of the per-query times: proposals,
training, queries; not the set-up of the data tables); "distinct archs" is the mean number of
different architectures among the queries (NASLib's BANANAS/NPENAS may evaluate one twice).

Needs NASLib importable (a Develop checkout on PYTHONPATH, see docs/naslib.md). Run
folders go under ``--runs`` (finished runs are reused, so an interrupted check resumes);
the results go to ``--json`` (default ``runs/naslib_agreement.json``; paths in it are
relative to the working folder) and, as a markdown table, to stdout and ``--md``.
``--builtin-set KEY VALUE ...`` gives the built-in runs extra settings (with ``--builtin-runs``
for their own folder); ``--naslib-runs`` reuses NASLib's runs from another check.

    PYTHONPATH=../NASLib python scripts/naslib_agreement.py --data-dir ../shared/data \\
        --runs runs/naslib-agreement --optimizers re ls --seeds 10

``--from-json RECORD`` runs nothing and needs no NASLib: it prints the table again from the
per-run results of a record this script wrote (``docs/naslib_agreement.json``,
``docs/naslib_agreement_quirks.json``):

    python scripts/naslib_agreement.py --from-json docs/naslib_agreement.json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
IMPLS = ("builtin", "naslib")
TARGET = 0.15


def run_one(optimizer: str, dataset: str, seed: int, impl: str, data_dir: str, out: Path, queries: int,
            overrides: list[str] = ()) -> dict:
    """One run in ``out`` (reused when its summary.json says finished and it was made by the same
    implementation from the same config); its best val after ``queries`` and wall time."""
    from naslib_agnet.experiments.grid import _config_diff
    from naslib_agnet.experiments.config import load_config, run_dir
    from naslib_agnet.experiments.runner import run_search

    config = load_config(None, ["optimizer", optimizer, "dataset", dataset, "seed", str(seed),
                                "out_dir", str(out), "search.epochs", str(queries), *overrides])
    summary_path = run_dir(config) / "summary.json"
    reused, elapsed = False, None
    previous = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    if previous.get("finished"):
        recorded = previous.get("implementation", impl)  # older runs: unrecorded
        diff = _config_diff(json.loads((summary_path.parent / "errors.json").read_text())[0], config)
        if recorded != impl or diff:
            raise SystemExit(f"{summary_path.parent} holds a run of another implementation ({recorded}) or config "
                             f"({'; '.join(diff)}); give this check its own --builtin-runs / --naslib-runs folder")
        reused = True
    else:
        start = time.perf_counter()
        run_search(config, data_dir, progress="off", baselines=impl)
        elapsed = time.perf_counter() - start
    summary = json.loads(summary_path.read_text())
    assert summary["num_queries"] == queries, summary_path
    last = summary["queries"][queries - 1]
    distinct = len({tuple(q["arch"]) for q in summary["queries"][:queries]})
    return {"optimizer": optimizer, "dataset": dataset, "seed": seed, "impl": impl,
            "best_val_acc": last["best_val_acc"], "best_test_acc": last["best_test_acc"], "distinct_archs": distinct,
            "search_time_s": summary["wall_time_s"], "elapsed_s": elapsed, "reused": reused,
            "run_dir": os.path.relpath(summary_path.parent)}


def finished(out: Path, optimizer: str, dataset: str, seed: int, overrides: list[str] = ()) -> bool:
    from naslib_agnet.experiments.config import load_config, run_dir

    cfg = load_config(None, ["optimizer", optimizer, "dataset", dataset, "seed", str(seed), "out_dir", str(out),
                             *overrides])
    path = run_dir(cfg) / "summary.json"
    return path.is_file() and bool(json.loads(path.read_text()).get("finished"))


def aggregate(results: list[dict]) -> list[dict]:
    from naslib_agnet.experiments.report import mean_std, t_half_width
    rows = []
    order = list(dict.fromkeys(r["optimizer"] for r in results))  # as given on the command line
    keys = sorted({(r["optimizer"], r["dataset"]) for r in results},
                  key=lambda k: (order.index(k[0]), DATASETS.index(k[1]) if k[1] in DATASETS else 99))
    for optimizer, dataset in keys:
        row = {"optimizer": optimizer, "dataset": dataset}
        seeds = {}
        for impl in IMPLS:
            sel = [r for r in results if (r["optimizer"], r["dataset"], r["impl"]) == (optimizer, dataset, impl)]
            seeds[impl] = sorted(r["seed"] for r in sel)
            vals = [r["best_val_acc"] for r in sel]
            tests = [r["best_test_acc"] for r in sel]
            row[impl] = {"n": len(vals), "val_mean": None, "val_std": None, "test_mean": None,
                         "search_time_s_mean": None, "elapsed_s_mean": None, "distinct_archs_mean": None}
            if vals:
                row[impl]["val_mean"], row[impl]["val_std"] = mean_std(vals)
                row[impl]["test_mean"] = statistics.mean(tests)
                row[impl]["search_time_s_mean"] = statistics.mean(r["search_time_s"] for r in sel)
                row[impl]["distinct_archs_mean"] = statistics.mean(r["distinct_archs"] for r in sel)
                elapsed = [r["elapsed_s"] for r in sel if r["elapsed_s"] is not None]
                row[impl]["elapsed_s_mean"] = statistics.mean(elapsed) if elapsed else None
        row["seeds"] = seeds["builtin"] if seeds["builtin"] == seeds["naslib"] else seeds
        if row["builtin"]["n"] and row["naslib"]["n"]:
            row["diff_val"] = row["builtin"]["val_mean"] - row["naslib"]["val_mean"]
            row["within_target"] = abs(row["diff_val"]) <= TARGET
            by_seed = {impl: {r["seed"]: r["best_val_acc"] for r in results
                              if (r["optimizer"], r["dataset"], r["impl"]) == (optimizer, dataset, impl)}
                       for impl in IMPLS}
            if isinstance(row["seeds"], list) and len(row["seeds"]) > 1:  # same seeds: paired by seed
                diffs = [by_seed["builtin"][s] - by_seed["naslib"][s] for s in row["seeds"]]
                half = t_half_width(diffs)
                row["diff_val_ci95"] = [row["diff_val"] - half, row["diff_val"] + half]
        rows.append(row)
    return rows


def markdown(rows: list[dict], queries: int) -> str:
    lines = [f"| optimizer | dataset | seeds | built-in best val @{queries} | NASLib best val @{queries} | "
             f"difference (built-in − NASLib) | 95% interval of the difference | within ±{TARGET} "
             "| distinct archs built-in / NASLib | search s/run built-in | search s/run NASLib |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        b, n = row["builtin"], row["naslib"]
        cell = lambda d: "n/a" if d["val_mean"] is None else f"{d['val_mean']:.2f} ± {d['val_std']:.2f}"  # noqa: E731
        seeds = row["seeds"]
        n_seeds = len(seeds) if isinstance(seeds, list) else f"{b['n']}/{n['n']}"
        diff = f"{row['diff_val']:+.2f}" if "diff_val" in row else "n/a"
        ok = ("yes" if row["within_target"] else "**no**") if "within_target" in row else "n/a"
        wall = lambda d: "n/a" if d["search_time_s_mean"] is None else f"{d['search_time_s_mean']:.1f}"  # noqa: E731
        distinct = lambda d: "n/a" if d["distinct_archs_mean"] is None else f"{d['distinct_archs_mean']:.1f}"  # noqa: E731
        ci = "n/a" if "diff_val_ci95" not in row else "[{:+.2f}, {:+.2f}]".format(*row["diff_val_ci95"])
        lines.append(f"| {row['optimizer']} | {row['dataset']} | {n_seeds} | {cell(b)} | {cell(n)} | {diff} | {ci} | {ok} "
                     f"| {distinct(b)} / {distinct(n)} | {wall(b)} | {wall(n)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="benchmark data directory, e.g. ../shared/data (needed unless --from-json)")
    parser.add_argument("--runs", help="folder for the run folders, e.g. runs/naslib-agreement (needed unless --from-json)")
    parser.add_argument("--optimizers", nargs="+", default=["re", "ls"], choices=["rs", "re", "ls", "bananas", "npenas"])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--queries", type=int, default=192, help="queries per run (search.epochs)")
    parser.add_argument("--json", default=str(REPO / "runs" / "naslib_agreement.json"))
    parser.add_argument("--md", default=None, help="also write the markdown table to this file")
    parser.add_argument("--builtin-set", nargs="+", default=[], metavar="KEY VALUE",
                        help="NASLib-style overrides for the built-in runs only, e.g. search.naslib_quirks true")
    parser.add_argument("--builtin-runs", default=None,
                        help="folder of the built-in runs (default: RUNS/builtin; give another with --builtin-set)")
    parser.add_argument("--naslib-runs", default=None, help="folder of NASLib's runs (default: RUNS/naslib)")
    parser.add_argument("--report-only", action="store_true",
                        help="run nothing: aggregate the (optimizer, dataset, seed) cells both implementations finished")
    parser.add_argument("--from-json", metavar="RECORD",
                        help="run nothing, without NASLib: print the table again from a record's per-run results")
    args = parser.parse_args(argv)
    if args.from_json:
        return from_json(Path(args.from_json), args.md)
    if not args.data_dir or not args.runs:
        parser.error("--data-dir and --runs are required (unless --from-json)")

    import torch

    from naslib_agnet.compat import applied_patches, naslib_importable

    if not naslib_importable():
        print("NASLib is not importable: put a NASLib (Develop) checkout on PYTHONPATH", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    runs = Path(args.runs)
    if len(args.builtin_set) % 2:
        parser.error("--builtin-set takes KEY VALUE pairs")
    if args.builtin_set and not args.builtin_runs:
        parser.error("--builtin-set needs --builtin-runs: a folder of its own, not RUNS/builtin's default runs")
    if "search.epochs" in args.builtin_set[::2]:
        parser.error("--builtin-set: give the budget with --queries, not search.epochs")
    out = {"builtin": Path(args.builtin_runs) if args.builtin_runs else runs / "builtin",
           "naslib": Path(args.naslib_runs) if args.naslib_runs else runs / "naslib"}
    overrides = {"builtin": args.builtin_set, "naslib": []}
    if out["builtin"].resolve() == out["naslib"].resolve():
        parser.error("the built-in and NASLib runs need different folders (--builtin-runs, --naslib-runs)")
    results, start = [], time.perf_counter()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for optimizer in args.optimizers:
        for seed in seeds:  # seed-major: an interrupted check has about as many seeds for every dataset
            for dataset in args.datasets:
                if args.report_only and not all(finished(out[impl], optimizer, dataset, seed, overrides[impl])
                                                for impl in IMPLS):
                    continue  # only seeds both implementations finished
                for impl in IMPLS:
                    res = run_one(optimizer, dataset, seed, impl, args.data_dir, out[impl], args.queries,
                                  overrides[impl])
                    results.append(res)
                    took = "reused" if res["reused"] else f"{res['elapsed_s']:.1f} s"
                    print(f"{optimizer:8s} {dataset:15s} seed {seed} {impl:7s} best val {res['best_val_acc']:.2f} "
                          f"({took})", flush=True)
    rows = aggregate(results)
    table = markdown(rows, args.queries)
    import naslib  # noqa: F401 - imported by the runs; its location is recorded

    payload = {"command": "python scripts/naslib_agreement.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])),
               "queries": args.queries, "target_abs_diff": TARGET, "metric": "best validation accuracy (%) among "
               "the first N queries, mean ± sample std over seeds", "naslib_path": os.path.relpath(Path(naslib.__file__).parent),
               "compat_patches": applied_patches(), "python": platform.python_version(),
               "elapsed_s": time.perf_counter() - start, "rows": rows, "runs": results}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(payload, indent=1))
    if args.md:
        Path(args.md).write_text(table + "\n")
    print(table)
    return 0


def from_json(record_path: Path, md: str | None) -> int:
    """Print (and with ``md`` write) the table of a record again from its per-run results."""
    try:
        record = json.loads(record_path.read_text())
        results, queries = record["runs"], record["queries"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SystemExit(f"{record_path}: not a record of scripts/naslib_agreement.py ({exc})") from exc
    table = markdown(aggregate(results), queries)
    if md:
        Path(md).write_text(table + "\n")
    print(f"Command: `{record['command']}`\n\n{table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
