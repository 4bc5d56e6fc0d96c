"""How the NB101 runner space behaves on a table: neighbourhood sizes, where mutations land, sampling.

    python scripts/nb101_space_stats.py --data-dir ../shared/data [--dataset cifar10-20k] [--cells 300]

For ``--cells`` random table cells (seed 0): the size of the table-restricted neighbourhood
(``get_nbhd``) next to the unrestricted one-edit neighbourhood, and the vertex count and
validation accuracy of one mutation (``mutate``) of each; prints JSON.
"""
from __future__ import annotations

import argparse
import collections
import json
import time

import numpy as np

from naslib_agnet.bridge import Metric, NasBench101Space, make_nb101_dataset_api
from naslib_agnet.bridge.nasbench101_space import neighbour_keys
from naslib_agnet.spaces import get_codec


class _AllCells:
    name = "all cells"

    def __init__(self):
        self.codec = get_codec("nasbench101")

    def __len__(self):
        return 423_624

    def has_hash(self, md5):
        return True

    def key_of_hash(self, md5):
        return self.codec.from_cell_hash(md5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--dataset", default="cifar10-20k")
    parser.add_argument("--cells", type=int, default=300)
    args = parser.parse_args()
    start = time.perf_counter()
    api = make_nb101_dataset_api(args.data_dir, args.dataset)
    oracle = api["nb101_oracle"]
    load_s = time.perf_counter() - start
    np.random.seed(0)
    table_nbhd, full_nbhd, child_n, child_acc, parent_acc = [], [], collections.Counter(), [], []
    mutate_s = nbhd_s = 0.0
    for _ in range(args.cells):
        parent = NasBench101Space()
        parent.sample_random_architecture(dataset_api=api)
        t = time.perf_counter()
        table_nbhd.append(len(parent.get_nbhd(dataset_api=api)))
        nbhd_s += time.perf_counter() - t
        full_nbhd.append(len(neighbour_keys(parent.get_hash(), _AllCells())))
        child = NasBench101Space()
        t = time.perf_counter()
        child.mutate(parent, dataset_api=api)
        mutate_s += time.perf_counter() - t
        child_n[len(child.get_spec()["ops"])] += 1
        child_acc.append(child.query(Metric.VAL_ACCURACY, dataset_api=api))
        parent_acc.append(parent.query(Metric.VAL_ACCURACY, dataset_api=api))
    result = {
        "dataset": args.dataset, "table_cells": len(oracle), "load_s": round(load_s, 2), "cells": args.cells,
        "nbhd_in_table_mean": float(np.mean(table_nbhd)),
        "nbhd_in_table_histogram": np.bincount(table_nbhd).tolist(),
        "nbhd_unrestricted_mean": float(np.mean(full_nbhd)),
        "mutation_child_vertices": dict(sorted(child_n.items())),
        "mutation_child_val_acc_mean": float(np.mean(child_acc)),
        "parent_val_acc_mean": float(np.mean(parent_acc)),
        "mutate_ms": round(1000 * mutate_s / args.cells, 2), "get_nbhd_ms": round(1000 * nbhd_s / args.cells, 2),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
