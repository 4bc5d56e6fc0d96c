#!/usr/bin/env python
"""What the first weighted retraining of an NB201 search leaves of the generator.

For each seed: an initial sample of 16 random cells of the table drawn with numpy's
``default_rng(seed)`` (a stand-in: the search's own draw goes through NASLib's sampling rule),
scored by val accuracy, then one retraining with the given settings (spec: 30 epochs), then N latent draws
z ~ U[-3, 3] as the candidate step makes them. Printed per seed: how many draws decode to a
valid cell, and how many distinct valid cells not in the initial sample they give (the pool the
100 candidates come from). Compares generator weights files side by side, e.g. the shipped
weights against an older or shorter-pretrained file, such as the 300 k-sample generator
shipped before commit 15df730 (docs/decisions.md):

    mkdir -p runs && git show 00a4d97:naslib_agnet/weights/nasbench201_generator.pt > runs/gen300k.pt
    python scripts/nb201_first_retraining.py --data-dir ../shared/data --seeds 8 \\
        --generator default --generator runs/gen300k.pt [KEY=VALUE settings ...]
"""
from __future__ import annotations

import argparse
import statistics
import sys

import numpy as np
import torch


def first_retraining(oracle, state, cfg, seed: int, draws: int, settings: dict) -> tuple[int, int]:
    from naslib_agnet.search import AGNetSearch, settings_from_tree
    from naslib_agnet.spaces import get_codec, sample_discrete

    search = AGNetSearch(get_codec("nasbench201"), settings_from_tree(settings, space="nasbench201"),
                         generator_state=state, generator_config=cfg, seed=seed)
    keys = oracle.keys()
    for i in np.random.default_rng(seed).choice(len(keys), search.settings.loop.num_init, replace=False):
        search.observe(keys[i], oracle.query(keys[i])["val_acc"])
    search.retrain()
    search.generator.eval()
    with torch.no_grad():
        z = search.generator.sample_latent(draws, generator=search.torch_rng, bound=search.settings.loop.latent_bound)
        types, edges = sample_discrete(*search.generator.generate(z), generator=search.torch_rng)
    valid = [a for a in search.codec.decode(types, edges) if a is not None]
    return len(valid), len(set(valid) - set(search.archs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--generator", action="append", default=None,
                        help="'default' (the shipped weights) or a weights file; repeat to compare")
    parser.add_argument("settings", nargs="*", metavar="KEY=VALUE",
                        help="AG-Net settings as in search.agnet, e.g. scorer=encoding or loop.lr=0.0005 (values parsed as JSON)")
    args = parser.parse_args(argv)

    from naslib_agnet.benchmarks import load_nb201_oracle
    from naslib_agnet.search.settings import parse_assignments, settings_from_tree
    from naslib_agnet.weights import generator_fingerprint, load_generator

    try:
        settings = parse_assignments(args.settings)
        settings_from_tree(settings)  # names and types, before the first search
    except ValueError as exc:
        parser.error(str(exc))
    torch.set_num_threads(1)
    oracle = load_nb201_oracle(args.data_dir, args.dataset)
    print(f"{args.dataset}, settings {settings or 'spec defaults'}, {args.draws} draws after the first retraining")
    print("generator | sha256 | per seed (valid draws, distinct new valid cells) | mean new | seeds with < 100 new")
    for pretrained in args.generator or ["default"]:
        state, cfg = load_generator("nasbench201", pretrained)
        counts = [first_retraining(oracle, state, cfg, seed, args.draws, settings) for seed in range(args.seeds)]
        new = [n for _, n in counts]
        print(f"{pretrained} | {generator_fingerprint('nasbench201', pretrained)} | "
              f"{' '.join(f'({v},{n})' for v, n in counts)} | {statistics.fmean(new):.0f} | "
              f"{sum(n < 100 for n in new)}/{len(new)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
