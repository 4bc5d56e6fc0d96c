"""The one training step: the accelerated path (NumPy generator, autograd objective) against the torch
autograd reference, for the objective of every scorer and of the hardware-aware search; the fallback to
the reference for a generator the NumPy code does not cover."""
import numpy as np
import pytest
import torch

from naslib_agnet.compat import naslib_importable
from naslib_agnet.model.train_step import train_step
from naslib_agnet.search import AGNetSearch, AGNetSettings
from naslib_agnet.search.scorers import SCORERS
from naslib_agnet.spaces import get_codec
from naslib_agnet.weights import load_generator


def observed(scorer, seed=0):
    pytest.importorskip("xgboost") if scorer.startswith("xgb") else None
    state, cfg = load_generator("nasbench201", "default")
    search = AGNetSearch(get_codec("nasbench201"), AGNetSettings.build(scorer=scorer), generator_state=state,
                         generator_config=cfg, seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(24):
        arch = tuple(int(v) for v in rng.integers(0, 5, 6))
        if not search.is_seen(arch):
            search.observe(arch, float(rng.uniform(60, 90)))
    search.scorer.fit(search.observations())  # XGB + ranking's rank term needs a fitted model
    return search


def grads(search, engine):
    obs = search.observations()
    idx = np.arange(16)
    targets, weights = search._targets()[idx], search._weights()[idx].astype(np.float32)
    z = torch.randn(16, search.generator.latent_dim, generator=torch.Generator().manual_seed(5))
    params = [*search.generator.parameters(), *search.scorer.parameters()]
    for p in params:
        p.grad = None
    loss = train_step(search.generator, z, obs.nodes[idx], obs.edges[idx],
                      search._objective(obs.nodes[idx], obs.edges[idx], targets, weights), engine=engine)
    return loss, [p.grad.clone() if p.grad is not None else torch.zeros_like(p) for p in params]


@pytest.mark.parametrize("scorer", [pytest.param(n, marks=pytest.mark.skipif(
    n == "naslib" and not naslib_importable(), reason="needs NASLib")) for n in sorted(SCORERS)])
def test_fast_step_equals_the_autograd_reference(scorer):
    # xgb_ranking draws its architectures from a seeded generator: the same draws on both paths
    loss_ref, ref = grads(observed(scorer), "reference")
    loss_fast, fast = grads(observed(scorer), "fast")
    assert loss_fast == pytest.approx(loss_ref, rel=1e-4)
    for a, b in zip(fast, ref):
        torch.testing.assert_close(a, b, rtol=2e-3, atol=2e-6)
    assert any(float(g.abs().max()) > 0 for g in ref)


def test_fast_step_equals_the_reference_for_the_hardware_objective():
    from naslib_agnet.benchmarks.constraints import parse_constraints
    from naslib_agnet.search import HardwareAGNetSearch

    def hw():
        state, cfg = load_generator("nasbench201", "default")
        search = HardwareAGNetSearch(get_codec("nasbench201"), constraints=parse_constraints("lat <= 4"),
                                     joint=False, condition=[1, 0, 0, 0, 0, 0], generator_state=state,
                                     generator_config=cfg, seed=0)
        rng = np.random.default_rng(0)
        for _ in range(24):
            arch = tuple(int(v) for v in rng.integers(0, 5, 6))
            if not search.is_seen(arch):
                search.observe(arch, float(rng.uniform(30, 45)), float(rng.uniform(1, 8)))
        return search

    loss_ref, ref = grads(hw(), "reference")
    loss_fast, fast = grads(hw(), "fast")
    assert loss_fast == pytest.approx(loss_ref, rel=1e-4)
    for a, b in zip(fast, ref):
        torch.testing.assert_close(a, b, rtol=2e-3, atol=2e-6)


def test_engine_names_are_checked(monkeypatch):
    from naslib_agnet.model.train_step import default_engine

    monkeypatch.setenv("NASLIB_AGNET_TRAIN_STEP", "cuda")
    with pytest.raises(ValueError, match="NASLIB_AGNET_TRAIN_STEP='cuda'"):
        default_engine()


def test_a_generator_the_numpy_code_does_not_cover_falls_back_to_the_reference():
    from naslib_agnet.model import Generator
    from naslib_agnet.model.train_step import resolve_engine

    state, cfg = load_generator("nasbench201", "default")

    class OtherFirstStep(Generator):  # e.g. the DARTS space's generator with its own first steps
        pass

    assert resolve_engine(Generator(cfg), "fast") == "fast"
    other = OtherFirstStep(cfg)
    other.load_state_dict(state)
    assert resolve_engine(other, "fast") == "reference"
    assert resolve_engine(other, "auto") == "reference"
    z = torch.randn(4, other.latent_dim, generator=torch.Generator().manual_seed(2))
    nodes, edges = get_codec("nasbench201").encode([(0, 1, 2, 3, 4, 0)] * 4)
    loss = train_step(other, z, nodes, edges, lambda out, recon: recon.mean(), engine="fast")
    grads_fast = [p.grad.clone() for p in other.parameters()]
    assert loss == pytest.approx(train_step(other, z, nodes, edges, lambda out, recon: recon.mean(),
                                            engine="reference"), rel=1e-6)
    for a, p in zip(grads_fast, other.parameters()):
        torch.testing.assert_close(a, p.grad, rtol=2e-3, atol=2e-6)


def test_the_node_loss_weight_is_the_same_on_both_paths_and_changes_the_gradient():
    state, cfg = load_generator("nasbench201", "default")
    from naslib_agnet.model import Generator

    gen = Generator(cfg)
    gen.load_state_dict(state)
    z = torch.randn(8, gen.latent_dim, generator=torch.Generator().manual_seed(3))
    nodes, edges = get_codec("nasbench201").encode([(0, 1, 2, 3, 4, 0), (4, 4, 3, 2, 1, 0)] * 4)

    def run(engine, weight):
        loss = train_step(gen, z, nodes, edges, lambda out, recon: recon.mean(), engine=engine, node_weight=weight)
        return loss, [p.grad.clone() for p in gen.parameters()]

    loss_ref, ref = run("reference", 2.0)
    loss_fast, fast = run("fast", 2.0)
    assert loss_fast == pytest.approx(loss_ref, rel=1e-5)
    for a, b in zip(fast, ref):
        torch.testing.assert_close(a, b, rtol=2e-3, atol=2e-6)
    loss_one, _ = run("reference", 1.0)
    assert loss_ref > loss_one  # the node term counts twice


def test_the_darts_generator_runs_on_the_reference_step():
    from naslib_agnet.model import GeneratorConfig, TwoInputGenerator, build_generator
    from naslib_agnet.model.train_step import resolve_engine

    gen = build_generator(GeneratorConfig.for_codec(get_codec("nasbench301")))
    assert type(gen) is TwoInputGenerator and resolve_engine(gen, "fast") == "reference"
