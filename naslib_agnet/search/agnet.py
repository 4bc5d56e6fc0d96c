"""AG-Net's search loop as an ask/tell object: latent-space optimisation by weighted retraining.

One iteration (spec §5.1): retrain generator + predictor jointly on the evaluated
architectures with rank weights, draw latent points z ~ U[-b, b], keep up to
``num_candidates`` valid, unseen, de-duplicated architectures, and propose the
``top_k`` of them by predicted score. (With ``predictor_input="generated+encoding"`` an
ensemble, the ranker, is fitted to the observations after the retraining and gives the
scores.) No NASLib, no files: the caller evaluates the proposals and reports the scores with
:meth:`AGNetSearch.observe`.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import torch

from ..model import (Generator, GeneratorConfig, MLPEnsemble, MLPPredictor, rank_weights, reconstruction_loss,
                     search_loss)
from ..model.ensemble import acquisition_values
from ..model.fast_backprop import search_loss_and_grad, single_thread_blas
from ..spaces import ArchKey, Codec, sample_discrete


PREDICTOR_INPUTS = ("generated", "encoding", "generated+encoding")
RANKER_ACQUISITIONS = ("mean", "ucb", "its")
METRIC_UNITS = ("scaled", "raw", "limit")
RANKER_FULL_BATCH = 1 << 30  #: the ranker trains on all observations in one batch


@dataclass
class AGNetSettings:
    """Every hyperparameter of the search, defaulting to the spec's NB201 values (spec §5.5, §10)."""

    num_init: int = 16  #: random architectures evaluated before the first retraining
    top_k: int = 16  #: architectures evaluated per iteration
    num_candidates: int = 100  #: valid new candidates ranked by the predictor per iteration
    retrain_epochs: int = 30  #: epochs of weighted retraining per iteration (NB101/NB301: 15)
    batch_size: int = 16
    lr: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    weight_decay: float = 0.0
    alpha: float = 0.9  #: weight of the prediction loss in (1-alpha) L_G + alpha L_C
    weight_factor: float = 0.01  #: k in w = 1 / (k |D| + rank)
    latent_bound: float = 3.0  #: candidates use z ~ U[-bound, bound]
    chunk_size: int = 100  #: candidate draws grow 100, 200, ... per chunk
    max_chunks: int = 9  #: ... up to this many chunks per iteration (4,500 draws for NB201)
    predictor_layers: int = 4  #: hidden layers of the MLP predictor
    score_scale: float = 0.01  #: scores are multiplied by this before regression (% -> fraction)
    engine: str = "numpy"  #: "numpy" (hand-written backprop, fast on CPU) or "torch" (autograd)
    metric_weight: float = 0.5  #: lambda: hardware-aware search only, weight of accuracy vs. metric loss
    infeasible_penalty: float = 1000.0  #: hardware-aware search only: rank-sum factor of infeasible points
    #: hardware-aware search only: units of the metrics the predictor regresses. "scaled" ((value -
    #: limit) / spread over the evaluated architectures: independent of the metric's units and
    #: offset), "raw" (spec §7: the table's units, e.g. ms) or "limit" (value / |limit|, a variant);
    #: see HardwareAGNetSearch
    metric_units: str = "scaled"
    #: hardware-aware search only: how infeasible points rank under Joint=0. "accuracy" (spec §7) or
    #: "accuracy+metric" (a variant: their metric rank is added, as Joint=1 does for every point)
    infeasible_order: str = "accuracy"
    #: what the predictor reads. "generated" (spec §3.2: the generator's continuous output for z,
    #: trained jointly with the generator on random (z, target) pairs). Variants: "encoding" (the
    #: predictor is trained on the evaluated architectures' own one-hot encodings and scores each
    #: candidate's decoded encoding; the generator learns from the reconstruction loss alone) and
    #: "generated+encoding" (generator and predictor train as in the spec; after each retraining
    #: an ensemble of small MLPs, the ranker, is fitted to the evaluated architectures' encodings
    #: and scores the candidates)
    predictor_input: str = "generated"
    #: "generated+encoding" only: the ranker, ``ranker_members`` MLPs of ``ranker_layers`` ReLU
    #: layers of ``ranker_width`` units, fitted from scratch after every retraining on the
    #: z-scored scores with the squared error, full batch, ``ranker_epochs`` Adam steps at
    #: ``ranker_lr``. A candidate's score is one draw from the normal distribution of the members'
    #: mean prediction and spread (``ranker_acquisition`` "its", independent Thompson sampling, as
    #: BANANAS), the mean plus ``ranker_explore`` spreads ("ucb"), or the mean alone ("mean", the
    #: ranker's only scoring before the setting existed)
    ranker_members: int = 5
    ranker_layers: int = 2
    ranker_width: int = 64
    ranker_epochs: int = 200
    ranker_lr: float = 0.01
    ranker_acquisition: str = "its"
    ranker_explore: float = 0.5

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "AGNetSettings":
        """Build from a mapping, checking names and types; unknown keys raise ValueError."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown AG-Net setting(s) {unknown}; known settings: {sorted(known)}")
        kwargs = {}
        for name, value in values.items():
            default = getattr(cls, name)
            kwargs[name] = _coerce(name, value, type(default))
        settings = cls(**kwargs)
        settings.validate()
        return settings

    @staticmethod
    def parse_assignments(items: list[str]) -> dict[str, Any]:
        """``["NAME=VALUE", ...]`` (a script's command line) -> ``{name: value}``; values are read as
        JSON where they parse (``200``, ``1e-3``, ``true``) and kept as strings otherwise. Pass the
        result to :meth:`from_mapping`, which checks names and types."""
        values: dict[str, Any] = {}
        for item in items:
            name, sep, text = item.partition("=")
            if not sep or not name:
                raise ValueError(f"setting {item!r}: expected NAME=VALUE, e.g. predictor_input=encoding")
            try:
                values[name] = json.loads(text)
            except ValueError:
                values[name] = text
        return values

    def validate(self) -> None:
        positive = ("num_init", "top_k", "num_candidates", "batch_size", "chunk_size", "max_chunks",
                    "ranker_members", "ranker_layers", "ranker_width", "ranker_epochs")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"AG-Net setting {name} must be >= 1, got {getattr(self, name)}")
        for name in ("lr", "weight_factor", "latent_bound", "score_scale", "ranker_lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"AG-Net setting {name} must be > 0, got {getattr(self, name)}")
        if self.retrain_epochs < 0:
            raise ValueError(f"retrain_epochs must be >= 0, got {self.retrain_epochs}")
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"alpha must lie in [0, 1], got {self.alpha}")
        if not 0.0 <= self.metric_weight <= 1.0:
            raise ValueError(f"metric_weight must lie in [0, 1], got {self.metric_weight}")
        if not self.infeasible_penalty >= 1.0:
            raise ValueError(f"infeasible_penalty must be >= 1, got {self.infeasible_penalty}")
        if self.infeasible_order not in ("accuracy", "accuracy+metric"):
            raise ValueError(f"infeasible_order must be 'accuracy' or 'accuracy+metric', got {self.infeasible_order!r}")
        if self.metric_units not in METRIC_UNITS:
            raise ValueError(f"metric_units must be one of {', '.join(map(repr, METRIC_UNITS))}, "
                             f"got {self.metric_units!r}")
        if self.predictor_input not in PREDICTOR_INPUTS:
            raise ValueError(f"predictor_input must be one of {', '.join(map(repr, PREDICTOR_INPUTS))}, "
                             f"got {self.predictor_input!r}")
        if self.ranker_acquisition not in RANKER_ACQUISITIONS:
            raise ValueError(f"ranker_acquisition must be one of {', '.join(map(repr, RANKER_ACQUISITIONS))}, "
                             f"got {self.ranker_acquisition!r}")
        if not self.ranker_explore >= 0:
            raise ValueError(f"ranker_explore must be >= 0, got {self.ranker_explore}")
        if self.engine not in ("numpy", "torch"):
            raise ValueError(f"engine must be 'numpy' or 'torch', got {self.engine!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _coerce(name: str, value: Any, kind: type) -> Any:
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is str and isinstance(value, str):
        return value
    raise ValueError(f"AG-Net setting {name} must be of type {kind.__name__}, got {value!r} "
                     f"({type(value).__name__})")


@dataclass
class SearchTimings:
    """Wall-clock seconds spent in each part of the search, for profiling reports."""

    retrain: float = 0.0
    rank_fit: float = 0.0  #: fitting the ranker (``predictor_input="generated+encoding"`` only)
    generate: float = 0.0
    steps: int = 0
    latent_draws: int = 0
    iterations: int = 0
    empty_iterations: int = 0
    filtered: int = 0  #: valid new candidates discarded by the candidate filter
    per_iteration: list[dict] = field(default_factory=list)


class AGNetSearch:
    """AG-Net as an ask/tell optimiser over one search space.

    Args:
        codec: the search space's codec.
        settings: hyperparameters.
        generator_state: a pretrained generator ``state_dict`` (or ``None`` for random init).
        generator_config: the generator's sizes; defaults to the codec's K and N.
        seed: seeds the latent draws, the sampler, the network initialisation and the ranker's fits
            and Thompson draws.
        candidate_filter: optional ``filter(arch) -> bool``; a valid new candidate for which it
            returns False is discarded (never proposed, never scored), e.g. a cell outside a
            sub-benchmark's table (``arch in oracle``).
    """

    def __init__(self, codec: Codec, settings: AGNetSettings | None = None,
                 generator_state: Mapping[str, torch.Tensor] | None = None,
                 generator_config: GeneratorConfig | None = None, seed: int = 0,
                 candidate_filter: Callable[[ArchKey], bool] | None = None):
        self.codec = codec
        self.candidate_filter = candidate_filter
        self.settings = settings or AGNetSettings()
        self.settings.validate()
        cfg = generator_config or GeneratorConfig(num_classes=codec.num_classes, max_nodes=codec.max_nodes)
        if (cfg.num_classes, cfg.max_nodes) != (codec.num_classes, codec.max_nodes):
            raise ValueError(f"generator sizes K={cfg.num_classes}, N={cfg.max_nodes} do not match the "
                             f"{codec.name} codec (K={codec.num_classes}, N={codec.max_nodes})")
        self.torch_rng = torch.Generator().manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.generator = Generator(cfg)
            self.predictor = self._make_predictor(cfg)
        self.seed = seed
        s = self.settings
        #: "generated+encoding" only: the MLP ensemble on encodings that scores the candidates
        self.ranker = (MLPEnsemble(s.ranker_members, num_layers=s.ranker_layers, layer_width=s.ranker_width,
                                   lr=s.ranker_lr, epochs=s.ranker_epochs, loss="mse", regularization=0.0,
                                   batch_size=RANKER_FULL_BATCH)
                       if s.predictor_input == "generated+encoding" else None)
        if generator_state is not None:
            self.generator.load_state_dict(generator_state)
        self.optimizer = torch.optim.Adam(
            [*self.generator.parameters(), *self.predictor.parameters()],
            lr=s.lr, betas=(s.beta1, s.beta2), weight_decay=s.weight_decay, fused=True)
        self.archs: list[ArchKey] = []
        self.scores: list[float] = []
        self._seen: set[Hashable] = set()
        self._pending: set[Hashable] = set()
        self.timings = SearchTimings()
        self.last_candidates: list[tuple[ArchKey, float]] = []
        self._ranker_scale = (0.0, 1.0)  # mean and std of the scores the ranker was fitted to
        self._ranker_fitted_on = -1  # number of observations at the ranker's last fit

    def _make_predictor(self, cfg: GeneratorConfig) -> torch.nn.Module:
        return MLPPredictor(cfg.output_dim, hidden_layers=self.settings.predictor_layers)

    # ----------------------------------------------------------------------------- tell
    def observe(self, arch: ArchKey, score: float) -> None:
        """Record the true score (e.g. validation accuracy in %) of an evaluated architecture."""
        score = float(score)
        if not np.isfinite(score):
            raise ValueError(f"score of {arch} must be a finite number, got {score}")
        key = self.codec.dedup_key(tuple(int(v) for v in arch))
        self.archs.append(tuple(int(v) for v in arch))
        self.scores.append(score)
        self._seen.add(key)
        self._pending.discard(key)

    def mark_pending(self, arch: ArchKey) -> None:
        """Exclude an architecture the caller will evaluate from future proposals."""
        self._pending.add(self.codec.dedup_key(tuple(int(v) for v in arch)))

    def is_seen(self, arch: ArchKey) -> bool:
        """True for architectures already observed or proposed and not yet observed."""
        key = self.codec.dedup_key(tuple(int(v) for v in arch))
        return key in self._seen or key in self._pending

    # ------------------------------------------------------------------------------ ask
    def propose(self, num: int | None = None) -> list[ArchKey]:
        """Retrain on the observations (and fit the ranker, if any), then return up to ``num``
        (default ``top_k``) new architectures.

        Returns fewer (possibly none) when the generator yields fewer valid unseen
        candidates within its draw budget; the caller decides how to fill the gap.
        """
        if not self.archs:
            raise RuntimeError("AG-Net needs at least one observed architecture before it can propose")
        num = self.settings.top_k if num is None else num
        start = time.perf_counter()
        steps = self.retrain()  # the numpy training step runs BLAS on one thread (fast_backprop)
        retrained = mid = time.perf_counter()
        if self.ranker is not None:
            self.fit_ranker()
            mid = time.perf_counter()
        candidates = self.generate_candidates()
        end = time.perf_counter()
        self.last_candidates = candidates
        chosen = self._select(candidates, num)
        for arch in chosen:
            self._pending.add(self.codec.dedup_key(arch))
        t = self.timings
        t.retrain += retrained - start
        t.rank_fit += mid - retrained
        t.generate += end - mid
        t.steps += steps
        t.iterations += 1
        t.empty_iterations += not chosen
        t.per_iteration.append({"observed": len(self.archs), "retrain_s": retrained - start,
                                "rank_fit_s": mid - retrained, "generate_s": end - mid, "steps": steps, "candidates": len(candidates)})
        return chosen

    # ------------------------------------------------------------------------ internals
    # the hooks a variant overrides: _make_predictor, _weights, _targets, _train_step, _predict, _select
    def _select(self, candidates: list[tuple[ArchKey, Any]], num: int) -> list[ArchKey]:
        """The ``num`` candidates to evaluate: the highest predicted scores."""
        return [arch for arch, _ in sorted(candidates, key=lambda c: -c[1])[:num]]

    def _weights(self) -> np.ndarray:
        """Per-observation rank weights (spec §5.2), used for sampling and as loss weights."""
        return rank_weights(np.asarray(self.scores), k=self.settings.weight_factor)

    def _targets(self) -> np.ndarray:
        """Regression targets of the predictor, one row per observation."""
        return np.asarray(self.scores, dtype=np.float32) * self.settings.score_scale

    def _predict(self, out: torch.Tensor) -> list[Any]:
        """The predictor's value for each generated output (or encoding), in the caller's units."""
        scale = self.settings.score_scale
        return [value / scale for value in self.predictor(out).numpy().tolist()]

    def _rank_scores(self, archs: list[ArchKey]) -> list[Any]:
        """The ``encoding`` variants' scores of candidates, in the caller's units, from each one's
        encoding: the predictor's value, or the ranker's acquisition value (``ranker_acquisition``)."""
        encodings = self._encoding(*self.codec.encode(archs))
        if self.ranker is None:
            return self._predict(encodings)
        if self._ranker_fitted_on != len(self.archs):  # propose() fits it; a direct call may not have
            self.fit_ranker()
        mean, std = self._ranker_scale
        return (mean + std * self._acquisition(self.ranker.predict(encodings.numpy()))).tolist()

    def _acquisition(self, members: np.ndarray) -> np.ndarray:
        """The ranker's value of each candidate from its members' predictions ``(members, M)``,
        in the z-scored units they were fitted to (BANANAS's acquisition function). "its" draws
        from its own generator, seeded like the fit, so the search's other random streams are the
        same for every acquisition."""
        s = self.settings
        kind = "exploit_only" if s.ranker_acquisition == "mean" else s.ranker_acquisition
        return acquisition_values(members, None, kind, explore=s.ranker_explore,
                                  rng=np.random.default_rng(self._ranker_seed()))

    def _ranker_seed(self) -> int:
        """The seed of the ranker's fit and draws: fixed by the search seed and the number of
        observations, so a resumed run repeats them."""
        return (self.seed * 1_000_003 + len(self.archs)) % (1 << 63)

    def fit_ranker(self) -> None:
        """Fit the ranker's members from scratch to the observations (encodings -> z-scored
        scores). The initialisation is seeded by the search seed and the number of observations,
        so a resumed run refits the same ranker."""
        scores = np.asarray(self.scores, dtype=np.float64)
        self._ranker_fitted_on = len(self.archs)
        self._ranker_scale = (float(scores.mean()), max(float(scores.std()), 1e-12))
        targets = (scores - self._ranker_scale[0]) / self._ranker_scale[1]
        with torch.random.fork_rng(devices=[]), single_thread_blas():
            torch.manual_seed(self._ranker_seed())
            self.ranker.fit(self._encoding(*self.codec.encode(self.archs)).numpy(), targets)

    def retrain(self) -> int:
        """Weighted retraining (spec §5.1): ``retrain_epochs`` epochs of |D| weighted draws each."""
        s = self.settings
        n = len(self.archs)
        weights = self._weights()
        nodes, edges = self.codec.encode(self.archs)
        targets = self._targets()
        probs = weights / weights.sum()
        self.generator.train()
        self.predictor.train()
        steps = 0
        for _ in range(s.retrain_epochs):
            order = self.rng.choice(n, size=n, replace=True, p=probs)
            for lo in range(0, n, s.batch_size):
                idx = order[lo:lo + s.batch_size]
                z = torch.randn(len(idx), self.generator.latent_dim, generator=self.torch_rng)
                self._train_step(z, nodes[idx], edges[idx], targets[idx], weights[idx].astype(np.float32))
                steps += 1
        return steps

    def _encoding(self, nodes: np.ndarray, edges: np.ndarray) -> torch.Tensor:
        """Discrete architectures as predictor input: [flatten(one-hot node types) ; edge bits], ``[B, D]``."""
        onehot = np.eye(self.codec.num_classes, dtype=np.float32)[np.asarray(nodes)]
        return torch.from_numpy(np.concatenate([onehot.reshape(len(onehot), -1),
                                                np.asarray(edges, dtype=np.float32)], 1))

    def _train_step(self, z: torch.Tensor, nodes: np.ndarray, edges: np.ndarray,
                    targets: np.ndarray, weights: np.ndarray) -> None:
        alpha = self.settings.alpha
        if self.settings.predictor_input == "encoding":
            self._train_step_on_encodings(z, nodes, edges, targets, weights)
        elif self.settings.engine == "numpy":
            search_loss_and_grad(self.generator, self.predictor, z.numpy(), nodes, edges, targets, weights, alpha)
        else:
            self.optimizer.zero_grad(set_to_none=False)
            out = self.generator(z)
            recon = reconstruction_loss(out, torch.from_numpy(nodes), torch.from_numpy(edges),
                                        self.generator.config)
            loss = search_loss(recon, self.predictor(out), torch.from_numpy(targets),
                               torch.from_numpy(weights), alpha)
            loss.backward()
        self.optimizer.step()

    def _encoding_loss_backward(self, nodes: np.ndarray, edges: np.ndarray,
                                targets: np.ndarray, weights: np.ndarray) -> None:
        """Set the predictor's gradients to those of mean_i w_i alpha (P(y_i) - acc_i)^2 on the
        targets' own encodings y_i."""
        for param in self.predictor.parameters():
            param.grad = None
        prediction = self.predictor(self._encoding(nodes, edges))
        w = torch.from_numpy(weights)
        (self.settings.alpha * w * (prediction - torch.from_numpy(targets)) ** 2).mean().backward()

    def _train_step_on_encodings(self, z: torch.Tensor, nodes: np.ndarray, edges: np.ndarray,
                                 targets: np.ndarray, weights: np.ndarray) -> None:
        """The ``predictor_input="encoding"`` step: the batch objective
        mean_i w_i [(1 - alpha) L_G,i + alpha (P(y_i) - acc_i)^2] with P reading the target's own
        encoding y_i, so the two terms touch disjoint parameters (generator, predictor)."""
        alpha = self.settings.alpha
        if self.settings.engine == "numpy":
            search_loss_and_grad(self.generator, None, z.numpy(), nodes, edges, None, weights, 0.0)
            for param in self.generator.parameters():
                param.grad.mul_(1.0 - alpha)
        else:
            self.optimizer.zero_grad(set_to_none=False)
            recon = reconstruction_loss(self.generator(z), torch.from_numpy(nodes), torch.from_numpy(edges),
                                        self.generator.config)
            ((1.0 - alpha) * torch.from_numpy(weights) * recon).mean().backward()
        self._encoding_loss_backward(nodes, edges, targets, weights)
        self.optimizer.step()

    @torch.no_grad()
    def generate_candidates(self) -> list[tuple[ArchKey, float]]:
        """Valid, unseen, de-duplicated candidates with the predicted score of their z (spec §5.3);
        with a ``candidate_filter``, only those it accepts.

        Draws chunks of 100, 200, ... latent points until more than ``num_candidates``
        candidates exist (or the chunk budget is spent), then keeps ``num_candidates``
        of them at random. Scores are in the caller's units (e.g. % accuracy): the predictor's
        value on the continuous output of each candidate's z; with ``predictor_input="encoding"``
        its value on each kept candidate's encoding; with ``"generated+encoding"`` the ranker's
        acquisition value on that encoding (``ranker_acquisition``: a Thompson draw, an upper
        bound or the members' mean; the ranker is refitted first if observations came in since
        its last fit).
        """
        s = self.settings
        self.generator.eval()
        self.predictor.eval()
        found: dict[Hashable, tuple[ArchKey, float]] = {}
        rejected: set[Hashable] = set()  # candidates the filter discarded
        on_encoding = s.predictor_input != "generated"
        for chunk in range(1, s.max_chunks + 1):
            z = self.generator.sample_latent(chunk * s.chunk_size, generator=self.torch_rng,
                                             bound=s.latent_bound)
            node_logits, edge_logits = self.generator.generate(z)
            predicted = ([None] * len(z) if on_encoding
                         else self._predict(torch.cat([node_logits.flatten(1), edge_logits], 1)))
            types, edges = sample_discrete(node_logits, edge_logits, generator=self.torch_rng)
            self.timings.latent_draws += len(z)
            for arch, score in zip(self.codec.decode(types, edges), predicted):
                if arch is None:
                    continue
                key = self.codec.dedup_key(arch)
                if key in self._seen or key in self._pending or key in found or key in rejected:
                    continue
                if self.candidate_filter is not None and not self.candidate_filter(arch):
                    rejected.add(key)
                    self.timings.filtered += 1
                    continue
                found[key] = (arch, score)
            if len(found) > s.num_candidates:
                break
        candidates = list(found.values())
        if len(candidates) > s.num_candidates:
            keep = self.rng.choice(len(candidates), size=s.num_candidates, replace=False)
            candidates = [candidates[i] for i in sorted(keep)]
        if on_encoding and candidates:
            archs = [arch for arch, _ in candidates]
            candidates = list(zip(archs, self._rank_scores(archs)))
        return candidates

    def best(self) -> tuple[ArchKey, float]:
        """The observed architecture with the highest score."""
        if not self.archs:
            raise RuntimeError("no architecture observed yet")
        i = int(np.argmax(self.scores))
        return self.archs[i], self.scores[i]
