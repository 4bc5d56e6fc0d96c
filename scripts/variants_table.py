#!/usr/bin/env python
"""The AG-Net variants table of docs/results.md from comparison grids' ``results.csv`` files.

Per dataset, one row per AG-Net optimizer of the variant grid (mean ± std over seeds of the best
validation accuracy, and its test accuracy where the table has one, after each budget; mean search
seconds per run), and the best baseline of a baseline grid at each budget (the optimizer with the
highest mean validation accuracy there, named in brackets).

    python scripts/variants_table.py docs/nb201_variants.csv docs/nb201_variants_xgb_ranking.csv \
        --baselines docs/nb201_compare6.csv
    python scripts/variants_table.py docs/nb101_20k_variants.csv --baselines docs/nb101_20k_compare.csv
"""
from __future__ import annotations

import argparse
import csv
import math

ORDER = ["agnet", "agnet_ranker", "agnet_xgb", "agnet_xgb_ranking", "agnet_wo_lso", "agnet_wo_backprop"]
LABELS = {"agnet": "AG-Net (spec)", "agnet_ranker": "AG-Net + ensemble ranker", "agnet_xgb": "XGB",
          "agnet_xgb_ranking": "XGB + ranking", "agnet_wo_lso": "w/o LSO", "agnet_wo_backprop": "w/o backprop"}


def read(path: str) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def cell(row: dict) -> str:
    val = f"{float(row['val_mean']):.2f} ± {float(row['val_std']):.2f}"
    test = row.get("test_mean") or ""
    if test and not math.isnan(float(test)):
        val += f" / {float(test):.2f} ± {float(row['test_std']):.2f}"
    return val


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="+", help="results.csv of the variant grid(s)")
    parser.add_argument("--baselines", help="results.csv of a grid with the baselines (rs, re, ls, bananas, npenas)")
    parser.add_argument("--budgets", type=int, nargs="+", default=[48, 96, 192])
    args = parser.parse_args()
    rows = [r for path in args.results for r in read(path)]
    by = {(r["dataset"], r["optimizer"], int(r["budget"])): r for r in rows}
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    optimizers = [o for o in ORDER if any(r["optimizer"] == o for r in rows)]
    base: dict[tuple[str, int], dict] = {}
    if args.baselines:
        for r in read(args.baselines):
            if r["optimizer"].startswith("agnet"):
                continue
            key = (r["dataset"], int(r["budget"]))
            if key not in base or float(r["val_mean"]) > float(base[key]["val_mean"]):
                base[key] = r
    seeds = sorted({r["n_seeds"] for r in rows})
    print(f"Command: `python scripts/variants_table.py {' '.join(args.results)}"
          + (f" --baselines {args.baselines}`" if args.baselines else "`"))
    print()
    print(f"Mean ± std over {'/'.join(seeds)} seeds of the best-by-validation architecture after q queries: "
          "validation accuracy (%) / its test accuracy where the table has one; s/run: mean search time.")
    print()
    print("| dataset | optimizer | " + " | ".join(f"q={b}" for b in args.budgets) + " | s/run |")
    print("|---|---|" + "---|" * len(args.budgets) + "---|")
    for ds in datasets:
        for opt in optimizers:
            cells = [cell(by[(ds, opt, b)]) if (ds, opt, b) in by else "–" for b in args.budgets]
            any_row = next((by[(ds, opt, b)] for b in args.budgets if (ds, opt, b) in by), None)
            wall = f"{float(any_row['wall_s_mean']):.1f}" if any_row and any_row.get("wall_s_mean") else "–"
            print(f"| {ds} | {LABELS.get(opt, opt)} | " + " | ".join(cells) + f" | {wall} |")
        if base:
            cells = [f"{cell(base[(ds, b)])} ({base[(ds, b)]['optimizer']})" if (ds, b) in base else "–"
                     for b in args.budgets]
            print(f"| {ds} | best baseline | " + " | ".join(cells) + " | |")


if __name__ == "__main__":
    main()
