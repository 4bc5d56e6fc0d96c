"""Statistics of a hardware-aware grid's runs that the Table-5 report does not show.

Per optimizer, over the finished runs under RUN_DIR (``naslib-agnet compare`` with a
``hardware:`` metric, e.g. ``configs/compare_hw_nb201.yaml``):

* runs that never evaluated a feasible architecture;
* runs whose first 16 (random) architectures held none feasible, and how many of those
  found one later;
* AG-Net's iterations and random fallbacks (an iteration whose latent draws gave no new
  valid candidate evaluates one random architecture instead);
* wall time of a run's search (median, min, max).

Usage: python scripts/hw_runs_stats.py runs/hw_compare_g2500k [--json runs/hw_runs_stats_g2500k.json]
"""
from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path


def collect(root: Path) -> dict[str, dict]:
    stats: dict[str, dict] = defaultdict(lambda: defaultdict(list))
    for path in sorted(root.rglob("summary.json")):
        s = json.loads(path.read_text())
        if "hardware" not in s or not s.get("finished"):
            continue
        q = s["queries"]
        st = stats[s["optimizer"]]
        st["runs"].append(str(path.parent.relative_to(root)))
        st["wall_s"].append(s["wall_time_s"])
        st["never_feasible"].append(q[-1]["best_feasible_val_acc"] is None)
        init_none = not any(x["feasible"] for x in q[:16])
        st["init_none"].append(init_none)
        st["init_none_escaped"].append(init_none and any(x["feasible"] for x in q[16:]))
        agnet = s.get("agnet")
        if agnet:
            st["iterations"].append(agnet["iterations"])
            st["fallbacks"].append(agnet["random_fallbacks"])
    return stats


def summarise(stats: dict[str, dict]) -> dict[str, dict]:
    out = {}
    for name, st in stats.items():
        n = len(st["runs"])
        row = {"runs": n, "never_feasible": sum(st["never_feasible"]),
               "first16_none_feasible": sum(st["init_none"]), "of_those_found_one_later": sum(st["init_none_escaped"]),
               "wall_s_median": statistics.median(st["wall_s"]), "wall_s_min": min(st["wall_s"]),
               "wall_s_max": max(st["wall_s"])}
        if st["iterations"]:
            row.update(iterations=sum(st["iterations"]), random_fallbacks=sum(st["fallbacks"]),
                       runs_with_fallback=sum(f > 0 for f in st["fallbacks"]),
                       fallbacks_per_run_median=statistics.median(st["fallbacks"]),
                       fallbacks_per_run_max=max(st["fallbacks"]))
        out[name] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--json", type=Path, help="also save the figures here")
    args = parser.parse_args()
    table = summarise(collect(args.run_dir))
    for name, row in table.items():
        print(f"{name}: " + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))
    if args.json:
        args.json.write_text(json.dumps(table, indent=1) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
