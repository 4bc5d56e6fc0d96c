"""NASLib's own NAS-Bench-201 data layout, built from the tables in the data directory.

NASLib's ``get_nasbench201_api`` returns ``{"nb201_data": data}`` with, per dataset, a
pickle ``nb201_<ds>_full_training.pickle`` of the form
``{arch_str: {ds_key: {"train_losses", "eval_losses", "train_acc1es", "eval_acc1es", "cost_info"}}}``
(``ds_key`` is ``cifar10-valid`` for cifar10). ``NasBench201SearchSpace.query`` reads the
last element of those lists (``epoch=-1``).

What is written here: ``eval_acc1es = [validation accuracy]`` from the table (one entry:
the final epoch; no learning curves exist in the data directory). Everything the table
does not have (training accuracy and losses, evaluation loss, FLOPs, parameters,
latency, training time) is -1, NASLib's own marker for "unavailable" (what its queries
return for a metric a benchmark lacks), never a made-up value: NASLib's ``errors.json``
then holds -1 there, as this project's does (NaN would be written as a bare ``NaN``, which
strict JSON readers refuse). NASLib answers both
VAL_ACCURACY and TEST_ACCURACY from ``eval_acc1es``, so a NASLib run on these files
reports the validation accuracy as its "test accuracy"; this project's result files
take the true test accuracy from the table instead.
"""
from __future__ import annotations

import os
import pickle
from pathlib import Path

from .nasbench201 import (NB201_DATASETS, NB201_PICKLE_NAMES, _PICKLE_DS_KEY, _canonical_dataset, load_nb201_oracle,
                          nb201_op_indices_to_arch_str)
from .tabular import TabularOracle

UNAVAILABLE = -1  #: NASLib's value of a metric a benchmark does not have


def nb201_naslib_data(oracle: TabularOracle, dataset: str) -> dict:
    """``{arch_str: {ds_key: {...}}}`` for one dataset, in the layout of NASLib's NB201 pickles."""
    ds_key = _PICKLE_DS_KEY[_canonical_dataset(dataset)]
    vals = oracle.values("val_acc")
    data = {}
    for key, val in zip(oracle.keys(), vals.tolist()):
        data[nb201_op_indices_to_arch_str(key)] = {ds_key: {
            "train_losses": [UNAVAILABLE], "eval_losses": [UNAVAILABLE], "train_acc1es": [UNAVAILABLE],
            "eval_acc1es": [val],
            "cost_info": {"flops": UNAVAILABLE, "params": UNAVAILABLE, "latency": UNAVAILABLE,
                          "train_time": UNAVAILABLE}}}
    return data


def nb201_naslib_dataset_api(data_dir: str | os.PathLike[str], dataset: str) -> dict:
    """The ``dataset_api`` NASLib's ``NasBench201SearchSpace.query`` expects: ``{"nb201_data": ...}``."""
    dataset = _canonical_dataset(dataset)
    return {"nb201_data": nb201_naslib_data(load_nb201_oracle(data_dir, dataset), dataset)}


def export_nb201_naslib(data_dir: str | os.PathLike[str], to_dir: str | os.PathLike[str]) -> list[Path]:
    """Write NASLib's three NB201 pickles (cifar10, cifar100, ImageNet16-120) into ``to_dir``."""
    to_dir = Path(to_dir)
    to_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for dataset in NB201_DATASETS:
        oracle = load_nb201_oracle(data_dir, dataset)
        path = to_dir / NB201_PICKLE_NAMES[dataset]
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(nb201_naslib_data(oracle, dataset), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        written.append(path)
    return written
