"""NASLib's performance predictors as AG-Net's candidate scorer (``scorer: naslib``).

A NASLib user ranks AG-Net's candidates with a predictor of ``naslib.predictors`` (XGBoost,
GP, NGBoost, SemiNAS, ...), chosen by a short name (``search.agnet.naslib.predictor``, the
names of NASLib's own predictor runner, ``naslib/runners/predictors/runner.py``). After every
retraining a fresh predictor is fitted, through its own ``fit(xtrain, ytrain)``, on all
evaluated architectures and their scores (validation accuracy in %); the candidates are
scored by its ``query(xtest)`` (an ensemble's mean). The generator learns from
reconstruction alone, as in the XGB variant, for the loop's retraining epochs (the spec's 30;
the XGB variant's one is ``loop.retrain_epochs 1``).

**What the predictors get.** NASLib's predictors take lists of NASLib architecture graphs and
encode them themselves, with ``arch.encode(encoding_type=...)`` (the tree predictors only when
``isinstance(arch, torch.nn.Module)``). Each AG-Net key becomes a :class:`NASLibArch`: a
``torch.nn.Module`` without parameters that holds the key and answers what NASLib's encoders
read (NB201: ``get_op_indices()``; NB101: ``get_spec()``, the cell on NASLib's 7 vertices) and
``encode``, which calls NASLib's own encoder of the space (``encode_201`` / ``encode_101``).
Building NASLib's ``NasBench201SearchSpace`` for every architecture would also work, but it
instantiates a network (about 0.15 s a cell) that no encoder reads.

**Seeds.** Every fit is seeded from the search's seed and the number of observations: the
global ``random``, NumPy and torch generators (pyro draws from these) are seeded for the
predictor's ``fit`` and ``query`` and restored afterwards, so the scorer neither depends on nor
disturbs the search's own draws; XGBoost and LightGBM also get the seed as a parameter. torch
runs ``threads`` threads meanwhile (and XGBoost/LightGBM as many). NASLib's predictors print
progress on stdout; it is dropped unless ``verbose``.

**Predictors** (:data:`PREDICTORS`; the encoding is the runner's, ``encoding_type`` overrides it
where the predictor reads one): ``xgb``, ``lgb``, ``ngb``, ``rf`` (trees), ``gp``,
``sparse_gp``, ``var_sparse_gp`` (pyro GPs), ``bayes_lin_reg``, ``dngo``, ``bohamiann``
(pybnn), ``mlp``, ``bananas`` (NASLib's BANANAS ensemble of 3 MLPs on path encodings), ``gcn``,
``bonas``, ``nao`` (SemiNAS's encoder-predictor on the observations alone) and ``seminas``
(plus as many random architectures of the space, which it labels itself, as NASLib's BANANAS
passes them). Not offered: ``gpwl`` (it needs NASLib's full NB201 graph, about 0.15 s to build a
cell, and its ``GraphGP`` stacks networkx graphs with ``np.array``, a ValueError from numpy 1.24 on),
the learning-curve and zero-cost predictors (``lce``, ``lce_m``, ``lcsvr``, ``sotl*``,
``valacc``, ``valloss``, ``jacov``, ``snip``, ..., ``omni_*``: they need partial training or
the network itself, which a scorer of tabular cells does not have).

NASLib's hyperparameter optimisation is not offered: it lives in NASLib's
``PredictorEvaluator`` (a random search under a time budget, so not reproducible), not in the
predictors; every predictor runs with NASLib's default hyperparameters and epochs.
"""
from __future__ import annotations

import contextlib
import io
import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ...spaces import ArchKey
from ..settings import Settings, _positive
from .base import Candidates, Observations, Scorer, ScorerContext

logger = logging.getLogger(__name__)

#: NASLib's ``EncodingType`` values (``naslib.utils.encodings``), without importing NASLib
ENCODINGS = ("adjacency_one_hot", "path", "gcn", "bonas", "seminas")
_VECTOR = ("adjacency_one_hot", "path")  # the encodings a predictor on flat feature vectors reads


@dataclass(frozen=True)
class PredictorSpec:
    """One supported NASLib predictor: its class in ``naslib.predictors``, constructor arguments,
    default encoding and the encodings it can read (empty: it encodes by itself)."""

    cls: str
    kwargs: tuple[tuple[str, Any], ...] = ()
    encoding: str | None = "adjacency_one_hot"
    encodings: tuple[str, ...] = _VECTOR
    #: hyperparameter names that take the seed / the thread count (tree libraries)
    seed_param: str | None = None
    threads_param: str | None = None
    summary: str = ""


