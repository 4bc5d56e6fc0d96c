"""AG-Net generator: latent z -> node-type logits and edge logits (spec §2).

The generator builds every graph node by node, always exactly ``max_nodes`` nodes,
with a bidirectional gated-GRU message-passing network over the partial graph,
two gated-sum readouts, a node-type head, a node-init head and an edge head.

Everything is computed on dense, batched tensors: node states ``[B, t, n]`` and
a dense adjacency ``[B, N, N]``. Each graph in a batch uses its own latent vector
and its own graph embedding, so its output does not depend on its batch-mates
(the authors' batching bugs QUIRK-1 and QUIRK-2 do not exist here).

The output "vector graph representation" is ``[flatten(node logits); edge logits]``
(length ``N*K + N(N-1)/2``), differentiable in every parameter. The edge logits
are ordered column-wise: (0->1), (0->2), (1->2), (0->3), (1->3), (2->3), ...
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

#: Logit value used for the fixed parts of the output (start node, first edge).
FIXED_LOGIT = 20.0
#: Threshold on the raw edge logit that decides which edges the GNN sees.
EDGE_THRESHOLD = 0.5
#: Index of the ``output`` and ``input`` node classes in every vocabulary.
OUTPUT_CLASS = 0
INPUT_CLASS = 1


@dataclass(frozen=True)
class GeneratorConfig:
    """Sizes of the generator. ``num_classes`` (K) and ``max_nodes`` (N) come from the codec."""

    num_classes: int
    max_nodes: int
    node_dim: int = 32
    graph_dim: int = 32
    gnn_layers: int = 2
    #: 1: the graph starts from one ``input`` node (NB201, NB101); 2: from ``input`` and a generated
    #: second input (DARTS, spec §2.5: :class:`TwoInputGenerator`)
    input_nodes: int = 1

    @classmethod
    def for_codec(cls, codec) -> "GeneratorConfig":
        """The spec's sizes for a search space's codec (its K, N, input nodes and GNN layers)."""
        return cls(num_classes=codec.num_classes, max_nodes=codec.max_nodes,
                   gnn_layers=getattr(codec, "gnn_layers", 2), input_nodes=getattr(codec, "input_nodes", 1))

    @property
    def latent_dim(self) -> int:
        """z has the dimension of the graph embedding (spec §2.1)."""
        return self.graph_dim

    @property
    def num_edges(self) -> int:
        return self.max_nodes * (self.max_nodes - 1) // 2

    @property
    def output_dim(self) -> int:
        return self.max_nodes * self.num_classes + self.num_edges

    def to_dict(self) -> dict:
        return asdict(self)


def _uniform_(tensor: torch.Tensor, fan_in: int) -> torch.Tensor:
    """PyTorch's default init for Linear / GRU weights: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1.0 / math.sqrt(fan_in)
    return nn.init.uniform_(tensor, -bound, bound)


