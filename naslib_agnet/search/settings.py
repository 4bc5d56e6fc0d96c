"""AG-Net's settings, nested by component, with every default in this module and the scorers'.

A search is a loop (:class:`LoopSettings`), one candidate scorer (its own settings class, in
its module under :mod:`.scorers`) and, under constraints, the hardware objective
(:class:`HardwareSettings`). In a run config they sit under ``search.agnet``::

    search:
      agnet:
        pretrained: default      # the shipped generator; none; or a weights file
        scorer: null             # null: the optimizer's (agnet: spec, agnet_xgb: xgb, ...)
        loop: {lr: null, ...}    # null: the spec's value for the search space (and hardware mode)
        spec: {...}              # one section per scorer: only the chosen one's is read
        xgb: {...}
        hardware: {...}

and on the command line as ``search.agnet.loop.lr 0.0005`` or ``search.agnet.scorer xgb``.
:func:`config_defaults` builds that tree from the dataclasses, so the configs, the ``KEY VALUE``
keys and the code share one set of defaults. ``null`` loop values are the spec's per-space and
hardware values (:data:`SPACE_LOOP`, :data:`HARDWARE_LOOP`): NB101 retrains 15 epochs per
iteration; NB301 15 epochs, candidates in chunks of 1,000 ... 4,000 and nodes weighted 2 in the
reconstruction loss; the hardware-aware search uses alpha 0.95 and lr 2e-4 (spec §5.5, §7).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

WEIGHTINGS = ("rank", "uniform")
METRIC_UNITS = ("scaled", "raw", "limit")
INFEASIBLE_ORDERS = ("accuracy", "accuracy+metric")


class Settings:
    """Mixin of the settings dataclasses: built from a mapping with checked names and types."""

    #: what the section is called in messages (``search.agnet.<SECTION>``)
    SECTION = ""

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None = None, base: "Settings | None" = None):
        """``base`` (default: the class's defaults) with ``values`` replacing fields; a ``None`` value
        keeps the base's. Unknown names and wrong types raise ValueError naming the key."""
        values = dict(values or {})
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        where = f"search.agnet.{cls.SECTION}." if cls.SECTION else ""
        if unknown:
            raise ValueError(f"unknown AG-Net setting(s) {[where + u for u in unknown]}; known here: {sorted(known)}")
        base = base if base is not None else cls()
        kwargs = {}
        for name, value in values.items():
            if value is None:
                continue
            kwargs[name] = _coerce(where + name, value, type(getattr(base, name)))
        settings = replace(base, **kwargs)
        settings.validate()
        return settings

    def validate(self) -> None:  # pragma: no cover - each class checks its own ranges
        pass

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _coerce(name: str, value: Any, kind: type) -> Any:
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind is str and isinstance(value, str):
        return value
    if kind is bool and isinstance(value, bool):
        return value
    raise ValueError(f"AG-Net setting {name} must be of type {kind.__name__}, got {value!r} ({type(value).__name__})")


def _positive(settings: Settings, *names: str, strict: bool = True) -> None:
    where = f"search.agnet.{settings.SECTION}." if settings.SECTION else ""
    for name in names:
        value = getattr(settings, name)
        if not (value > 0 if strict else value >= 0):
            raise ValueError(f"AG-Net setting {where}{name} must be {'> 0' if strict else '>= 0'}, got {value}")


def _choice(settings: Settings, name: str, choices: tuple[str, ...]) -> None:
    value = getattr(settings, name)
    if value not in choices:
        where = f"search.agnet.{settings.SECTION}." if settings.SECTION else ""
        raise ValueError(f"AG-Net setting {where}{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")


@dataclass
class LoopSettings(Settings):
    """The search loop: initial design, weighted retraining, candidate generation (spec §5, NB201 values)."""

    SECTION = "loop"

    num_init: int = 16  #: random architectures evaluated before the first retraining
    top_k: int = 16  #: architectures evaluated per iteration
    num_candidates: int = 100  #: valid new candidates scored per iteration
    retrain_epochs: int = 30  #: epochs of weighted retraining per iteration (NB101: 15)
    batch_size: int = 16
    lr: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    weight_decay: float = 0.0
    alpha: float = 0.9  #: weight of the scorer's loss in (1 - alpha) L_G + alpha L_scorer
    weight_factor: float = 0.01  #: k in w = 1 / (k |D| + rank)
    #: "rank" (spec §5.2: w = 1 / (k |D| + rank) over all evaluated architectures) or "uniform"
    #: (the w/o LSO ablation, spec §9, without QUIRK-11: equal weights over all evaluated ones)
    weighting: str = "rank"
    latent_bound: float = 3.0  #: candidates use z ~ U[-bound, bound]
    chunk_size: int = 100  #: candidate draws grow 100, 200, ... per chunk
    max_chunks: int = 9  #: ... up to this many chunks per iteration (4,500 draws for NB201)
    #: w in the search's reconstruction loss L_G = w L_V + L_E (spec §3.1: 1; NB301: 2)
    node_loss_weight: float = 1.0
    #: spaces of several cells (DARTS): the search generates cell i while |D| < phase_switch (i + 1), the
    #: other cells fixed, and the last cell to the end (spec §5.6: the normal cell until |D| = 160)
    phase_switch: int = 160

    def validate(self) -> None:
        _positive(self, "num_init", "top_k", "num_candidates", "batch_size", "chunk_size", "max_chunks",
                  "lr", "weight_factor", "latent_bound", "node_loss_weight", "phase_switch")
        _positive(self, "retrain_epochs", "weight_decay", strict=False)
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"AG-Net setting search.agnet.loop.alpha must lie in [0, 1], got {self.alpha}")
        _choice(self, "weighting", WEIGHTINGS)


