"""Result files of a search run: NASLib's ``errors.json`` and this project's ``summary.json``.

Both are rewritten atomically after every query, so an interrupted run keeps every
query it completed.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any


def write_json(path: Path, payload: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1, default=_jsonable))
    os.replace(tmp, path)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _number(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


class RunRecorder:
    """Collects one run's per-query records and writes ``errors.json`` and ``summary.json``."""

    def __init__(self, out_dir: Path, config: dict[str, Any], splits: dict[str, str],
                 hardware: dict[str, Any] | None = None, implementation: str = "builtin"):
        self.out_dir = Path(out_dir)
        self.implementation = implementation
        self.hardware = hardware
        self.limit = None if hardware is None else (math.inf if hardware["limit"] is None else hardware["limit"])
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.config = config
        self.splits = splits
        self.trajectory: dict[str, Any] = {"train_acc": [], "valid_acc": [], "test_acc": [], "runtime": [],
                                           "train_time": [], "params": 0.0}
        self.queries: list[dict[str, Any]] = []
        self.wall_time = 0.0

    def add(self, arch: list[int], arch_str: str | None, val: float, test: float | None,
            stats: tuple, runtime: float, metric: float | None = None) -> None:
        """One query: the evaluated architecture and its metrics, plus NASLib's per-epoch statistics;
        under a hardware objective also its metric value (NaN: not measured) and the best feasible so far."""
        train_acc, valid_acc, test_acc, train_time = stats
        for key, value in zip(("train_acc", "valid_acc", "test_acc", "train_time", "runtime"),
                              (train_acc, valid_acc, test_acc, train_time, runtime)):
            self.trajectory[key].append(_number(value))
        best = self.queries[-1] if self.queries else None
        if best is None or val > best["best_val_acc"]:
            best_val, best_test, best_arch = val, test, arch
        else:
            best_val, best_test, best_arch = best["best_val_acc"], best["best_test_acc"], best["best_arch"]
        self.queries.append({"query": len(self.queries) + 1, "arch": arch, "arch_str": arch_str,
                             "val_acc": _number(val), "test_acc": None if test is None else _number(test),
                             "best_val_acc": best_val, "best_test_acc": best_test, "best_arch": best_arch})
        if self.hardware is not None:
            self._add_hardware(self.queries[-1], best, arch, val, test, metric)
        self.wall_time += runtime

    def _add_hardware(self, query: dict[str, Any], previous: dict[str, Any] | None, arch: list[int],
                      val: float, test: float | None, metric: float | None) -> None:
        value = math.nan if metric is None else float(metric)
        ok = math.isfinite(value) and value <= self.limit
        query.update(metric=_number(value), feasible=ok)
        fields = ("best_feasible_val_acc", "best_feasible_test_acc", "best_feasible_metric", "best_feasible_arch")
        prev = [None] * 4 if previous is None else [previous[f] for f in fields]
        if ok and (prev[0] is None or val > prev[0]):
            prev = [_number(val), None if test is None else _number(test), value, arch]
        query.update(zip(fields, prev))

    def write(self, finished: bool, extra: dict[str, Any] | None = None) -> None:
        write_json(self.out_dir / "errors.json", [self.config, self.trajectory])
        summary = {"optimizer": self.config["optimizer"], "implementation": self.implementation,
                   "search_space": self.config["search_space"],
                   "dataset": self.config["dataset"], "seed": self.config["seed"],
                   "config_id": self.config["config_id"], "finished": finished,
                   "num_queries": len(self.queries), "wall_time_s": self.wall_time,
                   "splits": self.splits,
                   "columns": {"val_acc": "the queried architecture's validation accuracy",
                               "test_acc": "its test accuracy",
                               "best_val_acc": "best validation accuracy among the queries so far",
                               "best_test_acc": "test accuracy of that best-by-validation architecture"},
                   "queries": self.queries}
        if self.hardware is not None:
            summary["hardware"] = self.hardware
            summary["columns"].update({
                "metric": f"the queried architecture's {self.hardware['metric']} (null: not measured)",
                "feasible": self.hardware["feasible"],
                "best_feasible_val_acc": "best validation accuracy among the feasible queries so far (null: none)",
                "best_feasible_test_acc": "test accuracy of that architecture",
                "best_feasible_metric": f"its {self.hardware['metric']}"})
        if extra:
            summary.update(extra)
        write_json(self.out_dir / "summary.json", summary)
