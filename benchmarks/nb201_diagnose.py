#!/usr/bin/env python
"""Diagnose one AG-Net trial on NAS-Bench-201: per iteration, how good the candidates are and
whether the predictor ranks them (Spearman correlation of predicted vs. true val accuracy).

    python benchmarks/nb201_diagnose.py --data-dir ../shared/data --dataset cifar10 --seed 0
    python benchmarks/nb201_diagnose.py --data-dir ../shared/data --set predictor_input=generated+encoding
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from naslib_agnet.benchmarks import load_nb201_oracle
from naslib_agnet.search import AGNetSearch, AGNetSettings
from naslib_agnet.spaces import get_codec
from naslib_agnet.weights import load_generator


def spearman(a, b) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1]) if len(a) > 1 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--queries", type=int, default=192)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="an AG-Net setting (a field of AGNetSettings), e.g. predictor_input=encoding")
    args = parser.parse_args()
    try:
        overrides = AGNetSettings.parse_assignments(args.set)
    except ValueError as exc:
        parser.error(str(exc))
    torch.set_num_threads(1)
    oracle = load_nb201_oracle(args.data_dir, args.dataset)
    state, cfg = load_generator("nasbench201")
    search = AGNetSearch(get_codec("nasbench201"), AGNetSettings.from_mapping(overrides), generator_state=state,
                         generator_config=cfg, seed=args.seed)
    keys = oracle.keys()
    val = lambda arch: oracle.query(arch)["val_acc"]  # noqa: E731
    for i in np.random.default_rng(args.seed).choice(len(keys), 16, replace=False):
        search.observe(keys[i], val(keys[i]))
    print("observed  best    cands  rho(pred,true)  mean cand  mean chosen  best cand  edits from incumbent (0..6)")
    while len(search.archs) < args.queries:
        chosen = search.propose()
        cands = search.last_candidates
        true = [val(a) for a, _ in cands]
        best_arch, best = search.best()
        edits = np.bincount([sum(x != y for x, y in zip(a, best_arch)) for a, _ in cands], minlength=7)
        print(f"{len(search.archs):8d}  {best:6.2f}  {len(cands):5d}  {spearman([p for _, p in cands], true):14.2f}"
              f"  {np.mean(true):9.2f}  {np.mean([val(a) for a in chosen]) if chosen else float('nan'):11.2f}"
              f"  {max(true) if true else float('nan'):9.2f}  {edits.tolist()}")
        for arch in chosen:
            search.observe(arch, val(arch))
    print(f"final best {search.best()[1]:.2f} (table optimum {oracle.best('val_acc')[1]:.2f})")


if __name__ == "__main__":
    main()
