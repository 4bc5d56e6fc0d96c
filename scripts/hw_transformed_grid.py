"""The Table-5 grid on transformed copies of HW-NAS-Bench (issue 14: scale invariance).

Writes, from the data directory's HW-NAS-Bench table of a dataset, a metric table whose
latency and energy columns are transformed, and a copy of ``configs/compare_hw_nb201.yaml``
whose 20 tasks constrain the transformed columns with the transformed limits, then prints
the ``compare`` command that runs it:

* ``x1000``: every value and limit times 1000 (ms -> us, mJ -> uJ), ``METRIC <= 1000 L``;
* ``negated``: every value and limit negated, the direction flipped, ``METRIC_neg >= -L``
  (the device name stays first, so the predictor's device one-hot is the same).

HW-NAS-Bench's -1 ("not measured") becomes an empty cell. With the default
``search.agnet.hardware.metric_units scaled`` both grids should repeat the untransformed grid's
results run for run::

    python scripts/hw_transformed_grid.py --data-dir ../shared/data --transform x1000
    python scripts/hw_transformed_grid.py --data-dir ../shared/data --transform negated

The files go to ``runs/hw_tables/`` (``--out``); nothing is written into the data directory.
After both grids, compare them run for run with the untransformed one (same task, optimizer and
seed: the evaluated architectures in order, their feasibility, the best feasible accuracy)::

    python scripts/hw_transformed_grid.py --check runs/hw_compare runs/hw_compare_x1000
"""
from __future__ import annotations

import argparse
import csv
import math
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
TRANSFORMS = {"x1000": (lambda v: v * 1000.0, lambda c: c, "<=", {"ms": "us", "mJ": "uJ"}),
              "negated": (lambda v: -v, lambda c: f"{c}_neg", ">=", None)}
METRIC_COLUMNS = re.compile(r"^[a-z0-9]+_(latency|energy)$")


def write_table(data_dir: Path, dataset: str, transform: str, out: Path) -> Path:
    value_of, rename, _, units = TRANSFORMS[transform]
    src = data_dir / "hw-nas-bench" / f"hw_nas_bench_{dataset}.csv"
    with src.open(newline="") as fh:
        reader = csv.DictReader(fh)
        columns = [c for c in reader.fieldnames if METRIC_COLUMNS.match(c)]
        rows = list(reader)
    path = out / f"hw_{transform}_{dataset}.csv"
    from naslib_agnet.benchmarks.metrics import _guessed_unit  # ms for *_latency, mJ for *_energy

    declared = ", ".join(f"{rename(c)}={units[_guessed_unit(c)] if units else _guessed_unit(c)}" for c in columns)
    with path.open("w", newline="") as fh:
        fh.write(f"# {transform} copy of {src.name} (scripts/hw_transformed_grid.py); -1 (not measured) left empty\n")
        fh.write(f"# dataset: {dataset}\n# units: {declared}\n")
        writer = csv.writer(fh)
        writer.writerow(["naslib_op_indices", *(rename(c) for c in columns)])
        for row in rows:
            cells = []
            for c in columns:
                v = float(row[c])
                cells.append("" if v < 0 or math.isnan(v) else repr(value_of(v)))
            writer.writerow([row["naslib_op_indices"], *cells])
    return path


def write_config(transform: str, out: Path, table_pattern: str) -> Path:
    value_of, rename, sense, _ = TRANSFORMS[transform]
    config = yaml.safe_load((REPO / "configs" / "compare_hw_nb201.yaml").read_text())
    from naslib_agnet.benchmarks.constraints import parse_constraints

    def convert(text: str) -> str:
        return ", ".join(f"{rename(c.metric)} {sense} {value_of(c.limit)!r}" for c in parse_constraints(text))

    config["hardware"]["table"] = table_pattern
    config["hardware"]["constraints"] = convert(config["hardware"]["constraints"])
    config["out_dir"] = f"runs/hw_compare_{transform}"
    config["compare"]["tasks"] = {name: {"hardware.constraints": convert(task["hardware.constraints"])}
                                  for name, task in config["compare"]["tasks"].items()}
    path = out / f"compare_hw_{transform}.yaml"
    path.write_text(f"# {transform} version of configs/compare_hw_nb201.yaml (scripts/hw_transformed_grid.py)\n"
                    + yaml.safe_dump(config, sort_keys=False))
    return path


def check(base: Path, other: Path) -> int:
    """Print how many runs of ``other`` repeat their counterpart in ``base`` exactly; 1 if any differs."""
    import json

    same, differ, missing, unfinished = 0, [], 0, 0
    for path in sorted(other.rglob("summary.json")):
        rel = path.relative_to(other)
        twin = base / rel
        if not twin.is_file():
            missing += 1
            continue
        runs = [json.loads(p.read_text()) for p in (twin, path)]
        if not all(r.get("finished") for r in runs):
            unfinished += 1  # still running (or interrupted): compared once it has finished
            continue
        a, b = (r["queries"] for r in runs)
        keys = ("arch", "feasible", "best_feasible_val_acc")
        if [[q[k] for k in keys] for q in a] == [[q[k] for k in keys] for q in b]:
            same += 1
        else:
            first = next((i for i, (x, y) in enumerate(zip(a, b)) if x["arch"] != y["arch"]), min(len(a), len(b)))
            differ.append(f"{rel.parent} (first different query: {first + 1})")
    print(f"{other} against {base}: {same} runs identical (architectures, feasibility, best feasible accuracy), "
          f"{len(differ)} different, {missing} without a counterpart, {unfinished} not finished")
    for line in differ:
        print("  differs:", line)
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", nargs=2, type=Path, metavar=("BASE", "OTHER"),
                   help="compare two grids' runs instead of writing a transformed one")
    p.add_argument("--data-dir", type=Path)
    p.add_argument("--transform", choices=sorted(TRANSFORMS))
    p.add_argument("--datasets", nargs="+", default=["ImageNet16-120"])
    p.add_argument("--out", type=Path, default=Path("runs/hw_tables"))
    args = p.parse_args(argv)
    if args.check:
        return check(*args.check)
    if args.data_dir is None or args.transform is None:
        p.error("--data-dir and --transform are needed to write a transformed grid")
    args.out.mkdir(parents=True, exist_ok=True)
    for dataset in args.datasets:
        print(f"wrote {write_table(args.data_dir, dataset, args.transform, args.out)}")
    config = write_config(args.transform, args.out, str(args.out / f"hw_{args.transform}_{{dataset}}.csv"))
    print(f"wrote {config}\nrun: naslib-agnet compare --config-file {config} --data-dir {args.data_dir} --jobs 2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
