#!/usr/bin/env python
"""Time of one generator training step (the search's retraining step: spec objective, 16 samples)
for the ways of computing it, measured side by side, one torch thread, rounds interleaved.

Options (issue 15, item 4):
  reference     torch autograd over the generator's plain operations (the reference step)
  fast_numpy    the hand-derived NumPy forward and backward of model/fast_backprop.py
  torch_func    torch.func.grad over torch.func.functional_call (same operations, functional API)
  compile       torch.compile of forward + loss (inductor; compile time reported separately)
Batching: the reference step at other batch sizes (time per step and per sample).

A custom autograd.Function for the message passing alone (commit 63d866e) was measured with an
uncommitted version of this script (option gnn_function) and removed: no faster than the reference
(docs/decisions.md).

    python scripts/train_step_options.py --space nasbench201 --steps 200 --out runs/train_step_options.json
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from itertools import islice
from pathlib import Path

import numpy as np
import torch

from naslib_agnet.model import Generator, MLPPredictor
from naslib_agnet.model.losses import reconstruction_loss
from naslib_agnet.model.train_step import train_step
from naslib_agnet.spaces import get_codec
from naslib_agnet.weights import load_generator


def setup(space: str, batch: int, seed: int):
    codec = get_codec(space)
    state, config = load_generator(space)
    gen = Generator(config)
    gen.load_state_dict(state)
    predictor = MLPPredictor(config.output_dim, hidden_layers=4)
    rng = np.random.default_rng(seed)
    pool = list(islice(codec.enumerate(), 5000))
    archs = [pool[i] for i in rng.choice(len(pool), size=batch, replace=False)]
    nodes, edges = codec.encode(archs)
    targets = torch.from_numpy(rng.uniform(0.3, 0.9, batch).astype(np.float32))
    weights = torch.from_numpy(rng.uniform(0.1, 1.0, batch).astype(np.float32))
    z = torch.randn(batch, gen.latent_dim, generator=torch.Generator().manual_seed(seed))

    def objective(out, recon):
        return spec_loss(predictor(out), recon, weights, targets)

    objective.weights, objective.targets = weights, targets
    return gen, predictor, z, nodes, edges, objective


def spec_loss(prediction, recon, weights, targets):
    """The spec scorer's batch loss at alpha 0.5 (search/scorers/spec.py)."""
    return (weights * (0.5 * recon + 0.5 * (prediction - targets) ** 2)).mean()


def make_step(option: str, gen, predictor, z, nodes, edges, objective):
    tn, te = torch.from_numpy(nodes), torch.from_numpy(edges)
    params = list(gen.parameters()) + list(predictor.parameters())

    def autograd_step():
        for p in params:
            p.grad = None
        out = gen(z)
        objective(out, reconstruction_loss(out, tn, te, gen.config)).backward()

    if option == "reference":
        return autograd_step
    if option == "fast_numpy":
        return lambda: train_step(gen, z, nodes, edges, objective, engine="fast")
    if option == "torch_func":
        from torch.func import functional_call, grad
        gp = {n: p.detach() for n, p in gen.named_parameters()}
        pp = {n: p.detach() for n, p in predictor.named_parameters()}
        def loss(gp, pp):
            out = functional_call(gen, gp, (z,))
            recon = reconstruction_loss(out, tn, te, gen.config)
            return spec_loss(functional_call(predictor, pp, (out,)), recon, objective.weights, objective.targets)

        g = grad(loss, argnums=(0, 1))
        return lambda: g(gp, pp)
    if option == "compile":
        def loss_fn(z):
            out = gen(z)
            return objective(out, reconstruction_loss(out, tn, te, gen.config))
        compiled = torch.compile(loss_fn)

        def step():
            for p in params:
                p.grad = None
            compiled(z).backward()
        return step
    raise ValueError(option)


def time_steps(step, steps: int) -> list[float]:
    out = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        out.append(time.perf_counter() - start)
    return out


def grads_of(step, gen, predictor) -> list[torch.Tensor]:
    for p in list(gen.parameters()) + list(predictor.parameters()):
        p.grad = None  # the fast path accumulates into the objective's modules' gradients
    step()
    return [p.grad.clone() for p in list(gen.parameters()) + list(predictor.parameters())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--space", default="nasbench201")
    parser.add_argument("--steps", type=int, default=200, help="timed steps per option and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, the options interleaved")
    parser.add_argument("--options", default="reference,fast_numpy,torch_func",
                        help="comma-separated; add compile for torch.compile (its compilation took minutes here)")
    parser.add_argument("--batches", default="16,48,192", help="batch sizes for the batching comparison")
    parser.add_argument("--out", default=None, help="write the figures as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    options = args.options.split(",")
    gen, predictor, z, nodes, edges, objective = setup(args.space, 16, 0)
    steps, compile_s = {}, None
    for option in options:
        steps[option] = make_step(option, gen, predictor, z, nodes, edges, objective)
        if option == "compile":
            start = time.perf_counter()
            steps[option]()
            steps[option]()
            compile_s = time.perf_counter() - start
    # the options' gradients against the reference's (torch_func returns them instead of setting .grad)
    ref = grads_of(steps["reference"], gen, predictor)
    diffs = {}
    for option in options:
        if option in ("reference", "torch_func"):
            continue
        got = grads_of(steps[option], gen, predictor)
        diffs[option] = max(float((a - b).abs().max() / (b.abs().max() + 1e-12)) for a, b in zip(got, ref))
    times: dict[str, list[float]] = {o: [] for o in options}
    for _ in range(args.rounds):
        for option in options:
            times[option] += time_steps(steps[option], args.steps)
    batching: dict[str, dict[int, float]] = {}
    if "reference" in options:
        batching["reference"] = {}
        for b in (int(x) for x in args.batches.split(",")):
            step = make_step("reference", *setup(args.space, b, 0))
            batching["reference"][b] = statistics.median(time_steps(step, max(10, args.steps // 4))) * 1e3
    base = statistics.median(times[options[0]])
    print(f"{args.space}: one training step, batch 16, spec objective, 1 torch thread, "
          f"{args.rounds} rounds x {args.steps} steps per option")
    print("| option | median ms | p10-p90 ms | / first | max rel. grad diff vs reference |")
    print("|---|---|---|---|---|")
    result = {"space": args.space, "steps": args.steps, "rounds": args.rounds, "options": {}}
    for option in options:
        t = sorted(times[option])
        med = statistics.median(t)
        p10, p90 = t[len(t) // 10], t[(9 * len(t)) // 10]
        diff = diffs.get(option)
        print(f"| {option} | {med * 1e3:.2f} | {p10 * 1e3:.2f}-{p90 * 1e3:.2f} | {med / base:.2f} | "
              f"{'-' if diff is None else f'{diff:.1e}'} |")
        result["options"][option] = {"median_ms": med * 1e3, "p10_ms": p10 * 1e3, "p90_ms": p90 * 1e3,
                                     "grad_rel_diff": diff}
    if compile_s is not None:
        print(f"compile: first two steps (compilation) {compile_s:.1f} s")
        result["compile_first_steps_s"] = compile_s
    if batching:
        print("| batching | " + " | ".join(f"batch {b}: ms/step (ms/sample)" for b in batching[next(iter(batching))]) + " |")
        print("|---|" + "---|" * len(batching[next(iter(batching))]))
        for option, row in batching.items():
            print(f"| {option} | " + " | ".join(f"{ms:.2f} ({ms / b:.3f})" for b, ms in row.items()) + " |")
        result["batching_ms_per_step"] = batching
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
