"""Constraints and objectives on per-architecture metrics: ``metric <= limit``, ``metric >= limit``,
several at once, and metrics to minimise or maximise next to accuracy.

Written in a config as text that reads the same in YAML and on the command line::

    hardware:
      constraints: edgegpu_latency <= 4                     # or a list, or comma-separated:
      # constraints: "edgegpu_latency <= 4, robust_acc >= 40"
      objectives: min edgegpu_latency                       # agnet_joint; default: the constrained metrics

Everything the search and the reports compute goes through *oriented* values, in which
lower is better: ``v`` for a ``<=`` constraint or a minimised metric, ``-v`` for ``>=`` or a
maximised one. A task written as ``x <= L`` and the same task written as ``-x >= -L`` have
the same oriented values, and so give the same search.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Constraint", "Objective", "parse_constraints", "parse_objectives", "format_value", "metric_signs",
           "oriented_matrix", "describe", "describe_values"]

_CONSTRAINT = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*(<=|>=|=<|=>|<|>)\s*(\S+)\s*$")
_OBJECTIVE = re.compile(r"^\s*(?:(min|max|minimise|maximise|minimize|maximize)\s+)?([A-Za-z_][\w.\-]*)\s*$",
                        re.IGNORECASE)
_SYNTAX = ("write a constraint as 'METRIC <= LIMIT' or 'METRIC >= LIMIT' (e.g. 'edgegpu_latency <= 4', "
           "'robust_acc >= 40'), several as a YAML list or comma-separated")


def format_value(value: float, unit: str | None = None) -> str:
    """``4`` -> ``'4'``, with the unit if there is one (``'4 ms'``); for display (6 significant digits)."""
    text = f"{value:g}"
    return f"{text} {unit}" if unit else text


def exact_value(value: float) -> str:
    """The shortest text that reads back as the same float (``4.0`` -> ``'4'``, ``3.4270215``)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class Constraint:
    """``metric <= limit`` (``sense="<="``) or ``metric >= limit`` (``sense=">="``); an unmeasured
    value (NaN) never satisfies it."""

    metric: str
    sense: str
    limit: float

    def __post_init__(self) -> None:
        if self.sense not in ("<=", ">="):
            raise ValueError(f"constraint sense must be '<=' or '>=', got {self.sense!r}")
        if not isinstance(self.limit, (int, float)) or isinstance(self.limit, bool) or not math.isfinite(self.limit):
            raise ValueError(f"the limit of {self.metric} {self.sense} ... must be a finite number, got {self.limit!r}")
        object.__setattr__(self, "limit", float(self.limit))

    @property
    def sign(self) -> float:
        """+1 where lower is better (``<=``), -1 where higher is (``>=``)."""
        return 1.0 if self.sense == "<=" else -1.0

    @property
    def oriented_limit(self) -> float:
        return self.sign * self.limit

    def satisfied(self, values) -> np.ndarray:
        """Element-wise: the constraint holds (NaN: it does not)."""
        from ..search.multiobjective import feasible

        return feasible(self.sign * np.asarray(values, dtype=np.float64), self.oriented_limit)

    def text(self, unit: str | None = None) -> str:
        return f"{self.metric} {self.sense} {format_value(self.limit, unit)}"

    def __str__(self) -> str:
        """The constraint as a config writes it, the limit exact (it is part of the run's identity)."""
        return f"{self.metric} {self.sense} {exact_value(self.limit)}"

    @classmethod
    def parse(cls, text: str) -> "Constraint":
        if not isinstance(text, str):
            raise ValueError(f"constraint {text!r}: {_SYNTAX}")
        m = _CONSTRAINT.match(text)
        if not m:
            raise ValueError(f"constraint {text!r} is not understood: {_SYNTAX}")
        metric, op, limit = m.groups()
        if op in ("<", ">"):
            raise ValueError(f"constraint {text!r}: use {op}= (a limit is feasible itself: "
                             f"'{metric} {op}= {limit}')")
        try:
            value = float(limit)
        except ValueError:
            raise ValueError(f"constraint {text!r}: the limit {limit!r} is not a number; {_SYNTAX}") from None
        if not math.isfinite(value):
            raise ValueError(f"constraint {text!r}: the limit must be finite (for no constraint, leave "
                             "hardware.constraints empty)")
        return cls(metric, {"=<": "<=", "=>": ">="}.get(op, op), value)


@dataclass(frozen=True)
class Objective:
    """A metric to minimise (``sense="min"``) or maximise (``"max"``) next to accuracy (Joint=1)."""

    metric: str
    sense: str

    def __post_init__(self) -> None:
        if self.sense not in ("min", "max"):
            raise ValueError(f"objective sense must be 'min' or 'max', got {self.sense!r}")

    @property
    def sign(self) -> float:
        return 1.0 if self.sense == "min" else -1.0

    def __str__(self) -> str:
        return f"{self.sense} {self.metric}"


