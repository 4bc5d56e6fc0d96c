"""The AG-Net networks: sizes, batch independence, differentiability, losses and rank weights."""
import numpy as np
import pytest
import torch

from naslib_agnet.model import (Generator, GeneratorConfig, MLPPredictor, rank_weights, reconstruction_loss,
                                search_loss)


def make(k=7, n=8, seed=0):
    torch.manual_seed(seed)
    cfg = GeneratorConfig(num_classes=k, max_nodes=n)
    return cfg, Generator(cfg), MLPPredictor(cfg.output_dim)


def test_parameter_counts_match_the_authors_networks():
    # spec §2.1 / §3.2: generator 42,474 (NB201) and 42,344 (NB101); predictor 28,645 (NB201)
    cfg, gen, pred = make()
    assert sum(p.numel() for p in gen.parameters()) == 42_474
    assert sum(p.numel() for p in pred.parameters()) == 28_645
    assert sum(p.numel() for p in make(5, 7)[1].parameters()) == 42_344


def test_output_layout_and_fixed_parts():
    cfg, gen, _ = make()
    nodes, edges = gen.generate(torch.randn(5, 32))
    assert nodes.shape == (5, 8, 7) and edges.shape == (5, 28)
    assert torch.all(nodes[:, 0].argmax(-1) == 1)  # node 0 is always 'input'
    assert torch.all(edges[:, 0] == 20.0)  # edge 0->1 is always present
    assert gen(torch.randn(5, 32)).shape == (5, cfg.output_dim) == (5, 84)


def test_each_graph_is_independent_of_its_batch_mates():
    _, gen, _ = make()
    gen.eval()
    z = torch.randn(12, 32) * 2
    # make the partial graphs non-trivial: some edges above and some below the threshold
    with torch.no_grad():
        together = gen(z)
        alone = torch.cat([gen(z[i:i + 1]) for i in range(12)])
        shuffled = gen(z.flip(0)).flip(0)
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(together, shuffled, rtol=1e-5, atol=1e-5)
    edge_part = together[:, 56:]
    assert (edge_part > 0.5).any() and (edge_part <= 0.5).any()


def test_prediction_loss_gradient_reaches_every_generator_parameter():
    cfg, gen, pred = make()
    out = gen(torch.randn(16, 32))
    loss = ((pred(out) - torch.rand(16)) ** 2).mean()
    loss.backward()
    for name, p in gen.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_reconstruction_loss_is_per_graph_mean_of_node_ce_and_edge_bce():
    cfg, gen, _ = make()
    out = gen(torch.randn(3, 32))
    nodes = torch.randint(0, 7, (3, 8))
    edges = torch.randint(0, 2, (3, 28)).float()
    loss = reconstruction_loss(out, nodes, edges, cfg)
    node_logits = out[:, :56].reshape(3, 8, 7)
    expected = torch.stack([
        torch.nn.functional.cross_entropy(node_logits[i], nodes[i])
        + torch.nn.functional.binary_cross_entropy_with_logits(out[i, 56:], edges[i]) for i in range(3)])
    torch.testing.assert_close(loss, expected)


def test_search_loss_weights_each_sample():
    recon = torch.tensor([1.0, 2.0])
    pred, target = torch.tensor([0.5, 0.5]), torch.tensor([0.5, 0.0])
    loss = search_loss(recon, pred, target, torch.tensor([2.0, 1.0]), alpha=0.9)
    assert loss.item() == pytest.approx((2 * 0.1 * 1.0 + 1 * (0.1 * 2.0 + 0.9 * 0.25)) / 2)


def test_rank_weights_values_from_the_spec():
    scores = np.arange(16, dtype=float)  # the best is the last
    w = rank_weights(scores, k=0.01)
    assert w[15] == pytest.approx(6.25)
    assert w[14] == pytest.approx(1 / 1.16)
    assert w[0] == pytest.approx(1 / 15.16)
    assert rank_weights(np.zeros(304))[0] == pytest.approx(1 / 3.04)
    # ties are broken by position; weights follow the ranks
    assert list(rank_weights(np.array([1.0, 1.0, 3.0]), k=0.01)) == pytest.approx(
        [1 / 1.03, 1 / 2.03, 1 / 0.03])
