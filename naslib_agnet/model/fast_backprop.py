"""Hand-derived NumPy forward + backward of the AG-Net training step (fast CPU path).

One search step is::

    out  = generator(z)                                      # [B, D]
    L_G  = reconstruction_loss(out, target_nodes, target_edges, config)
    P    = predictor(out)
    loss = search_loss(L_G, P, target_acc, weights, alpha)
    loss.backward()

In PyTorch that is a few thousand tiny tensor operations whose dispatch and autograd
overhead dominate on a CPU. This module computes the same function and its gradient with
a small, fixed number of NumPy calls per generation step:

* the forward pass keeps every intermediate the backward needs in preallocated buffers
  (one workspace per ``(config, batch size, dtype)``, with all per-step views precomputed);
* the backward walks the generation steps in reverse; what does not depend on later steps
  (the edge head, the derivative of every activation) is done before the reverse sweep;
* weight gradients are never accumulated in place: each step writes its ``dY X^T`` into a
  slot and the slots are summed once at the end, or, where the per-step rows form one
  matrix (the graph-level heads), one product covers all steps.

The parameters are read through zero-copy ``p.detach().numpy()`` views of the torch
parameters (cached per module and refreshed whenever torch swaps a tensor's storage), and
the gradients are written into ``p.grad`` (created when missing, always overwritten), so
a ``torch.optim`` step can follow. A few tiny derived matrices (a weight with its bias
appended, products of two consecutive linear maps, see :class:`_Params`) are rebuilt from
those views on every call.

Notation (as in :mod:`.generator`): B batch, N max nodes, K classes, n node dim, s = n/2,
g graph dim, h = n + g, L GNN layers, T = N - 1 generation steps t = 1..N-1,
P = 2g + 2 + h (``state_proj`` width), Pg = 2n + 3s (fused GNN hidden-side width).

Memory layout
-------------
*Node-level* quantities of step t (node states, ``state_proj`` output, GNN internals,
edge-head hidden layer) are **feature-major** blocks ``[features, B t]`` whose columns are
ordered (graph b, node u); each (step, layer) block is C-contiguous, so slicing a fused
product by feature (message source / target part, GRU gates r, z, n, ...) gives contiguous
memory and the element-wise NumPy calls stay cheap. GNN blocks have a leading direction
axis (0: forward half, messages along u->v; 1: backward half), e.g. ``[2, s, B t]``.
Inputs of a product with a bias carry an extra constant row of ones, so the bias is one
more column of the (augmented) weight and its gradient one more row of the weight gradient.

*Graph-level* quantities (one vector per graph and step: readouts, node-type and
node-init heads, edge context) are **row-major** ``[T, B, features]``.

Sums and broadcasts over the nodes of each graph (gated readout, edge context) are
products with the constant 0/1 matrix ``sel_t [B, B t]`` (``sel_t[b, (b', u)] = [b == b']``);
the message sum over predecessors is a product with the block-diagonal matrix
``bd_t [2, B t, B t]`` whose diagonal blocks are the per-graph (transposed) adjacencies.

Limitation vs. autograd: for ``max_nodes == 2`` the GNN, the node-init head and the edge
head never influence the output, so torch leaves their ``.grad`` as ``None``; here they
are set to zeros.
"""
from __future__ import annotations

import functools
import weakref
from collections import OrderedDict

import numpy as np
import torch
from numpy.lib.stride_tricks import as_strided
from threadpoolctl import ThreadpoolController
from torch import nn

from .generator import EDGE_THRESHOLD, FIXED_LOGIT, INPUT_CLASS, FusedBidirectionalGNN, Generator, GeneratorConfig
from .predictor import MLPPredictor

__all__ = ["search_loss_and_grad", "objective_loss_and_grad", "forward_output"]


# ----------------------------------------------------------------------------------------
# parameters and gradients as numpy arrays
# ----------------------------------------------------------------------------------------

def _generator_tensors(gen: Generator) -> list[torch.Tensor]:
    """The generator's parameters, in the fixed order of :class:`_Params` and of the
    gradient list of :func:`_backward`."""
    gnn = gen.gnn
    tensors = [
        gen.node_embedding[0].weight, gen.node_embedding[0].bias,   # 0, 1
        gen.node_embedding[2].weight, gen.node_embedding[2].bias,   # 2, 3
        gen.start_init[0].weight, gen.start_init[0].bias,           # 4, 5
        gen.start_init[2].weight, gen.start_init[2].bias,           # 6, 7
        gen.z_proj.weight, gen.z_proj.bias,                         # 8, 9
        gen.state_proj.weight, gen.readout_bias,                    # 10, 11
        gen.graph_proj.weight,                                      # 12
        gen.node_type_out.weight, gen.node_type_out.bias,           # 13, 14
        gen.init_from_node.weight, gen.init_from_graph.weight,      # 15, 16
        gen.node_init_out.weight, gen.node_init_out.bias,           # 17, 18
        gen.edge_from_new.weight,                                   # 19
        gen.edge_out.weight, gen.edge_out.bias,                     # 20, 21
    ]
    for layer in range(gnn.layers):                                 # 22 + 5 l + (0..4)
        tensors += [gnn.hidden_weight[layer], gnn.message_bias[layer], gnn.hh_bias[layer],
                    gnn.ih_weight[layer], gnn.ih_bias[layer]]
    return tensors


def _predictor_tensors(predictor: MLPPredictor) -> list[torch.Tensor]:
    return [t for m in predictor.net if isinstance(m, nn.Linear) for t in (m.weight, m.bias)]


class _Bound:
    """Numpy views of a module's parameters and of their ``.grad`` tensors.

    The parameter objects are collected once per module (as ``torch.optim`` does); the
    views are rebuilt whenever a tensor's storage changes (``.data`` reassignment, dtype
    conversion) and the gradient views whenever a ``.grad`` tensor is replaced or removed.
    """

    def __init__(self, tensors: list[torch.Tensor]):
        self.tensors = tensors
        self.ptrs: list[int] | None = None
        self.views: list[np.ndarray] = []
        self.grad_tensors: list[torch.Tensor | None] | None = None
        self.grads: list[np.ndarray] = []
        self.derived = None                  # _Params of a generator

    def arrays(self) -> list[np.ndarray]:
        ptrs = [t.data_ptr() for t in self.tensors]
        if ptrs != self.ptrs:
            self.views = [t.detach().numpy() for t in self.tensors]
            self.ptrs = ptrs
        return self.views

    def grad_arrays(self) -> list[np.ndarray]:
        """Writable views of every ``.grad`` (created as zeros when missing). The backward
        pass overwrites every element, i.e. it *sets* the gradient instead of accumulating."""
        current = [t.grad for t in self.tensors]
        if self.grad_tensors is None or any(a is not b for a, b in zip(current, self.grad_tensors)):
            for t in self.tensors:
                gr = t.grad
                if gr is None or gr.dtype != t.dtype or gr.shape != t.shape or not gr.is_contiguous():
                    t.grad = torch.zeros_like(t, memory_format=torch.contiguous_format)
            self.grad_tensors = [t.grad for t in self.tensors]
            self.grads = [gr.numpy() for gr in self.grad_tensors]
        return self.grads


_BOUND: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _bound(module: nn.Module, collect) -> _Bound:
    b = _BOUND.get(module)
    if b is None:
        b = _BOUND[module] = _Bound(collect(module))
    return b


