"""BANANAS (NASLib's ``Bananas``, White et al. 2021): Bayesian optimisation with an ensemble of neural predictors.

The first ``num_init`` epochs evaluate random architectures. Afterwards, whenever
``next_batch`` is empty, BANANAS

1. fits an ensemble of ``num_ensemble`` feed-forward nets (NASLib's ``bananas``
   predictor: :class:`MLPEnsemble` on the NB201 path encoding) to all evaluated
   architectures and their validation accuracies;
2. generates ``num_candidates`` candidates: with ``acq_fn_optimization: mutation``,
   ``int(num_candidates / num_arches_to_mutate / max_mutations)`` children of each of the
   ``num_arches_to_mutate`` best architectures, each ``max_mutations`` successive
   ``mutate`` steps away; with ``random_sampling``, random architectures;
3. drops duplicates and already-evaluated candidates (NASLib keeps them; here no
   architecture is ever evaluated twice) and scores the rest with the acquisition
   function ``acq_fn_type``: ``its`` (one draw from N(mean, std) of the ensemble's
   predictions), ``ucb`` (mean + 0.5 std), ``ei`` (expected improvement over the best
   value so far with std / 5) or ``exploit_only`` (mean);
4. keeps the ``k`` best in ``next_batch`` (ascending, so ``pop()`` takes the best first).

Every later epoch pops and evaluates one architecture of ``next_batch``: one query per
epoch.

``naslib_quirks: true`` (not a NASLib key; default false) reproduces two behaviours of
NASLib's code, for runs that must match NASLib's numbers rather than its algorithm: it
keeps duplicate and already-evaluated candidates (so a query may re-evaluate an
architecture), and it chains the mutations as NASLib's ``_get_new_candidates`` does, where
the parent loop variable is rebound to each new child, so a parent's candidates form a
random walk (candidate i is i·max_mutations mutations away) instead of being its children. The predictor is trained on the CPU in the caller's torch thread setting, from
torch's global RNG (seeded by ``torch.manual_seed``); sampling, mutation and ITS draws
use numpy's global RNG (``np.random.seed``), as in NASLib.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..bridge.blackbox import BlackBoxOptimizer
from ..model.ensemble import ACQ_FN_TYPES, MLP_DEFAULTS, MLPEnsemble, acquisition_values
from .encodings import ENCODERS
from .encodings_darts import ENCODERS as DARTS_ENCODERS
from .encodings_nb101 import ENCODERS as NB101_ENCODERS

#: NASLib's ``Ensemble.get_ensemble``: predictor type -> encoding of its ``MLPPredictor``
PREDICTOR_ENCODINGS = {"bananas": "path", "mlp": "adjacency_one_hot"}
#: search space type -> encoding name -> encoder of a list of ``get_hash()`` tuples
SPACE_ENCODERS = {"nasbench201": ENCODERS, "nasbench101": NB101_ENCODERS, "nasbench301": DARTS_ENCODERS}
ACQ_FN_OPTIMIZATIONS = ("mutation", "random_sampling")


class Bananas(BlackBoxOptimizer):
    """``optimizer: bananas``. Config (``search.*``; defaults are NAS-Bench-Suite's config_0 for BANANAS):
    ``num_init`` 10, ``k`` 10, ``num_ensemble`` 3, ``predictor_type`` bananas, ``acq_fn_type`` its,
    ``acq_fn_optimization`` mutation, ``encoding_type`` path (read but unused, as in NASLib: the
    predictor type fixes the encoding), ``num_arches_to_mutate`` 5, ``max_mutations`` 1,
    ``num_candidates`` 200.

    Not NASLib keys: ``mlp_<name>`` overrides the predictor's hyperparameters in
    :data:`MLP_DEFAULTS` (e.g. ``mlp_epochs``, for fast tests); ``naslib_quirks`` (bool, default
    false) reproduces NASLib's re-evaluations and chained mutations (module docstring).
    """

    CONFIG_DEFAULTS = {"num_init": 10, "k": 10, "num_ensemble": 3, "predictor_type": "bananas", "acq_fn_type": "its",
                       "acq_fn_optimization": "mutation", "encoding_type": "path", "num_arches_to_mutate": 5,
                       "max_mutations": 1, "num_candidates": 200, "naslib_quirks": False}
    fixed_acq_fn_type: str | None = None  # NPENAS fixes these; BANANAS reads them from the config
    fixed_acq_fn_optimization: str | None = None

    def __init__(self, config: Any):
        super().__init__(config)
        self.k = int(self.setting("k"))
        self.num_init = int(self.setting("num_init"))
        self.num_ensemble = int(self.setting("num_ensemble"))
        self.predictor_type = str(self.setting("predictor_type"))
        self.acq_fn_type = self.fixed_acq_fn_type or str(self.setting("acq_fn_type"))
        self.acq_fn_optimization = (self.fixed_acq_fn_optimization
                                    or str(self.setting("acq_fn_optimization")))
        self.encoding_type = self.setting("encoding_type")
        self.num_arches_to_mutate = int(self.setting("num_arches_to_mutate"))
        self.max_mutations = int(self.setting("max_mutations"))
        self.num_candidates = int(self.setting("num_candidates"))
        self.mlp_hyperparams = {key: self.setting(f"mlp_{key}", default) for key, default in MLP_DEFAULTS.items()}
        self.naslib_quirks = self.setting("naslib_quirks")
        name = type(self).__name__
        if not isinstance(self.naslib_quirks, bool):
            raise ValueError(f"{name}: search.naslib_quirks must be true or false, got {self.naslib_quirks!r}")
        if self.predictor_type not in PREDICTOR_ENCODINGS:
            raise ValueError(f"{name} supports predictor_type {sorted(PREDICTOR_ENCODINGS)}, "
                             f"got {self.predictor_type!r}")
        if self.acq_fn_type not in ACQ_FN_TYPES:
            raise ValueError(f"{name}: acq_fn_type must be one of {ACQ_FN_TYPES}, got {self.acq_fn_type!r}")
        if self.acq_fn_optimization not in ACQ_FN_OPTIMIZATIONS:
            raise ValueError(f"{name}: acq_fn_optimization must be one of {ACQ_FN_OPTIMIZATIONS}, "
                             f"got {self.acq_fn_optimization!r}")
        if min(self.k, self.num_ensemble, self.num_arches_to_mutate, self.max_mutations, self.num_candidates) < 1:
            raise ValueError(f"{name} needs k, num_ensemble, num_arches_to_mutate, max_mutations and "
                             "num_candidates >= 1")
        self._encode = ENCODERS[PREDICTOR_ENCODINGS[self.predictor_type]]
        self.next_batch: list = []  # architectures chosen by the predictor, best last
        self.ensemble: MLPEnsemble | None = None
        self.parents: list = []  # the architectures mutated in the latest proposal
        self.candidates: list = []  # the latest proposal's unevaluated, distinct candidates (naslib_quirks: all)
        self.fits = 0

    def adapt_search_space(self, search_space, scope=None, dataset_api=None):
        space_type = search_space.get_type() if hasattr(search_space, "get_type") else None
        if space_type not in SPACE_ENCODERS:
            raise ValueError(f"{type(self).__name__} encodes {sorted(SPACE_ENCODERS)} architectures only; got "
                             f"search space type {space_type!r}")
        self._encode = SPACE_ENCODERS[space_type][PREDICTOR_ENCODINGS[self.predictor_type]]
        super().adapt_search_space(search_space, scope=scope, dataset_api=dataset_api)

    # ------------------------------------------------------------------ the search
    def new_epoch(self, epoch):
        if epoch < self.num_init or not self.history:
            self._evaluate(self._random_arch())
            return
        evaluated = self._evaluated_hashes()
        if not self.naslib_quirks:
            self.next_batch = [arch for arch in self.next_batch if arch.get_hash() not in evaluated]
        if not self.next_batch:
            self.next_batch = self._propose(evaluated)
        if self.next_batch:
            arch = self.next_batch.pop()
        else:  # every candidate had been evaluated already
            arch = self._random_arch()
            while arch.get_hash() in evaluated:
                arch = self._random_arch()
        self._evaluate(arch)

    def _evaluated_hashes(self) -> set:
        return {m.arch.get_hash() for m in self.history}

    def _propose(self, evaluated: set) -> list:
        """Fit the ensemble, optimise the acquisition function, return the top ``k`` (best last)."""
        hashes = [m.arch.get_hash() for m in self.history]
        ytrain = np.array([m.accuracy for m in self.history], dtype=np.float64)
        self.ensemble = MLPEnsemble(self.num_ensemble, **self.mlp_hyperparams)
        self.ensemble.fit(self._encode(hashes), ytrain)
        self.fits += 1

        seen = set(evaluated)
        candidates = []
        for arch in self._get_new_candidates(ytrain):
            key = arch.get_hash()
            if self.naslib_quirks or key not in seen:
                seen.add(key)
                candidates.append(arch)
        self.candidates = candidates
        if not candidates:
            return []
        predictions = self.ensemble.predict(self._encode([a.get_hash() for a in candidates]))
        values = acquisition_values(predictions, ytrain, self.acq_fn_type)
        order = np.argsort(values)
        return [candidates[i] for i in order[-self.k:]]

    def _get_new_candidates(self, ytrain: np.ndarray) -> list:
        if self.acq_fn_optimization == "random_sampling":
            # NASLib also queries each random candidate's accuracy here; that lookup is unused and skipped
            self.parents = []
            return [self._random_arch() for _ in range(self.num_candidates)]
        best = np.argsort(ytrain)[-self.num_arches_to_mutate:]
        self.parents = [self.history[i].arch for i in best]
        per_parent = int(self.num_candidates / len(self.parents) / self.max_mutations)
        candidates = []
        for parent in self.parents:
            start = parent
            for _ in range(per_parent):
                candidate = start
                for _ in range(self.max_mutations):
                    child = self.search_space.clone()
                    child.mutate(candidate, dataset_api=self.dataset_api)
                    candidate = child
                candidates.append(candidate)
                if self.naslib_quirks:  # NASLib rebinds its parent variable to the new candidate
                    start = candidate
        return candidates
