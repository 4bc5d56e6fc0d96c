"""Runtime shims that let NASLib's black-box side run on a current Python stack.

NASLib (Develop branch, ``automl/NASLib``) was written for Python 3.7-3.9, numpy 1.x,
networkx 2 and torch 1.x. On Python 3.11+, numpy 2, networkx 3 and torch 2 its
black-box path (the NB101/NB201/NB301 search spaces, ``Trainer``, the RS/RE/LS/BANANAS/
NPENAS optimizers, ``naslib.utils``) breaks in a few places. :func:`apply_naslib_compat`
fixes them at runtime, without editing a NASLib file:

``collections-abc-aliases``
    ``collections.Iterable`` (and the other ABCs that moved to ``collections.abc`` and
    were removed from ``collections`` in Python 3.10). Without it ``import
    naslib.optimizers`` fails (BANANAS -> predictors -> gpwl ``from collections import
    Iterable``).
``numpy-removed-aliases``
    ``np.int`` (used by NASLib's SemiNAS predictors), ``np.float``, ``np.complex`` (removed
    in numpy 1.24) and ``np.bool`` (removed in 1.24, back in numpy 2): each is set to the
    Python type it used to alias, and only where numpy lacks it. ``np.object`` and
    ``np.str`` are left alone (numpy will define them anew).
``distutils``
    Python 3.12 removed ``distutils`` (imported by ``naslib.optimizers`` through
    gsparsity). Where it is missing, importing setuptools provides it.
``count_parameters_in_MB``
    ``naslib.utils.count_parameters_in_MB`` calls ``np.sum(<generator>)``, a TypeError
    from numpy 2.4 on, and ``Trainer.__init__`` calls it (via ``get_model_size``) for RE,
    LS, BANANAS and NPENAS. Replaced, in ``naslib.utils`` and in every ``naslib.*``
    module that imported it by name, by the same sum written with the builtin ``sum``.
``hashes-python-ints``
    NB101/NB201/NB301 ``get_hash()`` (and NB201 ``set_op_indices``) keep the numpy
    integers that ``np.random.choice`` returns; under numpy 2 their ``repr`` is
    ``np.int64(3)``, so ``str(hash)`` lookups miss and ``json.dump`` of a hash fails.
    The hashes are normalised to plain Python ints (same equality and ``hash()``).

networkx 3 and torch 2 needed no change on this path: ``Graph(nn.Module, nx.DiGraph)``
works with networkx 3, and fvcore's checkpoints of the discrete optimizers load under
torch's ``weights_only=True`` default.

The shims are applied only when asked for, each at most once per process; every call
returns (and logs at INFO) the names of the patches it applied, so a second call
returns an empty list. Call it before importing ``naslib``::

    from naslib_agnet.compat import apply_naslib_compat
    apply_naslib_compat()
    from naslib.defaults.trainer import Trainer

Installing NASLib itself is up to the user (https://github.com/automl/NASLib, Develop
branch; it is not on PyPI and its ``setup.py`` refuses Python > 3.9, so put a checkout on
``PYTHONPATH``). What it imports at module level must be installed from PyPI (see
``docs/naslib.md``); nothing here replaces a missing package.
"""
from __future__ import annotations

import collections
import collections.abc
import importlib
import importlib.util
import logging
import sys
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

COLLECTIONS_ABC_NAMES = ("Awaitable", "AsyncIterable", "AsyncIterator", "Callable", "Collection", "Container",
                         "Coroutine", "Generator", "Hashable", "ItemsView", "Iterable", "Iterator", "KeysView",
                         "Mapping", "MappingView", "MutableMapping", "MutableSequence", "MutableSet", "Reversible",
                         "Sequence", "Set", "Sized", "ValuesView")
