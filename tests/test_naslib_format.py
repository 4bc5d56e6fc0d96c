"""NASLib's NB201 data layout built from the table: same numbers, -1 (NASLib's "unavailable") for what the table lacks."""
import pickle

import pytest

from naslib_agnet.benchmarks import load_nb201_oracle
from naslib_agnet.benchmarks.naslib_format import export_nb201_naslib, nb201_naslib_dataset_api
from naslib_agnet.spaces.nasbench201 import nb201_op_indices_to_arch_str


def test_dataset_api_layout_matches_naslibs_query(data_dir):
    api = nb201_naslib_dataset_api(data_dir, "cifar10")
    assert set(api) == {"nb201_data"} and len(api["nb201_data"]) == 15_625
    entry = api["nb201_data"][nb201_op_indices_to_arch_str((4, 3, 3, 0, 0, 0))]
    record = entry["cifar10-valid"]  # NASLib maps cifar10 to the cifar10-valid key
    assert record["eval_acc1es"][-1] == pytest.approx(81.90)
    assert record["train_acc1es"][-1] == -1 and record["cost_info"]["train_time"] == -1
    imagenet = nb201_naslib_dataset_api(data_dir, "ImageNet16")["nb201_data"]
    assert "ImageNet16-120" in next(iter(imagenet.values()))


def test_export_round_trips_through_the_pickle_loader(data_dir, tmp_path):
    paths = export_nb201_naslib(data_dir, tmp_path)
    assert sorted(p.name for p in paths) == ["nb201_ImageNet16_full_training.pickle",
                                              "nb201_cifar100_full_training.pickle",
                                              "nb201_cifar10_full_training.pickle"]
    for dataset in ("cifar10", "cifar100", "ImageNet16-120"):
        table = load_nb201_oracle(data_dir, dataset)
        exported = load_nb201_oracle(tmp_path, dataset)  # no csv there: NASLib's pickles are read
        assert exported.metric_names == ["val_acc"]
        assert list(exported.values("val_acc")) == list(table.values("val_acc"))
    with open(paths[0], "rb") as fh:
        assert isinstance(pickle.load(fh), dict)


def test_export_command(data_dir, tmp_path, capsys):
    from naslib_agnet.cli.main import main

    assert main(["data", "export-naslib", "--to", str(tmp_path / "naslib_data"), "--data-dir", str(data_dir)]) == 0
    assert (tmp_path / "naslib_data" / "nb201_cifar100_full_training.pickle").is_file()
    assert "wrote" in capsys.readouterr().out
