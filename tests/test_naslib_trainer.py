"""With NASLib importable: AG-Net and NASLib's RE/LS/BANANAS through NASLib's own ``Trainer`` on NB201.

The data is the data directory's NB201 table in NASLib's own ``dataset_api`` layout
(:func:`naslib_agnet.benchmarks.naslib_format.nb201_naslib_dataset_api`). Every
optimizer runs from the same config, with only ``optimizer`` changed, through
``Trainer.search()`` and ``Trainer.evaluate()``, and NASLib's ``errors.json`` is checked.
Skipped where NASLib is not importable (it is not on PyPI; CI does not have it).

Run it with NASLib (see docs/naslib.md):

    PYTHONPATH=/path/to/NASLib python -m pytest -q tests/test_naslib_trainer.py
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from naslib_agnet.compat import apply_naslib_compat, naslib_importable

pytestmark = pytest.mark.skipif(
    not naslib_importable(),
    reason="NASLib is not importable (it is not on PyPI): put a checkout of https://github.com/automl/NASLib "
           "(Develop branch) on PYTHONPATH to run the NASLib-backed end-to-end tests (docs/naslib.md)")

QUERIES = 24
# AG-Net shrunk so that 24 queries take seconds: 8 random, then two batches of 8
AGNET_SMALL = {"agnet": {"loop": {"num_init": 8, "top_k": 8, "num_candidates": 20, "retrain_epochs": 1,
                                   "chunk_size": 50, "max_chunks": 2}}}
# NASLib's bbo keys (NAS-Bench-Suite values, BANANAS shrunk to keep the test short)
SEARCH = {"epochs": QUERIES, "checkpoint_freq": 5000, "fidelity": -1, "seed": 0, "sample_size": 10,
          "population_size": 12, "num_init": 10, "k": 10, "num_ensemble": 2, "predictor_type": "bananas",
          "acq_fn_type": "its", "acq_fn_optimization": "mutation", "encoding_type": "path",
          "num_arches_to_mutate": 2, "max_mutations": 1, "num_candidates": 20, "debug_predictor": False,
          **AGNET_SMALL}


@pytest.fixture(scope="module")
def nl():
    """NASLib's names, imported after the compat shims."""
    apply_naslib_compat()
    import naslib.optimizers as optimizers
    from naslib.defaults.trainer import Trainer
    from naslib.optimizers.core.metaclasses import MetaOptimizer
    from naslib.search_spaces import NasBench201SearchSpace

    return SimpleNamespace(Trainer=Trainer, MetaOptimizer=MetaOptimizer, NB201=NasBench201SearchSpace,
                           optimizers=optimizers)


@pytest.fixture(scope="module")
def nb201(data_dir):
    from naslib_agnet.benchmarks import load_nb201_oracle
    from naslib_agnet.benchmarks.naslib_format import nb201_naslib_dataset_api

    return SimpleNamespace(api=nb201_naslib_dataset_api(data_dir, "cifar10"),
                           oracle=load_nb201_oracle(data_dir, "cifar10"))


def make_config(tmp_path: Path, optimizer: str):
    """One config for every optimizer (only ``optimizer`` differs), laid out as NASLib's bbo runner does."""
    from fvcore.common.config import CfgNode

    config = CfgNode({"seed": 0, "optimizer": optimizer, "search_space": "nasbench201", "dataset": "cifar10",
                      "out_dir": str(tmp_path), "config_id": 0, "search": CfgNode(dict(SEARCH))})
    config.save = f"{tmp_path}/nasbench201/cifar10/{optimizer}/config_0/0"
    for sub in ("search", "eval"):
        os.makedirs(f"{config.save}/{sub}", exist_ok=True)
    return config


def run_trainer(nl, optimizer, config, space, dataset_api):
    optimizer.adapt_search_space(space, dataset_api=dataset_api)
    trainer = nl.Trainer(optimizer, config, lightweight_output=True)
    trainer.search(report_incumbent=False)
    result = trainer.evaluate(dataset_api=dataset_api)
    save = Path(config.save)
    assert (save / "search" / "model_final.pth").is_file()
    cfg, trajectory = json.loads((save / "errors.json").read_text())
    return cfg, trajectory, result