# numpy aliases removed in numpy 1.24 (np.bool came back in numpy 2 as np.bool_): what they used to mean.
# np.object and np.str are left alone: numpy announces (FutureWarning) that it will define them anew.
NUMPY_REMOVED_ALIASES = {"int": int, "float": float, "complex": complex, "bool": bool}
# (module, class) of the search spaces whose hashes are normalised; the NB201 one also in set_op_indices
HASHED_SPACES = (("naslib.search_spaces.nasbench101.graph", "NasBench101SearchSpace"),
                 ("naslib.search_spaces.nasbench201.graph", "NasBench201SearchSpace"),
                 ("naslib.search_spaces.nasbench301.graph", "NasBench301SearchSpace"))
_MARK = "_naslib_agnet_compat"

_applied: dict[str, str] = {}  # patch name -> what it did, for this process


# ------------------------------------------------------------------------------------ the fixes
def count_parameters_in_MB(model) -> float:  # noqa: N802 - NASLib's name
    """NASLib's ``count_parameters_in_MB`` (parameters outside ``auxiliary`` heads, in millions),
    with the builtin ``sum`` instead of ``np.sum(<generator>)``."""
    return sum(int(np.prod(v.size())) for name, v in model.named_parameters() if "auxiliary" not in name) / 1e6


setattr(count_parameters_in_MB, _MARK, True)


def to_python(value: Any) -> Any:
    """``value`` with numpy scalars replaced by Python ints/floats, inside tuples and lists (kept as such)."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, tuple):
        return tuple(to_python(v) for v in value)
    if isinstance(value, list):
        return [to_python(v) for v in value]
    return value


def _python_hash(get_hash: Callable) -> Callable:
    def get_hash_python(self, *args, **kwargs):
        return to_python(get_hash(self, *args, **kwargs))

    get_hash_python.__name__ = get_hash_python.__qualname__ = "get_hash"
    get_hash_python.__doc__ = get_hash.__doc__
    get_hash_python.__wrapped__ = get_hash  # type: ignore[attr-defined]
    setattr(get_hash_python, _MARK, True)
    return get_hash_python


def _python_op_indices(set_op_indices: Callable) -> Callable:
    def set_op_indices_python(self, op_indices, *args, **kwargs):
        return set_op_indices(self, [int(i) for i in op_indices], *args, **kwargs)

    set_op_indices_python.__name__ = set_op_indices_python.__qualname__ = "set_op_indices"
    set_op_indices_python.__doc__ = set_op_indices.__doc__
    set_op_indices_python.__wrapped__ = set_op_indices  # type: ignore[attr-defined]
    setattr(set_op_indices_python, _MARK, True)
    return set_op_indices_python


# ------------------------------------------------------------------------ one function per patch
def patch_collections_aliases() -> list[str]:
    """Put the ``collections.abc`` ABCs back on ``collections`` where they are missing; the names added."""
    added = []
    for name in COLLECTIONS_ABC_NAMES:
        if not hasattr(collections, name) and hasattr(collections.abc, name):
            setattr(collections, name, getattr(collections.abc, name))
            added.append(name)
    return added


def patch_numpy_aliases(np_module: ModuleType = np) -> list[str]:
    """Restore numpy's removed builtin-type aliases where numpy lacks them; the names added."""
    added = []
    for name, builtin in NUMPY_REMOVED_ALIASES.items():
        if not hasattr(np_module, name):
            setattr(np_module, name, builtin)
            added.append(name)
    return added


def patch_distutils() -> bool:
    """Make ``import distutils`` work where Python lacks it (3.12+), through setuptools; True if it did."""
    if importlib.util.find_spec("distutils") is not None:
        return False
    try:
        import setuptools  # noqa: F401 - importing it installs its distutils
    except ImportError:
        return False
    return importlib.util.find_spec("distutils") is not None


def patch_count_parameters(modules: Iterable[ModuleType]) -> list[str]:
    """Replace ``count_parameters_in_MB`` in each module that has an unpatched one; the module names."""
    patched = []
    for module in modules:
        current = getattr(module, "count_parameters_in_MB", None)
        if current is not None and callable(current) and not getattr(current, _MARK, False):
            module.count_parameters_in_MB = count_parameters_in_MB
            patched.append(module.__name__)
    return patched


