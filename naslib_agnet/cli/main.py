"""``naslib-agnet``: the command line.

    naslib-agnet search --config-file configs/agnet_nb201_cifar10.yaml --data-dir ../shared/data [KEY VALUE ...]
    naslib-agnet run --config-file FILE --data-dir DIR [--baselines builtin|naslib] [KEY VALUE ...]
    naslib-agnet compare --config-file configs/compare_nb201.yaml --data-dir DIR [--jobs N] [KEY VALUE ...]
    naslib-agnet report RUN_DIR [RUN_DIR ...] [--budgets 16 32 48 96 144 192] [--out DIR]
    naslib-agnet pretrain --search-space nasbench201 --out FILE [--samples N] [--seed S]
    naslib-agnet data export-naslib --to DIR --data-dir DIR

Options go before the KEY VALUE overrides. A run folder that holds a finished run of the same
config is reported and left as it is, an interrupted one is resumed, any other is refused
(--force moves it aside and starts afresh).
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

DATA_ENV = "NASLIB_AGNET_DATA"
RESUME = "interrupted; every finished query is saved: run the same command again to resume"
INTERRUPTED = {"search": RESUME, "run": RESUME, "compare": RESUME,
               "pretrain": "interrupted; nothing was written (the weights are written at the end)",
               "report": "interrupted; the report may be incomplete: run it again",
               "data": "interrupted; run it again (files are written whole or not at all)"}
_START = time.perf_counter()


class Status:
    """Start-up notes on stderr ("loading ...") so that a command never sits silent; off with --quiet."""

    def __init__(self, command: str, quiet: bool):
        self.command, self.quiet = command, quiet

    def __call__(self, text: str) -> None:
        if not self.quiet:
            print(f"naslib-agnet {self.command}: {text}", file=sys.stderr, flush=True)


def _data_dir(arg: str | None) -> str:
    from ..experiments.config import ConfigError

    data_dir = arg or os.environ.get(DATA_ENV)
    if not data_dir:
        raise ConfigError(f"no benchmark data directory: pass --data-dir DIR (the folder holding "
                          f"nasbench201/nb201_accuracies.csv) or set {DATA_ENV}")
    if not Path(data_dir).expanduser().is_dir():
        what = "is not a directory" if Path(data_dir).expanduser().exists() else "does not exist"
        raise ConfigError(f"benchmark data directory {Path(data_dir).expanduser().absolute()} {what}; pass "
                          f"--data-dir DIR (the folder holding nasbench201/nb201_accuracies.csv) or set {DATA_ENV}")
    return data_dir


def cmd_search(args: argparse.Namespace) -> int:
    status = Status(args.command, args.quiet)
    data_dir = _data_dir(args.data_dir)
    status("reading the config; loading torch and the optimizers ...")
    from ..experiments.config import ConfigError, load_config
    from ..experiments.report import headline

    baselines = getattr(args, "baselines", "builtin")
    config = load_config(args.config_file, args.opts, baselines=baselines)
    if args.command == "search" and not str(config["optimizer"]).startswith("agnet"):
        raise ConfigError(f"'search' runs AG-Net, but the config says optimizer: {config['optimizer']}; "
                          "use 'naslib-agnet run' for other optimizers")
    from ..experiments.runner import run_search

    result = run_search(config, data_dir, baselines=baselines, force=args.force, command=args.command,
                        progress="off" if args.quiet else args.progress, every=args.log_every, log=status)
    summary = result.summary
    who = f"{config['optimizer']} on {config['search_space']}/{config['dataset']}, seed {config['seed']}"
    line = headline(summary)
    if result.status == "skipped":
        print(f"{who}: already finished in {result.path} (same config, code and data), left as it is: {line}. "
              f"To run it again, write elsewhere (out_dir OTHER or config_id N) or delete that folder.")
        return 0
    if result.moved_aside is not None:
        print(f"the run that was in {result.path} was moved to {result.moved_aside} (--force)")
    resumed = f"; resumed, the {result.replayed} recorded queries replayed and matched" if result.replayed else ""
    print(f"{who}: {line}{resumed}")
    if "NO feasible" in line:
        print(f"naslib-agnet {args.command}: warning: no evaluated architecture meets the constraint; the "
              "best unconstrained one is not reported as the result", file=sys.stderr)
    print(f"search time {summary['wall_time_s']:.1f} s (the queries and the optimizer's own work); the whole "
          f"command took {time.perf_counter() - _START:.1f} s, with start-up and data loading")
    print(f"results: {result.path / 'errors.json'} and {result.path / 'summary.json'}")
    return 0


def cmd_pretrain(args: argparse.Namespace) -> int:
    from ..experiments.pretrain import DEFAULT_CELLS, check_pretrain_args, pretrain_defaults

    out = Path(args.out)
    for name, value in {**pretrain_defaults(args.search_space), "cells": DEFAULT_CELLS}.items():
        if getattr(args, name) is None:  # the spec's value where the command line gives none
            setattr(args, name, value)
    check_pretrain_args(out, args.samples, args.batch_size, args.lr, args.force, args.threads)
    Status(args.command, args.quiet)("loading torch ...")
    from ..experiments.pretrain import run_pretrain

    command = "naslib-agnet " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    run_pretrain(args.search_space, out, samples=args.samples, seed=args.seed, batch_size=args.batch_size,
                 lr=args.lr, command=command, progress=not args.quiet, force=args.force, cells=args.cells,
                 threads=args.threads)
    return 0


def cmd_export_naslib(args: argparse.Namespace) -> int:
    from ..benchmarks.naslib_format import export_nb201_naslib

    for path in export_nb201_naslib(_data_dir(args.data_dir), args.to):
        print(f"wrote {path}")
    print("NASLib's NB201 layout: eval_acc1es holds the table's validation accuracy; metrics the table lacks "
          "are -1 (NASLib's 'unavailable'). Put the files in NASLib's naslib/data folder.")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from ..experiments.config import ConfigError

    if args.jobs is not None and args.jobs < 1:
        raise ConfigError(f"--jobs must be >= 1 (worker processes), got {args.jobs}")
    data_dir = _data_dir(args.data_dir)
    Status(args.command, False)("reading the config; loading torch and the optimizers ...")
    from ..experiments.grid import load_compare_config, run_compare

    config = load_compare_config(args.config_file, args.opts, baselines=args.baselines)
    _, failures = run_compare(config, data_dir, jobs=args.jobs, baselines=args.baselines, report_dir=args.out,
                              log=lambda line: print(line, flush=True), start_method=args.start_method,
                              force=args.force)
    for res in failures:
        print(f"naslib-agnet compare: {res['label']} failed: {res['traceback'] or res['error']}", file=sys.stderr)
    return 1 if failures else 0


def cmd_report(args: argparse.Namespace) -> int:
    from ..experiments.hardware_report import MD_NAME as HARDWARE_MD_NAME
    from ..experiments.report import MD_NAME, run_report

    paths = run_report(args.run_dir, budgets=args.budgets, out=args.out,
                       warn=lambda line: print(line, file=sys.stderr, flush=True))
    for path in paths:
        if path.name in (MD_NAME, HARDWARE_MD_NAME):
            print(path.read_text())
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def _version() -> str:
    from .. import __version__

    return f"naslib-agnet {__version__}"


def _run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config-file", required=True, help="NASLib-style YAML config")
    parser.add_argument("--data-dir", help=f"benchmark data directory (default: ${DATA_ENV})")
    parser.add_argument("--force", action="store_true",
                        help="replace a run of another config or code in the run folder (it is moved aside to "
                        "<folder>.replaced-<time>, not deleted); without it such a folder is refused")
    parser.add_argument("--progress", choices=("auto", "bar", "lines", "off"), default="auto",
                        help="progress output on stderr: a bar, a line every --log-every queries, or none "
                        "(default auto: a bar on a terminal, lines otherwise)")
    parser.add_argument("--log-every", type=int, default=16, metavar="N",
                        help="queries between two progress lines (default 16)")
    parser.add_argument("--quiet", action="store_true", help="no start-up notes and no progress output")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="naslib-agnet", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True)

    search = sub.add_parser("search", help="run an AG-Net search from a NASLib-style config")
    _run_options(search)
    search.add_argument("opts", nargs=argparse.REMAINDER, help="KEY VALUE overrides, e.g. seed 3 search.epochs 96")
    search.set_defaults(func=cmd_search)

    run = sub.add_parser("run", help="run any registered optimizer (agnet, rs, re, ls, ...) from a NASLib-style config")
    _run_options(run)
    run.add_argument("--baselines", choices=("builtin", "naslib"), default="builtin",
                     help="RS/RE/LS/BANANAS/NPENAS: the built-in ones or NASLib's own (needs NASLib)")
    run.add_argument("opts", nargs=argparse.REMAINDER, help="KEY VALUE overrides, e.g. optimizer re seed 3")
    run.set_defaults(func=cmd_search)

    pre = sub.add_parser("pretrain", help="pretrain a generator on a search space (no accuracies used)")
    pre.add_argument("--search-space", required=True, help="nasbench201, nasbench101 or nasbench301")
    pre.add_argument("--out", required=True, help="weights file to write (a model card is written beside it)")
    pre.add_argument("--samples", type=int, default=None,
                     help="training samples seen (default: the spec's, 2500000 = 500 ticks x 5,000; nasbench301 "
                          "10000000)")
    pre.add_argument("--seed", type=int, default=0)
    pre.add_argument("--batch-size", type=int, default=None, help="default: the spec's, 32 (nasbench301: 256)")
    pre.add_argument("--cells", type=int, default=None,
                     help="spaces that are not enumerated (nasbench301): random valid cells to train on "
                          "(default 100000); a finite space trains on all its cells")
    pre.add_argument("--lr", type=float, default=2e-4)
    pre.add_argument("--threads", type=int, default=1, help="torch threads (default 1; nasbench301's batch of 256 "
                     "trains about 1.4x faster with 2)")
    pre.add_argument("--force", action="store_true", help="replace an existing weights file (the old one is kept "
                     "as <file>.replaced-<time>)")
    pre.add_argument("--quiet", action="store_true")
    pre.set_defaults(func=cmd_pretrain)

    data = sub.add_parser("data", help="benchmark data tools")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    export = data_sub.add_parser("export-naslib", help="write NASLib-format NB201 pickles from the data directory")
    export.add_argument("--to", required=True, help="folder to write nb201_*_full_training.pickle into")
    export.add_argument("--data-dir", help=f"benchmark data directory (default: ${DATA_ENV})")
    export.set_defaults(func=cmd_export_naslib)

    comp = sub.add_parser("compare", help="run every (optimizer, dataset, seed) cell of a compare config in "
                          "parallel (resumable), then write the results table and plot")
    comp.add_argument("--config-file", required=True, help="run config with a compare: section "
                      "(e.g. configs/compare_nb201.yaml)")
    comp.add_argument("--data-dir", help=f"benchmark data directory (default: ${DATA_ENV})")
    comp.add_argument("--jobs", type=int, default=None, help="worker processes, >= 1 (default: number of CPUs)")
    comp.add_argument("--baselines", choices=("builtin", "naslib"), default="builtin",
                      help="RS/RE/LS/BANANAS/NPENAS: the built-in ones or NASLib's own (needs NASLib)")
    comp.add_argument("--force", action="store_true", help="replace cells that hold a run of another config or "
                      "code (moved aside to <folder>.replaced-<time>); finished cells of this config are kept")
    comp.add_argument("--start-method", choices=("forkserver", "spawn"), default=None,
                      help="worker start method; either way one fresh process per cell "
                      "(default: forkserver where available, else spawn)")
    comp.add_argument("--out", help="folder for results.csv/.md and the plot (default: the config's out_dir)")
    comp.add_argument("opts", nargs=argparse.REMAINDER, help="KEY VALUE overrides, e.g. search.epochs 96 "
                      "compare.seeds 3")
    comp.set_defaults(func=cmd_compare)

    rep = sub.add_parser("report", help="results table (CSV, markdown) and plot of the runs under folders "
                         "(this project's or NASLib's bbo runner's)")
    rep.add_argument("run_dir", nargs="+", help="folders searched recursively for .../config_<id>/<seed>/ run "
                     "folders (several: e.g. this project's grid and NASLib's runner's output side by side)")
    rep.add_argument("--budgets", type=int, nargs="+", help="query counts for the table "
                     "(default: 16 32 48 96 144 192 up to the longest run, and its length)")
    rep.add_argument("--out", help="output folder (default: RUN_DIR; needed with several folders)")
    rep.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from ..benchmarks.errors import BenchmarkDataError
    from ..experiments.config import ConfigError
    from ..experiments.rundir import ResumeMismatch

    try:
        return args.func(args)
    except KeyboardInterrupt:
        what = INTERRUPTED.get(args.command, "interrupted")
        print(f"\nnaslib-agnet {args.command}: {what}", file=sys.stderr)
        return 130
    except (ConfigError, BenchmarkDataError, FileNotFoundError, ValueError, ResumeMismatch) as exc:
        print(f"naslib-agnet {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
