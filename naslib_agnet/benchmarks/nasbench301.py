"""NAS-Bench-301 oracles: surrogate models of the DARTS space, queried by architecture.

:class:`YahpoNb301Oracle` runs YAHPO Gym's NB301 surrogate (a network fitted to the real
NAS-Bench-301 training runs, exported to ONNX) with ``onnxruntime``. It is a **substitute**
for the official NAS-Bench-301 surrogate ensembles (whose model files cannot be fetched
here): its numbers differ from the official ones, so use it to compare methods side by side,
not to match published NB301 tables. Every report that uses it says so (``substitute``).

Input encoding (the data directory's README, checked against ``encoding_v2.json``): 34
categorical inputs ``x_cat`` (int32) in the order ``edge_normal_0..13``, ``edge_reduce_0..13``,
``inputs_node_normal_3..5``, ``inputs_node_reduce_3..5`` (each spelled with YAHPO's prefix
``NetworkSelectorDatasetInfo_COLON_darts_COLON_``), each value mapped through
``encoding_v2.json``, an inactive parameter encoded as ``#na#`` (0); one continuous input
``x_cont``, the training epoch (98: the final accuracy). Output row: validation accuracy
(fraction), validation cross-entropy, runtime (s), runtime increase.

Architecture keys are NASLib's NB301 compact form ``(normal, reduce)``
(:mod:`naslib_agnet.spaces.darts`); ``query`` answers ``{"val_acc": %, "runtime": s}``.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..spaces import darts
from .errors import BenchmarkDataError

__all__ = ["OfficialNb301Oracle", "YAHPO_NB301_DIR", "YahpoNb301Oracle", "load_official_nb301_oracle",
           "load_yahpo_nb301_oracle", "yahpo_input_names"]

#: where the YAHPO NB301 files sit under the data directory
YAHPO_NB301_DIR = Path("nasbench301") / "yahpo-nb301-v2"
MODEL_FILE = "model_v2.onnx"
ENCODING_FILE = "encoding_v2.json"
#: the epoch input for the final (converged) accuracy
FINAL_EPOCH = 98
NA = "#na#"
SUBSTITUTE_NOTE = ("YAHPO Gym's NB301 surrogate (ONNX), a substitute for the official NAS-Bench-301 surrogate: "
                   "compare methods side by side with it, not with published NB301 numbers")


def yahpo_input_names() -> list[str]:
    """The 34 categorical inputs of the YAHPO NB301 model, in the model's column order."""
    names = [f"edge_{cell}_{i}" for cell in darts.CELL_TYPES for i in range(14)]
    names += [f"inputs_node_{cell}_{d}" for cell in darts.CELL_TYPES for d in (3, 4, 5)]
    return [darts.YAHPO_CONFIG_PREFIX + name for name in names]


def _require_onnxruntime():
    try:
        import onnxruntime
    except ImportError as exc:
        raise ImportError("the YAHPO NB301 surrogate runs with onnxruntime, which is not installed: "
                          "pip install onnxruntime (or pip install 'naslib-agnet[nb301]')") from exc
    return onnxruntime


class _SurrogateOracle:
    """What both NB301 surrogates share: any valid DARTS architecture can be asked, in any spelling; the
    answers ``{"val_acc": %, "runtime": s}`` are cached per canonical architecture, so an architecture costs
    the model once, and every caller gets its own copy. Subclasses evaluate the uncached ones
    (:meth:`_evaluate`)."""

    metric_names = ["val_acc", "runtime"]

    def __init__(self) -> None:
        self._cache: dict[darts.Arch, dict[str, float]] = {}

    def __contains__(self, arch: object) -> bool:
        """Every valid DARTS architecture can be evaluated."""
        return darts.why_invalid(arch) is None

    def _evaluate(self, archs: list[darts.Arch]) -> list[dict[str, float]]:
        """The answers for distinct canonical architectures (no cache)."""
        raise NotImplementedError

    def query_many(self, archs: Iterable[Any]) -> list[dict[str, float]]:
        """``query`` for many architectures (the uncached ones evaluated together)."""
        keys = [self._key(arch) for arch in archs]
        todo = list(dict.fromkeys(k for k in keys if k not in self._cache))
        if todo:
            self._cache.update(zip(todo, self._evaluate(todo)))
        return [dict(self._cache[k]) for k in keys]

    def query(self, arch: Any) -> dict[str, float]:
        """``{"val_acc": validation accuracy in %, "runtime": training seconds}`` of one architecture."""
        return self.query_many([arch])[0]

    def _key(self, arch: Any) -> darts.Arch:
        reason = darts.why_invalid(arch)
        if reason is not None:
            raise BenchmarkDataError(f"cannot query the NB301 surrogate with {arch!r}: {reason}")
        return darts.canonical(arch)