#: short name -> NASLib predictor (names and default encodings of NASLib's predictor runner)
PREDICTORS: dict[str, PredictorSpec] = {
    "xgb": PredictorSpec("XGBoost", seed_param="seed", threads_param="nthread", summary="XGBoost, 500 rounds"),
    "lgb": PredictorSpec("LGBoost", seed_param="seed", threads_param="num_threads", summary="LightGBM (GBDT), 500 rounds"),
    "ngb": PredictorSpec("NGBoost", summary="NGBoost on decision trees"),
    "rf": PredictorSpec("RandomForestPredictor", threads_param="n_jobs", summary="random forest, 116 trees"),
    "gp": PredictorSpec("GPPredictor", summary="pyro GP regression, RBF kernel"),
    "sparse_gp": PredictorSpec("SparseGPPredictor", (("optimize_gp_hyper", True),), summary="pyro sparse GP"),
    "var_sparse_gp": PredictorSpec("VarSparseGPPredictor", (("optimize_gp_hyper", True),),
                                   summary="pyro variational sparse GP"),
    "bayes_lin_reg": PredictorSpec("BayesianLinearRegression", summary="pybnn Bayesian linear regression"),
    "dngo": PredictorSpec("DNGOPredictor", summary="pybnn DNGO"),
    "bohamiann": PredictorSpec("BOHAMIANN", summary="pybnn BOHAMIANN"),
    "mlp": PredictorSpec("MLPPredictor", summary="MLP, 20 layers of 20, 500 epochs"),
    "bananas": PredictorSpec("Ensemble", (("predictor_type", "bananas"), ("num_ensemble", 3)), encoding=None,
                             encodings=(), summary="BANANAS: ensemble of 3 MLPs on path encodings (mean)"),
    "gcn": PredictorSpec("GCNPredictor", encoding="gcn", encodings=("gcn",), summary="GCN on the cell graph"),
    "bonas": PredictorSpec("BonasPredictor", encoding="bonas", encodings=("bonas",), summary="BONAS's GCN"),
    "nao": PredictorSpec("SemiNASPredictor", (("semi", False),), encoding="seminas", encodings=("seminas",),
                         summary="NAO: SemiNAS's encoder-predictor on labelled architectures only"),
    "seminas": PredictorSpec("SemiNASPredictor", (("semi", True),), encoding="seminas", encodings=("seminas",),
                             summary="SemiNAS: NAO, plus as many random unlabelled architectures, self-labelled"),
}


def _naslib_missing() -> ImportError:
    return ImportError(
        "the naslib scorer needs NASLib, which is not on PyPI: put a checkout of https://github.com/automl/NASLib "
        "(Develop branch) on PYTHONPATH, in a venv with the packages NASLib imports (docs/naslib.md, section 1)")


def _naslib_predictors():
    """``naslib.predictors`` after the compat shims; ImportError that says what to install otherwise."""
    from ...compat import apply_naslib_compat, naslib_importable

    if not naslib_importable():
        raise _naslib_missing()
    apply_naslib_compat()
    try:
        from naslib import predictors
    except ImportError as error:
        raise ImportError(f"the naslib scorer could not import naslib.predictors ({error}): install what NASLib "
                          "imports (docs/naslib.md, section 1, lists the packages)") from error
    return predictors


@dataclass
class NASLibPredictorSettings(Settings):
    """Which NASLib predictor, on which encoding; its seeding and threads."""

    SECTION = "naslib"

    predictor: str = "xgb"  #: a name of :data:`PREDICTORS`
    encoding_type: str = ""  #: NASLib's EncodingType value; empty = the predictor's default
    threads: int = 1  #: torch's (and XGBoost's, LightGBM's, the forest's) threads while it fits and scores
    verbose: bool = False  #: let NASLib's predictors print on stdout

    def validate(self) -> None:
        _positive(self, "threads")
        if self.predictor not in PREDICTORS:
            raise ValueError(f"AG-Net setting search.agnet.naslib.predictor: unknown NASLib predictor "
                             f"{self.predictor!r}; supported: {', '.join(PREDICTORS)}")
        spec = PREDICTORS[self.predictor]
        if self.encoding_type and self.encoding_type not in spec.encodings:
            if not spec.encodings:
                raise ValueError(f"AG-Net setting search.agnet.naslib.encoding_type: the NASLib predictor "
                                 f"{self.predictor!r} chooses its own encoding; leave encoding_type empty")
            raise ValueError(f"AG-Net setting search.agnet.naslib.encoding_type: the NASLib predictor "
                             f"{self.predictor!r} reads {' or '.join(map(repr, spec.encodings))}, got "
                             f"{self.encoding_type!r} (NASLib's encodings: {', '.join(ENCODINGS)})")

    @property
    def encoding(self) -> str | None:
        """The encoding the predictor is built with (None: it chooses its own)."""
        return self.encoding_type or PREDICTORS[self.predictor].encoding


