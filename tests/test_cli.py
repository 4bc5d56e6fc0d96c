"""The command line: NASLib-style configs and overrides, output layout, error messages."""
import json
from pathlib import Path

import pytest
import yaml

from naslib_agnet.experiments.config import ConfigError, load_config, run_dir
from naslib_agnet.cli.main import main

from naslib_agnet.bridge.optimizer import settings_from_config

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "configs" / "agnet_nb201_cifar10.yaml"


def test_configs_hold_the_spec_defaults():
    for ds in ("cifar10", "cifar100", "ImageNet16-120"):
        cfg = load_config(REPO / "configs" / f"agnet_nb201_{ds}.yaml")
        assert cfg["dataset"] == ds and cfg["optimizer"] == "agnet"
        settings = settings_from_config(cfg)
        assert settings.loop.retrain_epochs == 30 and settings.loop.alpha == 0.9 and settings.scorer == "spec"
        assert cfg["search"]["epochs"] == 192
        assert "agnet" not in yaml.safe_load((REPO / "configs" / f"agnet_nb201_{ds}.yaml").read_text())["search"]


def test_naslib_style_overrides():
    cfg = load_config(CONFIG, ["seed", "3", "dataset", "cifar100", "search.epochs", "96",
                               "search.agnet.loop.alpha", "1"])
    assert (cfg["seed"], cfg["dataset"], cfg["search"]["epochs"]) == (3, "cifar100", 96)
    assert cfg["search"]["agnet"]["loop"]["alpha"] == 1 and settings_from_config(cfg).loop.alpha == 1.0
    assert run_dir(cfg) == Path("runs/nasbench201/cifar100/agnet/config_0/3")


@pytest.mark.parametrize("opts, message", [
    (["search.epochs", "many"], "'search.epochs' must be of type int"),
    (["search.no_such_key", "1"], "'search.no_such_key' is not a config key"),
    (["nosection.key", "1"], "no section 'nosection'"),
    (["search.agnet.lr", "1"], r"'search.agnet.lr' is not a config key"),
    (["search.agnet.loop.lr.x", "1"], "no section 'search.agnet.loop.lr'"),
    (["seed"], "KEY VALUE pairs"),
    (["search.agnet_engine", "jax"], "search.agnet_engine was removed"),
    (["search.agnet.loop.lr", "0"], "loop.lr must be > 0"),
])
def test_bad_overrides_are_named(opts, message):
    with pytest.raises(ConfigError, match=message):
        load_config(CONFIG, opts)


def test_baseline_keys_take_overrides():
    cfg = load_config(CONFIG, ["optimizer", "bananas", "search.k", "20", "search.acq_fn_type", "ucb"])
    assert (cfg["search"]["k"], cfg["search"]["acq_fn_type"], cfg["search"]["num_candidates"]) == (20, "ucb", 200)
    assert (cfg["search"]["sample_size"], cfg["search"]["population_size"]) == (10, 50)


def test_bad_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"seed": "zero"}))
    with pytest.raises(ConfigError, match="'seed' must be of type int"):
        load_config(bad)


def test_search_writes_naslib_layout(tmp_path, data_dir, capsys):
    rc = main(["search", "--config-file", str(CONFIG), "--data-dir", str(data_dir), "--quiet",
               "out_dir", str(tmp_path), "search.epochs", "20", "search.agnet.loop.retrain_epochs", "1", "seed", "2"])
    assert rc == 0
    assert "agnet on nasbench201/cifar10, seed 2: best val" in capsys.readouterr().out
    out = tmp_path / "nasbench201" / "cifar10" / "agnet" / "config_0" / "2"
    config, trajectory = json.loads((out / "errors.json").read_text())
    assert config["optimizer"] == "agnet" and config["seed"] == 2
    assert all(len(trajectory[k]) == 20 for k in ("train_acc", "valid_acc", "test_acc", "runtime", "train_time"))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["finished"] and summary["num_queries"] == 20 and summary["wall_time_s"] > 0
    queries = summary["queries"]
    assert [q["query"] for q in queries] == list(range(1, 21))
    best = max(queries, key=lambda q: q["val_acc"])
    assert queries[-1]["best_val_acc"] == best["val_acc"]
    assert queries[-1]["best_test_acc"] == best["test_acc"]
    assert all(q["best_val_acc"] >= p["best_val_acc"] for p, q in zip(queries, queries[1:]))
    # NASLib's bbo trajectory reports the latest architecture of each epoch
    assert trajectory["valid_acc"] == [q["val_acc"] for q in queries]
    assert "test accuracy" in summary["splits"]["test_acc"]


def test_missing_data_dir_is_an_error_not_a_fallback(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("NASLIB_AGNET_DATA", raising=False)
    assert main(["search", "--config-file", str(CONFIG), "--data-dir", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["search", "--config-file", str(CONFIG)]) == 2
    assert "--data-dir" in capsys.readouterr().err


def test_unknown_dataset_and_space(tmp_path, data_dir, capsys):
    assert main(["search", "--config-file", str(CONFIG), "--data-dir", str(data_dir), "dataset", "mnist"]) == 2
    assert "mnist" in capsys.readouterr().err
    assert main(["search", "--config-file", str(CONFIG), "--data-dir", str(data_dir),
                 "search_space", "darts"]) == 2
    assert "unknown search_space 'darts'" in capsys.readouterr().err