class _Params:
    """Views of the generator parameters plus small matrices derived from them.

    Derived (refreshed on every call, same function, fewer products per step):

    * GNN layer (per direction; ``HW = [W_src | W_dst | W_hh]``, feature-major)::

          msg = W_src^T (x bd) + W_dst^T (x * deg) + b_msg deg       (agg sum taken on x)
          gi  = W_ih^T msg + b_ih = c_aug [x bd; x * deg; deg; 1]
          gh  = W_hh^T x + b_hh   = whh_aug [x; 1]

      with ``wm [2, n, 2s+1] = [W_src^T | W_dst^T | b_msg^T]`` and
      ``c_aug [2, 3s, 2s+2] = [W_ih^T wm | b_ih^T]``, ``whh_aug [2, 3s, s+1] = [W_hh^T | b_hh^T]``;
    * ``sp_aug [P, n+1] = [W_sp | (readout_bias, 0)]`` (the states carry a row of ones);
    * ``w_r [g+2h, 2g]``: ``[h_G | h_G^init] -> [to_type | init_from_graph(h_G^init) | to_edge]``
      (``graph_proj`` and ``init_from_graph`` as one block matrix);
    * ``w_fold = W_ifn W_e2`` and ``c_init = W_ifn b_e2``: ``init_from_node(node_embedding(s))``
      = ``w_fold relu(W_e1 s + b_e1) + c_init``;
    * ``w_hc = [W_nio; W_efn W_nio]`` and ``c_edge = W_efn b_nio``: ``h_t`` and
      ``edge_from_new(h_t)`` from one product with ``relu(init_hidden + z_init)``.
    """

    def __init__(self, cfg: GeneratorConfig, dtype: np.dtype):
        n, g, L = cfg.node_dim, cfg.graph_dim, cfg.gnn_layers
        s, h = n // 2, n + g
        P = 2 * g + 2 + h
        z = lambda *shape: np.zeros(shape, dtype=dtype)  # noqa: E731
        self.wm = [z(2, n, 2 * s + 1) for _ in range(L)]
        self.c_aug = [z(2, 3 * s, 2 * s + 2) for _ in range(L)]
        self.whh_aug = [z(2, 3 * s, s + 1) for _ in range(L)]
        self.c_top_t = [c[:, :, :2 * s].transpose(0, 2, 1) for c in self.c_aug]      # [2, 2s, 3s]
        self.whh_top_t = [w[:, :, :s].transpose(0, 2, 1) for w in self.whh_aug]   # [2, s, 3s]
        self.sp_aug = z(P, n + 1)
        self.w_r = z(g + 2 * h, 2 * g)
        self.w_fold, self.c_init = z(h, n), z(h)
        self.w_hc, self.c_edge = z(n + h, h), z(h)
        self.dims = (n, s, g, h, L)

    def refresh(self, a: list[np.ndarray]) -> None:
        n, s, g, h, L = self.dims
        (self.ne1_w, self.ne1_b, self.ne2_w, self.ne2_b,
         self.si1_w, self.si1_b, self.si2_w, self.si2_b,
         self.zp_w, self.zp_b, self.sp_w, readout_b, gp_w,
         self.to_w, self.to_b, self.ifn_w, ifg_w, self.nio_w, self.nio_b,
         self.efn_w, self.eo_w, self.eo_b) = a[:22]
        gnn = a[22:]
        self.iw = gnn[3::5]                                    # [2, n, 3s]
        for layer in range(L):
            hw, mb, hb, iw, ib = gnn[5 * layer:5 * layer + 5]
            wm, c_aug, whh_aug = self.wm[layer], self.c_aug[layer], self.whh_aug[layer]
            wm[:, :, :s] = hw[:, :, :n].transpose(0, 2, 1)          # W_src^T
            wm[:, :, s:2 * s] = hw[:, :, n:2 * n].transpose(0, 2, 1)  # W_dst^T
            wm[:, :, 2 * s] = mb[:, 0]                              # b_msg
            np.matmul(iw.transpose(0, 2, 1), wm, out=c_aug[:, :, :2 * s + 1])
            c_aug[:, :, 2 * s + 1] = ib[:, 0]
            whh_aug[:, :, :s] = hw[:, :, 2 * n:].transpose(0, 2, 1)  # W_hh^T
            whh_aug[:, :, s] = hb[:, 0]
        self.sp_aug[:, :n] = self.sp_w
        self.sp_aug[:2 * g + 2, n] = readout_b
        self.w_r[:g, :g] = gp_w[:g]
        self.w_r[g:g + h, g:] = ifg_w
        self.w_r[g + h:, :g] = gp_w[g:]
        np.matmul(self.ifn_w, self.ne2_w, out=self.w_fold)
        np.matmul(self.ifn_w, self.ne2_b, out=self.c_init)
        self.w_hc[:n] = self.nio_w
        np.matmul(self.efn_w, self.nio_w, out=self.w_hc[n:])
        np.matmul(self.efn_w, self.nio_b, out=self.c_edge)
        self.si1_b_col, self.si2_b_col = self.si1_b[:, None], self.si2_b[:, None]
        self.eo_vec, self.eo_col = self.eo_w[0], self.eo_w.T        # [h], [h, 1]


# ----------------------------------------------------------------------------------------
# workspace: every buffer and every per-step view, allocated once per (config, B, dtype)
# ----------------------------------------------------------------------------------------

class _Layer:
    """Views of one GNN layer at one generation step (contiguous blocks of that step)."""

    __slots__ = ("x_aug", "x", "y_aug", "y_agg", "y_deg", "gh", "gh_rz", "gh_n",
                 "gi", "gi_rz", "gi_n", "sg", "r", "zg", "c", "xc", "out",
                 "dgi", "dgi_r", "dgi_z", "dgi_rz", "dgi_n", "dgh", "dgh_rz", "dgh_n",
                 "sd", "c2", "dxn", "dx", "dy", "dy_agg", "dy_deg", "dc", "tmpx", "wg_c", "wg_hh")


class _Step:
    """Views of the buffers that belong to generation step t."""

    __slots__ = ("q", "q_top", "q3", "pa", "feats", "feats3", "gates", "edge_old", "gate", "gate3", "gd",
                 "gated", "gated3", "sel", "pe", "ue", "uem", "ae", "ae2", "da", "adj_new",
                 "adj_fwd", "adj_bwd", "bd", "bd_t", "bd_fwd", "bd_bwd", "deg_store", "deg", "y_deg_rows",
                 "gx_old", "gx_new", "q_prev", "ht_prev", "layers",
                 "dpa", "dfeats3", "dgates", "dedge", "dq", "dq3", "dq4", "wg_sp", "wg_eo",
                 "carry_q", "carry_h", "dht_prev", "dhe_prev")


def _block(pool: np.ndarray, offset: int, *shape: int) -> np.ndarray:
    """The C-contiguous block ``pool[offset : offset + prod(shape)]`` with the given shape."""
    return pool[offset:offset + int(np.prod(shape))].reshape(shape)


