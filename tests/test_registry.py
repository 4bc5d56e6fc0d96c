"""The optimizer registry and the ``run`` command: built-in entries, registration, clear errors."""
import json

import pytest

from naslib_agnet.baselines import RegularizedEvolution
from naslib_agnet.bridge import AGNet
from naslib_agnet.experiments import registry
from naslib_agnet.cli.main import main

from .test_cli import CONFIG


def test_builtin_entries():
    assert {"agnet", "rs", "re", "ls", "bananas", "npenas"} <= set(registry.available_optimizers())
    assert registry.get_optimizer_factory("agnet") is AGNet
    assert registry.get_optimizer_factory("re") is RegularizedEvolution


def test_unknown_optimizer_and_baselines_choice():
    with pytest.raises(ValueError, match=r"unknown optimizer 'darts'; available: \[.*'agnet'"):
        registry.get_optimizer_factory("darts")
    with pytest.raises(ValueError, match="baselines must be 'builtin' or 'naslib'"):
        registry.get_optimizer_factory("re", baselines="both")


def test_naslib_baselines_need_naslib():
    from naslib_agnet.bridge import NASLIB_AVAILABLE

    if NASLIB_AVAILABLE:
        pytest.skip("NASLib is importable here: the NASLib path is exercised instead")
    with pytest.raises(ValueError, match="needs NASLib importable"):
        registry.get_optimizer_factory("re", baselines="naslib")


def test_register_a_third_party_optimizer(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))

    @registry.register_optimizer("my_rs")
    class MyRS(RegularizedEvolution):
        pass

    assert registry.get_optimizer_factory("my_rs") is MyRS
    with pytest.raises(ValueError, match="already registered"):
        registry.register_optimizer("my_rs", RegularizedEvolution)
    registry.register_optimizer("my_rs", RegularizedEvolution, replace=True)
    assert registry.get_optimizer_factory("my_rs") is RegularizedEvolution


@pytest.mark.parametrize("optimizer", ["rs", "re", "ls"])
def test_run_writes_the_same_layout_for_baselines(tmp_path, data_dir, optimizer):
    rc = main(["run", "--config-file", str(CONFIG), "--data-dir", str(data_dir), "--quiet",
               "optimizer", optimizer, "out_dir", str(tmp_path), "search.epochs", "30"])
    assert rc == 0
    out = tmp_path / "nasbench201" / "cifar10" / optimizer / "config_0" / "0"
    config, trajectory = json.loads((out / "errors.json").read_text())
    assert config["optimizer"] == optimizer and len(trajectory["valid_acc"]) == 30
    summary = json.loads((out / "summary.json").read_text())
    assert summary["num_queries"] == 30 and "agnet" not in summary
    assert len({tuple(q["arch"]) for q in summary["queries"]}) >= 25


def test_search_command_is_agnet_only(data_dir, capsys):
    assert main(["search", "--config-file", str(CONFIG), "--data-dir", str(data_dir), "optimizer", "re"]) == 2
    assert "use 'naslib-agnet run'" in capsys.readouterr().err


def test_implementation_names_whose_code_runs():
    from naslib_agnet.experiments.registry import implementation

    assert implementation("bananas", "naslib") == "naslib" and implementation("rs", "naslib") == "naslib"
    assert implementation("bananas") == "builtin" and implementation("bananas", "builtin") == "builtin"
    assert implementation("agnet", "naslib") == "builtin"  # AG-Net is this package's in either mode


def test_a_plugin_optimizer_declares_its_keys_and_takes_overrides(monkeypatch, tmp_path, data_dir):
    """A registered optimizer's CONFIG_DEFAULTS are config keys (overrides accepted, types checked, its
    own check_config run); another optimizer's keys do not make its runs differ."""
    from naslib_agnet.baselines import RandomSearch
    from naslib_agnet.experiments.config import ConfigError, load_config, run_identity

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))

    @registry.register_optimizer("my_rs")
    class MyRS(RandomSearch):
        CONFIG_DEFAULTS = {"my_rs_draws": 3}

        @classmethod
        def check_config(cls, config):
            if config["search"]["my_rs_draws"] < 1:
                raise ValueError("search.my_rs_draws must be >= 1")

    cfg = load_config(CONFIG, ["optimizer", "my_rs", "search.my_rs_draws", "5"])
    assert cfg["search"]["my_rs_draws"] == 5 and cfg["search"]["fidelity"] == -1
    with pytest.raises(ConfigError, match="'search.my_rs_draws' must be of type int"):
        load_config(CONFIG, ["optimizer", "my_rs", "search.my_rs_draws", "many"])
    with pytest.raises(ConfigError, match="my_rs_draws must be >= 1"):
        load_config(CONFIG, ["optimizer", "my_rs", "search.my_rs_draws", "0"])
    with pytest.raises(ConfigError, match="'search.my_rs_draws' is not a config key"):
        load_config(CONFIG, ["search.my_rs_draws", "5"])  # optimizer agnet: not one of its keys
    identity = run_identity(cfg)["search"]
    assert "my_rs_draws" in identity and "agnet_lr" not in identity and "fidelity" in identity
    assert main(["run", "--config-file", str(CONFIG), "--data-dir", str(data_dir), "--quiet", "optimizer", "my_rs",
                 "out_dir", str(tmp_path), "search.epochs", "4", "search.my_rs_draws", "2"]) == 0
