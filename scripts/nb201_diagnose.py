#!/usr/bin/env python
"""Diagnose one AG-Net trial on NAS-Bench-201: per iteration, how good the candidates are, whether
the table optimum is among them, and whether the predictor (or ranker) ranks them (Spearman
correlation of its score with the true val accuracy of the candidates).

The trial is the one ``scripts/nb201_search.py`` runs for the same dataset, seed and overrides
(same config file, same initial sample, same random streams), so a trial of a results file can be
traced query for query.

    python scripts/nb201_diagnose.py --data-dir ../shared/data --dataset cifar10 --seed 0
    python scripts/nb201_diagnose.py --data-dir ../shared/data --dataset cifar100 --seed 1 \\
        search.agnet.scorer ranker
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def spearman(a, b) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1]) if len(a) > 1 else float("nan")


def _merge_tree(node: dict, values: dict) -> None:
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(node.get(key), dict):
            _merge_tree(node[key], value)
        else:
            node[key] = value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--queries", type=int, default=192)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="an AG-Net setting as in search.agnet, e.g. scorer=encoding or loop.lr=1e-4; like the "
                             "override search.agnet.NAME VALUE, with VALUE read as JSON (1e-5, true)")
    parser.add_argument("opts", nargs="*", help="extra KEY VALUE config overrides, as for nb201_search.py")
    args = parser.parse_args()

    from naslib_agnet.experiments.config import ConfigError, load_config
    from naslib_agnet.experiments.runner import start_search
    from naslib_agnet.search.settings import parse_assignments, settings_from_tree

    try:
        config = load_config(REPO / "configs" / f"agnet_nb201_{args.dataset}.yaml",
                             ["seed", str(args.seed), "search.epochs", str(args.queries), *args.opts])
        settings = parse_assignments(args.set)
        settings_from_tree(settings)  # names and types, before they join the config
        _merge_tree(config["search"]["agnet"], settings)
    except (ValueError, ConfigError) as exc:
        parser.error(str(exc))
    optimizer, dataset_api = start_search(config, args.data_dir)  # as run_search starts the benchmark's trial
    oracle = dataset_api["nb201_oracle"]
    optimum_arch, optimum = oracle.best("val_acc")
    search = optimizer.search
    val = lambda arch: oracle.query(arch)["val_acc"]  # noqa: E731
    print("observed  best    cands  rho(score,true)  mean cand  mean chosen  best cand  best chosen  "
          "optimum  edits from incumbent (0..6)")
    for epoch in range(args.queries):
        iterations = search.timings.iterations
        observed, incumbent = len(search.archs), (search.best() if search.archs else (None, float("nan")))
        optimizer.new_epoch(epoch)
        if search.timings.iterations == iterations:
            continue
        cands = search.last_candidates
        chosen = [optimizer.last_architecture.get_hash(), *(g.get_hash() for g in optimizer.queue)]
        true = [val(a) for a, _ in cands]
        edits = np.bincount([sum(x != y for x, y in zip(a, incumbent[0])) for a, _ in cands], minlength=7)
        where = "cand" if any(tuple(a) == tuple(optimum_arch) for a, _ in cands) else "-"
        where = "chosen" if tuple(optimum_arch) in {tuple(a) for a in chosen} else where
        chosen_true = [val(a) for a in chosen]
        print(f"{observed:8d}  {incumbent[1]:6.2f}  {len(cands):5d}  {spearman([p for _, p in cands], true):15.2f}"
              f"  {np.mean(true) if true else float('nan'):9.2f}  {np.mean(chosen_true):11.2f}"
              f"  {max(true) if true else float('nan'):9.2f}  {max(chosen_true):11.2f}  {where:>7}  {edits.tolist()}")
    print(f"final best {search.best()[1]:.2f} (table optimum {optimum:.2f}), {len(search.archs)} queries")


if __name__ == "__main__":
    main()
