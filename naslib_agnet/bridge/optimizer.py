"""``AGNet``: AG-Net behind NASLib's black-box ``MetaOptimizer`` contract.

It subclasses NASLib's ``MetaOptimizer`` when NASLib is importable and the local
stand-in otherwise, and it talks to the search space only through the graph methods
``clone``, ``set_spec``, ``get_hash``, ``query``, ``sample_random_architecture`` and
``get_type``: the same object runs on NASLib's ``NasBench201SearchSpace`` and on
:class:`~naslib_agnet.bridge.NasBench201Space`.

One NASLib epoch is one query: the first ``agnet_num_init`` epochs evaluate random
architectures; after that AG-Net proposes a batch of ``agnet_top_k`` architectures,
and each ``new_epoch`` evaluates the next one of the batch.

Config keys: the ``search.agnet`` tree of :mod:`naslib_agnet.search.settings` (``pretrained``:
``default`` for the shipped weights, ``none`` for a randomly initialised generator, or a path;
``scorer``; ``loop``; one section per scorer; ``hardware``), and ``seed`` (or the top-level
``seed``). The variants (``agnet_xgb``, ``agnet_wo_lso``, ...) are this class with a preset
(:data:`VARIANTS`).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from ..search import AGNetSearch, HardwareAGNetSearch
from ..search.settings import AGNetSettings, config_defaults, settings_from_tree
from ..spaces import get_codec
from ..weights import generator_fingerprint, load_generator
from .blackbox import BlackBoxOptimizer, _get

logger = logging.getLogger(__name__)

SECTION = "agnet"  #: the config section under ``search``
MAX_RANDOM_TRIES = 10_000


def _plain(node) -> Any:
    """A config node (dict, fvcore CfgNode, namespace) as plain dicts."""
    if node is None:
        return None
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if hasattr(node, "__dict__") and not isinstance(node, (str, int, float, bool)):
        return {k: _plain(v) for k, v in vars(node).items()}
    return node


def agnet_tree(config) -> dict[str, Any]:
    """The config's ``search.agnet`` mapping (empty when absent)."""
    return _plain(_get(_get(config, "search"), SECTION)) or {}


def settings_from_config(config, preset: dict[str, Any] | None = None, space: str | None = None) -> AGNetSettings:
    """:class:`AGNetSettings` from a NASLib-style config's ``search.agnet`` tree, for its search space and
    (under ``hardware.constraints``) the hardware-aware search; ``preset``: a variant's values, which
    replace the tree's nulls and defaults (another value is an error); ``space``: the search space's name when the
    config does not say it (``search_space``)."""
    search = _get(config, "search")
    present = search.keys() if isinstance(search, dict) else vars(search) if search is not None else ()
    from ..search.settings import legacy_hint

    legacy = [legacy_hint(k) for k in present if legacy_hint(k)]
    if legacy:
        raise ValueError("; ".join(legacy) + " (AG-Net's settings nest under search.agnet since 0.4; "
                         "see docs/variants.md)")
    tree = agnet_tree(config)
    defaults = config_defaults()
    for key, value in (preset or {}).items():
        *parents, leaf = key.split(".")
        node, default = tree, defaults
        for part in parents:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node, default = node[part], default.get(part, {})
        # a value the config holds at its default (written by add_agnet_defaults) gives way to the preset
        if node.get(leaf) is not None and node[leaf] != value and node[leaf] != default.get(leaf):
            raise ValueError(f"search.agnet.{key} is {node[leaf]!r}, but this optimizer is AG-Net with {key} "
                             f"{value!r}: use optimizer agnet to choose {key} freely")
        node[leaf] = value
    hardware = _hardware_mode(config)
    space = space or _get(config, "search_space")
    return settings_from_tree({k: v for k, v in tree.items() if k != "pretrained"}, space=space, hardware=hardware)


def _hardware_mode(config) -> bool:
    """True when the config names constraints or objectives (the hardware-aware search)."""
    if not isinstance(config, dict) or config.get("hardware") is None:
        return False
    from ..experiments.config import hardware_section

    section = hardware_section(config)
    return section is not None and bool(section["constraints"] or section["objectives"])


