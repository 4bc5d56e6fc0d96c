"""``naslib-agnet pretrain``: train a generator on the cells of a space (every cell of a finite space,
random valid cells of DARTS), then write weights + model card."""
from __future__ import annotations

import platform
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch

from ..model import Generator, GeneratorConfig, PretrainSettings, build_generator, pretrain
from ..spaces import Codec, get_codec, sample_discrete
from ..weights import save_generator
from .config import ConfigError
from .rundir import move_aside


@torch.no_grad()
def sample_quality(generator: Generator, codec: Codec, num: int = 10_000, bound: float | None = 3.0,
                   seed: int = 12345) -> dict:
    """Validity and uniqueness of ``num`` discrete samples, z ~ U[-bound, bound] (``None``: N(0, I))."""
    rng = torch.Generator().manual_seed(seed)
    generator.eval()
    archs = []
    for lo in range(0, num, 1000):
        z = generator.sample_latent(min(1000, num - lo), generator=rng, bound=bound)
        node_logits, edge_logits = generator.generate(z)
        archs += codec.decode(*sample_discrete(node_logits, edge_logits, generator=rng), edge_logits.numpy())
    valid = [codec.cell_dedup_key(a) for a in archs if a is not None]
    return {"samples": num, "validity": len(valid) / num, "uniqueness": len(set(valid)) / max(len(valid), 1),
            "unique_valid": len(set(valid))}


#: spec §4: the pretraining settings of a space that differ from NB201's (samples 2.5 M, batch 32)
SPACE_PRETRAIN: dict[str, dict[str, int]] = {"nasbench301": {"samples": 10_000_000, "batch_size": 256}}
#: random valid cells a space that is not enumerated is pretrained on (``--cells``)
DEFAULT_CELLS = 100_000


def pretrain_defaults(space: str) -> dict[str, int]:
    """``samples`` and ``batch_size`` of the spec's pretraining of ``space``."""
    return {"samples": 2_500_000, "batch_size": 32, **SPACE_PRETRAIN.get(space, {})}


def check_pretrain_args(out: Path, samples: int, batch_size: int, lr: float, force: bool = False,
                        threads: int = 1) -> None:
    """ConfigError for settings that cannot train a generator, or an existing weights file without ``force``."""
    if batch_size < 1:
        raise ConfigError(f"--batch-size must be >= 1, got {batch_size}")
    if samples < batch_size:
        raise ConfigError(f"--samples {samples} is less than one batch ({batch_size}): the generator would not be "
                          "trained at all; the spec's pretraining sees 2,500,000 samples (the default)")
    if not lr > 0:
        raise ConfigError(f"--lr must be > 0, got {lr}")
    if threads < 1:
        raise ConfigError(f"--threads must be >= 1, got {threads}")
    for path in (out, out.with_suffix(".md")):
        if path.exists() and not force:
            raise ConfigError(f"{path} exists; not overwriting it: write elsewhere (--out), or add --force to "
                              "replace it (the old file is kept as <file>.replaced-<time>)")


def run_pretrain(space: str, out: Path, samples: int, seed: int, batch_size: int, lr: float,
                 command: str, progress: bool = True, force: bool = False, cells: int = DEFAULT_CELLS,
                 threads: int = 1) -> dict:
    """Pretrain a generator on the cells of ``space`` (every cell of a finite space; ``cells`` random valid
    cells of one that is not enumerated, drawn with ``seed``) and write its weights and model card to
    ``out`` (an existing file only with ``force``, which keeps the old one beside it). ``threads``: torch's
    threads (1 is fastest for the small batches of NB201 and NB101; NB301's batch of 256 gains from 2)."""
    check_pretrain_args(out, samples, batch_size, lr, force, threads)
    codec = get_codec(space)
    archs = codec.pretraining_cells(np.random.default_rng(seed), cells)
    nodes, edges = codec.encode(archs)
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    config = GeneratorConfig.for_codec(codec)
    generator = build_generator(config)
    settings = PretrainSettings(samples=samples, batch_size=batch_size, lr=lr)

    def report(seen: int, loss: float) -> None:
        if progress:
            print(f"  {seen:>9,d} samples  recon loss {loss:.4f}", file=sys.stderr, flush=True)

    print(f"pretraining the {space} generator on {len(archs):,} cells for {samples:,} samples", file=sys.stderr)
    stats = pretrain(generator, nodes, edges, settings, seed=seed, callback=report,
                     callback_every=max(samples // 20, 1))
    start = time.perf_counter()
    quality = sample_quality(generator, codec, bound=3.0)
    quality_normal = sample_quality(generator, codec, bound=None)
    eval_s = time.perf_counter() - start
    meta = {"command": command, "seed": seed, "samples_seen": stats["samples"], "steps": stats["steps"],
            "train_seconds": round(stats["seconds"], 1), "final_recon_loss": stats["final_loss"],
            "batch_size": batch_size, "lr": lr, "training_cells": len(archs), "threads": threads,
            "training_data": _training_data(codec, len(archs), seed),
            "sample_quality_uniform3": quality, "sample_quality_normal": quality_normal,
            "date": date.today().isoformat(), "torch": str(torch.__version__), "python": platform.python_version()}
    out.parent.mkdir(parents=True, exist_ok=True)
    for path in (out, out.with_suffix(".md")):
        if path.exists():
            print(f"moved the earlier {path.name} to {move_aside(path)}", file=sys.stderr)
    save_generator(out, space, config, generator.state_dict(), meta)
    out.with_suffix(".md").write_text(_model_card(space, meta, eval_s))
    print(f"wrote {out} and {out.with_suffix('.md')}: validity {quality['validity']:.4f}, "
          f"uniqueness {quality['uniqueness']:.4f} (10,000 samples, z ~ U[-3,3])", file=sys.stderr)
    return meta


def _training_data(codec, count: int, seed: int) -> str:
    if not codec.enumerable:
        return (f"{count:,} uniformly random valid cells of the space (seed {seed}; the space is not enumerated; "
                f"the generator sees one cell per sample, so the {' and '.join(codec.cells)} cells share it)")
    return f"the {count:,} cells of the space"


def _model_card(space: str, meta: dict, eval_s: float) -> str:
    q, qn = meta["sample_quality_uniform3"], meta["sample_quality_normal"]
    return f"""# AG-Net generator for {space}

Unsupervised pretraining (spec §4): every step reconstructs a random batch of {meta['training_data']}
from fresh z ~ N(0, I); no accuracies are used.
Adam lr {meta['lr']}, betas (0.5, 0.999), batch {meta['batch_size']}.

| | |
|---|---|
| command | `{meta['command']}` |
| seed | {meta['seed']} |
| samples seen | {meta['samples_seen']:,} ({meta['steps']:,} steps) |
| wall time (training) | {meta['train_seconds']} s ({meta['threads']} torch thread(s)) |
| final reconstruction loss | {meta['final_recon_loss']:.4f} |
| validity, 10,000 samples, z ~ U[-3,3] | {q['validity']:.4f} |
| uniqueness of the valid ones, z ~ U[-3,3] | {q['uniqueness']:.4f} ({q['unique_valid']:,} distinct cells) |
| validity, 10,000 samples, z ~ N(0,I) | {qn['validity']:.4f} |
| uniqueness, z ~ N(0,I) | {qn['uniqueness']:.4f} ({qn['unique_valid']:,} distinct cells) |
| torch / python | {meta['torch']} / {meta['python']} |
| date | {meta['date']} |

Sampling is stochastic (node types ~ Categorical, edges ~ Bernoulli of the logits, spec §2.4).
The file loads with `torch.load(path, weights_only=True)`.
"""