def check_errors(cfg, trajectory, result, optimizer_name, oracle):
    """NASLib's lightweight errors.json: [config, {train_acc, valid_acc, test_acc, runtime, train_time, params}]."""
    assert cfg["optimizer"] == optimizer_name and cfg["search"]["epochs"] == QUERIES
    assert set(trajectory) == {"train_acc", "valid_acc", "test_acc", "runtime", "train_time", "params"}
    for key in ("train_acc", "valid_acc", "test_acc", "runtime", "train_time"):
        assert len(trajectory[key]) == QUERIES, key
    table_vals = set(oracle.values("val_acc").tolist())
    for val in trajectory["valid_acc"]:
        assert 0 < val <= 100 and val in table_vals
    # NASLib's NB201 query answers TEST_ACCURACY from the validation split (naslib-notes 3.1)
    assert trajectory["test_acc"] == trajectory["valid_acc"]
    # not in the table: -1, NASLib's "unavailable", as in this project's own errors.json (never NaN, never made up)
    assert trajectory["train_acc"] == [-1] * QUERIES and trajectory["train_time"] == [-1] * QUERIES
    assert all(t >= 0 for t in trajectory["runtime"])
    assert isinstance(trajectory["params"], float)
    # report_incumbent=False: the trajectory holds the latest architectures; evaluate() queries the incumbent
    assert result == pytest.approx(max(trajectory["valid_acc"]))


def test_agnet_is_a_naslib_metaoptimizer(nl):
    from naslib_agnet.bridge import NASLIB_AVAILABLE, AGNet
    from naslib_agnet.bridge.naslib_api import Metric

    assert NASLIB_AVAILABLE
    assert issubclass(AGNet, nl.MetaOptimizer)
    from naslib.search_spaces.core.query_metrics import Metric as NASLibMetric

    assert Metric is NASLibMetric


@pytest.mark.parametrize("name", ["agnet", "agnet_ranker", "agnet_xgb"])
def test_agnet_through_naslib_trainer(nl, nb201, tmp_path, name):
    from naslib_agnet.experiments.registry import get_optimizer_factory

    if name == "agnet_xgb":
        pytest.importorskip("xgboost")
    config = make_config(tmp_path, "agnet")
    optimizer = get_optimizer_factory(name)(config)
    assert isinstance(optimizer, nl.MetaOptimizer)
    cfg, trajectory, result = run_trainer(nl, optimizer, config, nl.NB201(), nb201.api)
    check_errors(cfg, trajectory, result, "agnet", nb201.oracle)
    hashes = [m.arch.get_hash() for m in optimizer.history]
    assert len(hashes) == QUERIES and len(set(hashes)) == QUERIES  # one new architecture per epoch
    assert all(type(v) is int for h in hashes for v in h)
    assert type(optimizer.get_final_architecture()) is nl.NB201
    assert optimizer.search.timings.iterations >= 2  # AG-Net proposed (at least) two batches after 8 random
    assert optimizer.random_fallbacks == 0
    assert optimizer.search.settings.scorer == {"agnet": "spec", "agnet_ranker": "ranker", "agnet_xgb": "xgb"}[name]


@pytest.mark.parametrize("name, cls", [("re", "RegularizedEvolution"), ("ls", "LocalSearch"), ("bananas", "Bananas")])
def test_naslib_baselines_from_the_same_config(nl, nb201, tmp_path, name, cls):
    config = make_config(tmp_path, name)
    optimizer = getattr(nl.optimizers, cls)(config)
    space = nl.NB201()
    if name == "bananas":
        # NASLib's BANANAS builds a torch model for every architecture when instantiate_model is True, which
        # takes minutes here; its search does not use them (NASLib's zero-cost path turns them off the same way)
        space.instantiate_model = False
    cfg, trajectory, result = run_trainer(nl, optimizer, config, space, nb201.api)
    check_errors(cfg, trajectory, result, name, nb201.oracle)


def test_run_with_naslib_baselines_matches_builtin_re(data_dir, tmp_path, nl):
    """``naslib-agnet run --baselines naslib``: NASLib's RE (on NASLib's space) gives the built-in RE's queries."""
    from naslib_agnet.cli.main import main

    summaries = {}
    for impl in ("builtin", "naslib"):
        out = tmp_path / impl
        assert main(["run", "--data-dir", str(data_dir), "--baselines", impl, "--quiet", "--config-file",
                     str(Path(__file__).resolve().parents[1] / "configs" / "agnet_nb201_cifar10.yaml"),
                     "optimizer", "re", "out_dir", str(out), "search.epochs", "60",
                     "search.population_size", "20", "seed", "3"]) == 0
        run = out / "nasbench201" / "cifar10" / "re" / "config_0" / "3"
        summaries[impl] = json.loads((run / "summary.json").read_text())
        _, trajectory = json.loads((run / "errors.json").read_text())
        assert len(trajectory["valid_acc"]) == 60
    builtin, naslib = summaries["builtin"]["queries"], summaries["naslib"]["queries"]
    # this project's records hold the table's val and true test accuracy, for NASLib's optimizers too
    assert all(q["test_acc"] is not None for q in naslib) and any(q["test_acc"] != q["val_acc"] for q in naslib)
    assert [q["arch"] for q in naslib] == [q["arch"] for q in builtin]
    assert summaries["builtin"]["implementation"] == "builtin" and summaries["naslib"]["implementation"] == "naslib"