class _Workspace:
    def __init__(self, cfg: GeneratorConfig, B: int, dtype: np.dtype):
        K, N, n, g, L = cfg.num_classes, cfg.max_nodes, cfg.node_dim, cfg.graph_dim, cfg.gnn_layers
        s, h, T = n // 2, n + g, N - 1
        P, Pg, E, D = 2 * g + 2 + h, 2 * n + 3 * s, cfg.num_edges, cfg.output_dim
        self.dims = (B, K, N, n, s, g, h, L, T, P, Pg, E, D)
        f = dtype
        z = lambda *shape: np.zeros(shape, dtype=f)  # noqa: E731
        self.zero, self.one = np.asarray(0.0, dtype=f), np.asarray(1.0, dtype=f)

        qoff = [0, 0]
        bdoff = [0, 0, 0]
        for t in range(1, N):
            qoff.append(qoff[-1] + B * t)    # qoff[t] = first node column of step t
            if t >= 2:
                bdoff.append(bdoff[-1] + 2 * (B * t) ** 2)
        Rq = qoff[N]                         # node columns of all steps (= B E)
        R = Rq - B                           # node columns of the steps t >= 2 (GNN, edge head)
        self.qoff, self.goff, self.bdoff = qoff, [q - B for q in qoff], bdoff
        TB = T * B

        # ---- forward buffers: node level (pools of per-step feature-major blocks) ----
        self.pool_q = z((n + 1) * Rq)        # node states after message passing [n+1, Bt] (last row 1)
        self.pool_pa = z(P * Rq)             # state_proj output [feats 2g | gates 2 | edge_from_old h]
        self.pool_gate = z(2 * Rq)           # sigmoid(gates)
        self.pool_x = z(2 * (s + 1) * L * R)  # GNN layer inputs [2, s+1, Bt] (last row 1)
        self.pool_y = z(2 * (2 * s + 2) * L * R)  # [x bd; x * deg; deg; 1]   (see _Params)
        self.pool_gh = z(2 * 3 * s * L * R)  # GRU hidden gates gh = W_hh^T x + b_hh
        self.pool_sg = z(2 * 2 * s * L * R)  # GRU gates [r | z]
        self.pool_c = z(2 * s * L * R)       # GRU candidate (tanh)
        self.pool_xc = z(2 * s * L * R)      # x - cand
        self.pool_deg = z(2 * R)             # per-direction in-degree at each step
        self.pool_bd = z(bdoff[-1])          # block-diagonal aggregation matrices [2, Bt, Bt]
        self.pool_pe, self.pool_ue = z(h * R), z(h * R)  # edge-head hidden layer
        self.pool_uem = np.zeros(h * R, dtype=bool)
        self.ae = z(R)                       # edge logits a_t (t >= 2), columns (t, b, u)
        self.da = z(R)
        self.adj = z(B, N, N)                # A[b, u, v] = 1 for an edge u->v of the partial graph
        self.tmp_gi = z(2 * 3 * s * TB)
        self.tmp_gated = z(2 * g * TB)
        # ---- forward buffers: graph level (row-major [T, B, .]) ----
        self.out = z(B, D)                  # generator output [flatten(node logits); edge logits]
        self.zp = z(B, g + 2 * h)           # z_proj(z) = [z_type | z_init | z_edge]
        self.c_init_b, self.c_edge_b = z(B, h), z(B, h)
        self.x0 = z(n + g, B)               # start_init input [e(onehot(input)); z]   (feature-major)
        self.pre0, self.u0 = z(h, B), z(h, B)
        self.RD = z(T, B, 2 * g)            # readouts [h_G | h_G^init]
        self.GPX = z(T, B, g + 2 * h)       # [to_type | init_from_graph(h_G^init) | to_edge]
        self.PT, self.UT = z(T, B, g), z(T, B, g)
        # node_embedding rows: the T*B node-type logits s_t, then one row for onehot(input)
        self.NE_in = z(TB + 1, K)
        self.NE_in[TB, INPUT_CLASS] = 1.0
        self.NE_e1, self.NE_ue, self.NE_emb = z(TB + 1, n), z(TB + 1, n), z(TB + 1, n)
        self.PH, self.UH = z(T, B, h), z(T, B, h)
        self.HC = z(T, B, n + h)            # [h_t | edge_from_new(h_t) - W_efn b_nio]
        self.HT = self.HC[..., :n]          # new node states h_t
        self.CTX = z(T, B, h)               # edge-head context (t >= 2)

        # ---- backward buffers ----
        self.dout = z(B, D)
        self.sm = z(B, N, K)
        self.pool_dpa = z(P * Rq)            # d state_proj output (step 1: gates / edge rows stay 0)
        self.pool_gd = z(2 * Rq)             # sigmoid'(gates)
        self.pool_dgi = z(2 * 3 * s * L * R)
        self.pool_dgh = z(2 * 3 * s * L * R)
        self.pool_sd = z(2 * 2 * s * L * R)  # sigmoid'(r | z)
        self.pool_c2 = z(2 * s * L * R)      # 1 - cand^2
        self.tmp_dx = [z(2 * s * TB), z(2 * s * TB)]   # ping-pong d(layer input)
        self.tmp_dc, self.tmp_tmpx = z(2 * s * TB), z(2 * s * TB)
        self.tmp_dy, self.tmp_dq = z(2 * 2 * s * TB), z(n * TB)
        self.WG_c = z(max(N - 2, 0), L, 2, 3 * s, 2 * s + 2)   # per-step weight-gradient slots
        self.WG_hh = z(max(N - 2, 0), L, 2, 3 * s, s + 1)
        self.WG_sp = z(T, P, n + 1)
        self.WG_eo = z(max(N - 2, 0), h)
        self.DRD = z(T, B, 2 * g)
        self.DGX = z(T, B, g + 2 * h)       # [d to_type | d init_hidden | d to_edge (= d context)]
        self.DPH = self.DGX[..., g:g + h]
        self.DCTX = self.DGX[..., g + h:]   # block of step 1 stays 0 (a_1 is constant)
        self.DST = z(T, B, K)
        self.DNE_e1, self.DNE_emb = z(TB + 1, n), z(TB + 1, n)
        self.tmp_bh, self.tmp_bn, self.tmp_1n, self.tmp_bg = z(B, h), z(B, n), z(1, n), z(B, g)
        self.DHT = z(T, B, n)
        self.DHE = z(T, B, n)               # d h_t through the edge head
        self.dpre0, self.dwr = z(h, B), z(g + 2 * h, 2 * g)

        # ---- constants and index arrays ----
        for t in range(2, N):                # the constant-one rows of the augmented inputs
            for layer in range(L):
                o = L * self.goff[t] + layer * B * t
                _block(self.pool_x, 2 * (s + 1) * o, 2, s + 1, B * t)[:, s] = 1.0
                _block(self.pool_y, 2 * (2 * s + 2) * o, 2, 2 * s + 2, B * t)[:, 2 * s + 1] = 1.0
        for t in range(1, N):
            _block(self.pool_q, (n + 1) * qoff[t], n + 1, B * t)[n] = 1.0
        self.bi = np.arange(B)[:, None]
        self.ni = np.arange(N)[None, :]
        idx = []                             # edge column (t, b, u) -> flat index into out [B, D]
        for t in range(2, N):
            for b in range(B):
                base = b * D + N * K + t * (t - 1) // 2
                idx.extend(range(base, base + t))
        self.edge_idx = np.asarray(idx, dtype=np.intp)
        self.start_logits = np.zeros(K, dtype=f)
        self.start_logits[INPUT_CLASS] = FIXED_LOGIT

        self.steps: list[_Step | None] = [None]
        for t in range(1, N):
            self.steps.append(self._make_step(t))

    def _make_step(self, t: int) -> _Step:
        B, K, N, n, s, g, h, L, T, P, Pg, E, D = self.dims
        st = _Step()
        Bt, i, q0 = B * t, t - 1, self.qoff[t]
        st.q = _block(self.pool_q, (n + 1) * q0, n + 1, Bt)      # [states; 1]
        st.q_top = st.q[:n]
        st.q3 = st.q_top.reshape(2, s, Bt)
        st.pa = _block(self.pool_pa, P * q0, P, Bt)
        st.feats, st.gates, st.edge_old = st.pa[:2 * g], st.pa[2 * g:2 * g + 2], st.pa[2 * g + 2:]
        st.feats3 = st.feats.reshape(2, g, Bt)
        st.gate = _block(self.pool_gate, 2 * q0, 2, Bt)
        st.gate3 = st.gate[:, None, :]
        st.gd = _block(self.pool_gd, 2 * q0, 2, Bt)
        st.gated = _block(self.tmp_gated, 0, 2 * g, Bt)
        st.gated3 = st.gated.reshape(2, g, Bt)
        st.sel = np.kron(np.eye(B, dtype=self.out.dtype), np.ones((1, t), dtype=self.out.dtype))
        st.dpa = _block(self.pool_dpa, P * q0, P, Bt)
        st.dfeats3 = st.dpa[:2 * g].reshape(2, g, Bt)
        st.dgates, st.dedge = st.dpa[2 * g:2 * g + 2], st.dpa[2 * g + 2:]
        st.dq = _block(self.tmp_dq, 0, n, Bt)
        st.dq3 = st.dq.reshape(2, s, Bt)
        st.dq4 = st.dq.reshape(2, s, B, t)
        st.wg_sp = self.WG_sp[i]
        if t == 1:
            return st
        c0 = self.goff[t]
        st.pe = _block(self.pool_pe, h * c0, h, Bt)
        st.ue = _block(self.pool_ue, h * c0, h, Bt)
        st.uem = _block(self.pool_uem, h * c0, h, Bt)
        st.ae, st.da = self.ae[c0:c0 + Bt], self.da[c0:c0 + Bt]
        st.ae2 = st.ae.reshape(B, t)
        st.wg_eo = self.WG_eo[t - 2]
        st.adj_new = self.adj[:, :t, t]                           # edges u -> t, [B, t]
        # FusedBidirectionalGNN: agg = [A^T, A] (agg[d, b, v, u] = 1 when u sends to v), and
        # msg^T = src^T bd with bd[d] = blockdiag_b(agg[d, b]^T) = blockdiag_b([A_b, A_b^T][d])
        st.adj_fwd = self.adj[:, :t, :t]
        st.adj_bwd = st.adj_fwd.transpose(0, 2, 1)
        st.bd = _block(self.pool_bd, self.bdoff[t], 2, Bt, Bt)
        st.bd_t = st.bd.transpose(0, 2, 1)
        isz = st.bd.itemsize
        diag = as_strided(st.bd, shape=(2, B, t, t), strides=(Bt * Bt * isz, (t * Bt + t) * isz, Bt * isz, isz))
        st.bd_fwd, st.bd_bwd = diag[0], diag[1]
        st.deg_store = _block(self.pool_deg, 2 * c0, 2, Bt)     # in_degree = agg.sum(2) = column sums of bd
        st.deg = st.deg_store[:, None, :]
        st.y_deg_rows = _block(self.pool_y, 2 * (2 * s + 2) * L * c0, L, 2, 2 * s + 2, Bt)[:, :, 2 * s]
        gx0 = _block(self.pool_x, 2 * (s + 1) * L * c0, 2, s + 1, B, t)
        st.gx_old, st.gx_new = gx0[:, :s, :, :t - 1], gx0[:, :s, :, t - 1]
        st.q_prev = self.steps[t - 1].q_top.reshape(2, s, B, t - 1)
        st.ht_prev = self.HT[i - 1].reshape(B, 2, s).transpose(1, 2, 0)          # [2, s, B]
        # backward carry: d cat(Q_{t-1}, h_{t-1}) = d(input of layer 0), which lands in tmp_dx[0]
        carry = _block(self.tmp_dx[0], 0, 2, s, B, t)
        st.carry_q, st.carry_h = carry[..., :t - 1], carry[..., t - 1]
        st.dht_prev = self.DHT[i - 1].reshape(B, 2, s).transpose(1, 2, 0)
        st.dhe_prev = self.DHE[i - 1].reshape(B, 2, s).transpose(1, 2, 0)
        st.layers = []
        for layer in range(L):
            ly = _Layer()
            o = L * c0 + layer * Bt           # column offset of this (step, layer) block
            ly.x_aug = _block(self.pool_x, 2 * (s + 1) * o, 2, s + 1, Bt)
            ly.x = ly.x_aug[:, :s]
            ly.y_aug = _block(self.pool_y, 2 * (2 * s + 2) * o, 2, 2 * s + 2, Bt)
            ly.y_agg, ly.y_deg = ly.y_aug[:, :s], ly.y_aug[:, s:2 * s]
            ly.gh = _block(self.pool_gh, 2 * 3 * s * o, 2, 3 * s, Bt)
            ly.gh_rz, ly.gh_n = ly.gh[:, :2 * s], ly.gh[:, 2 * s:]
            ly.gi = _block(self.tmp_gi, 0, 2, 3 * s, Bt)
            ly.gi_rz, ly.gi_n = ly.gi[:, :2 * s], ly.gi[:, 2 * s:]
            ly.sg = _block(self.pool_sg, 2 * 2 * s * o, 2, 2 * s, Bt)
            ly.r, ly.zg = ly.sg[:, :s], ly.sg[:, s:]
            ly.c = _block(self.pool_c, 2 * s * o, 2, s, Bt)
            ly.xc = _block(self.pool_xc, 2 * s * o, 2, s, Bt)
            ly.out = (_block(self.pool_x, 2 * (s + 1) * (o + Bt), 2, s + 1, Bt)[:, :s]
                      if layer + 1 < L else st.q3)
            ly.dgh = _block(self.pool_dgh, 2 * 3 * s * o, 2, 3 * s, Bt)
            ly.dgh_rz, ly.dgh_n = ly.dgh[:, :2 * s], ly.dgh[:, 2 * s:]
            ly.dgi = _block(self.pool_dgi, 2 * 3 * s * o, 2, 3 * s, Bt)
            ly.dgi_r, ly.dgi_z = ly.dgi[:, :s], ly.dgi[:, s:2 * s]
            ly.dgi_rz, ly.dgi_n = ly.dgi[:, :2 * s], ly.dgi[:, 2 * s:]
            ly.sd = _block(self.pool_sd, 2 * 2 * s * o, 2, 2 * s, Bt)
            ly.c2 = _block(self.pool_c2, 2 * s * o, 2, s, Bt)
            # layer L-1 receives d(node states); layer l < L-1 what layer l+1 sent back
            ly.dxn = st.dq3 if layer == L - 1 else _block(self.tmp_dx[(layer + 1) % 2], 0, 2, s, Bt)
            ly.dx = _block(self.tmp_dx[layer % 2], 0, 2, s, Bt)
            ly.dy = _block(self.tmp_dy, 0, 2, 2 * s, Bt)
            ly.dy_agg, ly.dy_deg = ly.dy[:, :s], ly.dy[:, s:]
            ly.dc = _block(self.tmp_dc, 0, 2, s, Bt)
            ly.tmpx = _block(self.tmp_tmpx, 0, 2, s, Bt)
            ly.wg_c, ly.wg_hh = self.WG_c[t - 2, layer], self.WG_hh[t - 2, layer]
            st.layers.append(ly)
        return st


