"""The NASLib compat shims, without NASLib: each patch's effect, idempotence, and a fake ``naslib`` package."""
from __future__ import annotations

import collections
import collections.abc
import json
import logging
import sys
import textwrap
import types

import numpy as np
import pytest
import torch

from naslib_agnet import compat


@pytest.fixture
def clean(monkeypatch):
    """Undo every global change the shims make (collections, numpy, the record of applied patches)."""
    for name in compat.COLLECTIONS_ABC_NAMES:
        if hasattr(collections, name):
            monkeypatch.delattr(collections, name)
    for name in compat.NUMPY_REMOVED_ALIASES:
        if name in vars(np):  # set by an earlier apply in this process; numpy 2 itself defines only np.bool
            monkeypatch.setattr(np, name, vars(np)[name])
    monkeypatch.setattr(compat, "_applied", {})
    yield
    for name in compat.COLLECTIONS_ABC_NAMES:
        if name in vars(collections):
            delattr(collections, name)
    for name, builtin in compat.NUMPY_REMOVED_ALIASES.items():
        if vars(np).get(name) is builtin and name != "bool":
            delattr(np, name)


def test_collections_aliases(clean):
    assert not hasattr(collections, "Iterable")
    added = compat.patch_collections_aliases()
    assert {"Iterable", "Mapping", "MutableMapping", "Sequence", "Callable"} <= set(added)
    assert collections.Iterable is collections.abc.Iterable
    from collections import Iterable  # what NASLib's gpwl predictor does

    assert isinstance([], Iterable)
    assert compat.patch_collections_aliases() == []


def test_numpy_aliases_only_where_missing():
    fake_np = types.ModuleType("fake_numpy")
    fake_np.bool = np.bool_  # numpy 2 has np.bool again: left alone
    assert compat.patch_numpy_aliases(fake_np) == ["int", "float", "complex"]
    assert fake_np.int is int and fake_np.float is float and fake_np.bool is np.bool_
    assert compat.patch_numpy_aliases(fake_np) == []
    assert not hasattr(fake_np, "object") and not hasattr(fake_np, "str")  # numpy will define these anew


def test_count_parameters_without_np_sum_of_a_generator():
    model = torch.nn.Module()
    model.body = torch.nn.Linear(10, 5)  # 55 parameters
    model.auxiliary_head = torch.nn.Linear(5, 2)  # skipped, as NASLib does
    assert compat.count_parameters_in_MB(model) == pytest.approx(55 / 1e6)
    assert compat.count_parameters_in_MB(torch.nn.ModuleList()) == 0


def test_patch_count_parameters_replaces_each_imported_copy():
    def broken(model):
        return np.sum(np.prod(v.size()) for _, v in model.named_parameters()) / 1e6

    utils, re_opt, other = (types.ModuleType(n) for n in ("naslib.utils", "naslib.optimizers.re", "naslib.x"))
    utils.count_parameters_in_MB = re_opt.count_parameters_in_MB = broken
    model = torch.nn.Linear(3, 1)
    if tuple(int(p) for p in np.__version__.split(".")[:2]) >= (2, 4):
        with pytest.raises(TypeError, match="generator"):
            re_opt.count_parameters_in_MB(model)
    assert compat.patch_count_parameters([utils, re_opt, other]) == ["naslib.utils", "naslib.optimizers.re"]
    assert re_opt.count_parameters_in_MB(model) == pytest.approx(4 / 1e6)
    assert not hasattr(other, "count_parameters_in_MB")
    assert compat.patch_count_parameters([utils, re_opt, other]) == []


def test_to_python():
    value = (np.int64(4), 0, np.int32(3), [np.int64(1), (np.float32(0.5),)])
    out = compat.to_python(value)
    assert out == (4, 0, 3, [1, (0.5,)]) and repr(out) == "(4, 0, 3, [1, (0.5,)])"
    assert type(out[0]) is int and type(out[3]) is list and type(out[3][1][0]) is float


def test_patch_hashes():
    class Space:
        def __init__(self):
            self.op_indices = None

        def set_op_indices(self, op_indices):
            self.op_indices = op_indices

        def get_hash(self):
            """the op indices"""
            return tuple(self.op_indices)

    class SubSpace(Space):
        pass

    space = Space()
    space.set_op_indices([np.int64(4), 0, 3, np.int64(1), 3, 1])
    assert "np.int64" in repr(space.get_hash()) or np.__version__.startswith("1.")
    assert compat.patch_hashes(Space, op_indices=True) is True
    assert space.get_hash() == (4, 0, 3, 1, 3, 1) and all(type(v) is int for v in space.get_hash())
    assert json.dumps(space.get_hash()) == "[4, 0, 3, 1, 3, 1]"
    fresh = SubSpace()
    fresh.set_op_indices(np.array([1, 2, 3, 4, 0, 1]))
    assert fresh.op_indices == [1, 2, 3, 4, 0, 1] and all(type(v) is int for v in fresh.op_indices)
    assert Space.get_hash.__doc__ == "the op indices" and Space.get_hash.__wrapped__(space) == space.get_hash()
    assert compat.patch_hashes(Space, op_indices=True) is False  # idempotent
    assert compat.patch_hashes(SubSpace, op_indices=True) is False  # inherits the patched methods