@dataclass
class HardwareSettings(Settings):
    """The constrained search's objective (spec §7), read only under ``hardware.constraints``."""

    SECTION = "hardware"

    metric_weight: float = 0.5  #: lambda: weight of the accuracy term against the metric terms
    infeasible_penalty: float = 1000.0  #: rank-sum factor of infeasible points
    #: what the predictor regresses: "scaled" ((value - limit) / spread of the initial sample: the search
    #: does not depend on the metric's units or offset), "raw" (spec §7: the table's units) or "limit"
    #: (value / |limit|); see :class:`~naslib_agnet.search.hardware.HardwareAGNetSearch`
    metric_units: str = "scaled"
    #: how infeasible points rank under Joint=0: "accuracy" (spec §7) or "accuracy+metric" (their
    #: summed violation is ranked too)
    infeasible_order: str = "accuracy"

    def validate(self) -> None:
        if not 0.0 <= self.metric_weight <= 1.0:
            raise ValueError(f"AG-Net setting search.agnet.hardware.metric_weight must lie in [0, 1], "
                             f"got {self.metric_weight}")
        if not self.infeasible_penalty >= 1.0:
            raise ValueError(f"AG-Net setting search.agnet.hardware.infeasible_penalty must be >= 1, "
                             f"got {self.infeasible_penalty}")
        _choice(self, "metric_units", METRIC_UNITS)
        _choice(self, "infeasible_order", INFEASIBLE_ORDERS)


#: spec §5.5: loop values of a search space that differ from the NB201 defaults
SPACE_LOOP: dict[str, dict[str, Any]] = {
    "nasbench101": {"retrain_epochs": 15},
    "nasbench301": {"retrain_epochs": 15, "chunk_size": 1000, "max_chunks": 4, "node_loss_weight": 2.0},
}
#: spec §7: loop values of the hardware-aware search that differ from the NB201 defaults
HARDWARE_LOOP: dict[str, Any] = {"alpha": 0.95, "lr": 2e-4, "weight_decay": 1e-4, "chunk_size": 500, "max_chunks": 5}
DEFAULT_SCORER = "spec"


@dataclass
class AGNetSettings:
    """Everything one AG-Net search reads: the loop, the scorer's name and settings, the hardware objective."""

    loop: LoopSettings = field(default_factory=LoopSettings)
    scorer: str = DEFAULT_SCORER
    scorer_settings: Settings | None = None  #: the chosen scorer's (None: its defaults)
    hardware: HardwareSettings = field(default_factory=HardwareSettings)

    def __post_init__(self) -> None:
        from .scorers import scorer_class

        cls = scorer_class(self.scorer)  # ValueError for an unknown name
        if self.scorer_settings is None:
            self.scorer_settings = cls.Settings()
        elif not isinstance(self.scorer_settings, cls.Settings):
            raise TypeError(f"scorer {self.scorer!r} takes {cls.Settings.__name__}, got "
                            f"{type(self.scorer_settings).__name__}")

    @classmethod
    def build(cls, *, scorer: str = DEFAULT_SCORER, space: str | None = None, hardware: bool = False,
              loop: Mapping[str, Any] | None = None, scorer_settings: Mapping[str, Any] | None = None,
              hardware_settings: Mapping[str, Any] | None = None) -> "AGNetSettings":
        """The spec's settings for ``space`` (and the hardware-aware search), then the given values
        (``None`` values keep the spec's)."""
        from .scorers import scorer_class

        base = LoopSettings.from_mapping({**SPACE_LOOP.get(space or "", {}), **(HARDWARE_LOOP if hardware else {}),
                                          **scorer_class(scorer).LOOP})
        return cls(loop=LoopSettings.from_mapping(loop, base), scorer=scorer,
                   scorer_settings=scorer_class(scorer).Settings.from_mapping(scorer_settings),
                   hardware=HardwareSettings.from_mapping(hardware_settings))

    def to_dict(self) -> dict[str, Any]:
        return {"loop": self.loop.to_dict(), "scorer": self.scorer, self.scorer: self.scorer_settings.to_dict(),
                "hardware": self.hardware.to_dict()}


