#!/usr/bin/env python
"""How well each AG-Net scorer ranks the candidates it is given, on the real NB201 table.

1. Fitted on 200 random cells (retraining 3, 10 and 30 epochs from the shipped generator), the
   Spearman correlation of the scorer's values of 500 generated candidates with their validation
   accuracy.
2. After 48 random observations, the mean validation accuracy of the 16 candidates the loop picks
   from its pool of 100, minus the pool's mean, per seed (0 = no better than a random pick).

    python scripts/scorer_ranking.py --data-dir ../shared/data [--scorers spec ranker] [--seeds 12]
"""
from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--scorers", nargs="+", default=["spec", "ranker"])
    parser.add_argument("--seeds", type=int, default=12, help="seeds 0..N-1 of the choice test")
    args = parser.parse_args()

    import torch
    from scipy.stats import spearmanr

    from naslib_agnet.benchmarks import load_nb201_oracle
    from naslib_agnet.search import AGNetSearch, AGNetSettings
    from naslib_agnet.spaces import get_codec
    from naslib_agnet.weights import load_generator

    torch.set_num_threads(1)
    oracle = load_nb201_oracle(args.data_dir, args.dataset)
    keys = oracle.keys()
    val = lambda arch: oracle.query(arch)["val_acc"]  # noqa: E731

    def search(scorer, seed, **loop):
        state, cfg = load_generator("nasbench201", "default")
        extra = {"acquisition": "mean"} if scorer == "ranker" else None
        return AGNetSearch(get_codec("nasbench201"), AGNetSettings.build(scorer=scorer, loop=loop, scorer_settings=extra),
                           generator_state=state, generator_config=cfg, seed=seed)

    order = np.random.default_rng(7).permutation(len(keys))
    print(f"{args.dataset}: Spearman of the scorer's values of 500 candidates with val accuracy, fitted on 200 cells")
    for name in args.scorers:
        row = []
        for epochs in (3, 10, 30):
            s = search(name, 0, retrain_epochs=epochs, num_candidates=500)
            for i in order[:200]:
                s.observe(keys[i], val(keys[i]))
            s.retrain()
            s.scorer.fit(s.observations())
            candidates = s.generate_candidates()
            row.append(spearmanr([v for _, v in candidates], [val(a) for a, _ in candidates]).statistic)
        print(f"  {name:8s} after 3 / 10 / 30 epochs: " + " / ".join(f"{r:.2f}" for r in row))

    print(f"mean val of the 16 chosen minus the pool's mean, 48 observations, seeds 0-{args.seeds - 1}")
    for name in args.scorers:
        gains = []
        for seed in range(args.seeds):
            s = search(name, seed)
            for i in np.random.default_rng(100 + seed).choice(len(keys), 48, replace=False):
                s.observe(keys[i], val(keys[i]))
            chosen = s.propose()
            pool = [a for a, _ in s.last_candidates]
            if len(pool) <= 16:
                gains.append(float("nan"))  # the generator lost its cells: no choice to judge
                continue
            truth = {a: val(a) for a in pool}
            gains.append(float(np.mean([truth[a] for a in chosen]) - np.mean(list(truth.values()))))
        print(f"  {name:8s} mean {np.nanmean(gains):+.2f} (seeds without a choice: {int(np.isnan(gains).sum())}): "
              + " ".join("-" if np.isnan(g) else f"{g:+.2f}" for g in gains))


if __name__ == "__main__":
    main()