_WORKSPACES: OrderedDict = OrderedDict()
_MAX_WORKSPACES = 8


def _workspace(cfg: GeneratorConfig, B: int, dtype: np.dtype) -> _Workspace:
    key = (cfg, B, np.dtype(dtype).str)
    ws = _WORKSPACES.get(key)
    if ws is None:
        ws = _WORKSPACES[key] = _Workspace(cfg, B, np.dtype(dtype))
        while len(_WORKSPACES) > _MAX_WORKSPACES:
            _WORKSPACES.popitem(last=False)
    else:
        _WORKSPACES.move_to_end(key)
    return ws


@functools.lru_cache(maxsize=1)
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()


def single_thread_blas():
    """Run BLAS on one thread inside the block: the products here are tiny, and BLAS threads
    only add synchronisation (several times slower when the other cores are busy)."""
    return _blas_controller().limit(limits=1, user_api="blas")


def _sigmoid(x: np.ndarray, out: np.ndarray, one: np.ndarray) -> None:
    """Logistic function 1 / (1 + exp(-x)), correct for every x: for x << 0, exp(-x)
    overflows to inf and the result is exactly 0 (callers silence that warning)."""
    np.negative(x, out=out)
    np.exp(out, out=out)
    out += one
    np.reciprocal(out, out=out)