def add_agnet_defaults(config, optimizer: type | None = None):
    """Add the ``search.agnet`` keys that a NASLib config (fvcore ``CfgNode`` or dict) lacks, at their
    defaults; returns the config (changed in place). NASLib's ``get_config_from_args`` accepts a
    ``KEY VALUE`` override only for a key the config file lists: write the completed config to a
    file and give NASLib that one (docs/naslib.md §2)::

        cfg = add_agnet_defaults(naslib.utils.load_config("my_bbo.yaml"))
        Path("my_bbo_agnet.yaml").write_text(cfg.dump())
    """
    defaults = (optimizer or AGNet).config_defaults()[SECTION]
    search = _get(config, "search")
    if search is None:
        search = type(config)() if not isinstance(config, dict) else {}
        config["search"] = search
    make = type(search) if not isinstance(search, dict) or type(search) is not dict else dict

    def fill(node, values):
        for key, value in values.items():
            if isinstance(value, dict):
                if key not in node or node[key] is None:
                    node[key] = make()
                fill(node[key], value)
            elif key not in node:
                node[key] = value

    if SECTION not in search or search[SECTION] is None:
        search[SECTION] = make()
    fill(search[SECTION], defaults)
    return config


class _Checkpoint(torch.nn.Module):
    """The small module handed to NASLib's checkpointer: the current generator and the scorer's
    jointly trained modules (models fitted apart, such as the ranker or XGB, are refitted from the
    observations every iteration, so they hold no state worth saving)."""

    def __init__(self, search: AGNetSearch):
        super().__init__()
        self.generator = search.generator
        for name, module in search.scorer.modules().items():
            self.add_module(name, module)


