#!/usr/bin/env python
"""Time per trial of AG-Net variants on NAS-Bench-201, measured side by side.

Each arm is ``LABEL=OPTIMIZER`` (this checkout) or ``LABEL=OPTIMIZER@SRC`` (the package of another
checkout, e.g. a ``git worktree`` of an older commit, put first on PYTHONPATH), optionally followed by
``+NAME=VALUE`` environment settings for that arm's processes (e.g. ``+NASLIB_AGNET_TRAIN_STEP=reference``). Trials run as fresh
``naslib-agnet search`` processes, ``--jobs`` at a time, the arms interleaved seed by seed so that
they share the machine's load; the table gives, per arm, the median and range of the search time
(summary.json ``wall_time_s``: the queries and the optimizer's work) and of the whole process, and
each arm's median over the first arm's.

    python scripts/trial_time.py --data-dir ../shared/data --seeds 6 --arm new=agnet --arm old=agnet@/tmp/old
    python scripts/trial_time.py --data-dir ../shared/data --seeds 4 --arm agnet=agnet --arm xgb=agnet_xgb
    python scripts/trial_time.py --data-dir ../shared/data --seeds 4 --arm fast=agnet \
        --arm autograd=agnet+NASLIB_AGNET_TRAIN_STEP=autograd --arm reference=agnet+NASLIB_AGNET_TRAIN_STEP=reference
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_trial(arm: tuple[str, str, str | None, dict], seed: int, args, out: Path) -> tuple[str, float, float]:
    label, optimizer, src, extra_env = arm
    env = dict(os.environ, **extra_env)
    if src:
        env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    folder = out / label
    config = REPO / "configs" / f"agnet_nb201_{args.dataset}.yaml"
    cmd = [sys.executable, "-c", "from naslib_agnet.cli.main import main; raise SystemExit(main())", "search",
           "--config-file", str(config), "--data-dir", args.data_dir, "--quiet", "out_dir", str(folder),
           "optimizer", optimizer, "seed", str(seed), "search.epochs", str(args.queries)]
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    whole = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{label} seed {seed} failed:\n{done.stderr}")
    summary = json.loads((folder / "nasbench201" / args.dataset / optimizer / "config_0" / str(seed) /
                          "summary.json").read_text())
    return label, float(summary["wall_time_s"]), whole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--seeds", type=int, default=6, help="seeds 0..N-1 per arm")
    parser.add_argument("--queries", type=int, default=192)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--arm", action="append", required=True, metavar="LABEL=OPTIMIZER[@SRC][+NAME=VALUE...]")
    args = parser.parse_args()
    arms = []
    for text in args.arm:
        head, *settings = text.split("+")
        label, _, rest = head.partition("=")
        optimizer, _, src = rest.partition("@")
        extra_env = dict(item.partition("=")[::2] for item in settings)
        if not label or not optimizer or any(not k or not v for k, v in extra_env.items()):
            parser.error(f"--arm {text!r}: expected LABEL=OPTIMIZER[@SRC][+NAME=VALUE...]")
        arms.append((label, optimizer, str(Path(src).resolve()) if src else None, extra_env))
    jobs = [(arm, seed) for seed in range(args.seeds) for arm in arms]
    times: dict[str, list[tuple[float, float]]] = {arm[0]: [] for arm in arms}
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(args.jobs) as pool:
        for label, search_s, whole_s in pool.map(lambda j: run_trial(j[0], j[1], args, Path(tmp)), jobs):
            times[label].append((search_s, whole_s))
    base = statistics.median(s for s, _ in times[arms[0][0]])
    print(f"NAS-Bench-201 {args.dataset}, {args.queries} queries, seeds 0-{args.seeds - 1}, {args.jobs} trials at a time")
    print("| arm | optimizer | search s, median (min-max) | whole process s, median | median / first arm |")
    print("|---|---|---|---|---|")
    for label, optimizer, src, extra_env in arms:
        s = [a for a, _ in times[label]]
        w = [b for _, b in times[label]]
        name = optimizer + (f" @ {src}" if src else "") + "".join(f" {k}={v}" for k, v in extra_env.items())
        print(f"| {label} | {name} | {statistics.median(s):.1f} ({min(s):.1f}-{max(s):.1f}) | "
              f"{statistics.median(w):.1f} | {statistics.median(s) / base:.2f} |")


if __name__ == "__main__":
    main()
