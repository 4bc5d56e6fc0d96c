"""The DARTS-space comparison (docs/results.md, NAS-Bench-301): per optimizer the mean ± std best surrogate
validation accuracy at the budgets, the best genotype it found (over all seeds, at a budget), and where the
time of a trial goes.

    python scripts/nb301_table.py runs/compare_nb301 [--budgets 48 96 192 304] [--genotype-at 192]
        [--paired agnet_ranker re --paired agnet re]

Reads the run folders that ``naslib-agnet compare --config-file configs/compare_nb301.yaml`` wrote.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path


def runs_by_optimizer(root: Path) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {}
    for path in sorted(root.glob("nasbench301/*/*/config_*/*/summary.json")):
        summary = json.loads(path.read_text())
        if summary.get("finished"):
            summary["runtimes"] = json.loads((path.parent / "errors.json").read_text())[1]["runtime"]
            runs.setdefault(summary["optimizer"], []).append(summary)
    return runs


def best_at(summary: dict, budget: int) -> dict:
    q = summary["queries"][budget - 1]
    arch = q["best_arch"]
    return next(x for x in summary["queries"][:budget] if x["arch"] == arch)


def paired(first: list[dict], second: list[dict], budget: int) -> str:
    import numpy as np
    from scipy import stats

    by_seed = {s["seed"]: s["queries"][budget - 1]["best_val_acc"] for s in second}
    d = np.array([s["queries"][budget - 1]["best_val_acc"] - by_seed[s["seed"]] for s in first if s["seed"] in by_seed])
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return f"{d.mean():+.3f} [{d.mean() - half:+.3f}, {d.mean() + half:+.3f}], {(d > 0).sum()} of {len(d)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path)
    parser.add_argument("--budgets", type=int, nargs="+", default=[48, 96, 192, 304])
    parser.add_argument("--genotype-at", type=int, default=192)
    parser.add_argument("--paired", nargs=2, action="append", default=[], metavar=("A", "B"),
                        help="also print A - B paired over the seeds both ran, at each budget: mean, 95 %% "
                             "t-interval, seeds where A is ahead")
    args = parser.parse_args()
    runs = runs_by_optimizer(args.root)
    if not runs:
        raise SystemExit(f"no finished nasbench301 runs under {args.root}")
    header = ("| optimizer | seeds | " + " | ".join(f"{b} q" for b in args.budgets)
              + f" | median s to {args.genotype_at} q | median s / trial |")
    print(header)
    print("|" + "---|" * (len(args.budgets) + 4))
    for name, items in runs.items():
        cells = []
        for b in args.budgets:
            values = [s["queries"][b - 1]["best_val_acc"] for s in items if len(s["queries"]) >= b]
            sd = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(f"{statistics.mean(values):.2f} ± {sd:.2f}" if values else "")
        wall = statistics.median(s["wall_time_s"] for s in items)
        upto = statistics.median(sum(s["runtimes"][:args.genotype_at]) for s in items)
        print(f"| {name} | {len(items)} | " + " | ".join(cells) + f" | {upto:.1f} | {wall:.1f} |")
    print(f"\nBest genotype of each optimizer over its seeds at {args.genotype_at} queries (surrogate val acc):")
    for name, items in runs.items():
        best = max((best_at(s, args.genotype_at) | {"seed": s["seed"]} for s in items), key=lambda q: q["val_acc"])
        print(f"- {name} (seed {best['seed']}, {best['val_acc']:.2f}): {best['arch_str']}")
    for a, b in args.paired:
        print(f"\n{a} - {b}, paired over seeds (mean [95 % t-interval], seeds won):")
        for budget in args.budgets:
            print(f"- {budget} queries: {paired(runs[a], runs[b], budget)}")
    agnet = runs.get("agnet")
    if agnet:
        parts = {k: statistics.median(s["agnet"][k] for s in agnet) for k in ("retrain_s", "generate_s", "rank_fit_s")}
        steps = statistics.median(s["agnet"]["train_steps"] for s in agnet)
        fallbacks = [s["agnet"]["random_fallbacks"] for s in agnet]
        print(f"\nagnet, median per trial of {len(agnet[0]['queries'])} queries: {statistics.median(s['wall_time_s'] for s in agnet):.1f} s; "
              f"retraining {parts['retrain_s']:.1f} s ({steps:.0f} steps), candidate generation {parts['generate_s']:.1f} s, "
              f"scorer fit {parts['rank_fit_s']:.1f} s; random fallbacks: {sum(fallbacks)} in all (max {max(fallbacks)})")


if __name__ == "__main__":
    main()
