#!/usr/bin/env python
"""Print the Table-5 report of a hardware-aware grid again from its ``hardware_results.csv``.

``naslib-agnet compare`` / ``naslib-agnet report`` on a hardware-aware grid (e.g.
``configs/compare_hw_nb201.yaml``) write ``hardware_results.csv``: one row per task, dataset,
optimizer and budget with the figures of the report. This script reads such a file (the copies
kept in ``docs/`` are ``hw_results_*.csv``), takes the rows of one budget (default: the largest)
and prints the markdown table and the task counts against random search exactly as the report
renders them (``naslib_agnet.experiments.hardware_report.render_markdown``), without the run
folders. Tasks and optimizers keep the order of the file.

    python scripts/hw_table.py docs/hw_results_scaled.csv [--budget 192] [--counts-only]
"""
from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
from pathlib import Path

INT_FIELDS = ("runs", "budget", "no_feasible", "optimum_runs")
TEXT_FIELDS = ("task", "dataset", "optimizer", "front_metric", "front_label", "condition")


def _value(key: str, text: str):
    if key in TEXT_FIELDS:
        return text
    if text == "":
        return None
    return int(text) if key in INT_FIELDS else float(text)


def read_rows(path: Path) -> list[dict]:
    with path.open(newline="") as fh:
        rows = [{k: _value(k, v) for k, v in row.items()} for row in csv.DictReader(fh)]
    missing = {"task", "dataset", "optimizer", "budget", "best_val", "mean_val", "feasibility",
               "optimum_runs"} - set(rows[0] if rows else {})
    if not rows or missing:
        raise SystemExit(f"{path}: not a hardware_results.csv of naslib-agnet report"
                         + (f" (missing {sorted(missing)})" if missing else " (no rows)"))
    for row in rows:  # the report writes NaN for a mean over no feasible run; it renders as "-"
        for key in ("mean_val", "std_val"):
            if row.get(key) is None:
                row[key] = math.nan
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv", type=Path, help="a hardware_results.csv, e.g. docs/hw_results_scaled.csv")
    parser.add_argument("--budget", type=int, help="query budget of the table (default: the largest in the file)")
    parser.add_argument("--counts-only", action="store_true", help="print only the task counts against random search")
    args = parser.parse_args(argv)

    from naslib_agnet.experiments.hardware_report import _scoreboard, render_markdown

    rows = read_rows(args.csv)
    budget = args.budget if args.budget is not None else max(r["budget"] for r in rows)
    final = {(r["task"], r["dataset"], r["optimizer"]): r for r in rows if r["budget"] == budget}
    if not final:
        raise SystemExit(f"{args.csv}: no rows at budget {budget}")
    optimizers = list(dict.fromkeys(key[2] for key in final))
    tasks = list(dict.fromkeys(key[0] for key in final))
    print(f"Command: `python scripts/hw_table.py {args.csv.as_posix()}"
          + (f" --budget {args.budget}" if args.budget is not None else "")
          + (" --counts-only" if args.counts_only else "") + "`\n")
    if args.counts_only:
        print("\n".join(_scoreboard(final, optimizers, tasks)))
    else:
        print(render_markdown(final, optimizers, tasks, budget))
    means = {o: [final[k]["mean_val"] for k in final if k[2] == o] for o in optimizers}
    print("Mean over the tasks of each optimizer's mean best feasible val: " + ", ".join(
        f"{o} {statistics.fmean(v):.2f}" + (f" ({len(v)} tasks)" if len(v) != len(tasks) else "")
        for o, v in means.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