# ----------------------------------------------------------------------------------------
# forward (mirrors Generator.generate and FusedBidirectionalGNN.forward)
# ----------------------------------------------------------------------------------------

def _forward(ws: _Workspace, p: _Params, z: np.ndarray) -> None:
    B, K, N, n, s, g, h, L, T, P, Pg, E, D = ws.dims
    TB = T * B
    mm, add, mul, relu, zero, one = np.matmul, np.add, np.multiply, np.maximum, ws.zero, ws.one

    # z_type, z_init, z_edge = self.z_proj(z).split([g, h, h], dim=1)
    zp = ws.zp
    mm(z, p.zp_w.T, out=zp)
    zp += p.zp_b
    z_type = zp[:, :g]
    add(zp[:, g:g + h], p.c_init, out=ws.c_init_b)       # z_init (+ W_ifn b_e2, see _Params)
    add(zp[:, g + h:], p.c_edge, out=ws.c_edge_b)        # z_edge (+ W_efn b_nio)

    # start_emb = self.node_embedding(self.start_onehot)          (row TB of the NE buffers)
    e1, ue, emb = ws.NE_e1[TB:], ws.NE_ue[TB:], ws.NE_emb[TB:]
    mm(ws.NE_in[TB:], p.ne1_w.T, out=e1)
    e1 += p.ne1_b
    relu(e1, zero, out=ue)
    mm(ue, p.ne2_w.T, out=emb)
    emb += p.ne2_b
    # states = self.start_init(torch.cat([start_emb, z], 1))      (feature-major, step 1)
    ws.x0[:n] = emb.T
    ws.x0[n:] = z.T
    mm(p.si1_w, ws.x0, out=ws.pre0)
    ws.pre0 += p.si1_b_col
    relu(ws.pre0, zero, out=ws.u0)
    q1 = ws.steps[1].q_top
    mm(p.si2_w, ws.u0, out=q1)
    q1 += p.si2_b_col

    # fixed parts of the output: start-node logits 20 onehot(input), edge 0->1 logit 20
    out = ws.out
    out[:, :K] = ws.start_logits
    out[:, N * K] = FIXED_LOGIT
    ws.adj.fill(0.0)
    if N > 2:
        ws.adj[:, 0, 1] = 1.0          # the edge 0->1 is always present

    for t in range(1, N):
        st = ws.steps[t]
        i = t - 1
        if t > 1:
            # ---- states = self.gnn(states, adj[:, :t, :t]) on cat(Q_{t-1}, h_{t-1}) ----
            st.gx_old[...] = st.q_prev
            st.gx_new[...] = st.ht_prev
            st.bd_fwd[...] = st.adj_fwd                   # forward half:  agg^T = A
            st.bd_bwd[...] = st.adj_bwd                   # backward half: agg^T = A^T
            np.add.reduce(st.bd, axis=1, out=st.deg_store)   # in_degree = agg.sum(2)
            st.y_deg_rows[...] = st.deg_store
            bd, deg = st.bd, st.deg
            for layer, ly in enumerate(st.layers):
                # msg = agg @ (x W_src) + in_degree * (x W_dst + b_msg);  gi = msg @ W_ih + b_ih
                #     -> gi^T = c_aug [x bd; x * deg; deg; 1]          (see _Params)
                mm(ly.x, bd, out=ly.y_agg)
                mul(ly.x, deg, out=ly.y_deg)
                mm(p.c_aug[layer], ly.y_aug, out=ly.gi)
                # gh = x @ W_hh + b_hh
                mm(p.whh_aug[layer], ly.x_aug, out=ly.gh)
                # r, zg = sigmoid(gi_rz + gh_rz).chunk(2)
                add(ly.gi_rz, ly.gh_rz, out=ly.sg)
                _sigmoid(ly.sg, ly.sg, one)
                # cand = tanh(gi_n + r * gh_n)
                mul(ly.r, ly.gh_n, out=ly.c)
                ly.c += ly.gi_n
                np.tanh(ly.c, out=ly.c)
                # x = cand + zg * (x - cand)          (the last layer writes this step's states)
                np.subtract(ly.x, ly.c, out=ly.xc)
                mul(ly.zg, ly.xc, out=ly.out)
                ly.out += ly.c
        # ---- projected = F.linear(states, state_proj.weight, [readout_bias, 0]) ----
        mm(p.sp_aug, st.q, out=st.pa)
        rd = ws.RD[i]
        if t == 1:  # a single node: readouts = feats[:, 0]
            rd[...] = st.feats.T
        else:       # readouts = sum_u feats[u] * sigmoid(gates[u])
            _sigmoid(st.gates, st.gate, one)
            mul(st.feats3, st.gate3, out=st.gated3)
            mm(st.sel, st.gated.T, out=rd)
        # [to_type | init_from_graph(h_graph_init) | to_edge]  (graph_proj, init_from_graph)
        gpx = ws.GPX[i]
        mm(rd, p.w_r.T, out=gpx)
        # s_t = self.node_type_out(relu(to_type + z_type))
        add(gpx[:, :g], z_type, out=ws.PT[i])
        relu(ws.PT[i], zero, out=ws.UT[i])
        rows = slice(i * B, t * B)
        s_t = ws.NE_in[rows]
        mm(ws.UT[i], p.to_w.T, out=s_t)
        s_t += p.to_b
        # init_hidden + z_init = init_from_node(node_embedding(s_t)) + init_from_graph(h_G^init) + z_init
        e1 = ws.NE_e1[rows]
        mm(s_t, p.ne1_w.T, out=e1)
        e1 += p.ne1_b
        relu(e1, zero, out=ws.NE_ue[rows])
        ph = ws.PH[i]
        mm(ws.NE_ue[rows], p.w_fold.T, out=ph)
        ph += gpx[:, g:g + h]
        ph += ws.c_init_b
        # h_t = node_init_out(relu(.)), and edge_from_new(h_t) in the same product
        relu(ph, zero, out=ws.UH[i])
        hc = ws.HC[i]
        mm(ws.UH[i], p.w_hc.T, out=hc)
        ws.HT[i] += p.nio_b
        if t == 1:
            continue   # a_1 = 20 is constant (already in out)
        # context = edge_from_new(h_t) + to_edge + z_edge
        ctx = ws.CTX[i]
        add(hc[:, n:], gpx[:, g + h:], out=ctx)
        ctx += ws.c_edge_b
        # a_t = edge_out(relu(edge_from_old + context[:, None]))
        mm(ctx.T, st.sel, out=st.pe)
        st.pe += st.edge_old
        relu(st.pe, zero, out=st.ue)
        mm(p.eo_vec, st.ue, out=st.ae)
        st.ae += p.eo_b
        if t < N - 1:  # adj[:, :t, t] = a_t > 0.5      (not differentiable)
            np.greater(st.ae2, EDGE_THRESHOLD, out=st.adj_new)
    # node logits s_1..s_{N-1} and edge logits a_2..a_{N-1} into the output vector
    out[:, K:N * K].reshape(B, T, K)[...] = ws.NE_in[:TB].reshape(T, B, K).transpose(1, 0, 2)
    if N > 2:
        np.put(out, ws.edge_idx, ws.ae)