def _python(code: str, tmp_path: Path) -> str:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_importing_the_bridge_neither_imports_nor_patches_naslib(tmp_path):
    out = _python("import sys, naslib_agnet.bridge as b\nfrom naslib_agnet.compat import applied_patches\n"
                  "print('naslib imported:', 'naslib' in sys.modules, 'patches:', applied_patches(), "
                  "'bound:', b.NASLIB_AVAILABLE, b.NASLIB_IMPORT_ERROR)", tmp_path)
    assert "naslib imported: False patches: {} bound: False None" in out


def test_baselines_naslib_says_which_patches_it_applies(data_dir, tmp_path):
    import subprocess
    import sys

    config = Path(__file__).resolve().parents[1] / "configs" / "agnet_nb201_cifar10.yaml"
    done = subprocess.run([sys.executable, "-m", "naslib_agnet.cli.main", "run", "--config-file", str(config),
                           "--data-dir", str(data_dir), "--quiet", "--baselines", "naslib", "optimizer", "rs",
                           "out_dir", str(tmp_path), "search.epochs", "3"], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "naslib_agnet.compat patches" in line]
    assert len(lines) == 1 and "--baselines naslib imports NASLib" in lines[0]
    assert "collections-abc-aliases" in lines[0] and "hashes-python-ints" in lines[0]
    # and the built-in baselines do not touch NASLib at all
    done = subprocess.run([sys.executable, "-m", "naslib_agnet.cli.main", "run", "--config-file", str(config),
                           "--data-dir", str(data_dir), "--quiet", "optimizer", "rs", "out_dir",
                           str(tmp_path / "builtin"), "search.epochs", "3"], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0 and "compat" not in done.stderr


def test_naslib_config_parser_reads_the_agnet_tree_from_the_file(nl, tmp_path):
    """NASLib's get_config_from_args reads the nested search.agnet tree from the YAML file (as
    add_agnet_defaults writes it) and AGNet reads it; its command line takes one dot only
    (``arg1, arg2 = arg.split(".")``), so a nested override such as search.agnet.loop.top_k is
    refused there: AG-Net settings go into the file (docs/naslib.md)."""
    import yaml
    from naslib import utils

    from naslib_agnet.bridge import AGNet, add_agnet_defaults

    plain = {"seed": 0, "optimizer": "agnet", "search_space": "nasbench201", "dataset": "cifar10",
             "out_dir": str(tmp_path / "run"), "config_id": 0, "search": {"epochs": 20, "checkpoint_freq": 5000}}
    mine = tmp_path / "mine.yaml"
    mine.write_text(yaml.safe_dump(plain))
    args = utils.parse_args(args=["--config-file", str(mine), "search.agnet.loop.top_k", "8"])
    with pytest.raises(ValueError, match="too many values to unpack"):
        utils.get_config_from_args(args, config_type="bbo-bs")
    completed = add_agnet_defaults(utils.load_config(str(mine)))
    completed.search.agnet.loop.top_k = 8
    completed.search.agnet.loop.lr = 0.0005
    written = tmp_path / "mine_agnet.yaml"
    written.write_text(completed.dump())
    args = utils.parse_args(args=["--config-file", str(written), "search.epochs", "30"])
    config = utils.get_config_from_args(args, config_type="bbo-bs")
    settings = AGNet(config).settings
    assert (settings.loop.top_k, settings.loop.lr, settings.loop.num_init) == (8, 0.0005, 16)
    assert config.search.epochs == 30


def test_compare_baselines_naslib_announces_the_patches_once(data_dir, tmp_path):
    """The grid's parent says it once; its worker processes apply the patches silently."""
    import subprocess
    import sys

    config = Path(__file__).resolve().parents[1] / "configs" / "compare_nb201.yaml"
    done = subprocess.run([sys.executable, "-m", "naslib_agnet.cli.main", "compare", "--config-file", str(config),
                           "--data-dir", str(data_dir), "--baselines", "naslib", "--jobs", "2", "out_dir",
                           str(tmp_path), "compare.optimizers", "[rs, re]", "compare.datasets", "[cifar10]",
                           "compare.seeds", "2", "search.epochs", "3", "compare.budgets", "[3]"],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("naslib_agnet.compat patches") == 1, done.stderr
