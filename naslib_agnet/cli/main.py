"""``naslib-agnet``: the command line.

    naslib-agnet search --config-file configs/agnet_nb201_cifar10.yaml --data-dir ../shared/data [KEY VALUE ...]
    naslib-agnet run --config-file FILE --data-dir DIR [--baselines builtin|naslib] [KEY VALUE ...]
    naslib-agnet pretrain --search-space nasbench201 --out FILE [--samples N] [--seed S]
    naslib-agnet compare --config-file configs/compare_nb201.yaml --data-dir DIR [--jobs N] [KEY VALUE ...]
    naslib-agnet report RUN_DIR [--budgets 16 32 48 96 144 192] [--out DIR]
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from ..benchmarks import BenchmarkDataError
from .config import ConfigError, load_config

DATA_ENV = "NASLIB_AGNET_DATA"


def _data_dir(arg: str | None) -> str:
    data_dir = arg or os.environ.get(DATA_ENV)
    if not data_dir:
        raise ConfigError(f"no benchmark data directory: pass --data-dir DIR (the folder holding "
                          f"nasbench201/nb201_accuracies.csv) or set {DATA_ENV}")
    return data_dir


def cmd_search(args: argparse.Namespace) -> int:
    from .run_search import run_search

    config = load_config(args.config_file, args.opts)
    if args.command == "search" and config["optimizer"] != "agnet":
        raise ConfigError(f"'search' runs AG-Net, but the config says optimizer: {config['optimizer']}; "
                          "use 'naslib-agnet run' for other optimizers")
    out = run_search(config, _data_dir(args.data_dir), progress=not args.quiet,
                     baselines=getattr(args, "baselines", "builtin"))
    import json

    summary = json.loads((out / "summary.json").read_text())
    last = summary["queries"][-1]
    test = "n/a" if last["best_test_acc"] is None else f"{last['best_test_acc']:.2f}"
    print(f"{config['optimizer']} on {config['search_space']}/{config['dataset']}, seed {config['seed']}: best val "
          f"{last['best_val_acc']:.2f} (its test {test}) after {summary['num_queries']} queries in "
          f"{summary['wall_time_s']:.1f} s")
    print(f"results: {out / 'errors.json'} and {out / 'summary.json'}")
    return 0


def cmd_pretrain(args: argparse.Namespace) -> int:
    from .pretrain import run_pretrain

    command = "naslib-agnet " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    run_pretrain(args.search_space, Path(args.out), samples=args.samples, seed=args.seed,
                 batch_size=args.batch_size, lr=args.lr, command=command, progress=not args.quiet)
    return 0


def cmd_export_naslib(args: argparse.Namespace) -> int:
    from ..benchmarks.naslib_format import export_nb201_naslib

    for path in export_nb201_naslib(_data_dir(args.data_dir), args.to):
        print(f"wrote {path}")
    print("NASLib's NB201 layout: eval_acc1es holds the table's validation accuracy; metrics the table lacks "
          "are NaN. Put the files in NASLib's naslib/data folder.")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .compare import load_compare_config, run_compare

    config = load_compare_config(args.config_file, args.opts)
    try:
        _, failures = run_compare(config, _data_dir(args.data_dir), jobs=args.jobs, baselines=args.baselines,
                                  report_dir=args.out, log=lambda line: print(line, flush=True),
                                  start_method=args.start_method)
    except KeyboardInterrupt:
        print("compare: interrupted; run the same command again to resume (finished cells are skipped)",
              file=sys.stderr)
        return 130
    for res in failures:
        print(f"naslib-agnet compare: {res['label']} failed:\n{res['traceback']}", file=sys.stderr)
    return 1 if failures else 0


def cmd_report(args: argparse.Namespace) -> int:
    from .hardware_report import MD_NAME as HARDWARE_MD_NAME
    from .report import MD_NAME, run_report

    paths = run_report(args.run_dir, budgets=args.budgets, out=args.out)
    for path in paths:
        if path.name in (MD_NAME, HARDWARE_MD_NAME):
            print(path.read_text())
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="naslib-agnet", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    search = sub.add_parser("search", help="run an AG-Net search from a NASLib-style config")
    search.add_argument("--config-file", required=True, help="NASLib-style YAML config")
    search.add_argument("--data-dir", help=f"benchmark data directory (default: ${DATA_ENV})")
    search.add_argument("--quiet", action="store_true", help="no progress bar")
    search.add_argument("opts", nargs=argparse.REMAINDER, help="KEY VALUE overrides, e.g. seed 3 search.epochs 96")
    search.set_defaults(func=cmd_search)

    run = sub.add_parser("run", help="run any registered optimizer (agnet, rs, re, ls, ...) from a NASLib-style config")
    run.add_argument("--config-file", required=True, help="NASLib-style YAML config")
    run.add_argument("--data-dir", help=f"benchmark data directory (default: ${DATA_ENV})")
    run.add_argument("--baselines", choices=("builtin", "naslib"), default="builtin",
                     help="RS/RE/LS/BANANAS/NPENAS: the built-in ones or NASLib's own (needs NASLib)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("opts", nargs=argparse.REMAINDER, help="KEY VALUE overrides, e.g. optimizer re seed 3")
    run.set_defaults(func=cmd_search)

    pre = sub.add_parser("pretrain", help="pretrain a generator on a search space (no accuracies used)")
    pre.add_argument("--search-space", required=True, help="e.g. nasbench201")
    pre.add_argument("--out", required=True, help="weights file to write (a model card is written beside it)")
    pre.add_argument("--samples", type=int, default=2_500_000,
                     help="training samples seen (default 2500000, the spec's 500 ticks x 5,000)")
    pre.add_argument("--seed", type=int, default=0)
    pre.add_argument("--batch-size", type=int, default=32)
    pre.add_argument("--lr", type=float, default=2e-4)
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
    comp.add_argument("--jobs", type=int, default=None, help="worker processes (default: number of CPUs)")
    comp.add_argument("--baselines", choices=("builtin", "naslib"), default="builtin",
                      help="RS/RE/LS/BANANAS/NPENAS: the built-in ones or NASLib's own (needs NASLib)")
    comp.add_argument("--start-method", choices=("forkserver", "spawn"), default=None,
                      help="worker start method; either way one fresh process per cell "
                      "(default: forkserver where available, else spawn)")
    comp.add_argument("--out", help="folder for results.csv/.md and the plot (default: the config's out_dir)")
    comp.add_argument("opts", nargs=argparse.REMAINDER, help="KEY VALUE overrides, e.g. search.epochs 96 "
                      "compare.seeds 3")
    comp.set_defaults(func=cmd_compare)

    rep = sub.add_parser("report", help="results table (CSV, markdown) and plot of the runs under a folder "
                         "(this project's or NASLib's bbo runner's)")
    rep.add_argument("run_dir", help="folder searched recursively for .../config_<id>/<seed>/ run folders")
    rep.add_argument("--budgets", type=int, nargs="+", help="query counts for the table "
                     "(default: 16 32 48 96 144 192 up to the longest run, and its length)")
    rep.add_argument("--out", help="output folder (default: RUN_DIR)")
    rep.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, BenchmarkDataError, FileNotFoundError, ValueError) as exc:
        print(f"naslib-agnet {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
