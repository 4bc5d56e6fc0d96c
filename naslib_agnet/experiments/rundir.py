"""A run folder: its result files, its lock, and what may be done with what it already holds.

Files (both rewritten atomically after every query, so an interrupted run keeps every query
it completed): NASLib's ``errors.json`` and this project's ``summary.json``.

The rule, the same for ``search``, ``run`` and ``compare`` (:func:`inspect_run`):

* nothing there (or at most one query of ``errors.json``): a **new** run;
* a finished run of the same config and fingerprint (code version, weights): **finished**,
  reported and left as it is;
* an interrupted run of the same config and fingerprint: **resume**. The run starts again
  from its first query under the same seed; while it re-derives the recorded queries, each
  one is checked against the record (:class:`RunRecorder` with ``recorded``) and the files
  are left untouched; only past them are they rewritten. A run that does not reproduce its
  record stops with :class:`ResumeMismatch` and leaves the record as it was;
* anything else (another config, code version, implementation, generator weights, an
  unreadable record, a NASLib folder): a **conflict**, refused with the override that writes
  elsewhere, or replaced with ``--force``, which first moves the old folder aside
  (:func:`move_aside`), never deletes it.

Only one process writes a run folder at a time (:class:`RunLock`, an OS lock on a file
beside the folder, released when the process ends, however it ends).
"""
from __future__ import annotations

import json
import math
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import ConfigError

SUMMARY, ERRORS = "summary.json", "errors.json"
#: the fields of a summary.json query that a replay must reproduce exactly (those it has)
REPLAY_FIELDS = ("query", "arch", "arch_str", "val_acc", "test_acc", "best_val_acc", "best_test_acc", "best_arch",
                 "metrics", "feasible")
#: a missing value in errors.json, as NASLib's queries give it (-1); summary.json writes null
UNAVAILABLE = -1


class RunFolderError(ConfigError):
    """A run folder that cannot be used as asked (another run in it, another writer, not a folder)."""


class ResumeMismatch(RuntimeError):
    """A resumed run did not reproduce the queries recorded by the interrupted one."""


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


def _naslib_number(value: Any) -> float:
    """errors.json's value of a NASLib statistic: the number, or -1 where it is unavailable (NaN/None)."""
    if value is None:
        return UNAVAILABLE
    value = float(value)
    return value if math.isfinite(value) else UNAVAILABLE


# ----------------------------------------------------------------------------------- the folder
def prepare_run_folder(folder: Path, out_dir: str | os.PathLike[str]) -> None:
    """Create the folders above ``folder``, or say plainly why they cannot be (naming ``out_dir``)."""
    for parent in [folder, *folder.parents]:
        if parent.exists() and not parent.is_dir():
            raise RunFolderError(f"cannot write the run folder {folder}: {parent} is a file, not a folder; choose "
                                 f"another out_dir (now {out_dir!s}) or config_id")
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunFolderError(f"cannot create the run folder {folder} under out_dir {out_dir!s}: "
                             f"{exc.strerror or exc}; choose a writable out_dir") from None
    if not os.access(folder.parent, os.W_OK):
        raise RunFolderError(f"cannot write the run folder {folder}: {folder.parent} is not writable; choose a "
                             f"writable out_dir (now {out_dir!s})")


class RunLock:
    """An exclusive OS lock on ``.{name}.lock`` beside a run folder (``flock``; released when the
    process ends); a second writer is refused with the holder's pid and command."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder.parent / f".{self.folder.name}.lock"
        self._fd: int | None = None

    def __enter__(self) -> "RunLock":
        import fcntl

        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise RunFolderError(f"cannot open the lock file {self.path} of the run folder {self.folder} "
                                 f"({exc.strerror or exc}); write elsewhere (another out_dir)") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 4096).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise RunFolderError(f"{self.folder} is being written by another process ({holder}); wait for it to "
                                 "end, or write elsewhere (another out_dir, config_id or seed)") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}"
                 .encode())
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        import fcntl

        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


@dataclass
class RunState:
    """What a run folder holds for a config: ``new``, ``finished``, ``resume`` or ``conflict`` (``reason``)."""

    state: str
    queries: list[dict[str, Any]] = field(default_factory=list)  #: recorded queries (finished / resume)
    reason: str = ""
    summary: dict[str, Any] | None = None


def _flat(d: dict, prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def config_diff(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``KEY: recorded A, now B`` for every key whose value differs (a key one side lacks included)."""
    a, b = _flat(json.loads(json.dumps(recorded))), _flat(json.loads(json.dumps(current)))
    return [f"{k}: recorded {a.get(k, '<absent>')!r}, now {b.get(k, '<absent>')!r}"
            for k in sorted(set(a) | set(b)) if a.get(k, "<absent>") != b.get(k, "<absent>")]