# ----------------------------------------------------------------------------------------
# loss (mirrors reconstruction_loss, MLPPredictor.forward, search_loss) and d loss / d out
# ----------------------------------------------------------------------------------------

def _reconstruction(ws: _Workspace, target_nodes: np.ndarray, target_edges: np.ndarray,
                    node_weight: float = 1.0) -> np.ndarray:
    """Per-graph L_G,i of ``ws.out`` (mirrors reconstruction_loss); fills ``ws.dout`` with the
    unscaled per-graph derivative d L_G,i / d out_i: node_weight (softmax - onehot)/N on the node
    logits, (sigmoid(x) - y)/E on the edge logits."""
    B, K, N, n, s, g, h, L, T, P, Pg, E, D = ws.dims
    f = ws.out.dtype.type
    out, dout, NK = ws.out, ws.dout, N * K

    # node_ce = F.cross_entropy(node_logits, target_nodes).mean(1)      (stable log-softmax)
    nl = out[:, :NK].reshape(B, N, K)
    sm = ws.sm
    np.subtract(nl, nl.max(axis=2, keepdims=True), out=sm)
    picked = sm[ws.bi, ws.ni, target_nodes]                # shifted logit of each target class
    np.exp(sm, out=sm)
    se = np.add.reduce(sm, axis=2)
    node_ce = (np.log(se) - picked).mean(axis=1) * node_weight
    sm /= se[..., None]                                    # softmax
    sm[ws.bi, ws.ni, target_nodes] -= 1.0                  # d ce / d logits = softmax - onehot

    # edge_bce = F.binary_cross_entropy_with_logits(edge_logits, y).mean(1)
    #          = mean(max(x, 0) - x y + log(1 + exp(-|x|)))
    x, y = out[:, NK:], target_edges
    sp = np.abs(x)
    np.negative(sp, out=sp)
    np.exp(sp, out=sp)
    np.log1p(sp, out=sp)
    sp += np.maximum(x, 0)
    sp -= x * y
    np.multiply(sm, f(node_weight / N), out=dout[:, :NK].reshape(B, N, K))
    de = dout[:, NK:]
    _sigmoid(x, de, ws.one)
    de -= y
    de *= f(1.0 / E)
    return node_ce + sp.mean(axis=1)


def _loss_and_dout(ws: _Workspace, pred_w: list | None, pred_g: list | None, target_nodes: np.ndarray,
                   target_edges: np.ndarray, target_acc: np.ndarray | None, weights: np.ndarray,
                   alpha: float) -> float:
    """Loss value; fills ``ws.dout`` (d loss / d out) and the predictor gradients ``pred_g``."""
    B = ws.dims[0]
    f = ws.out.dtype.type
    out, dout = ws.out, ws.dout
    recon = _reconstruction(ws, target_nodes, target_edges)

    # search_loss: mean_i w_i [(1 - alpha) recon_i + alpha (P_i - acc_i)^2]
    per_sample = f(1.0 - alpha) * recon
    if pred_w is not None:
        # MLPPredictor.forward: [Linear, ReLU] x hidden, then Linear(D, 1), squeezed
        acts = [out]
        a = out
        for j, (wt, bt) in enumerate(pred_w):
            a = a @ wt.T
            a += bt
            if j < len(pred_w) - 1:
                np.maximum(a, 0, out=a)
                acts.append(a)
        if alpha != 0.0:
            diff = a[:, 0] - np.asarray(target_acc, dtype=out.dtype).reshape(B)
            per_sample += f(alpha) * diff * diff
        else:
            diff = np.zeros(B, dtype=out.dtype)
    loss = float(np.mean(weights * per_sample, dtype=np.float64))

    # d loss / d out through the reconstruction term: w_i (1-alpha)/B d L_G,i / d out_i
    dout *= (weights * f((1.0 - alpha) / B))[:, None]
    # ... and through the predictor term: d loss / d P_i = 2 alpha w_i (P_i - acc_i) / B
    if pred_w is not None:
        dy = (weights * f(2.0 * alpha / B) * diff)[:, None]
        for j in range(len(pred_w) - 1, -1, -1):
            np.matmul(dy.T, acts[j], out=pred_g[j][0])
            np.add.reduce(dy, axis=0, out=pred_g[j][1])
            dx = dy @ pred_w[j][0]
            if j > 0:
                dx *= acts[j] > 0          # acts[j] = relu output of hidden layer j-1
            else:
                dout += dx
            dy = dx
    return loss


# ----------------------------------------------------------------------------------------
# backward (reverse of _forward)
# ----------------------------------------------------------------------------------------

