"""Validity of AG-Net's generator after the first hardware-aware retraining.

For seeds 0..N-1: draw the 16 initial architectures as the runner does (the bridge's random
sampling under ``set_seed``), run one retraining (30 epochs, spec §7 settings from
``configs/agnet_hw_nb201_ImageNet16-120.yaml`` plus the given overrides), then decode 1,000
latent points z ~ U[-3, 3] and count the valid cells; also print the mean |edge logit| of
those draws before and after the retraining and the largest change of a generator parameter.

Run from the repository root (it reads the config above by its relative path):

    python scripts/hw_first_iteration.py --data-dir ../shared/data [--seeds 4] [KEY VALUE ...]
    python scripts/hw_first_iteration.py --data-dir ../shared/data --seeds 6 search.agnet.hardware.metric_units raw   # spec §7
    python scripts/hw_first_iteration.py --data-dir ../shared/data search.agnet.hardware.metric_weight 1.0
"""
from __future__ import annotations

import argparse

import torch

from naslib_agnet.experiments.config import load_config
from naslib_agnet.experiments.runner import build, set_seed
from naslib_agnet.spaces import sample_discrete

CONFIG = "configs/agnet_hw_nb201_ImageNet16-120.yaml"


def _draws(search, draws: int) -> tuple[int, float]:
    """(valid cells among ``draws`` latent points z ~ U[-3, 3], mean |edge logit| of their outputs)."""
    with torch.no_grad():
        search.generator.eval()
        z = search.generator.sample_latent(draws, generator=torch.Generator().manual_seed(1), bound=3.0)
        node_logits, edge_logits = search.generator.generate(z)
        types, edges = sample_discrete(node_logits, edge_logits, generator=torch.Generator().manual_seed(2))
    return sum(arch is not None for arch in search.codec.decode(types, edges)), edge_logits.abs().mean().item()


def first_retraining(data_dir: str, seed: int, overrides: list[str], draws: int = 1000) -> dict:
    """Valid draws after the first retraining, mean |edge logit| before and after, largest parameter change."""
    config = load_config(CONFIG, ["seed", str(seed), *overrides])
    set_seed(seed)
    optimizer, _ = build(config, data_dir)
    for epoch in range(optimizer.settings.loop.num_init):
        optimizer.new_epoch(epoch)
    search = optimizer.search
    before = {k: v.clone() for k, v in search.generator.state_dict().items()}
    _, logits_before = _draws(search, draws)
    steps = search.retrain()
    valid, logits_after = _draws(search, draws)
    change = max((v - before[k]).abs().max().item() for k, v in search.generator.state_dict().items())
    return {"valid": valid, "edge_logit_before": logits_before, "edge_logit_after": logits_after,
            "max_param_change": change, "steps": steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("overrides", nargs="*", help="NASLib-style KEY VALUE overrides of the config")
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = [first_retraining(args.data_dir, s, args.overrides) for s in range(args.seeds)]
    for seed, r in enumerate(results):
        print(f"seed {seed}: mean |edge logit| {r['edge_logit_before']:.1f} -> {r['edge_logit_after']:.1f}, "
              f"largest generator parameter change {r['max_param_change']:.4f} in {r['steps']} Adam steps")
    print(f"{CONFIG} {' '.join(args.overrides)}: valid of 1,000 samples after the first retraining, "
          f"seeds 0-{args.seeds - 1}: {[r['valid'] for r in results]}")


if __name__ == "__main__":
    main()
