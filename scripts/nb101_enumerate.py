"""Benchmark: enumerate every NB101 cell from scratch, then check it against the real data.

Builds the cell cache in a fresh temporary folder (never the user's cache), and reports
the cell count, the wall time, the cache size, the machine load, and whether the
enumerated hashes contain all hashes of ``nasbench101/nb101_20k_val.csv`` and of
``nasbench101/nasbench_only108_30archs.pkl`` (and whether the stored matrices/ops of
the 30 cells equal the enumeration's canonical cells). Writes the figures as JSON.

    python scripts/nb101_enumerate.py --data-dir ../shared/data [--out runs/nb101_enumerate.json]
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import pickle
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from naslib_agnet.spaces import nasbench101_enumeration as enum  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"),
                        help="folder holding nasbench101/ (default: ../shared/data)")
    parser.add_argument("--out", default=str(REPO / "runs" / "nb101_enumerate.json"),
                        help="JSON output file (default: runs/nb101_enumerate.json)")
    parser.add_argument("--processes", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    data = Path(args.data_dir).expanduser().resolve() / "nasbench101"
    csv_path, pkl_path = data / "nb101_20k_val.csv", data / "nasbench_only108_30archs.pkl"
    for path in (csv_path, pkl_path):
        if not path.is_file():
            parser.error(f"{path} not found: pass --data-dir pointing at the folder that holds nasbench101/")

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="nb101-enum-") as tmp:
        enum._LOADED.clear()
        start, cpu_start = time.perf_counter(), time.process_time()
        cells = enum.load_cells(tmp, progress=not args.no_progress, processes=args.processes)
        wall = time.perf_counter() - start
        cache_file = Path(tmp) / enum.CACHE_FILE_NAME
        cache_bytes = cache_file.stat().st_size
        enum._LOADED.clear()
        start = time.perf_counter()
        reloaded = enum.load_cells(tmp, progress=False)
        load_s = time.perf_counter() - start
        assert len(reloaded) == len(cells)
    load_after = os.getloadavg()

    with open(csv_path, newline="") as fh:
        csv_hashes = [row["nb101_hash"] for row in csv.DictReader(fh)]
    csv_found = [cells.find(h) for h in csv_hashes]
    with open(pkl_path, "rb") as fh:
        pkl = pickle.load(fh)
    pkl_found = same_cell = 0
    for md5, (fixed, _) in pkl.items():
        if cells.find(md5) is None:
            continue
        pkl_found += 1
        matrix, ops = cells.lookup(md5)
        same_cell += (matrix.tolist() == fixed["module_adjacency"].tolist()
                      and ops == list(fixed["module_operations"]))

    per_n = {int(n): int((cells.num_vertices == n).sum()) for n in range(2, 8)}
    result = {
        "cells": len(cells),
        "isomorphism_classes": cells.num_classes,
        "expected": enum.NB101_NUM_CELLS,
        "cells_by_vertex_count": per_n,
        "enumeration_wall_s": round(wall, 2),
        "enumeration_main_process_cpu_s": round(time.process_time() - cpu_start, 2),
        "processes": args.processes,
        "cache_file": enum.CACHE_FILE_NAME,
        "cache_bytes": cache_bytes,
        "cache_load_s": round(load_s, 3),
        "csv_20k": {"file": str(csv_path.name), "hashes": len(csv_hashes),
                    "found": sum(i is not None for i in csv_found),
                    "are_the_first_hashes_in_sorted_order": csv_found == list(range(len(csv_hashes)))},
        "pkl_30": {"file": str(pkl_path.name), "hashes": len(pkl), "found": pkl_found,
                   "stored_matrix_and_ops_equal_canonical_cell": same_cell},
        "machine": {"cpus": os.cpu_count(), "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in load_after], "python": platform.python_version(),
                    "platform": platform.platform()},
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix()] + sys.argv[1:]),
    }
    text = json.dumps(result, indent=2)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n")
    ok = (len(cells) == enum.NB101_NUM_CELLS and result["csv_20k"]["found"] == len(csv_hashes)
          and pkl_found == len(pkl))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
