#!/usr/bin/env python
"""Pool runs of ``scripts/nb201_search.py`` over seed sets and compare settings seed by seed.

Each argument is ``NAME=FILE``: a JSON file written by ``nb201_search.py`` (``docs/nb201_search_*.json``)
and the name of the settings it ran. Files of one name are pooled (their seeds must not overlap).
For every name and dataset the script prints the mean val regret at the last query and how many
trials found the table optimum, per file and pooled; for the first two names it adds the paired
difference over the seeds both ran (a seed fixes the initial sample, so the pairs share it) with
a 95 % Student-t interval. The table goes to stdout and, with ``--out``, to a markdown file.

    python scripts/nb201_seed_sets.py default=docs/nb201_search_default.json \\
        ranker_its=docs/nb201_search_ranker_its.json [--out runs/nb201_seed_sets.md]
"""
from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
from pathlib import Path

from naslib_agnet.experiments.report import t_half_width

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")

def load(spec: str) -> tuple[str, Path, dict]:
    name, sep, path = spec.partition("=")
    if not sep or not name or not path:
        raise SystemExit(f"argument {spec!r}: expected NAME=FILE, e.g. default=docs/nb201_search_default.json")
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        data["results"], data["optima_val"]  # noqa: B018 - the two keys this script reads
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SystemExit(f"{path}: not a results file of scripts/nb201_search.py ({exc})") from exc
    return name, path, data


def final_regrets(data: dict, dataset: str) -> dict[int, float]:
    """seed -> val regret (optimum - best val) at the run's last query."""
    optimum = data["optima_val"][dataset]
    return {r["seed"]: optimum - r["best_val"][-1] for r in data["results"] if r["dataset"] == dataset}


def summarise(regrets: dict[int, float]) -> str:
    if not regrets:
        return "–"
    found = sum(r < 1e-9 for r in regrets.values())
    return f"{statistics.fmean(regrets.values()):.3f} ({found}/{len(regrets)})"


def seed_range(seeds) -> str:
    seeds = sorted(seeds)
    if not seeds:
        return "–"
    return f"{seeds[0]}-{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else ",".join(map(str, seeds))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", metavar="NAME=FILE")
    parser.add_argument("--out", help="also write the table to this markdown file")
    args = parser.parse_args(argv)

    runs = [load(spec) for spec in args.runs]
    names = list(dict.fromkeys(name for name, _, _ in runs))
    pooled: dict[str, dict[str, dict[int, float]]] = {n: {ds: {} for ds in DATASETS} for n in names}
    lines = ["Mean val regret at the last query (trials that found the table optimum / trials).", "",
             "| settings | seeds | file | " + " | ".join(DATASETS) + " |", "|---|---|---|" + "---|" * len(DATASETS)]
    for name, path, data in runs:
        cells, seeds = [], set()
        for ds in DATASETS:
            regrets = final_regrets(data, ds)
            overlap = set(regrets) & set(pooled[name][ds])
            if overlap:
                raise SystemExit(f"{path}: seeds {sorted(overlap)} of {ds} already come from another {name} file")
            pooled[name][ds].update(regrets)
            seeds |= set(regrets)
            cells.append(summarise(regrets))
        lines.append(f"| {name} | {seed_range(seeds)} | `{path.name}` | " + " | ".join(cells) + " |")
    for name in names:
        seeds = set().union(*(pooled[name][ds] for ds in DATASETS))
        lines.append(f"| **{name}, pooled** | {len(seeds)} seeds | | "
                     + " | ".join(summarise(pooled[name][ds]) for ds in DATASETS) + " |")
    if len(names) >= 2:
        a, b = names[:2]
        lines += ["", f"Paired difference of the regret, {b} minus {a}, over the seeds both ran "
                  f"(negative: {b} ends closer to the optimum); mean [95 % t-interval]:", ""]
        cells = []
        for ds in DATASETS:
            common = sorted(set(pooled[a][ds]) & set(pooled[b][ds]))
            diffs = [pooled[b][ds][s] - pooled[a][ds][s] for s in common]
            if len(diffs) < 2:
                cells.append("–")
                continue
            mean = statistics.fmean(diffs)
            half = t_half_width(diffs)
            cells.append(f"{mean:+.3f} [{mean - half:+.3f}, {mean + half:+.3f}] (n={len(diffs)})")
        lines += ["| " + " | ".join(DATASETS) + " |", "|" + "---|" * len(DATASETS), "| " + " | ".join(cells) + " |"]
    command = "python scripts/nb201_seed_sets.py " + shlex.join(args.runs)
    if args.out:
        command += " --out " + shlex.quote(args.out)
    text = f"Command: `{command}`\n\n" + "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