# ------------------------------------------------------------------------------- the adapter
#: NB101 vertices NASLib's encoders expect, and the op of the unconnected vertices padding a smaller cell
NB101_VERTICES = 7
NB101_PAD_OP = "maxpool3x3"


class NASLibArch(torch.nn.Module):
    """An AG-Net architecture key as the graph object NASLib's predictors encode.

    A ``torch.nn.Module`` (NASLib's tree predictors encode only ``nn.Module`` inputs) with no
    parameters. ``encode`` is NASLib's encoder of the space, which reads ``get_op_indices()``
    (NB201, NASLib's op-index order) or ``get_spec()`` (NB101: the canonical pruned cell padded
    to NASLib's 7 vertices with unconnected ``maxpool3x3`` vertices before the output, as
    NASLib's 7 x 7 encoders need; no path through them, so the path encoding is unchanged).
    """

    def __init__(self, key: ArchKey, space: str):
        super().__init__()
        if space not in ("nasbench201", "nasbench101"):
            raise ValueError(f"the naslib scorer supports nasbench201 and nasbench101, not {space!r}")
        self.key = tuple(int(v) for v in key)
        self.space = space

    def get_type(self) -> str:
        return self.space

    def get_hash(self) -> tuple[int, ...]:
        return self.key

    def get_op_indices(self) -> list[int]:
        if self.space != "nasbench201":
            raise AttributeError("get_op_indices is NB201's")
        return list(self.key)

    def get_spec(self) -> dict:
        if self.space != "nasbench101":
            raise AttributeError("get_spec is NB101's")
        from ...spaces.nasbench101 import tuple_to_spec

        matrix, ops = tuple_to_spec(self.key)
        n = len(ops)
        if n == NB101_VERTICES:
            return {"matrix": matrix, "ops": list(ops)}
        big = np.zeros((NB101_VERTICES, NB101_VERTICES), dtype=np.int64)
        big[: n - 1, : n - 1] = matrix[: n - 1, : n - 1]
        big[: n - 1, -1] = matrix[: n - 1, n - 1]
        return {"matrix": big, "ops": list(ops[:-1]) + [NB101_PAD_OP] * (NB101_VERTICES - n) + ["output"]}

    def encode(self, encoding_type=None):
        from naslib.utils.encodings import EncodingType

        encoding_type = EncodingType(getattr(encoding_type, "value", encoding_type or "adjacency_one_hot"))
        if self.space == "nasbench201":
            from naslib.search_spaces.nasbench201.encodings import encode_201 as encode
        else:
            from naslib.search_spaces.nasbench101.encodings import encode_101 as encode
        encoded = encode(self, encoding_type=encoding_type)
        if encoding_type == EncodingType.SEMINAS:
            # NASLib's NB201 SemiNAS encoding has a float32 adjacency, so SemiNAS's sequences hold
            # numpy floats that torch.LongTensor refuses (TypeError): integers, as on NB101
            encoded = {**encoded, "adjacency": np.asarray(encoded["adjacency"]).astype(np.int64)}
        return encoded

    def extra_repr(self) -> str:
        return f"{self.space}, {self.key}"


@contextlib.contextmanager
def seeded(seed: int, threads: int, quiet: bool) -> Iterator[None]:
    """Seed ``random``, NumPy and torch (pyro draws from these), run torch on ``threads`` threads
    and (if ``quiet``) drop stdout; everything restored on exit."""
    states = random.getstate(), np.random.get_state(), torch.get_rng_state(), torch.get_num_threads()
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    try:
        with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
            yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])
        torch.set_num_threads(states[3])