class FusedBidirectionalGNN(nn.Module):
    """The bidirectional gated-GRU message passing of spec §2.2 (``NodeEmbUpd``).

    A node state is split into a forward half (messages along the edges u->v) and a
    backward half (messages along the reversed edges); each half has ``layers`` layers
    of its own. One layer, per direction, with state size s = n/2:

        m_{u->v} = W_msg [h_u; h_v] + b_msg          (W_msg: n -> n)
        M_v      = sum_{u in pred(v)} m_{u->v}        (zero for a node without predecessors)
        h_v     <- GRUCell(input=M_v, hidden=h_v)     (input n, hidden s)

    The two directions are independent, so they are computed together as a batch of
    two (leading dimension 2 of every parameter), and the three matrix products that
    read the hidden state (message source part, message target part, GRU hidden gates)
    are one product. This is the same function with fewer, larger tensor operations,
    which is what makes small-batch training fast on a CPU.
    """

    def __init__(self, node_dim: int, layers: int):
        super().__init__()
        if node_dim % 2:
            raise ValueError(f"node_dim must be even, got {node_dim}")
        n, s = node_dim, node_dim // 2
        self.node_dim, self.state_dim, self.layers = n, s, layers
        # per layer and direction: hidden-side weights [W_src | W_dst | W_hh] (s -> n + n + 3s),
        # message bias (n), GRU hidden bias (3s), GRU input weights (n -> 3s) and bias (3s)
        self.hidden_weight = nn.ParameterList(nn.Parameter(torch.empty(2, s, 2 * n + 3 * s)) for _ in range(layers))
        self.message_bias = nn.ParameterList(nn.Parameter(torch.empty(2, 1, n)) for _ in range(layers))
        self.hh_bias = nn.ParameterList(nn.Parameter(torch.empty(2, 1, 3 * s)) for _ in range(layers))
        self.ih_weight = nn.ParameterList(nn.Parameter(torch.empty(2, n, 3 * s)) for _ in range(layers))
        self.ih_bias = nn.ParameterList(nn.Parameter(torch.empty(2, 1, 3 * s)) for _ in range(layers))
        with torch.no_grad():
            for layer in range(layers):
                _uniform_(self.hidden_weight[layer][..., : 2 * n], 2 * s)  # message Linear(n, n)
                _uniform_(self.message_bias[layer], 2 * s)
                _uniform_(self.hidden_weight[layer][..., 2 * n :], s)  # GRUCell(n, s)
                _uniform_(self.hh_bias[layer], s)
                _uniform_(self.ih_weight[layer], s)
                _uniform_(self.ih_bias[layer], s)

    def hidden_biases(self) -> list[torch.Tensor]:
        """Per layer, the bias of the fused hidden-side product: [0 | b_msg | b_hh].

        The source part has no bias of its own (the message bias is counted once per
        edge through the target part). Build it once per generator pass and hand it to
        every :meth:`forward` call of that pass.
        """
        zero = self.message_bias[0].new_zeros(2, 1, self.node_dim)
        return [torch.cat([zero, mb, hb], 2) for mb, hb in zip(self.message_bias, self.hh_bias)]

    def forward(self, h: torch.Tensor, adj: torch.Tensor,
                hidden_biases: list[torch.Tensor] | None = None) -> torch.Tensor:
        """h: [B, t, n] node states; adj: [B, t, t] with adj[b, u, v] = 1 for an edge u->v."""
        b, t, n = h.shape
        s = self.state_dim
        if hidden_biases is None:
            hidden_biases = self.hidden_biases()
        # per direction, agg[v, u] = 1 when u sends to v: A^T forward, A backward
        agg = torch.stack([adj.transpose(1, 2), adj]).reshape(2 * b, t, t)
        in_degree = agg.sum(dim=2, keepdim=True)  # [2B, t, 1]
        x = torch.stack(h.split(s, dim=2)).reshape(2, b * t, s)
        for layer in range(self.layers):
            proj = torch.baddbmm(hidden_biases[layer], x, self.hidden_weight[layer])  # [2, B*t, 2n+3s]
            from_src, to_dst, gh_rz, gh_n = proj.view(2 * b, t, -1).split([n, n, 2 * s, s], dim=2)
            # M_v = sum_u agg[v,u] (W_src h_u) + deg_in(v) (W_dst h_v + b_msg)
            msg = torch.addcmul(torch.bmm(agg, from_src), in_degree, to_dst)
            gi = torch.baddbmm(self.ih_bias[layer], msg.view(2, b * t, n), self.ih_weight[layer])
            gi_rz, gi_n = gi.split([2 * s, s], dim=2)
            r, zg = torch.sigmoid(gi_rz + gh_rz.reshape(2, b * t, 2 * s)).chunk(2, dim=2)
            cand = torch.tanh(gi_n + r * gh_n.reshape(2, b * t, s))
            x = cand + zg * (x - cand)
        return torch.cat(x.view(2, b, t, s).unbind(0), dim=-1)