def config_defaults() -> dict[str, Any]:
    """The ``search.agnet`` tree of a run config at its defaults (loop values null: the spec's per space)."""
    from .scorers import SCORERS

    tree: dict[str, Any] = {"pretrained": "default", "scorer": None,
                            "loop": {f.name: None for f in fields(LoopSettings)}}
    for name, cls in SCORERS.items():
        tree[name] = cls.Settings().to_dict()
    tree["hardware"] = HardwareSettings().to_dict()
    return tree


def settings_from_tree(tree: Mapping[str, Any] | None, *, space: str | None = None, hardware: bool = False,
                       scorer: str | None = None) -> AGNetSettings:
    """:class:`AGNetSettings` from a config's ``search.agnet`` mapping (missing keys: defaults).
    ``scorer``: the optimizer's scorer, used where the tree's is null."""
    tree = dict(tree or {})
    from .scorers import SCORERS

    known = set(config_defaults())
    unknown = sorted(set(tree) - known)
    if unknown:
        raise ValueError(f"unknown key(s) {['search.agnet.' + u for u in unknown]}; known: {sorted(known)}")
    for name in ("loop", "hardware", *SCORERS):
        if tree.get(name) is not None and not isinstance(tree[name], Mapping):
            raise ValueError(f"search.agnet.{name} must be a mapping of settings, got {tree[name]!r}")
    chosen = tree.get("scorer") or scorer or DEFAULT_SCORER
    if chosen not in SCORERS:
        raise ValueError(f"search.agnet.scorer must be one of {', '.join(map(repr, SCORERS))}, got {chosen!r}")
    return AGNetSettings.build(scorer=chosen, space=space, hardware=hardware, loop=tree.get("loop"),
                               scorer_settings=tree.get(chosen), hardware_settings=tree.get("hardware"))


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """``["loop.lr=1e-3", "scorer=xgb", "xgb.max_depth=4"]`` (a script's command line) -> the nested
    ``search.agnet`` mapping; values are read as JSON where they parse, kept as strings otherwise."""
    tree: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise ValueError(f"setting {item!r}: expected NAME=VALUE, e.g. loop.lr=0.0005 or scorer=xgb")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        node = tree
        *parents, leaf = name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


#: the flat ``search.agnet_<name>`` keys of versions before 0.4 -> their place in ``search.agnet``
LEGACY_KEYS: dict[str, str] = {
    **{f"agnet_{f.name}": f"agnet.loop.{f.name}" for f in fields(LoopSettings)},
    **{f"agnet_{f.name}": f"agnet.hardware.{f.name}" for f in fields(HardwareSettings)},
    "agnet_pretrained": "agnet.pretrained", "agnet_predictor_layers": "agnet.spec.predictor_layers",
    "agnet_score_scale": "agnet.spec.score_scale",
    "agnet_predictor_input": "agnet.scorer (generated = spec, encoding = encoding, generated+encoding = ranker)",
    "agnet_engine": "removed: the package picks the training step (torch autograd is the reference; "
                    "NASLIB_AGNET_TRAIN_STEP=reference forces it)",
    **{f"agnet_ranker_{n}": f"agnet.ranker.{n}" for n in ("members", "layers", "width", "epochs", "lr",
                                                          "acquisition", "explore")},
}


def legacy_hint(key: str) -> str | None:
    """For a flat key of an older config (``agnet_lr``), where it lives now."""
    new = LEGACY_KEYS.get(key)
    if new is None:
        return None
    return f"search.{key} was {new}" if new.startswith("removed") else f"search.{key} moved to search.{new}"