class NASLibPredictorScorer(Scorer):
    name = "naslib"
    Settings = NASLibPredictorSettings
    summary = ("a NASLib predictor (naslib.predictor: xgb, gp, ngb, ...) fitted on the evaluated architectures; "
               "the generator learns from reconstruction alone")

    def __init__(self, settings: NASLibPredictorSettings, context: ScorerContext):
        super().__init__(settings, context)
        self.predictors = _naslib_predictors()
        self.space = context.codec.name
        if self.space not in ("nasbench201", "nasbench101"):
            raise ValueError(f"the naslib scorer supports nasbench201 and nasbench101, not {self.space!r}")
        self.predictor = None
        self._constant: float | None = None  # the score of every candidate when there is nothing to fit
        self._seed = 0

    def archs(self, keys: list[ArchKey]) -> list[NASLibArch]:
        """The keys as the graph objects NASLib's predictors take."""
        return [NASLibArch(key, self.space) for key in keys]

    def random_archs(self, count: int, rng: np.random.Generator) -> list[ArchKey]:
        """``count`` random architectures of the space: NB201 as NASLib samples them (uniform op
        indices, without cells whose three input or three output edges are all ``none``), NB101
        uniform over its 423,624 cells (the codec's enumeration, cached on disk after its first use)."""
        if self.space == "nasbench201":
            keys: list[ArchKey] = []
            while len(keys) < count:
                ops = tuple(int(v) for v in rng.integers(0, 5, 6))
                if not (ops[0] == ops[1] == ops[2] == 1 or ops[2] == ops[4] == ops[5] == 1):  # 1: none
                    keys.append(ops)
            return keys
        from ...spaces.nasbench101 import cells_to_keys
        from ...spaces.nasbench101_enumeration import Nb101Cells, load_cells

        cells = load_cells()
        rows = rng.integers(0, len(cells), count)  # only these rows become keys
        return list(cells_to_keys(Nb101Cells(cells.codes[rows], cells.num_vertices[rows], cells.ops[rows],
                                             cells.hashes[rows])))

    def make_predictor(self, seed: int):
        """A fresh NASLib predictor as the settings say, its hyperparameters set (defaults, plus
        seed and threads where the library takes them)."""
        s = self.settings
        spec = PREDICTORS[s.predictor]
        kwargs: dict[str, Any] = {"ss_type": self.space, **dict(spec.kwargs)}
        if spec.encoding is not None:
            from naslib.utils.encodings import EncodingType

            kwargs["encoding_type"] = EncodingType(s.encoding)
        predictor = getattr(self.predictors, spec.cls)(**kwargs)
        extra = {}
        if spec.seed_param:
            extra[spec.seed_param] = seed
        if spec.threads_param:
            extra[spec.threads_param] = s.threads
        if extra:
            predictor.set_hyperparams({**predictor.default_hyperparams, **extra})
        return predictor

    def fit(self, obs: Observations) -> None:
        scores = np.asarray(obs.scores, dtype=np.float64)
        self._seed = self.context.fit_seed(len(obs), bits=31)
        self.predictor = None
        if len(obs) < 2 or float(scores.std()) == 0.0:  # NASLib's predictors divide by the scores' spread
            self._constant = float(scores.mean()) if len(obs) else 0.0
            return
        self._constant = None
        s = self.settings
        xtrain = self.archs(obs.archs)
        with seeded(self._seed, s.threads, not s.verbose):
            predictor = self.make_predictor(self._seed)
            reqs = predictor.get_data_reqs() if hasattr(predictor, "get_data_reqs") else {}
            if reqs.get("unlabeled"):  # SemiNAS: random architectures it labels itself, as NASLib's BANANAS passes
                count = int(reqs.get("unlabeled_factor") or 1) * len(xtrain)
                unlabeled = self.random_archs(count, np.random.default_rng(self._seed))
                predictor.set_pre_computations(unlabeled=self.archs(unlabeled))
            predictor.fit(xtrain, scores.copy())
        self.predictor = predictor

    def score(self, cands: Candidates) -> list[Any]:
        if self._constant is not None:
            return [self._constant] * len(cands)
        if self.predictor is None:
            raise RuntimeError("the naslib scorer has not been fitted yet")
        if not len(cands):
            return []
        s = self.settings
        with seeded(self._seed + 1, s.threads, not s.verbose):
            pred = np.asarray(self.predictor.query(self.archs(cands.archs)), dtype=np.float64)
        members = getattr(self.predictor, "num_ensemble", None)
        if members:  # an ensemble: one row per member (each squeezed: one value for one candidate)
            pred = pred.reshape(members, -1).mean(axis=0)
        pred = np.atleast_1d(pred).reshape(-1)  # NASLib squeezes a single prediction to a scalar
        if pred.shape != (len(cands),):
            raise RuntimeError(f"NASLib's {s.predictor} predictor returned {pred.shape} values for {len(cands)} "
                               "candidates")
        bad = ~np.isfinite(pred)
        if bad.any():
            logger.warning("naslib scorer: the %s predictor gave %d of %d candidates a non-finite score; they rank "
                           "last", s.predictor, int(bad.sum()), len(pred))
            pred[bad] = -np.inf
        return pred.tolist()