class Generator(nn.Module):
    """AG-Net's generator (spec §2.2-2.3). ``forward(z) -> [B, D]`` vector graph representation.

    Sub-networks (spec names in brackets), with the first layer of every head split by
    input so that inputs shared between heads are multiplied once:

    * node-attribute MLP ``e(x) = W2 relu(W1 x)``, K -> n -> n  [Embedding_Network]
    * start-node init, ``[e(onehot(input)); z]`` -> n+g -> n  [NodeInit.f_start]
    * node-type head, ``[h_G; z]`` -> g -> K  [NodeAdd]
    * node init, ``[e(s_t); h_G^init; z]`` -> n+g -> n  [NodeInit.f_init]
    * edge head, ``[h'_u; h_t; h_G; z]`` -> n+g -> 1  [Nodes]
    * two gated-sum readouts h_G and h_G^init, n -> g with a scalar gate  [GraphEmb, GraphEmb_init]
    * the bidirectional GNN  [NodeEmbUpd]
    """

    def __init__(self, config: GeneratorConfig):
        super().__init__()
        self.config = config
        n, g, k = config.node_dim, config.graph_dim, config.num_classes
        h = n + g  # hidden width of the node-init and edge heads
        self.node_embedding = nn.Sequential(nn.Linear(k, n), nn.ReLU(), nn.Linear(n, n))
        self.start_init = nn.Sequential(nn.Linear(n + g, n + g), nn.ReLU(), nn.Linear(n + g, n))
        # z enters three heads: node type (g), node init (h), edge head (h); biases included
        self.z_proj = nn.Linear(g, g + 2 * h)
        # node states enter the two readouts (features g+g, gates 1+1) and the edge head (h)
        self.state_proj = nn.Linear(n, 2 * g + 2 + h, bias=False)
        self.readout_bias = nn.Parameter(torch.empty(2 * g + 2))
        # h_G enters the node-type head (g) and the edge head (h)
        self.graph_proj = nn.Linear(g, g + h, bias=False)
        self.node_type_out = nn.Linear(g, k)
        self.init_from_node = nn.Linear(n, h, bias=False)  # e(s_t) part of the node-init head
        self.init_from_graph = nn.Linear(g, h, bias=False)  # h_G^init part of the node-init head
        self.node_init_out = nn.Linear(h, n)
        self.edge_from_new = nn.Linear(n, h, bias=False)  # h_t part of the edge head
        self.edge_out = nn.Linear(h, 1)
        self.gnn = FusedBidirectionalGNN(n, config.gnn_layers)
        self._init_split_heads()
        start = torch.zeros(k)
        start[INPUT_CLASS] = 1.0
        self.register_buffer("start_onehot", start, persistent=False)

    def _init_split_heads(self) -> None:
        """Give each split first layer PyTorch's default init for its *unsplit* fan-in."""
        n, g = self.config.node_dim, self.config.graph_dim
        h = n + g
        with torch.no_grad():
            for rows, fan_in in ((slice(0, g), 2 * g), (slice(g, g + h), n + 2 * g),
                                 (slice(g + h, g + 2 * h), 2 * n + 2 * g)):
                _uniform_(self.z_proj.weight[rows], fan_in)
                _uniform_(self.z_proj.bias[rows], fan_in)
            _uniform_(self.state_proj.weight[: 2 * g + 2], n)
            _uniform_(self.readout_bias, n)
            _uniform_(self.state_proj.weight[2 * g + 2 :], 2 * n + 2 * g)
            _uniform_(self.graph_proj.weight[:g], 2 * g)
            _uniform_(self.graph_proj.weight[g:], 2 * n + 2 * g)
            _uniform_(self.init_from_node.weight, n + 2 * g)
            _uniform_(self.init_from_graph.weight, n + 2 * g)
            _uniform_(self.edge_from_new.weight, 2 * n + 2 * g)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        node_logits, edge_logits = self.generate(z)
        return torch.cat([node_logits.flatten(1), edge_logits], dim=1)

    def generate(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return node logits ``[B, N, K]`` and column-ordered edge logits ``[B, E]``."""
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape [batch, {self.latent_dim}], got {tuple(z.shape)}")
        cfg = self.config
        b, n_max, g = z.shape[0], cfg.max_nodes, cfg.graph_dim
        h = cfg.node_dim + g
        z_type, z_init, z_edge = self.z_proj(z).split([g, h, h], dim=1)
        start_emb = self.node_embedding(self.start_onehot).expand(b, -1)
        states = self.start_init(torch.cat([start_emb, z], 1)).unsqueeze(1)  # [B, 1, n]
        state_bias = torch.cat([self.readout_bias, self.readout_bias.new_zeros(h)])
        gnn_biases = self.gnn.hidden_biases()
        adj = z.new_zeros(b, n_max, n_max)
        node_logits = [FIXED_LOGIT * self.start_onehot.expand(b, -1)]
        edge_logits = []
        for t in range(1, n_max):
            single = self._single_node_readout(t)
            if single is None:  # message passing on the partial graph
                states = self.gnn(states, adj[:, :t, :t], gnn_biases)
            projected = F.linear(states, self.state_proj.weight, state_bias)
            feats, gates, edge_from_old = projected.split([2 * g, 2, h], dim=2)
            if single is not None:  # the readouts of one node's state: plain linear maps, no gate
                readouts = feats[:, single]
            else:
                gated = feats.view(b, t, 2, g) * torch.sigmoid(gates).unsqueeze(-1)
                readouts = gated.sum(dim=1).view(b, 2 * g)
            h_graph, h_graph_init = readouts.split(g, dim=1)
            to_type, to_edge = self.graph_proj(h_graph).split([g, h], dim=1)
            s_t = self.node_type_out(torch.relu(to_type + z_type))
            init_hidden = self.init_from_node(self.node_embedding(s_t)) + self.init_from_graph(h_graph_init)
            h_t = self.node_init_out(torch.relu(init_hidden + z_init))
            a_t = self._fixed_edge_logits(t, z)
            if a_t is None:
                context = self.edge_from_new(h_t) + to_edge + z_edge
                a_t = self.edge_out(torch.relu(edge_from_old + context.unsqueeze(1))).squeeze(-1)
            node_logits.append(s_t)
            edge_logits.append(a_t)
            states = torch.cat([states, h_t.unsqueeze(1)], 1)
            if t < n_max - 1:  # the partial graph for the next step (not differentiable)
                adj = adj.clone()
                adj[:, :t, t] = (a_t.detach() > EDGE_THRESHOLD).to(adj.dtype)
        return torch.stack(node_logits, 1), torch.cat(edge_logits, 1)

    # the first steps, which a space with other start nodes overrides (spec §2.3 d, §2.5)
    def _single_node_readout(self, t: int) -> int | None:
        """At step t, the node whose state alone gives the graph readouts (no message passing, no
        gate), or None for the gated readouts after message passing: node 0 at t = 1."""
        return 0 if t == 1 else None

    def _fixed_edge_logits(self, t: int, z: torch.Tensor) -> torch.Tensor | None:
        """The edge logits ``[B, t]`` of step t where they are fixed, else None: 0->1 always present."""
        return z.new_full((z.shape[0], 1), FIXED_LOGIT) if t == 1 else None

    def sample_latent(self, num: int, generator: torch.Generator | None = None,
                      bound: float | None = None) -> torch.Tensor:
        """z ~ N(0, I) (``bound=None``) or z ~ U[-bound, bound] per coordinate."""
        if bound is None:
            return torch.randn(num, self.latent_dim, generator=generator)
        return (torch.rand(num, self.latent_dim, generator=generator) * 2.0 - 1.0) * bound


class TwoInputGenerator(Generator):
    """The generator of the DARTS space (spec §2.5, NB301's first steps): node 1 is the second cell
    input ``input_1`` (its type logits learned), with the edge logit 0->1 fixed to -1 so the partial
    graph stays edgeless; at step 2 the readouts come from node 1's state alone (no message passing)
    and the new node's edge logits are fixed to (0->2: +1, 1->2: -1); normal steps from t = 3 on."""

    def __init__(self, config: GeneratorConfig):
        if config.max_nodes < 3:
            raise ValueError(f"a two-input generator needs max_nodes >= 3, got {config.max_nodes}")
        super().__init__(config)

    def _single_node_readout(self, t: int) -> int | None:
        return t - 1 if t <= 2 else None

    def _fixed_edge_logits(self, t: int, z: torch.Tensor) -> torch.Tensor | None:
        if t == 1:
            return z.new_full((z.shape[0], 1), -1.0)
        if t == 2:
            return z.new_tensor([1.0, -1.0]).expand(z.shape[0], 2)
        return None


#: generator class by ``GeneratorConfig.input_nodes``
GENERATOR_CLASSES: dict[int, type[Generator]] = {1: Generator, 2: TwoInputGenerator}


def build_generator(config: GeneratorConfig) -> Generator:
    """The generator a config describes (its class follows ``input_nodes``)."""
    try:
        cls = GENERATOR_CLASSES[config.input_nodes]
    except KeyError:
        raise ValueError(f"input_nodes must be one of {sorted(GENERATOR_CLASSES)}, got {config.input_nodes}") from None
    return cls(config)


def split_output(output: torch.Tensor, config: GeneratorConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Split a ``[B, D]`` output vector into node logits ``[B, N, K]`` and edge logits ``[B, E]``."""
    nk = config.max_nodes * config.num_classes
    return output[:, :nk].reshape(-1, config.max_nodes, config.num_classes), output[:, nk:]
