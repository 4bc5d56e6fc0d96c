"""Shared fixtures: the benchmark data directory (CI: ../shared/data), never skipped when missing.

Where NASLib is importable (a checkout on PYTHONPATH, docs/naslib.md), the session applies
naslib_agnet.compat's patches and imports NASLib before any test module imports the bridge, as a
NASLib user does, so that the bridge binds to NASLib's MetaOptimizer; elsewhere nothing is patched."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from naslib_agnet.compat import apply_naslib_compat, naslib_importable

if naslib_importable():
    apply_naslib_compat()

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = Path(os.environ.get("NASLIB_AGNET_DATA", REPO.parent / "shared" / "data")).resolve()
    if not (path / "nasbench201" / "nb201_accuracies.csv").is_file():
        pytest.fail(f"benchmark data not found at {path}: set NASLIB_AGNET_DATA to the folder that holds "
                    "nasbench201/nb201_accuracies.csv (CI uses ../shared/data)")
    return path
