"""The generator's message passing (:class:`~.generator.FusedBidirectionalGNN`) as one
``torch.autograd.Function`` with a hand-written backward.

Autograd records about twenty small operations per GNN layer and call, and on a CPU with the
16-sample batches of a search their bookkeeping costs more than their arithmetic. This function
runs the same layers with one graph node for all of them and computes their backward from the
saved activations. It is the only hand-derived gradient of the generator: every other part (the
heads, the readouts, the losses, the scorers' objectives) stays with autograd, so a new generator
(e.g. other first steps) needs no new derivation. ``tests/test_train_step.py`` checks it against
the plain-autograd forward with ``torch.autograd.gradcheck`` and on the shipped generators.

One layer, per direction (leading dimension 2), with x the node states ``[2, B*t, s]``:

    proj  = x W_h + b_h                      = [from_src | to_dst | gh_rz | gh_n]
    msg   = agg from_src + deg * to_dst       (agg, deg: the partial graph, no gradient)
    gi    = msg W_i + b_i                     = [gi_rz | gi_n]
    r, u  = sigmoid(gi_rz + gh_rz)
    c     = tanh(gi_n + r * gh_n)
    x'    = c + u (x - c)
"""
from __future__ import annotations

import torch


def _forward_layers(x, agg, deg, weights, b, t, n, s, keep: bool):
    saved = []
    for hw, hb, iw, ib in weights:
        proj = torch.baddbmm(hb, x, hw)
        from_src, to_dst, gh_rz, gh_n = proj.view(2 * b, t, -1).split([n, n, 2 * s, s], dim=2)
        msg = torch.addcmul(torch.bmm(agg, from_src), deg, to_dst).view(2, b * t, n)
        gi = torch.baddbmm(ib, msg, iw)
        gi_rz, gi_n = gi.split([2 * s, s], dim=2)
        gh_n = gh_n.reshape(2, b * t, s)
        ru = torch.sigmoid(gi_rz + gh_rz.reshape(2, b * t, 2 * s))
        r, u = ru.chunk(2, dim=2)
        c = torch.tanh(gi_n + r * gh_n)
        new = c + u * (x - c)
        if keep:
            saved.append((x, msg, gh_n, ru, c))
        x = new
    return x, saved


class _GNNLayers(torch.autograd.Function):
    """``apply(x, agg, deg, dims, *per_layer_params)``; dims = (b, t, n, s, layers)."""

    @staticmethod
    def forward(ctx, x, agg, deg, dims, *params):
        b, t, n, s, layers = dims
        weights = [params[4 * i: 4 * i + 4] for i in range(layers)]
        out, saved = _forward_layers(x, agg, deg, weights, b, t, n, s, keep=True)
        ctx.dims = dims
        flat = [v for layer in saved for v in layer]
        ctx.save_for_backward(agg, deg, *params, *flat)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        b, t, n, s, layers = ctx.dims
        agg, deg, *rest = ctx.saved_tensors
        params, flat = rest[: 4 * layers], rest[4 * layers:]
        grads: list[torch.Tensor | None] = [None] * (4 * layers)
        dx = grad_out
        agg_t = agg.transpose(1, 2)
        for layer in reversed(range(layers)):
            hw, hb, iw, ib = params[4 * layer: 4 * layer + 4]
            x, msg, gh_n, ru, c = flat[5 * layer: 5 * layer + 5]
            r, u = ru.chunk(2, dim=2)
            dc = dx * (1.0 - u)
            du = dx * (x - c)
            dx_prev = dx * u
            da = dc * (1.0 - c * c)  # before tanh: d gi_n
            dr = da * gh_n
            dgh_n = da * r
            dru = torch.cat([dr, du], 2) * ru * (1.0 - ru)  # d gi_rz = d gh_rz
            dgi = torch.cat([dru, da], 2)  # [2, Bt, 3s]
            grads[4 * layer + 3] = dgi.sum(1, keepdim=True)
            grads[4 * layer + 2] = torch.bmm(msg.transpose(1, 2), dgi)
            dmsg = torch.bmm(dgi, iw.transpose(1, 2)).view(2 * b, t, n)
            d_src = torch.bmm(agg_t, dmsg)
            d_dst = dmsg * deg
            dproj = torch.cat([d_src.view(2, b * t, n), d_dst.view(2, b * t, n), dru, dgh_n], 2)
            grads[4 * layer + 1] = dproj.sum(1, keepdim=True)
            grads[4 * layer] = torch.bmm(x.transpose(1, 2), dproj)
            dx = torch.baddbmm(dx_prev, dproj, hw.transpose(1, 2))
        return (dx, None, None, None, *grads)


def gnn_layers(x: torch.Tensor, agg: torch.Tensor, deg: torch.Tensor, dims: tuple[int, int, int, int, int],
               params: list[torch.Tensor]) -> torch.Tensor:
    """The GNN layers on x ``[2, B*t, s]``; ``params`` per layer: hidden weight, hidden bias, input
    weight, input bias. Runs as one autograd node when a gradient is needed, plainly otherwise."""
    if torch.is_grad_enabled() and any(p.requires_grad for p in (x, *params)):
        return _GNNLayers.apply(x, agg, deg, dims, *params)
    b, t, n, s, layers = dims
    weights = [params[4 * i: 4 * i + 4] for i in range(layers)]
    return _forward_layers(x, agg, deg, weights, b, t, n, s, keep=False)[0]