def _backward(ws: _Workspace, p: _Params, z: np.ndarray, gr: list[np.ndarray]) -> None:
    """Back-propagate ``ws.dout`` through the generator; write every gradient into ``gr``
    (the ``.grad`` arrays, in :func:`_generator_tensors` order)."""
    B, K, N, n, s, g, h, L, T, P, Pg, E, D = ws.dims
    TB = T * B
    mm, mul, one, reduce = np.matmul, np.multiply, ws.one, np.add.reduce
    dout = ws.dout

    # ---- derivatives of every activation, all steps at once ----
    m_ph = ws.PH > 0                       # relu' of the node-init hidden layer
    m_pt = ws.PT > 0                       # relu' of the node-type hidden layer
    m_e1 = ws.NE_e1 > 0                    # relu' of the node-embedding hidden layer
    np.subtract(one, ws.pool_gate, out=ws.pool_gd)   # sigmoid'(gates) = sigma (1 - sigma)
    ws.pool_gd *= ws.pool_gate
    if N > 2:
        np.subtract(one, ws.pool_sg, out=ws.pool_sd)  # sigmoid'(r | z)
        ws.pool_sd *= ws.pool_sg
        mul(ws.pool_c, ws.pool_c, out=ws.pool_c2)     # tanh' = 1 - cand^2
        np.subtract(one, ws.pool_c2, out=ws.pool_c2)
        np.greater(ws.pool_ue, 0, out=ws.pool_uem)   # relu' of the edge-head hidden layer

    # ---- edge head of every step t >= 2 (depends on d out only) ----
    # a = edge_out(relu(pe)),  pe = edge_from_old + context (broadcast over the t nodes)
    if N > 2:
        dout.take(ws.edge_idx, out=ws.da)                   # d a_t, columns (t, b, u)
        gr[21][0] = reduce(ws.da)                           # edge_out.bias
        for t in range(2, N):
            st = ws.steps[t]
            mul(p.eo_col, st.da, out=st.dedge)              # d pe = d edge_from_old
            st.dedge *= st.uem
            mm(st.sel, st.dedge.T, out=ws.DCTX[t - 1])      # d context = sum over the nodes
            mm(st.ue, st.da, out=st.wg_eo)                  # edge_out.weight, this step
        reduce(ws.WG_eo, axis=0, out=gr[20][0])
    else:
        gr[20][...] = 0.0
        gr[21][...] = 0.0
    dctx = ws.DCTX.reshape(TB, h)                            # block of step 1 is 0
    mm(dctx, p.efn_w, out=ws.DHE.reshape(TB, n))             # d h_t via edge_from_new
    # d s_t from the output vector (node-type logits of steps 1..N-1)
    dst_out = dout[:, K:N * K].reshape(B, T, K).transpose(1, 0, 2)

    # ---- reverse over the generation steps ----
    for t in range(N - 1, 0, -1):
        st = ws.steps[t]
        i = t - 1
        rows = slice(i * B, t * B)
        dht = ws.DHT[i]
        if t == N - 1:   # the last h_t feeds only a_t; earlier ones were set by step t+1
            dht[...] = ws.DHE[i]
        # h_t = node_init_out(relu(ph))
        mm(dht, p.nio_w, out=ws.tmp_bh)
        dph = ws.DPH[i]
        mul(ws.tmp_bh, m_ph[i], out=dph)
        # ph = W_ifn (W_e2 relu(e1) + b_e2) + init_from_graph(h_G^init) + z_init,  e1 = W_e1 s_t + b_e1
        mm(dph, p.w_fold, out=ws.tmp_bn)
        de1 = ws.DNE_e1[rows]
        mul(ws.tmp_bn, m_e1[rows], out=de1)
        dst = ws.DST[i]
        mm(de1, p.ne1_w, out=dst)
        dst += dst_out[i]
        # s_t = node_type_out(relu(to_type + z_type))
        mm(dst, p.to_w, out=ws.tmp_bg)
        dgx = ws.DGX[i]
        mul(ws.tmp_bg, m_pt[i], out=dgx[:, :g])
        # [to_type | init_from_graph(h_G^init) | to_edge] = w_r [h_G; h_G^init]
        drd = ws.DRD[i]
        mm(dgx, p.w_r, out=drd)
        # readouts -> d projected
        if t == 1:   # readouts = feats[:, 0]
            st.dpa[:2 * g] = drd.T
        else:        # readouts = sum_u gated[u],  gated = feats * sigmoid(gates)
            mm(drd.T, st.sel, out=st.gated)                  # d gated (broadcast over the nodes)
            mul(st.gated3, st.gate3, out=st.dfeats3)         # d feats
            st.gated3 *= st.feats3
            reduce(st.gated3, axis=1, out=st.dgates)         # d sigmoid(gates)
            st.dgates *= st.gd
        # projected = W_sp [states; 1]   ->  d states of this step, d W_sp of this step
        mm(p.sp_w.T, st.dpa, out=st.dq)
        mm(st.dpa, st.q.T, out=st.wg_sp)
        if t < N - 1:   # plus what the GNN of step t+1 sent back to these t nodes
            st.dq4 += ws.steps[t + 1].carry_q
        if t == 1:
            break
        # ---- GNN backward: d states -> d cat(Q_{t-1}, h_{t-1})  (ends in tmp_dx[0]) ----
        bd_t, deg = st.bd_t, st.deg
        for layer in range(L - 1, -1, -1):
            ly = st.layers[layer]
            # x_new = cand + zg (x - cand)
            mul(ly.dxn, ly.zg, out=ly.dx)              # direct path to x
            np.subtract(ly.dxn, ly.dx, out=ly.dc)      # d cand = d x_new (1 - zg)
            mul(ly.dxn, ly.xc, out=ly.dgi_z)           # d zg
            # cand = tanh(gi_n + r gh_n)
            mul(ly.dc, ly.c2, out=ly.dgi_n)            # d gi_n
            mul(ly.dgi_n, ly.r, out=ly.dgh_n)          # d gh_n
            mul(ly.dgi_n, ly.gh_n, out=ly.dgi_r)       # d r
            # r, zg = sigmoid(gi_rz + gh_rz)
            ly.dgi_rz *= ly.sd
            ly.dgh_rz[...] = ly.dgi_rz                 # d gh_rz = d gi_rz
            # gi^T = c_aug [x bd; x * deg; deg; 1],  gh^T = whh_aug [x; 1]
            mm(ly.dgi, ly.y_aug.transpose(0, 2, 1), out=ly.wg_c)
            mm(ly.dgh, ly.x_aug.transpose(0, 2, 1), out=ly.wg_hh)
            mm(p.c_top_t[layer], ly.dgi, out=ly.dy)    # d [x bd; x * deg]
            mm(ly.dy_agg, bd_t, out=ly.tmpx)
            ly.dx += ly.tmpx
            mul(ly.dy_deg, deg, out=ly.tmpx)
            ly.dx += ly.tmpx
            mm(p.whh_top_t[layer], ly.dgh, out=ly.tmpx)
            ly.dx += ly.tmpx
        # d h_{t-1} = (GNN input gradient of node t-1) + (its edge-head gradient)
        np.add(st.carry_h, st.dhe_prev, out=st.dht_prev)

    # ---- states_1 = start_init([start_emb; z]) = W2 relu(W1 x0 + b1) + b2  (feature-major) ----
    dq1 = ws.steps[1].dq                                    # [n, B]
    mm(dq1, ws.u0.T, out=gr[6])
    reduce(dq1, axis=1, out=gr[7])
    mm(p.si2_w.T, dq1, out=ws.dpre0)
    ws.dpre0 *= ws.pre0 > 0
    mm(ws.dpre0, ws.x0.T, out=gr[4])
    reduce(ws.dpre0, axis=1, out=gr[5])
    # d start_emb (shared by the batch) -> node_embedding row TB
    mm(gr[5], p.si1_w[:, :n], out=ws.DNE_emb[TB])
    mm(ws.DNE_emb[TB:], p.ne2_w, out=ws.tmp_1n)
    mul(ws.tmp_1n, m_e1[TB:], out=ws.DNE_e1[TB:])

    # ---- weight gradients: one product over the rows of all steps, or a sum of slots ----
    dph = ws.DPH.reshape(TB, h)
    mm(dph, p.ifn_w, out=ws.DNE_emb[:TB])                   # d node_embedding(s_t)
    mm(ws.NE_ue[:TB], p.ne2_w.T, out=ws.NE_emb[:TB])        # node_embedding(s_t) itself
    ws.NE_emb[:TB] += p.ne2_b
    mm(ws.DNE_e1.T, ws.NE_in, out=gr[0])                    # node_embedding[0]
    reduce(ws.DNE_e1, axis=0, out=gr[1])
    mm(ws.DNE_emb.T, ws.NE_ue, out=gr[2])                   # node_embedding[2]
    reduce(ws.DNE_emb, axis=0, out=gr[3])
    dzp = reduce(ws.DGX, axis=0)                             # [d z_type | d z_init | d z_edge]
    mm(dzp.T, z, out=gr[8])                                  # z_proj
    reduce(dzp, axis=0, out=gr[9])
    reduce(ws.WG_sp[:, :, :n], axis=0, out=gr[10])          # state_proj
    reduce(ws.WG_sp[:, :2 * g + 2, n], axis=0, out=gr[11])  # readout_bias
    mm(ws.DGX.reshape(TB, g + 2 * h).T, ws.RD.reshape(TB, 2 * g), out=ws.dwr)
    gr[12][:g] = ws.dwr[:g, :g]                              # graph_proj (to_type rows)
    gr[12][g:] = ws.dwr[g + h:, :g]                          # graph_proj (to_edge rows)
    gr[16][...] = ws.dwr[g:g + h, g:]                        # init_from_graph
    dst = ws.DST.reshape(TB, K)
    mm(dst.T, ws.UT.reshape(TB, g), out=gr[13])             # node_type_out
    reduce(dst, axis=0, out=gr[14])
    mm(dph.T, ws.NE_emb[:TB], out=gr[15])                   # init_from_node
    dht = ws.DHT.reshape(TB, n)
    mm(dht.T, ws.UH.reshape(TB, h), out=gr[17])             # node_init_out
    reduce(dht, axis=0, out=gr[18])
    mm(dctx.T, ws.HT.reshape(TB, n), out=gr[19])            # edge_from_new
    for layer in range(L):                                   # GNN, from d c_aug and d whh_aug
        o = 22 + 5 * layer
        dc_aug = reduce(ws.WG_c[:, layer], axis=0)           # [2, 3s, 2s+2]
        dwhh = reduce(ws.WG_hh[:, layer], axis=0)            # [2, 3s, s+1]
        dc_top = dc_aug[:, :, :2 * s + 1]                    # d (W_ih^T wm)
        dwm = mm(p.iw[layer], dc_top)                        # d wm = W_ih d(W_ih^T wm)   [2, n, 2s+1]
        hw_grad = gr[o]                                      # hidden_weight [2, s, Pg]
        hw_grad[:, :, :n] = dwm[:, :, :s].transpose(0, 2, 1)
        hw_grad[:, :, n:2 * n] = dwm[:, :, s:2 * s].transpose(0, 2, 1)
        hw_grad[:, :, 2 * n:] = dwhh[:, :, :s].transpose(0, 2, 1)
        gr[o + 1][:, 0] = dwm[:, :, 2 * s]                   # message_bias
        gr[o + 2][:, 0] = dwhh[:, :, s]                      # hh_bias
        mm(p.wm[layer], dc_top.transpose(0, 2, 1), out=gr[o + 3])   # ih_weight = wm d(.)^T
        gr[o + 4][:, 0] = dc_aug[:, :, 2 * s + 1]            # ih_bias


