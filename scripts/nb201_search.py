#!/usr/bin/env python
"""Benchmark: AG-Net on NAS-Bench-201 (real table), seeds x datasets x 192 queries.

Runs every trial through the same code path as ``naslib-agnet search`` (one fresh
process per trial, so peak memory is per trial), then writes a results table
(mean ± std over seeds of the best-by-validation architecture's val and test
accuracy at 16, 32, 48, 96, 144, 192 queries), val regret, wall time, peak memory and
where the time goes, into ``--results`` (default ``docs/results.md``) between the markers
``<!-- nb201-search:LABEL:begin/end -->`` (a new section if they are missing), and the run
record ``nb201_search_LABEL.json`` beside it. Run folders go to ``--out-dir`` (default
``runs/benchmark``, one folder per setting).

    python scripts/nb201_search.py --data-dir ../shared/data --seeds 10 --jobs 2
    python scripts/nb201_search.py --data-dir ../shared/data --seeds 10 --jobs 2 --label ranker_its \
        --out-dir runs/benchmark_ranker_its search.agnet.scorer ranker

``--from-json RECORD`` runs nothing: it renders the section again from a run record (the
settings come from the record's ``command``) and writes it between the record's markers in
the results file that command named (or ``--results``), e.g.
``python scripts/nb201_search.py --from-json docs/nb201_search_default.json``.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import resource
import shlex
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
BUDGETS = (16, 32, 48, 96, 144, 192)
DEFAULT_RESULTS = REPO / "docs" / "results.md"


def trial(job: tuple) -> dict:
    dataset, seed, data_dir, out_dir, queries, overrides = job
    from naslib_agnet.experiments.config import load_config
    from naslib_agnet.experiments.runner import run_search

    config = load_config(REPO / "configs" / f"agnet_nb201_{dataset}.yaml",
                         ["seed", str(seed), "out_dir", str(out_dir), "search.epochs", str(queries), *overrides])
    start = time.perf_counter()
    result = run_search(config, data_dir, progress="off")
    wall = time.perf_counter() - start
    if result.status == "skipped":  # a finished run from before: its accuracies, but not this trial's time
        return {"dataset": dataset, "seed": seed, "skipped": str(result.path)}
    summary = result.summary
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"dataset": dataset, "seed": seed, "wall_s": wall, "peak_rss_mb": peak_mb,
            "best_val": [q["best_val_acc"] for q in summary["queries"]],
            "best_test": [q["best_test_acc"] for q in summary["queries"]],
            "agnet": summary.get("agnet", {})}


def mean_std(values: list[float]) -> str:
    from naslib_agnet.experiments.report import format_mean_std, mean_std as mean_and_std

    return format_mean_std(*mean_and_std(values))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="benchmark data directory, e.g. ../shared/data (needed unless --from-json)")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds are FIRST_SEED .. FIRST_SEED+SEEDS-1 (e.g. a tuning set apart from 0..9)")
    parser.add_argument("--queries", type=int, default=192)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--out-dir", default=str(REPO / "runs" / "benchmark"))
    parser.add_argument("--results", default=None,
                        help="markdown file of the section; the run record goes beside it (default: docs/results.md; "
                             "with --from-json: the file the record's command named)")
    parser.add_argument("--label", default="default",
                        help="names the section of the results file this run (re)writes")
    parser.add_argument("--title", default="AG-Net on NAS-Bench-201", help="heading of a new section")
    parser.add_argument("--from-json", metavar="RECORD",
                        help="run nothing: re-render the section of this run record (nb201_search_LABEL.json)")
    parser.add_argument("opts", nargs="*", help="extra KEY VALUE config overrides")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.from_json:
        return from_json(parser, Path(args.from_json), args.results)
    if not args.data_dir:
        parser.error("--data-dir is required (unless --from-json)")
    args.results = args.results or str(DEFAULT_RESULTS)

    from naslib_agnet.benchmarks import load_nb201_oracle

    optima = {ds: load_nb201_oracle(args.data_dir, ds).best("val_acc")[1] for ds in args.datasets}
    jobs = [(ds, seed, args.data_dir, args.out_dir, args.queries, args.opts)
            for ds in args.datasets for seed in range(args.first_seed, args.first_seed + args.seeds)]
    start = time.perf_counter()
    results = []
    with mp.get_context("spawn").Pool(args.jobs, maxtasksperchild=1) as pool:
        for res in pool.imap_unordered(trial, jobs):
            if "skipped" in res:
                pool.terminate()
                print(f"nb201_search.py: {res['skipped']} holds a finished run of these settings; this script "
                      "times fresh runs, so it does not reuse them: give another --out-dir, or delete "
                      f"{args.out_dir}", file=sys.stderr)
                return 2
            results.append(res)
            print(f"[{len(results)}/{len(jobs)}] {res['dataset']} seed {res['seed']}: best val "
                  f"{res['best_val'][-1]:.2f} test {res['best_test'][-1]:.2f} in {res['wall_s']:.1f} s, "
                  f"peak {res['peak_rss_mb']:.0f} MB", flush=True)
    total = time.perf_counter() - start
    command = "python scripts/nb201_search.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    machine = f"{platform.processor() or platform.machine()}, Python {platform.python_version()}"
    report = render(results, optima, args, command, total / 60, machine)
    print(report)
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    json_path = Path(args.results).with_name(f"nb201_search_{args.label}.json")
    json_path.write_text(json.dumps({"command": command, "optima_val": optima, "total_wall_s": total,
                                     "platform": machine, "results": results}, indent=1))
    write_section(Path(args.results), report, args.label, args.title)
    return 0


def from_json(parser: argparse.ArgumentParser, record_path: Path, results_path: str | None) -> int:
    """Re-render a run record's section (its settings parsed from the recorded command) into ``results_path``,
    by default the results file the recorded command wrote to."""
    try:
        record = json.loads(record_path.read_text())
        command, results, optima = record["command"], record["results"], record["optima_val"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SystemExit(f"{record_path}: not a run record of scripts/nb201_search.py ({exc})") from exc
    words = shlex.split(command)
    if len(words) < 2 or not words[1].endswith("nb201_search.py"):
        raise SystemExit(f"{record_path}: its command is not a scripts/nb201_search.py command: {command}")
    run_args = parser.parse_args(words[2:])
    if "total_wall_s" in record:
        total_min = record["total_wall_s"] / 60
    else:  # records written before the total was stored carry the published figure, in minutes
        total_min = record.get("total_wall_min")
    report = render(results, optima, run_args, command, total_min, record.get("platform"))
    print(report)
    write_section(Path(results_path or run_args.results or DEFAULT_RESULTS), report, run_args.label, run_args.title)
    return 0


def render(results: list[dict], optima: dict, args, command: str, total_min: float | None,
           machine: str | None) -> str:
    budgets = [b for b in BUDGETS if b <= args.queries]
    total = "total wall time not recorded" if total_min is None else f"total wall time {total_min:.1f} min"
    lines = [f"Command: `{command}`", "",
             f"{args.seeds} seeds ({args.first_seed}-{args.first_seed + args.seeds - 1}) per dataset, {args.queries} queries, {args.jobs} trials in parallel, "
             f"{total} on this machine ({machine or 'machine not recorded'}).", "",
             "Mean ± std over seeds of the best-by-validation architecture after q queries: "
             "validation accuracy / its test accuracy (%).", "",
             "| dataset | " + " | ".join(f"q={b}" for b in budgets) + " | val regret at q=" + str(budgets[-1]) + " |",
             "|---|" + "---|" * (len(budgets) + 1)]
    for ds in args.datasets:
        runs = [r for r in results if r["dataset"] == ds]
        cells = [f"{mean_std([r['best_val'][b - 1] for r in runs])} / {mean_std([r['best_test'][b - 1] for r in runs])}"
                 for b in budgets]
        regret = statistics.mean(optima[ds] - r["best_val"][budgets[-1] - 1] for r in runs)
        lines.append(f"| {ds} | " + " | ".join(cells) + f" | {regret:.3f} (optimum {optima[ds]:.2f}) |")
    walls = [r["wall_s"] for r in results]
    peaks = [r["peak_rss_mb"] for r in results]
    retrain = [r["agnet"].get("retrain_s", 0.0) for r in results]
    generate = [r["agnet"].get("generate_s", 0.0) for r in results]
    rank_fit = [r["agnet"].get("rank_fit_s", 0.0) for r in results]
    fallbacks = sum(r["agnet"].get("random_fallbacks", 0) for r in results)
    iterations = sum(r["agnet"].get("iterations", 0) for r in results)
    lines += ["", f"Per trial ({len(results)} trials): wall time median {statistics.median(walls):.1f} s "
              f"(min {min(walls):.1f}, max {max(walls):.1f}); peak resident memory median "
              f"{statistics.median(peaks):.0f} MB (max {max(peaks):.0f} MB).",
              f"Where the time goes (median per trial): retraining generator + predictor "
              f"{statistics.median(retrain):.1f} s, "
              + (f"fitting the ranker {statistics.median(rank_fit):.1f} s, " if any(rank_fit) else "")
              + f"candidate generation {statistics.median(generate):.1f} s, "
              f"the rest (start-up, table queries, result files) "
              f"{statistics.median(w - a - b - c for w, a, b, c in zip(walls, retrain, generate, rank_fit)):.1f} s.",
              f"AG-Net iterations: {iterations} in all trials; random architectures evaluated because an iteration "
              f"found no new valid candidate: {fallbacks}."]
    return "\n".join(lines)


def write_section(path: Path, report: str, label: str, title: str) -> None:
    """Replace the block between this label's markers, or append it as a new section."""
    begin, end = f"<!-- nb201-search:{label}:begin -->", f"<!-- nb201-search:{label}:end -->"
    text = path.read_text() if path.exists() else "# Results\n"
    block = f"{begin}\n{report}\n{end}"
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + f"\n\n## {title}\n\n" + block + "\n"
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
