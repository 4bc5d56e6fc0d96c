"""AG-Net's search loop as an ask/tell object: latent-space optimisation by weighted retraining.

One iteration (spec §5.1): retrain the generator (and the scorer's jointly trained model, if
any) on the evaluated architectures with rank weights, fit the scorer's separate model (if
any), draw latent points z ~ U[-b, b], keep up to ``num_candidates`` valid, unseen,
de-duplicated architectures, and propose the ``top_k`` of them by the scorer's values. What
scores the candidates is a :class:`~naslib_agnet.search.scorers.Scorer` (``settings.scorer``);
the loop knows none of them. No NASLib, no files: the caller evaluates the proposals and
reports the scores with :meth:`AGNetSearch.observe`.

A space whose architectures have several cells (DARTS: normal and reduction cell,
:attr:`~naslib_agnet.spaces.Codec.cells`) is searched one cell at a time (spec §5.6): the generator
generates cell i while |D| < ``loop.phase_switch`` (i + 1), the last cell to the end; the cells
before the active one are fixed to those of the best architecture found when the phase began,
the cells after it to random valid cells of the pretrained generator. Retraining reconstructs
the active cell of every evaluated architecture.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..model import GeneratorConfig, build_generator, rank_weights
from ..model.train_step import train_step
from ..spaces import ArchKey, Codec, sample_discrete
from .scorers import Candidates, Observations, Scorer, ScorerContext, scorer_class
from .settings import AGNetSettings


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
        settings: loop, scorer and hardware settings (default: the spec's for NB201,
            :meth:`AGNetSettings.build` gives another space's).
        generator_state: a pretrained generator ``state_dict`` (or ``None`` for random init).
        generator_config: the generator's sizes; defaults to the codec's K and N.
        seed: seeds the latent draws, the sampler, the network initialisation and the scorer's fits.
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
        cfg = generator_config or GeneratorConfig.for_codec(codec)
        if (cfg.num_classes, cfg.max_nodes, cfg.input_nodes) != (codec.num_classes, codec.max_nodes, codec.input_nodes):
            raise ValueError(f"generator sizes K={cfg.num_classes}, N={cfg.max_nodes}, input nodes {cfg.input_nodes} do "
                             f"not match the {codec.name} codec (K={codec.num_classes}, N={codec.max_nodes}, input "
                             f"nodes {codec.input_nodes})")
        self.torch_rng = torch.Generator().manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        loop = self.settings.loop
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)  # the generator's, then the scorer's initialisation
            self.generator = build_generator(cfg)
            self.scorer = self._make_scorer(ScorerContext(codec=codec, output_dim=cfg.output_dim, seed=seed,
                                                          alpha=loop.alpha))
        if generator_state is not None:
            self.generator.load_state_dict(generator_state)
        self.optimizer = torch.optim.Adam(
            [*self.generator.parameters(), *self.scorer.parameters()],
            lr=loop.lr, betas=(loop.beta1, loop.beta2), weight_decay=loop.weight_decay, fused=True)
        self.archs: list[ArchKey] = []
        self.scores: list[float] = []
        self._seen: set[Hashable] = set()
        self._pending: set[Hashable] = set()
        self.timings = SearchTimings()
        self.last_candidates: list[tuple[ArchKey, Any]] = []
        self.cell = 0  #: the cell the generator generates now (index into codec.cells)
        self.fixed_cells: list[Any] | None = None  #: every cell of a proposal except the active one

    def _make_scorer(self, context: ScorerContext) -> Scorer:
        return scorer_class(self.settings.scorer)(self.settings.scorer_settings, context)

    @property
    def predictor(self) -> torch.nn.Module | None:
        """The scorer's jointly trained predictor, if it has one."""
        return self.scorer.modules().get("predictor")

    # ----------------------------------------------------------------------------- tell
    def observe(self, arch: ArchKey, score: float) -> None:
        """Record the true score (e.g. validation accuracy in %) of an evaluated architecture."""
        score = float(score)
        if not np.isfinite(score):
            raise ValueError(f"score of {arch} must be a finite number, got {score}")
        arch = self.codec.key(arch)
        key = self.codec.dedup_key(arch)
        self.archs.append(arch)
        self.scores.append(score)
        self._seen.add(key)
        self._pending.discard(key)

    def mark_pending(self, arch: ArchKey) -> None:
        """Exclude an architecture the caller will evaluate from future proposals."""
        self._pending.add(self.codec.dedup_key(self.codec.key(arch)))

    def is_seen(self, arch: ArchKey) -> bool:
        """True for architectures already observed or proposed and not yet observed."""
        key = self.codec.dedup_key(self.codec.key(arch))
        return key in self._seen or key in self._pending

    def active_cells(self, archs) -> list[Any]:
        """The active cell of each architecture (the architecture itself in a one-cell space)."""
        return [self.codec.split(a)[self.cell] for a in archs]

    def observations(self) -> Observations:
        nodes, edges = self.codec.encode(self.active_cells(self.archs))
        return Observations(list(self.archs), np.asarray(self.scores, dtype=np.float64), nodes, edges)

    # ------------------------------------------------------------------------------ ask
    def propose(self, num: int | None = None) -> list[ArchKey]:
        """Retrain on the observations, fit the scorer, then return up to ``num`` (default
        ``top_k``) new architectures.

        Returns fewer (possibly none) when the generator yields fewer valid unseen
        candidates within its draw budget; the caller decides how to fill the gap.
        """
        if not self.archs:
            raise RuntimeError("AG-Net needs at least one observed architecture before it can propose")
        num = self.settings.loop.top_k if num is None else num
        self._update_phase()
        start = time.perf_counter()
        steps = self.retrain()
        retrained = time.perf_counter()
        self.scorer.fit(self.observations())
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
                                "rank_fit_s": mid - retrained, "generate_s": end - mid, "steps": steps,
                                "candidates": len(candidates), "cell": self.codec.cells[self.cell]})
        return chosen

    def _update_phase(self) -> None:
        """Spaces of several cells: the active cell for |D| (spec §5.6) and the fixed other cells."""
        count = len(self.codec.cells)
        if count == 1:
            return
        if self.fixed_cells is None:
            self.fixed_cells = self._generated_cells(count)
        phase = min(len(self.archs) // self.settings.loop.phase_switch, count - 1)
        if phase > self.cell:
            best = self.codec.split(self.best()[0])
            self.fixed_cells[:phase] = best[:phase]
            self.cell = phase

    @torch.no_grad()
    def _generated_cells(self, count: int, tries: int = 100) -> list[Any]:
        """One random valid cell of the generator per position, z ~ U[-bound, bound] (spec §5.6: the
        fixed reduction cell of phase 1); a uniformly random cell where the generator yields none valid
        in ``tries`` batches of 100 (e.g. an untrained generator)."""
        self.generator.eval()
        cells: list[Any] = []
        for _ in range(tries):
            cells += [c for c in self._draw(100)[0] if c is not None]
            if len(cells) >= count:
                return cells[:count]
        return cells + self.codec.sample_cells(self.rng, count - len(cells))

    def _draw(self, num: int) -> tuple[list[Any | None], torch.Tensor, torch.Tensor]:
        """``num`` latent points z ~ U[-bound, bound] through the generator, sampled (spec §2.4) and decoded:
        the cells (None where invalid), the node logits and the edge logits."""
        z = self.generator.sample_latent(num, generator=self.torch_rng, bound=self.settings.loop.latent_bound)
        node_logits, edge_logits = self.generator.generate(z)
        types, edges = sample_discrete(node_logits, edge_logits, generator=self.torch_rng)
        return self.codec.decode(types, edges, edge_logits.numpy()), node_logits, edge_logits

    def _compose(self, cell: Any) -> ArchKey:
        """The architecture of a generated active cell and the fixed other cells."""
        if self.fixed_cells is None:
            return self.codec.join((cell,))
        cells = list(self.fixed_cells)
        cells[self.cell] = cell
        return self.codec.join(cells)

    # ------------------------------------------------------------------------ internals
    # the hooks a variant overrides: _make_scorer, _weights, _targets, _objective, _select
    def _select(self, candidates: list[tuple[ArchKey, Any]], num: int) -> list[ArchKey]:
        """The ``num`` candidates to evaluate: the highest scores."""
        return [arch for arch, _ in sorted(candidates, key=lambda c: -c[1])[:num]]

    def _weights(self) -> np.ndarray:
        """Per-observation training weights, used for sampling and as loss weights: the rank weights
        of spec §5.2, or equal weights (``loop.weighting = "uniform"``, the w/o LSO ablation)."""
        if self.settings.loop.weighting == "uniform":
            return np.ones(len(self.scores), dtype=np.float64)
        return rank_weights(np.asarray(self.scores), k=self.settings.loop.weight_factor)

    def _targets(self) -> np.ndarray:
        """Regression targets of the scorer, one row per observation."""
        return self.scorer.targets(self.observations())

    def _objective(self, nodes: np.ndarray, edges: np.ndarray, targets: np.ndarray, weights: np.ndarray):
        return self.scorer.objective(nodes, edges, targets, weights)

    def retrain(self) -> int:
        """Weighted retraining (spec §5.1): ``retrain_epochs`` epochs of |D| weighted draws each."""
        s = self.settings.loop
        n = len(self.archs)
        weights = self._weights()
        nodes, edges = self.codec.encode(self.active_cells(self.archs))
        targets = self._targets()
        probs = weights / weights.sum()
        self.generator.train()
        steps = 0
        for _ in range(s.retrain_epochs):
            order = self.rng.choice(n, size=n, replace=True, p=probs)
            for lo in range(0, n, s.batch_size):
                idx = order[lo:lo + s.batch_size]
                z = torch.randn(len(idx), self.generator.latent_dim, generator=self.torch_rng)
                self._train_step(z, nodes[idx], edges[idx], targets[idx], weights[idx].astype(np.float32))
                steps += 1
        return steps

    def _train_step(self, z: torch.Tensor, nodes: np.ndarray, edges: np.ndarray,
                    targets: np.ndarray, weights: np.ndarray) -> None:
        self.optimizer.zero_grad(set_to_none=False)
        train_step(self.generator, z, nodes, edges, self._objective(nodes, edges, targets, weights),
                   node_weight=self.settings.loop.node_loss_weight)
        self.optimizer.step()

    @torch.no_grad()
    def generate_candidates(self) -> list[tuple[ArchKey, Any]]:
        """Valid, unseen, de-duplicated candidates with their scorer values (spec §5.3); with a
        ``candidate_filter``, only those it accepts.

        Draws chunks of ``chunk_size``, 2 ``chunk_size``, ... latent points until more than
        ``num_candidates`` candidates exist (or the chunk budget is spent), then keeps
        ``num_candidates`` of them at random and scores them.
        """
        s = self.settings.loop
        self.generator.eval()
        found: dict[Hashable, tuple[ArchKey, torch.Tensor | None]] = {}
        rejected: set[Hashable] = set()  # candidates the filter discarded
        reads_outputs = self.scorer.reads_outputs
        for chunk in range(1, s.max_chunks + 1):
            cells, node_logits, edge_logits = self._draw(chunk * s.chunk_size)
            outputs = torch.cat([node_logits.flatten(1), edge_logits], 1) if reads_outputs else None
            self.timings.latent_draws += len(cells)
            for i, cell in enumerate(cells):
                if cell is None:
                    continue
                arch = self._compose(cell)
                key = self.codec.dedup_key(arch)
                if key in self._seen or key in self._pending or key in found or key in rejected:
                    continue
                if self.candidate_filter is not None and not self.candidate_filter(arch):
                    rejected.add(key)
                    self.timings.filtered += 1
                    continue
                found[key] = (arch, outputs[i] if reads_outputs else None)
            if len(found) > s.num_candidates:
                break
        kept = list(found.values())
        if len(kept) > s.num_candidates:
            keep = self.rng.choice(len(kept), size=s.num_candidates, replace=False)
            kept = [kept[i] for i in sorted(keep)]
        if not kept:
            return []
        archs = [arch for arch, _ in kept]
        nodes, edges = self.codec.encode(self.active_cells(archs))
        outputs = torch.stack([out for _, out in kept]) if reads_outputs else None
        return list(zip(archs, self.scorer.score(Candidates(archs, nodes, edges, outputs))))

    def best(self) -> tuple[ArchKey, float]:
        """The observed architecture with the highest score."""
        if not self.archs:
            raise RuntimeError("no architecture observed yet")
        i = int(np.argmax(self.scores))
        return self.archs[i], self.scores[i]
