"""``naslib-agnet``: the command line.

    naslib-agnet search --config-file configs/agnet_nb201_cifar10.yaml --data-dir ../shared/data [KEY VALUE ...]
    naslib-agnet run --config-file FILE --data-dir DIR [--baselines builtin|naslib] [KEY VALUE ...]
    naslib-agnet pretrain --search-space nasbench201 --out FILE [--samples N] [--seed S]
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
    print(f"results: {out / 'errors.json'} and {out / 'summary.json'}")
    return 0


def cmd_pretrain(args: argparse.Namespace) -> int:
    from .pretrain import run_pretrain

    command = "naslib-agnet " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    run_pretrain(args.search_space, Path(args.out), samples=args.samples, seed=args.seed,
                 batch_size=args.batch_size, lr=args.lr, command=command, progress=not args.quiet)
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
    pre.add_argument("--samples", type=int, default=300_000, help="training samples seen (default 300000)")
    pre.add_argument("--seed", type=int, default=0)
    pre.add_argument("--batch-size", type=int, default=32)
    pre.add_argument("--lr", type=float, default=2e-4)
    pre.add_argument("--quiet", action="store_true")
    pre.set_defaults(func=cmd_pretrain)
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