def inspect_run(folder: Path, identity: dict[str, Any], fingerprint: dict[str, Any], implementation: str,
                epochs: int) -> RunState:
    """What ``folder`` holds, judged for a run of ``identity`` (:func:`~.config.run_identity`) with
    ``fingerprint`` (:func:`~.registry.run_fingerprint`); see the module docstring."""
    summary_path, errors_path = folder / SUMMARY, folder / ERRORS
    if folder.exists() and not folder.is_dir():
        return RunState("conflict", reason=f"{folder} is a file, not a run folder")
    if not summary_path.is_file():
        if errors_path.is_file():  # this project writes summary.json first: an errors.json alone is not its own
            return RunState("conflict", reason=f"{folder} holds an errors.json without summary.json (a run of "
                                               "NASLib's own runner?)")
        return RunState("new")
    try:
        summary = json.loads(summary_path.read_text())
        queries, recorded, fingerprint_recorded = summary["queries"], summary["identity"], summary["fingerprint"]
        if not (isinstance(queries, list) and all(isinstance(q, dict) for q in queries)
                and isinstance(recorded, dict) and isinstance(fingerprint_recorded, dict)):
            raise ValueError("its queries, identity or fingerprint entry has the wrong shape")
    except (OSError, ValueError, TypeError, KeyError) as exc:
        what = f"no {exc} entry" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
        return RunState("conflict", reason=f"the run record {summary_path} cannot be read ({what}; written by an "
                                           "earlier version, or damaged)")
    diff = config_diff(recorded, identity)
    if diff:
        return RunState("conflict", reason=f"{folder} holds a run of a different config ({'; '.join(diff)})",
                        summary=summary)
    recorded_impl = summary.get("implementation", "builtin")
    if recorded_impl != implementation:
        return RunState("conflict", summary=summary,
                        reason=f"{folder} holds a run of the {recorded_impl} {identity['optimizer']} "
                               f"(--baselines {recorded_impl}), this one asks for the {implementation} one")
    diff = config_diff(fingerprint_recorded, fingerprint)
    if diff:
        return RunState("conflict", summary=summary,
                        reason=f"{folder} holds a run made by other code, data or weights ({'; '.join(diff)})")
    if summary.get("finished") and len(queries) == epochs:
        return RunState("finished", queries=queries, summary=summary)
    return RunState("resume" if queries else "new", queries=queries, summary=summary)


def refusal(reason: str, config: dict[str, Any], command: str = "search",
            out_dir: str | None = None) -> RunFolderError:
    """The error for a conflicting folder (``reason``), with the overrides that write elsewhere or replace it
    (``out_dir``: the out_dir the user's command gave, where it differs from the run's, e.g. a grid's task)."""
    return RunFolderError(f"{reason}. Not touching it: to keep it and write elsewhere, add an override such as "
                          f"'out_dir {Path(str(out_dir or config['out_dir'])) / 'other'}' or 'config_id "
                          f"{int(config['config_id']) + 1}'; to replace it, run naslib-agnet {command} --force "
                          "(the old folder is moved aside to <folder>.replaced-<time>, not deleted)")


