"""The NumPy forward/backward (naslib_agnet.model.fast_backprop) against torch autograd.

The hand-written pass runs on the float32 modules; the reference is autograd on float64
copies of the same modules (so float32 noise of the reference does not enter), plus an
exact check of the float64 NumPy path against the float64 torch path.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from naslib_agnet.model.fast_backprop import forward_output, search_loss_and_grad
from naslib_agnet.model.generator import EDGE_THRESHOLD, Generator, GeneratorConfig
from naslib_agnet.model.losses import reconstruction_loss, search_loss
from naslib_agnet.model.predictor import MLPPredictor

CONFIGS = {
    "K7N8": GeneratorConfig(num_classes=7, max_nodes=8),
    "K5N7": GeneratorConfig(num_classes=5, max_nodes=7),
    "odd": GeneratorConfig(num_classes=5, max_nodes=5, node_dim=8, graph_dim=6, gnn_layers=3),
}
HIDDEN = {"K7N8": 4, "K5N7": 2, "odd": 0}  # predictor hidden layers
BATCHES = [1, 3, 16]
ALPHAS = [0.0, 0.9]


def make_case(cfg: GeneratorConfig, batch: int, alpha: float, seed: int = 0, hidden: int = 2):
    """Random float32 modules and data. The edge head is rescaled (bias 0.5, weight x10) so
    that the thresholded partial graphs mix present and absent edges."""
    torch.manual_seed(seed)
    gen = Generator(cfg)
    with torch.no_grad():
        gen.edge_out.weight.mul_(10.0)
        gen.edge_out.bias.fill_(0.5)
    pred = MLPPredictor(cfg.output_dim, hidden_layers=hidden) if alpha != 0.0 else None
    z = torch.randn(batch, cfg.latent_dim)
    tn = torch.randint(0, cfg.num_classes, (batch, cfg.max_nodes))
    te = torch.randint(0, 2, (batch, cfg.num_edges))
    acc = torch.rand(batch)
    w = torch.rand(batch) + 0.5
    return gen, pred, z, tn, te, acc, w


def params_of(gen, pred):
    return list(gen.parameters()) + (list(pred.parameters()) if pred is not None else [])


def torch_loss(gen, pred, z, tn, te, acc, w, alpha):
    """The search step as the search runs it in torch; returns the loss (graph kept)."""
    out = gen(z)
    recon = reconstruction_loss(out, tn, te, gen.config)
    if pred is None:
        return (w * recon).mean()
    return search_loss(recon, pred(out), acc, w, alpha)


def torch_reference(gen, pred, z, tn, te, acc, w, alpha):
    """Loss and gradients from autograd on float64 copies of the modules."""
    gen64 = copy.deepcopy(gen).double()
    pred64 = copy.deepcopy(pred).double() if pred is not None else None
    loss = torch_loss(gen64, pred64, z.double(), tn, te, acc.double(), w.double(), alpha)
    loss.backward()
    return loss.item(), [p.grad for p in params_of(gen64, pred64)]


def numpy_step(gen, pred, z, tn, te, acc, w, alpha):
    return search_loss_and_grad(gen, pred, z.numpy(), tn.numpy(), te.numpy(),
                                acc.numpy() if pred is not None else None,
                                w.numpy(), alpha)


def edge_logits(gen, z):
    cfg = gen.config
    return forward_output(gen, z.numpy())[:, cfg.max_nodes * cfg.num_classes:]


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("name", list(CONFIGS))
def test_matches_torch(name, batch, alpha):
    cfg = CONFIGS[name]
    gen, pred, z, tn, te, acc, w = make_case(cfg, batch, alpha, seed=batch, hidden=HIDDEN[name])

    # (1) forward output
    with torch.no_grad():
        ref_out = gen(z).numpy()
    out = forward_output(gen, z.numpy())
    assert out.shape == (batch, cfg.output_dim) and out.dtype == np.float32
    np.testing.assert_allclose(out, ref_out, rtol=0, atol=1e-4)
    # the float32 and float64 passes must see the same partial graphs
    decided = edge_logits(gen, z)[:, 1:]
    assert np.abs(decided - EDGE_THRESHOLD).min() > 1e-4, "an edge logit sits on the threshold"

    # (2) loss value, (3) every gradient
    ref_loss, ref_grads = torch_reference(gen, pred, z, tn, te, acc, w, alpha)
    loss = numpy_step(gen, pred, z, tn, te, acc, w, alpha)
    assert loss == pytest.approx(ref_loss, rel=1e-4)
    with torch.no_grad():
        loss32 = torch_loss(gen, pred, z, tn, te, acc, w, alpha).item()
    assert loss == pytest.approx(loss32, rel=1e-4)
    names = [n for n, _ in gen.named_parameters()] + \
            ([f"predictor.{n}" for n, _ in pred.named_parameters()] if pred is not None else [])
    for pname, p, ref in zip(names, params_of(gen, pred), ref_grads):
        assert ref is not None, pname
        assert p.grad is not None and p.grad.dtype == torch.float32, pname
        torch.testing.assert_close(p.grad.double(), ref, rtol=1e-3, atol=1e-5, msg=lambda m: f"{pname}: {m}")


@pytest.mark.parametrize("name", list(CONFIGS))
def test_float64_path_is_exact(name):
    """On float64 modules the NumPy pass is the same arithmetic as autograd up to rounding."""
    cfg = CONFIGS[name]
    gen, pred, z, tn, te, acc, w = make_case(cfg, 5, 0.9, seed=7, hidden=HIDDEN[name])
    gen, pred, z, acc, w = gen.double(), pred.double(), z.double(), acc.double(), w.double()
    with torch.no_grad():
        np.testing.assert_allclose(forward_output(gen, z.numpy()), gen(z).numpy(), rtol=1e-12, atol=1e-12)
    loss = torch_loss(gen, pred, z, tn, te, acc, w, 0.9)
    loss.backward()
    ref = [p.grad.clone() for p in params_of(gen, pred)]
    value = numpy_step(gen, pred, z, tn, te, acc, w, 0.9)
    assert value == pytest.approx(loss.item(), rel=1e-12)
    for p, r in zip(params_of(gen, pred), ref):
        torch.testing.assert_close(p.grad, r, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_thresholded_graph_is_mixed(name):
    """The partial graphs the GNN sees contain both present and absent edges."""
    cfg = CONFIGS[name]
    gen, _, z, *_ = make_case(cfg, 16, 0.0, seed=16)
    # edges decided at steps 2..N-2 feed the GNN (edge 0->1 is fixed, the last step's are unused)
    n_fed = cfg.num_edges - (cfg.max_nodes - 1)
    fed = edge_logits(gen, z)[:, 1:n_fed]
    frac = float((fed > EDGE_THRESHOLD).mean())
    assert 0.0 < frac < 1.0, frac


def test_gradient_is_set_not_accumulated():
    cfg = CONFIGS["K7N8"]
    gen, pred, z, tn, te, acc, w = make_case(cfg, 16, 0.9, seed=3, hidden=HIDDEN["K7N8"])
    params = params_of(gen, pred)
    for p in params:  # stale gradients must be overwritten
        p.grad = torch.full_like(p, 123.0)
    first_loss = numpy_step(gen, pred, z, tn, te, acc, w, 0.9)
    first = [p.grad.clone() for p in params]
    second_loss = numpy_step(gen, pred, z, tn, te, acc, w, 0.9)
    assert first_loss == second_loss
    for p, g in zip(params, first):
        torch.testing.assert_close(p.grad, g, rtol=0, atol=0)
    # and they equal the gradients computed from no gradient at all
    for p in params:
        p.grad = None
    numpy_step(gen, pred, z, tn, te, acc, w, 0.9)
    for p, g in zip(params, first):
        torch.testing.assert_close(p.grad, g, rtol=0, atol=0)


def test_pretraining_defaults_and_optimizer_step():
    """alpha = 0, no predictor, weights None (= all ones); an Adam step can follow."""
    cfg = CONFIGS["K5N7"]
    gen, _, z, tn, te, *_ = make_case(cfg, 8, 0.0, seed=4)
    ref = copy.deepcopy(gen)
    loss_ref = reconstruction_loss(ref(z), tn, te, cfg).mean()
    loss_ref.backward()
    loss = search_loss_and_grad(gen, None, z.numpy(), tn.numpy(), te.numpy(), None, None, 0.0)
    assert loss == pytest.approx(loss_ref.item(), rel=1e-5)
    for p, r in zip(gen.parameters(), ref.parameters()):
        torch.testing.assert_close(p.grad, r.grad, rtol=1e-3, atol=1e-5)
    opt, opt_ref = torch.optim.Adam(gen.parameters(), lr=1e-2), torch.optim.Adam(ref.parameters(), lr=1e-2)
    opt.step()
    opt_ref.step()
    for p, r in zip(gen.parameters(), ref.parameters()):
        torch.testing.assert_close(p.detach(), r.detach(), rtol=1e-4, atol=1e-5)
    # the NumPy pass reads the updated parameters (zero-copy views)
    with torch.no_grad():
        np.testing.assert_allclose(forward_output(gen, z.numpy()), gen(z).numpy(), atol=1e-4)


def test_predictor_with_alpha_zero_gets_zero_gradient():
    cfg = CONFIGS["odd"]
    gen, _, z, tn, te, acc, w = make_case(cfg, 3, 0.0, seed=5)
    pred = MLPPredictor(cfg.output_dim, hidden_layers=1)
    ref_loss = search_loss(reconstruction_loss(gen(z), tn, te, cfg), pred(gen(z)), acc, w, 0.0).item()
    loss = search_loss_and_grad(gen, pred, z.numpy(), tn.numpy(), te.numpy(), acc.numpy(), w.numpy(), 0.0)
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    for p in pred.parameters():
        assert p.grad is not None and not p.grad.any()


def test_two_node_generator():
    """N = 2: no GNN and no edge head; torch leaves their grads None, here they are 0."""
    cfg = GeneratorConfig(num_classes=4, max_nodes=2, node_dim=6, graph_dim=4)
    gen, pred, z, tn, te, acc, w = make_case(cfg, 3, 0.9, seed=6, hidden=1)
    loss_ref, ref = torch_reference(gen, pred, z, tn, te, acc, w, 0.9)
    loss = numpy_step(gen, pred, z, tn, te, acc, w, 0.9)
    assert loss == pytest.approx(loss_ref, rel=1e-4)
    for p, r in zip(params_of(gen, pred), ref):
        if r is None:
            assert not p.grad.any()
        else:
            torch.testing.assert_close(p.grad.double(), r, rtol=1e-3, atol=1e-5)


def test_rejects_bad_arguments():
    cfg = CONFIGS["odd"]
    gen, _, z, tn, te, acc, w = make_case(cfg, 2, 0.0)
    with pytest.raises(ValueError):
        search_loss_and_grad(gen, None, z.numpy(), tn.numpy(), te.numpy(), acc.numpy(), w.numpy(), 0.5)
    with pytest.raises(ValueError):
        forward_output(gen, np.zeros((2, cfg.latent_dim + 1), np.float32))


def test_parameter_views_follow_storage_and_grad_changes():
    """The cached numpy views are refreshed when torch swaps a parameter's storage or dtype,
    or when the gradients are removed (``zero_grad(set_to_none=True)``)."""
    cfg = CONFIGS["odd"]
    gen, pred, z, tn, te, acc, w = make_case(cfg, 4, 0.9, seed=8, hidden=1)
    numpy_step(gen, pred, z, tn, te, acc, w, 0.9)
    with torch.no_grad():                      # new storage for some parameters
        gen.z_proj.weight.data = gen.z_proj.weight.data * 0.5
        gen.gnn.hidden_weight[0].data = gen.gnn.hidden_weight[0].data.clone()
    for p in params_of(gen, pred):
        p.grad = None
    ref_loss, ref = torch_reference(gen, pred, z, tn, te, acc, w, 0.9)
    assert numpy_step(gen, pred, z, tn, te, acc, w, 0.9) == pytest.approx(ref_loss, rel=1e-4)
    for p, r in zip(params_of(gen, pred), ref):
        torch.testing.assert_close(p.grad.double(), r, rtol=1e-3, atol=1e-5)
    # a dtype conversion of the modules after use
    gen, pred = gen.double(), pred.double()
    z64, acc64, w64 = z.double(), acc.double(), w.double()
    loss = torch_loss(gen, pred, z64, tn, te, acc64, w64, 0.9)
    for p in params_of(gen, pred):
        p.grad = None
    loss.backward()
    ref = [p.grad.clone() for p in params_of(gen, pred)]
    assert numpy_step(gen, pred, z64, tn, te, acc64, w64, 0.9) == pytest.approx(loss.item(), rel=1e-12)
    for p, r in zip(params_of(gen, pred), ref):
        torch.testing.assert_close(p.grad, r, rtol=1e-9, atol=1e-12)


def test_blas_runs_single_threaded_and_is_restored(monkeypatch):
    from threadpoolctl import threadpool_info

    import naslib_agnet.model.fast_backprop as fb

    cfg = CONFIGS["odd"]
    gen, _, z, tn, te, *_ = make_case(cfg, 2, 0.0)
    before = [(i["filepath"], i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"]
    seen = []
    real_forward = fb._forward

    def spy(*args):
        seen.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        return real_forward(*args)

    monkeypatch.setattr(fb, "_forward", spy)
    search_loss_and_grad(gen, None, z.numpy(), tn.numpy(), te.numpy(), None, None, 0.0)
    assert seen and all(n == 1 for n in seen)
    assert [(i["filepath"], i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"] == before