# ----------------------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------------------

def covers(generator: nn.Module) -> bool:
    """Whether this code computes exactly ``generator``'s function: the :class:`Generator` class
    itself (any configuration) with its GNN, not a subclass that changes a step."""
    return type(generator) is Generator and type(getattr(generator, "gnn", None)) is FusedBidirectionalGNN


def _prepare(generator: Generator, z) -> tuple[_Workspace, _Params, np.ndarray, _Bound]:
    bound = _bound(generator, _generator_tensors)
    views = bound.arrays()
    dtype = views[0].dtype
    p = bound.derived
    if p is None or p.sp_aug.dtype != dtype:
        p = bound.derived = _Params(generator.config, dtype)
    p.refresh(views)
    z = np.ascontiguousarray(z.detach().numpy() if isinstance(z, torch.Tensor) else z, dtype=dtype)
    if z.ndim != 2 or z.shape[1] != generator.latent_dim:
        raise ValueError(f"z must have shape [batch, {generator.latent_dim}], got {z.shape}")
    return _workspace(generator.config, z.shape[0], dtype), p, z, bound


def forward_output(generator: Generator, z: np.ndarray) -> np.ndarray:
    """``generator(z)`` computed in NumPy (no gradient): the ``[B, D]`` output vector."""
    ws, p, z, _ = _prepare(generator, z)
    with np.errstate(over="ignore"), single_thread_blas():
        _forward(ws, p, z)
    return ws.out.copy()


def search_loss_and_grad(generator: Generator, predictor: MLPPredictor | None, z: np.ndarray,
                         target_nodes: np.ndarray, target_edges: np.ndarray,
                         target_acc: np.ndarray | None, weights: np.ndarray | None, alpha: float) -> float:
    """Forward + backward of ``search_loss(reconstruction_loss(g(z)), predictor(g(z)), acc, w, alpha)``.

    ``predictor`` may be ``None`` only if ``alpha == 0`` (pretraining: loss = mean_i w_i L_G,i;
    ``weights=None`` means all 1). Returns the loss value; *sets* ``.grad`` of every generator
    (and predictor) parameter, as ``zero_grad(); loss.backward()`` would.
    """
    alpha = float(alpha)
    if predictor is None and alpha != 0.0:
        raise ValueError("a predictor is needed when alpha != 0")
    if predictor is not None and predictor.outputs != 1:
        raise ValueError("only single-output predictors are supported")
    if alpha != 0.0 and target_acc is None:
        raise ValueError("target_acc is needed when alpha != 0")
    ws, p, z, bound = _prepare(generator, z)
    B, N, E = z.shape[0], generator.config.max_nodes, generator.config.num_edges
    dtype = z.dtype
    target_nodes = np.asarray(target_nodes, dtype=np.intp).reshape(B, N)
    target_edges = np.asarray(target_edges, dtype=dtype).reshape(B, E)
    weights = np.ones(B, dtype=dtype) if weights is None else np.asarray(weights, dtype=dtype).reshape(B)

    gen_grads = bound.grad_arrays()
    pred_w = pred_g = None
    if predictor is not None:
        pbound = _bound(predictor, _predictor_tensors)
        arrays, grads = pbound.arrays(), pbound.grad_arrays()
        pred_w = list(zip(arrays[0::2], arrays[1::2]))
        pred_g = list(zip(grads[0::2], grads[1::2]))

    # exp(-x) -> inf in the sigmoid for x << 0 (gives 0): silence that overflow warning
    with np.errstate(over="ignore"), single_thread_blas():
        _forward(ws, p, z)
        loss = _loss_and_dout(ws, pred_w, pred_g, target_nodes, target_edges, target_acc, weights, alpha)
        _backward(ws, p, z, gen_grads)
    return loss


def objective_loss_and_grad(generator: Generator, z: np.ndarray, target_nodes: np.ndarray,
                            target_edges: np.ndarray, objective, node_weight: float = 1.0) -> float:
    """Forward + backward of ``objective(g(z), reconstruction_loss(g(z)))`` for any torch objective.

    The generator and the reconstruction loss run here in NumPy; ``objective(out, recon)``
    gets ``out`` (``[B, D]``) and the per-graph ``recon`` (``[B]``) as torch leaf tensors
    that require grad and returns a scalar tensor, built with whatever torch modules it
    needs (a predictor, a per-sample normalisation, ...). Its autograd backward yields
    d loss / d out and d loss / d recon, which are combined and back-propagated through the
    generator here. Returns the loss value; *sets* ``.grad`` of every generator parameter;
    the modules used inside ``objective`` *accumulate* their ``.grad`` as autograd does
    (zero them first).
    """
    ws, p, z, bound = _prepare(generator, z)
    B, N, E = z.shape[0], generator.config.max_nodes, generator.config.num_edges
    target_nodes = np.asarray(target_nodes, dtype=np.intp).reshape(B, N)
    target_edges = np.asarray(target_edges, dtype=z.dtype).reshape(B, E)
    with np.errstate(over="ignore"), single_thread_blas():
        _forward(ws, p, z)
        recon = _reconstruction(ws, target_nodes, target_edges, node_weight)
    out_t = torch.from_numpy(ws.out.copy()).requires_grad_(True)
    recon_t = torch.from_numpy(np.ascontiguousarray(recon)).requires_grad_(True)
    loss = objective(out_t, recon_t)
    loss.backward()
    d_recon = recon_t.grad.numpy() if recon_t.grad is not None else np.zeros(B, dtype=z.dtype)
    with np.errstate(over="ignore"), single_thread_blas():
        ws.dout *= d_recon.astype(z.dtype, copy=False)[:, None]
        if out_t.grad is not None:
            ws.dout += out_t.grad.numpy()
        _backward(ws, p, z, bound.grad_arrays())
    return float(loss.detach())