def _items(value, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("", "none", "null", "[]"):
            return []
        return [part for part in (p.strip() for p in re.split(r"[,;]", text)) if part]
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            if not isinstance(item, str):
                raise ValueError(f"hardware.{what}: each item must be a string such as "
                                 f"{'edgegpu_latency <= 4' if what == 'constraints' else 'min edgegpu_latency'!r}, "
                                 f"got {item!r}")
            out += _items(item, what)
        return out
    raise ValueError(f"hardware.{what} must be a string or a list of strings, got {value!r}")


def parse_constraints(value) -> tuple[Constraint, ...]:
    """Constraints from a config value: one string, a comma-separated string or a list of strings;
    None, ``""`` or ``none``: no constraint. A metric constrained twice is an error."""
    out = tuple(Constraint.parse(text) for text in _items(value, "constraints"))
    seen = [c.metric for c in out]
    twice = sorted({m for m in seen if seen.count(m) > 1})
    if twice:
        raise ValueError(f"hardware.constraints constrains {twice} more than once; give one constraint per metric")
    return out


def parse_objectives(value, constraints: Sequence[Constraint] = ()) -> tuple[Objective, ...]:
    """Objectives from a config value (``min M`` / ``max M`` / ``M``); None: each constrained metric,
    minimised under ``<=`` and maximised under ``>=``. A bare ``M`` takes its constraint's direction
    (minimised if it has none)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "null")):
        return tuple(Objective(c.metric, "min" if c.sense == "<=" else "max") for c in constraints)
    by_metric = {c.metric: c for c in constraints}
    out = []
    for text in _items(value, "objectives"):
        m = _OBJECTIVE.match(text)
        if not m:
            raise ValueError(f"objective {text!r} is not understood: write 'min METRIC' or 'max METRIC' "
                             "(e.g. 'min edgegpu_latency')")
        word, metric = m.groups()
        if word:
            sense = "min" if word.lower().startswith("min") else "max"
        else:
            c = by_metric.get(metric)
            sense = "max" if c is not None and c.sense == ">=" else "min"
        out.append(Objective(metric, sense))
    names = [o.metric for o in out]
    twice = sorted({m for m in names if names.count(m) > 1})
    if twice:
        raise ValueError(f"hardware.objectives names {twice} more than once")
    return tuple(out)


def metric_names(constraints: Iterable[Constraint], objectives: Iterable[Objective]) -> list[str]:
    """The metrics a task reads, in order: the constrained ones, then the other objectives'."""
    names: list[str] = []
    for item in (*constraints, *objectives):
        if item.metric not in names:
            names.append(item.metric)
    return names


def metric_signs(names: Sequence[str], constraints: Sequence[Constraint],
                 objectives: Sequence[Objective]) -> tuple[np.ndarray, np.ndarray]:
    """(signs ``[M]``, oriented limits ``[M]``) of metric columns ``names``: +1 where lower is better,
    -1 where higher is (from the column's constraint, else its objective); limits ``inf`` where
    unconstrained. A metric that is constrained one way and optimised the other is an error."""
    signs, limits = np.ones(len(names)), np.full(len(names), np.inf)
    for j, name in enumerate(names):
        c = next((c for c in constraints if c.metric == name), None)
        o = next((o for o in objectives if o.metric == name), None)
        if c is not None and o is not None and c.sign != o.sign:
            raise ValueError(f"{name} is constrained by '{c}' but the objective is '{o}': they pull in "
                             "opposite directions")
        signs[j] = c.sign if c is not None else o.sign
        if c is not None:
            limits[j] = c.oriented_limit
    return signs, limits


def oriented_matrix(values: np.ndarray, names: Sequence[str], constraints: Sequence[Constraint],
                    objectives: Sequence[Objective]) -> tuple[np.ndarray, np.ndarray]:
    """(oriented values ``[n, M]``, oriented limits ``[M]``) for metric columns ``names``: each column
    times its sign (:func:`metric_signs`)."""
    signs, limits = metric_signs(names, constraints, objectives)
    return np.asarray(values, dtype=np.float64).reshape(-1, len(names)) * signs, limits


def describe(constraints: Sequence[Constraint], objectives: Sequence[Objective],
             units: Mapping[str, str | None]) -> str:
    """``'edgegpu_latency <= 4 ms and robust_acc >= 40 %'``; without a constraint
    ``'no constraint; min edgegpu_latency'``: what every line, table and plot calls a task."""
    if not constraints:
        return "no constraint; " + ", ".join(str(o) for o in objectives)
    return " and ".join(c.text(units.get(c.metric)) for c in constraints)


def describe_values(names: Sequence[str], values: Iterable[float | None], units: Mapping[str, str | None]) -> str:
    """``'edgegpu_latency 3.2 ms, robust_acc 41 %'`` for one architecture's values (None or NaN: not measured)."""
    return ", ".join(f"{m} " + ("not measured" if v is None or (isinstance(v, float) and math.isnan(v))
                               else format_value(v, units.get(m)))
                     for m, v in zip(names, values))