class YahpoNb301Oracle(_SurrogateOracle):
    """The YAHPO NB301 surrogate as an oracle: ``query(arch) -> {"val_acc": %, "runtime": s}``.

    Args:
        model_path: ``model_v2.onnx``.
        encoding_path: ``encoding_v2.json`` (``{input name: {value: int}}``).
        epoch: the epoch input (98, the final accuracy).
        threads: onnxruntime's intra-op threads (1: runs go side by side).

    Answers are cached per canonical architecture, so a query costs the network once.
    """

    substitute = True

    def __init__(self, model_path: str | os.PathLike[str], encoding_path: str | os.PathLike[str],
                 epoch: int = FINAL_EPOCH, threads: int = 1):
        super().__init__()
        ort = _require_onnxruntime()
        self.model_path = Path(model_path).absolute()
        self.encoding_path = Path(encoding_path).absolute()
        for path, what in ((self.model_path, "the ONNX model"), (self.encoding_path, "the input encoding")):
            if not path.is_file():
                raise BenchmarkDataError(f"{path} ({what} of YAHPO's NB301 surrogate) does not exist; put "
                                         f"{MODEL_FILE} and {ENCODING_FILE} in {{data_dir}}/{YAHPO_NB301_DIR.as_posix()}")
        if not 1 <= int(epoch) <= FINAL_EPOCH:
            raise ValueError(f"epoch must be in 1..{FINAL_EPOCH} (the surrogate's training range), got {epoch}")
        self.epoch = int(epoch)
        self.name = "nasbench301/yahpo-v2"
        self.source = str(self.model_path)
        self.splits = {"val_acc": f"CIFAR-10 validation accuracy (%) at epoch {self.epoch} predicted by "
                                  f"{SUBSTITUTE_NOTE}",
                       "runtime": "training time (s) predicted by the same surrogate (its third output)"}
        self.notes = [SUBSTITUTE_NOTE]
        self._names = yahpo_input_names()
        self._tables = self._read_encoding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(str(self.model_path), sess_options=options,
                                                 providers=["CPUExecutionProvider"])
        except Exception as exc:  # a truncated or foreign file
            raise BenchmarkDataError(f"{self.model_path} is not a readable ONNX model ({exc}); replace it with "
                                     f"YAHPO's NB301 {MODEL_FILE}") from exc
        inputs = {i.name: i.shape for i in self._session.get_inputs()}
        if set(inputs) != {"x_cat", "x_cont"} or inputs["x_cat"][-1] != len(self._names):
            raise BenchmarkDataError(f"{self.model_path} has inputs {inputs}, not YAHPO NB301's x_cat [batch, "
                                     f"{len(self._names)}] and x_cont [batch, 1]")

    def _read_encoding(self) -> list[dict[str, int]]:
        try:
            encoding = json.loads(self.encoding_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BenchmarkDataError(f"{self.encoding_path} is not readable JSON ({exc})") from exc
        tables = []
        for name in self._names:
            table = encoding.get(name) if isinstance(encoding, dict) else None
            if not isinstance(table, dict) or table.get(NA) != 0:
                raise BenchmarkDataError(f"{self.encoding_path} has no encoding for {name!r} with {NA!r} = 0")
            values = darts.OPS if "_edge_" in name else None
            if values is not None and not set(values) <= set(table):
                raise BenchmarkDataError(f"{self.encoding_path}: {name!r} lacks codes for {sorted(set(values) - set(table))}")
            tables.append(table)
        return tables

    def __repr__(self) -> str:
        return f"YahpoNb301Oracle(epoch={self.epoch}, source={self.source!r})"

    def encode(self, archs: Sequence[Any]) -> np.ndarray:
        """The model's categorical input ``[B, 34]`` int32 for architectures (inactive parameters 0)."""
        rows = np.zeros((len(archs), len(self._names)), dtype=np.int32)
        column = {name: j for j, name in enumerate(self._names)}
        for i, arch in enumerate(archs):
            for name, value in darts.compact_to_config(arch, yahpo_names=True).items():
                j = column[name]
                code = self._tables[j].get(value)
                if code is None:
                    raise BenchmarkDataError(f"{self.encoding_path} has no code for {name} = {value!r}")
                rows[i, j] = code
        return rows

    def predict(self, archs: Sequence[Any]) -> np.ndarray:
        """The raw model output ``[B, 4]`` (accuracy fraction, cross-entropy, runtime s, runtime increase)."""
        x_cat = self.encode(archs)
        x_cont = np.full((len(archs), 1), float(self.epoch), dtype=np.float32)
        return self._session.run(None, {"x_cat": x_cat, "x_cont": x_cont})[0]

    def _evaluate(self, archs: list[darts.Arch]) -> list[dict[str, float]]:
        """One model call for all of them: val_acc the first output x 100, runtime the third."""
        return [{"val_acc": float(row[0]) * 100.0, "runtime": float(row[2])} for row in self.predict(archs)]


def load_yahpo_nb301_oracle(data_dir: str | os.PathLike[str], epoch: int = FINAL_EPOCH) -> YahpoNb301Oracle:
    """The YAHPO NB301 surrogate from ``{data_dir}/nasbench301/yahpo-nb301-v2/``."""
    folder = Path(data_dir).expanduser().absolute() / YAHPO_NB301_DIR
    if not folder.is_dir():
        raise BenchmarkDataError(f"{folder} does not exist: the DARTS space (nasbench301) is evaluated with YAHPO "
                                 f"Gym's NB301 surrogate, which must be there ({MODEL_FILE}, {ENCODING_FILE}); "
                                 f"see the data directory's README")
    return YahpoNb301Oracle(folder / MODEL_FILE, folder / ENCODING_FILE, epoch=epoch)


# --------------------------------------------------------------------------------------
# The official NAS-Bench-301 surrogate (the nasbench301 package and its v1.0 model files)
# --------------------------------------------------------------------------------------

#: where NASLib keeps the official model files (``naslib/utils/get_dataset_api.py``), relative to the data folder
OFFICIAL_MODELS_DIR = Path("nasbench301") / "nb_models_1.0"
OFFICIAL_PERFORMANCE = "xgb_v1.0"
OFFICIAL_RUNTIME = "lgb_runtime_v1.0"
OFFICIAL_MODELS_URL = "https://figshare.com/articles/software/nasbench301_models_v1_0_zip/13061510"


class OfficialNb301Oracle(_SurrogateOracle):
    """The official NAS-Bench-301 v1.0 surrogates through the ``nasbench301`` package:
    ``load_ensemble(xgb_v1.0)`` for the validation accuracy (%), ``load_ensemble(lgb_runtime_v1.0)`` for
    the runtime (s), each asked ``predict(config=genotype, representation="genotype", with_noise=False)``,
    as NASLib's ``NasBench301SearchSpace.query`` does (but without noise, so a query is repeatable).

    Args:
        models_dir: the folder holding ``xgb_v1.0`` and ``lgb_runtime_v1.0`` (NASLib keeps it as
            ``naslib/data/nb_models_1.0``).
    """

    substitute = False

    def __init__(self, models_dir: str | os.PathLike[str]):
        super().__init__()
        self.models_dir = Path(models_dir).expanduser().absolute()
        paths = {name: self.models_dir / name for name in (OFFICIAL_PERFORMANCE, OFFICIAL_RUNTIME)}
        missing = [str(p) for p in paths.values() if not p.is_dir()]
        if missing:
            raise BenchmarkDataError(
                f"the official NAS-Bench-301 surrogate needs its v1.0 model folders {', '.join(missing)}: download "
                f"nasbench301_models_v1_0.zip ({OFFICIAL_MODELS_URL}) and unpack it so that {self.models_dir} holds "
                f"{OFFICIAL_PERFORMANCE}/ and {OFFICIAL_RUNTIME}/ (NASLib expects the same folder as "
                f"naslib/data/nb_models_1.0); or use dataset cifar10, YAHPO's substitute surrogate")
        try:
            import nasbench301
        except ImportError as exc:
            raise ImportError("the official NAS-Bench-301 surrogate needs the nasbench301 package: pip install "
                              "nasbench301 (NASLib uses git+https://github.com/automl/nasbench301@no_gin); or use "
                              "dataset cifar10, YAHPO's substitute surrogate") from exc
        self._performance = nasbench301.load_ensemble(str(paths[OFFICIAL_PERFORMANCE]))
        self._runtime = nasbench301.load_ensemble(str(paths[OFFICIAL_RUNTIME]))
        self.name = "nasbench301/official-v1.0"
        self.source = str(self.models_dir)
        self.splits = {"val_acc": "CIFAR-10 validation accuracy (%) predicted by the official NAS-Bench-301 v1.0 XGB "
                                  "ensemble (no noise)",
                       "runtime": "training time (s) predicted by the official NAS-Bench-301 v1.0 LGB runtime model"}
        self.notes: list[str] = []

    @staticmethod
    def genotype(arch: Any) -> darts.Genotype:
        """The genotype passed to ``predict``: DARTS' ``Genotype`` of the canonical architecture."""
        return darts.compact_to_genotype(arch)

    def _evaluate(self, archs: list[darts.Arch]) -> list[dict[str, float]]:
        answers = []
        for arch in archs:
            genotype = self.genotype(arch)
            answers.append({
                "val_acc": float(self._performance.predict(config=genotype, representation="genotype",
                                                           with_noise=False)),
                "runtime": float(self._runtime.predict(config=genotype, representation="genotype", with_noise=False))})
        return answers


def load_official_nb301_oracle(data_dir: str | os.PathLike[str]) -> OfficialNb301Oracle:
    """The official surrogate from ``{data_dir}/nasbench301/nb_models_1.0/`` (see :class:`OfficialNb301Oracle`)."""
    return OfficialNb301Oracle(Path(data_dir).expanduser().absolute() / OFFICIAL_MODELS_DIR)