def patch_hashes(cls: type, op_indices: bool = False) -> bool:
    """Make ``cls.get_hash`` (and ``cls.set_op_indices`` if ``op_indices``) return/store Python ints; True if changed."""
    changed = False
    if "get_hash" in vars(cls) and not getattr(cls.get_hash, _MARK, False):
        cls.get_hash = _python_hash(cls.get_hash)
        changed = True
    if op_indices and "set_op_indices" in vars(cls) and not getattr(cls.set_op_indices, _MARK, False):
        cls.set_op_indices = _python_op_indices(cls.set_op_indices)
        changed = True
    return changed


# ----------------------------------------------------------------------------------- the entry
def naslib_importable() -> bool:
    return importlib.util.find_spec("naslib") is not None


def apply_naslib_compat(import_naslib: bool = True) -> list[str]:
    """Apply the shims not applied yet in this process; returns (and logs) the names of those it applied.

    The stdlib/numpy shims are applied always. With ``import_naslib`` (the default) and
    NASLib importable, ``naslib.utils`` and ``naslib.search_spaces`` are imported and their
    functions patched; ``naslib.optimizers`` and ``naslib.defaults.trainer`` imported
    afterwards pick the patched functions up. Without NASLib only the stdlib/numpy shims
    apply. Safe to call again: a later call patches only what is new (for example NASLib
    modules imported since) and returns ``[]`` when there is nothing left to do.
    """
    applied: list[str] = []

    def record(name: str, detail: str) -> None:
        _applied[name] = f"{_applied[name]}; {detail}" if name in _applied else detail
        applied.append(name)
        logger.info("naslib compat: %s: %s", name, detail)

    added = patch_collections_aliases()
    if added:
        record("collections-abc-aliases", "collections." + ", collections.".join(added) + " -> collections.abc")
    added = patch_numpy_aliases()
    if added:
        record("numpy-removed-aliases", ", ".join(f"np.{n} = {NUMPY_REMOVED_ALIASES[n].__name__}" for n in added))
    if patch_distutils():
        record("distutils", "'import distutils' provided by setuptools")

    if import_naslib and naslib_importable():
        importlib.import_module("naslib.utils")
        importlib.import_module("naslib.search_spaces")
        modules = [m for n, m in list(sys.modules.items())
                   if m is not None and (n == "naslib" or n.startswith("naslib."))]
        patched = patch_count_parameters(modules)
        if patched:
            record("count_parameters_in_MB", "np.sum(generator) -> sum() in " + ", ".join(sorted(patched)))
        changed = []
        for module_name, class_name in HASHED_SPACES:
            module = sys.modules.get(module_name)
            cls = getattr(module, class_name, None) if module is not None else None
            if cls is not None and patch_hashes(cls, op_indices=class_name == "NasBench201SearchSpace"):
                changed.append(class_name)
        if changed:
            record("hashes-python-ints", "get_hash() returns Python ints in " + ", ".join(changed))
    return applied


def apply_naslib_compat_announced(why: str) -> list[str]:
    """:func:`apply_naslib_compat` for a command that needs NASLib (``why``, e.g. ``--baselines naslib``):
    prints one line on stderr naming the patches it applied (nothing when there were none, and nothing
    in a worker process of ``compare``, whose parent has said it already)."""
    import multiprocessing

    applied = apply_naslib_compat()
    if applied and multiprocessing.parent_process() is None:
        print(f"naslib-agnet: {why} imports NASLib; applied the naslib_agnet.compat patches {', '.join(applied)} "
              "to this process (docs/naslib.md)", file=sys.stderr, flush=True)
    return applied


def applied_patches() -> dict[str, str]:
    """Every patch applied in this process so far: name -> what it changed."""
    return dict(_applied)


__all__ = ["apply_naslib_compat", "apply_naslib_compat_announced", "applied_patches", "count_parameters_in_MB", "naslib_importable",
           "patch_collections_aliases", "patch_count_parameters", "patch_distutils", "patch_hashes",
           "patch_numpy_aliases", "to_python"]