class AGNet(BlackBoxOptimizer):
    """AG-Net as a NASLib black-box optimizer (``optimizer: agnet``).

    Constrained when ``dataset_api["hardware"]`` holds a
    :class:`~naslib_agnet.benchmarks.hardware_task.HardwareTask` (the runner puts it there
    for a config with ``hardware.constraints``): then it searches for accuracy under the
    constraints (the paper's Joint=0), and :class:`AGNetJoint` for accuracy and the
    objective metrics jointly (Joint=1).
    """

    joint = False  #: hardware-aware search only: also minimise the metric (Joint=1)
    CONFIG_DEFAULTS = {SECTION: config_defaults()}
    #: a variant's settings, ``{"scorer": "xgb"}`` or ``{"loop.weighting": "uniform"}``: they fill the
    #: config's nulls, and a config that sets one of them otherwise is refused
    PRESET: dict[str, Any] = {}
    #: one line for ``naslib-agnet optimizers`` and docs/variants.md
    SUMMARY = "AG-Net as in the paper (spec scorer, rank-weighted retraining)"

    @classmethod
    def check_config(cls, config) -> None:
        """ValueError for AG-Net settings it cannot run with (names and types, ranges, the weights file)."""
        settings = settings_from_config(config, cls.PRESET)
        cls._check_hardware(config, settings)
        pretrained = cls._pretrained(config)
        if pretrained.lower() not in ("default", "none") and not Path(pretrained).expanduser().is_file():
            raise ValueError(f"search.agnet_pretrained {pretrained!r} is not a file; give 'default' (the shipped "
                             "generator), 'none' (random initialisation) or the path of a weights file made by "
                             "'naslib-agnet pretrain'")

    @classmethod
    def identity_settings(cls, config) -> dict[str, Any]:
        """``search.agnet`` as this optimizer resolves it (nulls filled, only the chosen scorer's section,
        the hardware objective only under constraints): what a run's identity records, so a run made with
        a default equals one that spelled the default out."""
        settings = settings_from_config(config, cls.PRESET)
        resolved = settings.to_dict()
        if not _hardware_mode(config):
            resolved.pop("hardware")
        return {SECTION: {"pretrained": cls._pretrained(config), **resolved}}

    @classmethod
    def _pretrained(cls, config) -> str:
        value = agnet_tree(config).get("pretrained")
        return "default" if value is None else str(value)

    @classmethod
    def _check_hardware(cls, config, settings: AGNetSettings) -> None:
        from ..experiments.config import hardware_section

        section = hardware_section(config) if isinstance(config, dict) else None
        from ..search.hardware import HARDWARE_SCORERS

        if section is not None and settings.scorer not in HARDWARE_SCORERS:
            raise ValueError(f"the hardware-aware search (hardware.constraints) runs with the scorers "
                             f"{', '.join(HARDWARE_SCORERS)} only; this config asks for scorer {settings.scorer!r} "
                             f"(optimizer {cls.__name__})")
        if section is not None and not section["constraints"] and not cls.joint:
            raise ValueError("optimizer agnet (Joint=0) searches for accuracy under constraints, and "
                             "hardware.constraints is empty: add one (e.g. \"edgegpu_latency <= 4\"), or use "
                             "optimizer agnet_joint to optimise hardware.objectives next to accuracy")

    @classmethod
    def fingerprint(cls, config) -> dict[str, Any]:
        """The SHA-256 prefix of the generator weights the search starts from (``None``: random init)."""
        pretrained = cls._pretrained(config)
        return {"generator_sha256": generator_fingerprint(_get(config, "search_space"), pretrained)}

    def __init__(self, config):
        super().__init__(config)
        self.seed = int(_get(self.search_config, "seed", _get(config, "seed", 0)))
        self.settings = settings_from_config(config, self.PRESET)
        self.pretrained = self._pretrained(config)
        self.queue: list = []  # graphs proposed by AG-Net, evaluated one per epoch
        self.search: AGNetSearch | None = None
        self.hardware = None
        self.random_fallbacks = 0
        self.generator_fingerprint: str | None = None  #: of the weights file the search started from

    def adapt_search_space(self, search_space, scope=None, dataset_api=None):
        super().adapt_search_space(search_space, scope=scope, dataset_api=dataset_api)
        codec = get_codec(search_space.get_type())
        self.settings = settings_from_config(self.config, self.PRESET, space=codec.name)  # the space's spec values
        state, gen_config = load_generator(codec.name, self.pretrained)
        self.generator_fingerprint = generator_fingerprint(codec.name, self.pretrained)
        self.hardware = dataset_api.get("hardware") if isinstance(dataset_api, dict) else None
        if self.hardware is not None:
            task = self.hardware
            # Joint=0 reads the constrained metrics only; Joint=1 also the objectives'
            objectives = task.objectives if self.joint else ()
            names = task.metrics if self.joint else [c.metric for c in task.constraints]
            self._metric_columns = [task.metrics.index(m) for m in names]
            self.search = HardwareAGNetSearch(codec, self.settings, constraints=task.constraints,
                                              objectives=objectives, joint=self.joint,
                                              condition=task.condition_for(names), generator_state=state,
                                              generator_config=gen_config, seed=self.seed)
        elif self.joint:
            raise ValueError(f"{type(self).__name__} searches accuracy and a hardware metric jointly but the "
                             "dataset_api has no 'hardware' entry: name the metric in the config "
                             "(hardware: {constraints: edgegpu_latency <= 4}) or use optimizer agnet")
        else:
            # a sub-benchmark's dataset_api names the cells it can evaluate: others are discarded, not scored
            candidate_filter = dataset_api.get("candidate_filter") if isinstance(dataset_api, dict) else None
            self.search = AGNetSearch(codec, self.settings, generator_state=state, generator_config=gen_config,
                                      seed=self.seed, candidate_filter=candidate_filter)
        self._checkpoint = _Checkpoint(self.search)

    # ------------------------------------------------------------------------- the loop
    def new_epoch(self, epoch):
        if self.search is None:
            raise RuntimeError("call adapt_search_space(search_space, dataset_api=...) before new_epoch")
        if len(self.history) < self.settings.loop.num_init:
            arch = self._random_unseen()
        else:
            if not self.queue:
                self.queue = self._next_batch()
            arch = self.queue.pop(0)
        evaluated = self._evaluate(arch)
        if self.hardware is not None:
            values = self.hardware.values(arch.get_hash())[self._metric_columns]
            self.search.observe(arch.get_hash(), evaluated.accuracy, values)
        else:
            self.search.observe(arch.get_hash(), evaluated.accuracy)

    def get_final_architecture(self):
        """The most accurate evaluated architecture; under a hardware constraint the most accurate
        *feasible* one (if none is feasible yet: the most accurate one, with a warning)."""
        if self.hardware is None or not self.history:
            return super().get_final_architecture()
        feasible = [m for m in self.history if self.hardware.is_feasible(m.arch.get_hash())]
        if not feasible:
            logger.warning("no evaluated architecture meets %s yet; reporting the most accurate one",
                           self.hardware.constraint_text())
            return super().get_final_architecture()
        return max(feasible, key=lambda m: m.accuracy).arch

    def _next_batch(self) -> list:
        """AG-Net's next proposals as graphs: up to ``top_k``, fewer when its draw budget found fewer
        (spec §5.3: then all found candidates are used). Only when it found none at all is one random
        unseen architecture evaluated instead, so that the search always makes progress."""
        batch = []
        for key in self.search.propose():
            arch = self.search_space.clone()
            arch.set_spec(key, dataset_api=self.dataset_api)
            batch.append(arch)
        if not batch:
            self.random_fallbacks += 1
            if self.random_fallbacks == 1:  # once per run; the count is in summary.json and the run's last line
                task = f", {self.hardware.constraint_text()}" if self.hardware is not None else ""
                logger.warning("AG-Net (seed %d%s) found no new valid candidate in %d latent draws; evaluating a "
                               "random architecture instead (said once per run; the run's last line gives the count)",
                               self.seed, task, self.settings.loop.chunk_size * self.settings.loop.max_chunks
                               * (self.settings.loop.max_chunks + 1) // 2)
            batch.append(self._random_unseen())
        return batch

    def _random_unseen(self):
        for _ in range(MAX_RANDOM_TRIES):
            arch = self._random_arch()
            if not self.search.is_seen(arch.get_hash()):
                return arch
        raise RuntimeError(f"no unseen architecture in {MAX_RANDOM_TRIES} random draws: the space is exhausted")

    def get_model_size(self):
        return sum(p.numel() for p in self._checkpoint.parameters()) / 1e6


class AGNetJoint(AGNet):
    """AG-Net for accuracy and a hardware metric jointly (the paper's Joint=1, ``optimizer: agnet_joint``):
    rank sums of accuracy and metric, infeasible points penalised. Needs a ``hardware:`` metric."""

    joint = True


def _variant(name: str, preset: dict[str, Any], summary: str) -> type[AGNet]:
    return type(name, (AGNet,), {"PRESET": preset, "SUMMARY": summary, "__doc__": f"AG-Net variant: {summary}.",
                                 "__module__": __name__})


#: the named variants: ``optimizer: NAME`` is AG-Net with the preset (docs/variants.md)
VARIANTS: dict[str, type[AGNet]] = {
    "agnet_ranker": _variant("AGNetRanker", {"scorer": "ranker", "hardware.infeasible_order": "accuracy+metric"},
                             "spec training; an MLP ensemble on encodings ranks the candidates (Thompson sampling); "
                             "under constraints infeasible points also rank by their violation"),
    "agnet_xgb": _variant("AGNetXGB", {"scorer": "xgb"}, "the paper's XGB variant (spec §6)"),
    "agnet_xgb_ranking": _variant("AGNetXGBRanking", {"scorer": "xgb_ranking"},
                                  "the paper's XGB + ranking variant, the rank loss reaching the generator (spec §6)"),
    "agnet_wo_lso": _variant("AGNetWithoutLSO", {"loop.weighting": "uniform"},
                             "ablation w/o LSO: equal weights over all evaluated architectures (spec §9)"),
    "agnet_wo_backprop": _variant("AGNetWithoutBackprop", {"scorer": "encoding"},
                                  "ablation w/o backprop: the predictor reads discrete encodings (spec §9)"),
}
for _name, _cls in VARIANTS.items():
    globals()[_cls.__name__] = _cls