def move_aside(folder: Path) -> Path:
    """Rename ``folder`` to ``{folder}.replaced-{time}`` (a name the report does not read as a run)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = folder.with_name(f"{folder.name}.replaced-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = folder.with_name(f"{folder.name}.replaced-{stamp}-{n}")
    folder.rename(target)
    return target


# --------------------------------------------------------------------------------- the recorder
class RunRecorder:
    """Collects one run's per-query records and writes ``errors.json`` and ``summary.json``.

    ``recorded``: the queries of an interrupted run of the same config: while the new run is
    within them, each query is checked against its record (:class:`ResumeMismatch` on a
    difference) and nothing is written."""

    def __init__(self, out_dir: Path, config: dict[str, Any], splits: dict[str, str],
                 hardware: dict[str, Any] | None = None, implementation: str = "builtin",
                 identity: dict[str, Any] | None = None, fingerprint: dict[str, Any] | None = None,
                 recorded: list[dict[str, Any]] | None = None):
        self.out_dir = Path(out_dir)
        self.implementation = implementation
        self.hardware = hardware
        self.config = config
        self.identity = identity
        self.fingerprint = fingerprint
        self.recorded = list(recorded or [])
        self.splits = splits
        self.trajectory: dict[str, Any] = {"train_acc": [], "valid_acc": [], "test_acc": [], "runtime": [],
                                           "train_time": [], "params": 0.0}
        self.queries: list[dict[str, Any]] = []
        self.wall_time = 0.0

    def add(self, arch: list[int], arch_str: str | None, val: float, test: float | None,
            stats: tuple, runtime: float, metrics=None) -> None:
        """One query: the evaluated architecture and its metrics, plus NASLib's per-epoch statistics;
        under a hardware task also its metric values (one per ``hardware["metrics"]``; NaN: not
        measured), whether it meets every constraint, and the best feasible query so far."""
        train_acc, valid_acc, test_acc, train_time = stats
        for key, value in zip(("train_acc", "valid_acc", "test_acc", "train_time", "runtime"),
                              (train_acc, valid_acc, test_acc, train_time, runtime)):
            self.trajectory[key].append(_naslib_number(value))
        best = self.queries[-1] if self.queries else None
        if best is None or val > best["best_val_acc"]:
            best_val, best_test, best_arch = val, test, arch
        else:
            best_val, best_test, best_arch = best["best_val_acc"], best["best_test_acc"], best["best_arch"]
        self.queries.append({"query": len(self.queries) + 1, "arch": arch, "arch_str": arch_str,
                             "val_acc": _number(val), "test_acc": None if test is None else _number(test),
                             "best_val_acc": best_val, "best_test_acc": best_test, "best_arch": best_arch})
        if self.hardware is not None:
            self._add_hardware(self.queries[-1], best, arch, val, test, metrics)
        self.wall_time += runtime
        self._check_replay()

    def _check_replay(self) -> None:
        i = len(self.queries) - 1
        if i >= len(self.recorded):
            return
        new = json.loads(json.dumps(self.queries[-1], default=_jsonable))
        old = self.recorded[i]
        diff = [k for k in REPLAY_FIELDS if new.get(k) != old.get(k)]
        if diff:
            raise ResumeMismatch(
                f"query {i + 1} of the resumed run differs from the recorded one in {diff} (recorded "
                f"{[old.get(k) for k in diff]}, now {[new.get(k) for k in diff]}): the run does not reproduce "
                f"under its seed (other data?); the record in {self.out_dir} is left as it was: rerun with --force "
                "to start the run afresh (the record is moved aside to <folder>.replaced-<time>)")

    def _add_hardware(self, query: dict[str, Any], previous: dict[str, Any] | None, arch: list[int],
                      val: float, test: float | None, metrics) -> None:
        from .hardware_record import record_feasible

        names = self.hardware["metrics"]
        values = [math.nan] * len(names) if metrics is None else [float(v) for v in metrics]
        ok = record_feasible(self.hardware, values)
        query.update(metrics={n: _number(v) for n, v in zip(names, values)}, feasible=ok)
        fields = ("best_feasible_val_acc", "best_feasible_test_acc", "best_feasible_metrics", "best_feasible_arch")
        prev = [None] * 4 if previous is None else [previous[f] for f in fields]
        if ok and (prev[0] is None or val > prev[0]):
            prev = [_number(val), None if test is None else _number(test), dict(query["metrics"]), arch]
        query.update(zip(fields, prev))

    @property
    def replaying(self) -> bool:
        """True while the run is still within the recorded queries of the run it resumes."""
        return len(self.queries) < len(self.recorded)

    def write(self, finished: bool, extra: dict[str, Any] | None = None) -> None:
        if self.replaying and not finished:
            return  # the record on disk holds these queries already; it stays as it is
        self.out_dir.mkdir(parents=True, exist_ok=True)
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
        if self.queries:  # the best architecture by validation accuracy, in NASLib's form and as a string
            last = self.queries[-1]
            best = next(q for q in self.queries if q["arch"] == last["best_arch"])
            summary["best"] = {"arch": best["arch"], "arch_str": best["arch_str"], "val_acc": best["val_acc"],
                               "test_acc": best["test_acc"]}
        if self.hardware is not None:
            summary["hardware"] = self.hardware
            summary["columns"].update({
                "metrics": f"the queried architecture's {', '.join(self.hardware['metrics'])} (null: not measured)",
                "feasible": self.hardware["feasible"],
                "best_feasible_val_acc": "best validation accuracy among the feasible queries so far (null: none)",
                "best_feasible_test_acc": "test accuracy of that architecture",
                "best_feasible_metrics": "its metric values"})
        if extra:
            summary.update(extra)
        summary["identity"] = self.identity
        summary["fingerprint"] = self.fingerprint
        write_json(self.out_dir / SUMMARY, summary)  # first: a folder with errors.json alone is never this project's
        write_json(self.out_dir / ERRORS, [self.config, self.trajectory])