def test_apply_without_naslib_is_idempotent_and_logged(clean, caplog):
    with caplog.at_level(logging.INFO, logger="naslib_agnet.compat"):
        first = compat.apply_naslib_compat(import_naslib=False)
    assert first[0] == "collections-abc-aliases"
    assert "naslib compat: collections-abc-aliases" in caplog.text and "collections.Iterable" in caplog.text
    assert collections.Iterable is collections.abc.Iterable
    assert set(compat.applied_patches()) == set(first)
    assert compat.apply_naslib_compat(import_naslib=False) == []
    assert set(compat.applied_patches()) == set(first)


FAKE_NASLIB = {
    "naslib/__init__.py": "",
    "naslib/utils/__init__.py": """
        import numpy as np
        from collections import Iterable  # removed in Python 3.10, as in NASLib's gpwl predictor

        def count_parameters_in_MB(model):
            return np.sum(np.prod(v.size()) for name, v in model.named_parameters() if "auxiliary" not in name) / 1e6
        """,
    "naslib/search_spaces/__init__.py": "from .nasbench201.graph import NasBench201SearchSpace\n",
    "naslib/search_spaces/nasbench201/__init__.py": "",
    "naslib/search_spaces/nasbench201/graph.py": """
        import numpy as np

        class NasBench201SearchSpace:
            op_indices = None

            def set_op_indices(self, op_indices):
                self.op_indices = op_indices

            def mutate(self, parent):
                ops = list(parent.op_indices)
                ops[0] = np.random.choice([o for o in range(5) if o != ops[0]])
                self.set_op_indices(ops)

            def get_hash(self):
                return tuple(self.op_indices)
        """,
    "naslib/optimizers/__init__.py": "from .re import RegularizedEvolution\n",
    "naslib/optimizers/re.py": """
        import torch
        from naslib.utils import count_parameters_in_MB

        class RegularizedEvolution:
            def __init__(self):
                self.history = torch.nn.ModuleList([torch.nn.Linear(2, 2)])

            def get_model_size(self):
                return count_parameters_in_MB(self.history)
        """,
}


def test_apply_on_a_fake_naslib_package(clean, tmp_path, monkeypatch):
    """The whole entry point on a stand-in package with NASLib's module layout and breakages."""
    if any(n == "naslib" or n.startswith("naslib.") for n in sys.modules):
        pytest.skip("the real NASLib is imported in this process: tests/test_naslib_trainer.py covers it")
    for path, text in FAKE_NASLIB.items():
        file = tmp_path / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(ImportError, match="Iterable"):
            __import__("naslib.utils")
        for name in [n for n in sys.modules if n == "naslib" or n.startswith("naslib.")]:
            del sys.modules[name]
        applied = compat.apply_naslib_compat()
        assert applied == ["collections-abc-aliases", "numpy-removed-aliases", "count_parameters_in_MB",
                           "hashes-python-ints"] or applied == ["collections-abc-aliases", "count_parameters_in_MB",
                                                                "hashes-python-ints"]
        from naslib.optimizers import RegularizedEvolution  # imported after: picks up the patched function
        from naslib.search_spaces import NasBench201SearchSpace

        assert RegularizedEvolution().get_model_size() == pytest.approx(6 / 1e6)
        parent, child = NasBench201SearchSpace(), NasBench201SearchSpace()
        parent.set_op_indices([0, 1, 2, 3, 4, 0])
        np.random.seed(0)
        child.mutate(parent)
        assert all(type(v) is int for v in child.get_hash()) and "np." not in repr(child.get_hash())
        assert compat.apply_naslib_compat() == []
        assert "naslib.utils" in compat.applied_patches()["count_parameters_in_MB"]
    finally:
        for name in [n for n in sys.modules if n == "naslib" or n.startswith("naslib.")]:
            del sys.modules[name]


def test_the_bridge_exports_why_naslib_is_not_bound():
    from naslib_agnet.bridge import NASLIB_AVAILABLE, NASLIB_IMPORT_ERROR

    assert NASLIB_IMPORT_ERROR is None or not NASLIB_AVAILABLE


def test_importing_the_bridge_leaves_a_naslib_on_the_path_alone(tmp_path):
    """A (fake) naslib package on the path: importing the bridge imports nothing of it and patches nothing."""
    import os
    import subprocess
    import sys

    pkg = tmp_path / "naslib"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("raise RuntimeError('naslib was imported')\n")
    code = ("import sys, naslib_agnet.bridge as b\nfrom naslib_agnet.compat import applied_patches\n"
            "print('naslib' in sys.modules, applied_patches(), b.NASLIB_AVAILABLE)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False {} False"
