"""Every unique NAS-Bench-101 cell, enumerated once and cached.

NAS-Bench-101 holds one entry per isomorphism class of *full* cells: upper-triangular
DAGs of 2..7 vertices in which every vertex lies on an input->output path (nothing to
prune), with at most 9 edges, ``input`` first, ``output`` last and one of the three
ops on each interior vertex. Classes are keyed by the official md5 hash
(:func:`~naslib_agnet.spaces.nasbench101.cell_hash`); there are 423,624 of them.

Enumerating all 2^21 matrices times 3^5 labelings and hashing each (what a direct
approach does) is far too slow in Python. Here:

1. for each vertex count n, all upper-triangular n-vertex matrices are built at once
   as bit vectors (numpy) and filtered to full DAGs with at most 9 edges;
2. a matrix is kept only if it is the *canonical* member of its structure class: the
   smallest edge code among all renumberings of the interior vertices that keep the
   matrix upper-triangular (one float matmul against the (n-2)! permutations). The
   permutations that give back the same code are the structure's automorphisms;
3. on a canonical structure, two labelings give the same cell iff an automorphism maps
   one onto the other, so exactly the lexicographically smallest labeling of each
   automorphism orbit is kept;
4. only these representatives (one per isomorphism class) are hashed, with the graph
   data (degrees, neighbour lists) prepared once per structure.

The edge code is NAS-Bench-101's own bit order (edge u->v is bit ``v(v-1)/2 + u``) and
labelings are visited in ``itertools.product`` order, so the representative of a class
is the first of its members in the order NAS-Bench-101's generator visits them: the
matrix/ops pair the official data stores as ``module_adjacency`` / ``module_operations``.

The result (edge code, vertex count, ops and md5 of each cell, sorted by hash) is
cached as a compressed ``.npz`` in a user cache directory (``$NASLIB_AGNET_CACHE``,
else ``$XDG_CACHE_HOME/naslib-agnet``, else ``~/.cache/naslib-agnet``).
"""
from __future__ import annotations

import binascii
import hashlib
import itertools
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .nasbench101 import MAX_EDGES, MAX_VERTICES, NB101_OPS

__all__ = [
    "CACHE_FILE_NAME",
    "NB101_NUM_CELLS",
    "CacheError",
    "Nb101Cells",
    "cache_dir",
    "enumerate_cells",
    "load_cells",
]

#: Number of unique cells in NAS-Bench-101.
NB101_NUM_CELLS = 423_624
#: Version of the cache layout; a file with another version is rebuilt.
CACHE_VERSION = 1
CACHE_FILE_NAME = f"nb101_cells_v{CACHE_VERSION}.npz"

_PAD_OP = 255  # ops entry of a vertex that does not exist (cells with fewer than 7 vertices)
_PENALTY = 2.0 ** 30  # weight of an edge that a renumbering would turn downwards


class CacheError(RuntimeError):
    """The cell cache file cannot be read; the message names the file and the fix."""


# --------------------------------------------------------------------------------------
# Edge codes
# --------------------------------------------------------------------------------------


def _edges(n: int) -> list[tuple[int, int]]:
    """Edges u->v of an n-vertex upper-triangular matrix in bit order (bit v(v-1)/2 + u)."""
    return [(u, v) for v in range(1, n) for u in range(v)]


def code_to_matrix(code: int, n: int) -> np.ndarray:
    """The n x n 0/1 matrix of an edge code."""
    m = np.zeros((n, n), dtype=np.int64)
    for bit, (u, v) in enumerate(_edges(n)):
        if (code >> bit) & 1:
            m[u, v] = 1
    return m


def matrix_to_code(matrix) -> int:
    m = np.asarray(matrix)
    return sum(1 << bit for bit, (u, v) in enumerate(_edges(m.shape[0])) if m[u, v])


# --------------------------------------------------------------------------------------
# Structures: canonical full DAGs and their automorphisms
# --------------------------------------------------------------------------------------


@dataclass
class _Structure:
    code: int
    automorphisms: tuple[tuple[int, ...], ...]  # vertex maps, identity included


def _canonical_structures(n: int, max_edges: int) -> list[_Structure]:
    """The canonical full DAGs of n vertices with at most ``max_edges`` edges, in code order."""
    edges = _edges(n)
    n_edges = len(edges)
    codes = np.arange(2 ** n_edges, dtype=np.int64)
    bits = ((codes[:, None] >> np.arange(n_edges)) & 1).astype(np.uint8)
    keep = bits.sum(axis=1) <= max_edges
    codes, bits = codes[keep], bits[keep]
    # full DAG: every vertex but the output has an out-edge, every vertex but the input an in-edge
    src = np.array([u for u, _ in edges])
    dst = np.array([v for _, v in edges])
    for vertex in range(n):
        if vertex < n - 1:
            keep = bits[:, src == vertex].any(axis=1)
            codes, bits = codes[keep], bits[keep]
        if vertex > 0:
            keep = bits[:, dst == vertex].any(axis=1)
            codes, bits = codes[keep], bits[keep]
    perms = [(0, *p, n - 1) for p in itertools.permutations(range(1, n - 1))] if n > 2 else [(0, 1)]
    index = {e: i for i, e in enumerate(edges)}
    weights = np.empty((n_edges, len(perms)), dtype=np.float64)
    for j, p in enumerate(perms):
        for i, (u, v) in enumerate(edges):
            pu, pv = p[u], p[v]
            weights[i, j] = 2.0 ** index[(pu, pv)] if pu < pv else _PENALTY
    out: list[_Structure] = []
    chunk = 65536
    for start in range(0, len(codes), chunk):
        c = codes[start:start + chunk].astype(np.float64)
        permuted = bits[start:start + chunk].astype(np.float64) @ weights
        canonical = (permuted >= c[:, None]).all(axis=1)
        for row in np.flatnonzero(canonical):
            auts = tuple(perms[j] for j in np.flatnonzero(permuted[row] == c[row]))
            out.append(_Structure(int(codes[start + row]), auts))
    return out


def _all_labelings(k: int) -> np.ndarray:
    """All 3^k labelings of k interior vertices in ``itertools.product`` order."""
    if k == 0:
        return np.zeros((1, 0), dtype=np.int64)
    return np.array(list(itertools.product(range(len(NB101_OPS)), repeat=k)), dtype=np.int64)


def _orbit_representatives(n: int, automorphisms: Sequence[tuple[int, ...]], labelings: np.ndarray) -> np.ndarray:
    """Indices of the labelings that are lexicographically smallest in their automorphism orbit."""
    k = n - 2
    if len(automorphisms) == 1 or k == 0:
        return np.arange(len(labelings))
    place = 3 ** np.arange(k - 1, -1, -1)
    own = labelings @ place
    keep = np.ones(len(labelings), dtype=bool)
    for p in automorphisms:
        # relabel interior vertex i as p[i]: the new labeling has label L[i] at position p[i]
        moved = np.empty_like(labelings)
        moved[:, [p[i] - 1 for i in range(1, n - 1)]] = labelings
        keep &= own <= moved @ place
    return np.flatnonzero(keep)


# --------------------------------------------------------------------------------------
# Hashing (the official hash, specialised to many labelings of one structure)
# --------------------------------------------------------------------------------------


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def _hash_labelings(n: int, code: int, labelings: np.ndarray) -> list[str]:
    """Official hashes of the cells (structure ``code``, each interior labeling); bit-exact with
    :func:`~naslib_agnet.spaces.nasbench101.cell_hash`."""
    m = code_to_matrix(code, n)
    out_deg = m.sum(axis=1).tolist()
    in_deg = m.sum(axis=0).tolist()
    preds = [[u for u in range(n) if m[u, v]] for v in range(n)]
    succs = [[w for w in range(n) if m[v, w]] for v in range(n)]
    start_input = _md5(str((out_deg[0], in_deg[0], -1)))
    start_output = _md5(str((out_deg[-1], in_deg[-1], -2)))
    start_interior = [[_md5(str((out_deg[v], in_deg[v], lab))) for lab in range(len(NB101_OPS))]
                      for v in range(n)]
    vertices = range(n)
    result = []
    md5 = hashlib.md5
    for labels in labelings.tolist():
        hashes = [start_input] + [start_interior[v][lab] for v, lab in zip(range(1, n - 1), labels)] + [start_output]
        for _ in vertices:
            hashes = [md5(("".join(sorted([hashes[u] for u in preds[v]])) + "|"
                           + "".join(sorted([hashes[w] for w in succs[v]])) + "|" + hashes[v]
                           ).encode("utf-8")).hexdigest() for v in vertices]
        result.append(md5(str(sorted(hashes)).encode("utf-8")).hexdigest())
    return result


# --------------------------------------------------------------------------------------
# Enumeration
# --------------------------------------------------------------------------------------


@dataclass
class _Task:
    n: int
    code: int
    labelings: np.ndarray  # the orbit representatives, [m, n-2]


def _tasks(max_vertices: int, max_edges: int) -> Iterator[_Task]:
    for n in range(2, max_vertices + 1):
        labelings = _all_labelings(n - 2)
        for s in _canonical_structures(n, max_edges):
            yield _Task(n, s.code, labelings[_orbit_representatives(n, s.automorphisms, labelings)])


def _run_task(task: _Task) -> tuple[_Task, list[str]]:
    return task, _hash_labelings(task.n, task.code, task.labelings)


def enumerate_cells(max_vertices: int = MAX_VERTICES, max_edges: int = MAX_EDGES, *,
                    progress: bool = True, processes: int = 1) -> Nb101Cells:
    """Every unique cell with at most ``max_vertices`` vertices and ``max_edges`` edges.

    One representative per isomorphism class, hashed with the official hash; classes
    are also de-duplicated by hash (a hash collision between non-isomorphic cells would
    keep the first). ``processes`` > 1 hashes in a pool of that many processes.
    """
    if not 2 <= max_vertices <= MAX_VERTICES:
        raise ValueError(f"max_vertices must lie in 2..{MAX_VERTICES}, got {max_vertices}")
    tasks = list(_tasks(max_vertices, max_edges))
    total = sum(len(t.labelings) for t in tasks)
    bar = _progress_bar(total, progress)
    codes: list[int] = []
    sizes: list[int] = []
    ops_rows: list[np.ndarray] = []
    hashes: list[str] = []

    def collect(task: _Task, task_hashes: list[str]) -> None:
        m = len(task_hashes)
        codes.extend([task.code] * m)
        sizes.extend([task.n] * m)
        padded = np.full((m, MAX_VERTICES - 2), _PAD_OP, dtype=np.uint8)
        padded[:, :task.n - 2] = task.labelings
        ops_rows.append(padded)
        hashes.extend(task_hashes)
        if bar is not None:
            bar.update(m)

    if processes > 1:
        import multiprocessing

        ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        with ctx.Pool(processes) as pool:
            for task, task_hashes in pool.imap(_run_task, tasks, chunksize=64):
                collect(task, task_hashes)
    else:
        for task in tasks:
            collect(*_run_task(task))
    if bar is not None:
        bar.close()
    raw = np.frombuffer(binascii.unhexlify("".join(hashes)), dtype=np.uint8).reshape(-1, 16)
    hex_hashes = np.frombuffer("".join(hashes).encode("ascii"), dtype="S32")
    order = np.argsort(hex_hashes, kind="stable")
    _, first = np.unique(hex_hashes[order], return_index=True)
    order = order[first]
    return Nb101Cells(
        codes=np.asarray(codes, dtype=np.uint32)[order],
        num_vertices=np.asarray(sizes, dtype=np.uint8)[order],
        ops=np.concatenate(ops_rows)[order] if ops_rows else np.zeros((0, MAX_VERTICES - 2), np.uint8),
        hashes=raw[order],
        num_classes=total,
    )


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="NB101 cells", unit="cell", unit_scale=True, file=sys.stderr)


# --------------------------------------------------------------------------------------
# The table of cells
# --------------------------------------------------------------------------------------


class Nb101Cells:
    """The enumerated cells, sorted by hash: index i has edge code ``codes[i]``,
    ``num_vertices[i]`` vertices, interior op indices ``ops[i, :n-2]`` (into
    :data:`NB101_OPS`) and md5 ``hashes[i]`` (16 raw bytes)."""

    def __init__(self, codes: np.ndarray, num_vertices: np.ndarray, ops: np.ndarray,
                 hashes: np.ndarray, num_classes: int | None = None) -> None:
        self.codes = codes
        self.num_vertices = num_vertices
        self.ops = ops
        self.hashes = hashes
        #: isomorphism classes found (equals ``len(self)`` unless two classes share a hash)
        self.num_classes = len(codes) if num_classes is None else num_classes
        self._hex = np.frombuffer(binascii.hexlify(np.ascontiguousarray(hashes).tobytes()), dtype="S32")

    def __len__(self) -> int:
        return len(self.codes)

    def __contains__(self, md5: object) -> bool:
        return isinstance(md5, str) and self.find(md5) is not None

    def __repr__(self) -> str:
        return f"Nb101Cells({len(self)} cells)"

    def hash_at(self, index: int) -> str:
        return self._hex[index].decode("ascii")

    def hex_hashes(self) -> np.ndarray:
        """All hashes as an ``S32`` array of lowercase hex (sorted)."""
        return self._hex

    def find(self, md5: str) -> int | None:
        """Index of the cell with this hash, or None."""
        key = md5.strip().lower().encode("ascii", "replace")
        i = int(np.searchsorted(self._hex, key))
        return i if i < len(self._hex) and self._hex[i] == key else None

    def index_of(self, md5: str) -> int:
        """Index of the cell with this hash; KeyError naming the hash if there is none."""
        i = self.find(md5)
        if i is None:
            raise KeyError(f"no NB101 cell has hash {md5!r} (among {len(self):,} enumerated cells)")
        return i

    def cell(self, index: int) -> tuple[np.ndarray, list[str]]:
        """The canonical pruned (matrix, ops) of cell ``index``."""
        n = int(self.num_vertices[index])
        ops = ["input"] + [NB101_OPS[int(o)] for o in self.ops[index, :n - 2]] + ["output"]
        return code_to_matrix(int(self.codes[index]), n), ops

    def lookup(self, md5: str) -> tuple[np.ndarray, list[str]]:
        """The canonical pruned (matrix, ops) of the cell with this hash."""
        return self.cell(self.index_of(md5))

    # -- persistence ---------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write atomically (a temporary file in the same folder, then a rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez_compressed(fh, version=np.array(CACHE_VERSION), codes=self.codes,
                                    num_vertices=self.num_vertices, ops=self.ops, hashes=self.hashes,
                                    num_classes=np.array(self.num_classes))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str], expected: int | None = None) -> Nb101Cells:
        """Read a cache file; :class:`CacheError` naming the file and the problem if it is unusable."""
        path = Path(path)
        fix = f"delete {path} and it is rebuilt on the next call"
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in ("version", "codes", "num_vertices", "ops", "hashes", "num_classes")}
        except Exception as exc:  # noqa: BLE001 - whatever fails to read (zip CRC, zlib, npy header) is a bad file
            raise CacheError(f"NB101 cell cache {path} is unreadable ({type(exc).__name__}: {exc}); {fix}") from exc
        if int(arrays["version"]) != CACHE_VERSION:
            raise CacheError(f"NB101 cell cache {path} has layout version {int(arrays['version'])}, "
                             f"expected {CACHE_VERSION}; {fix}")
        n = len(arrays["codes"])
        shapes = {"codes": ((n,), np.uint32), "num_vertices": ((n,), np.uint8),
                  "ops": ((n, MAX_VERTICES - 2), np.uint8), "hashes": ((n, 16), np.uint8)}
        for key, (shape, dtype) in shapes.items():
            if arrays[key].shape != shape or arrays[key].dtype != dtype:
                raise CacheError(f"NB101 cell cache {path}: array {key!r} has shape {arrays[key].shape} "
                                 f"and dtype {arrays[key].dtype}, expected {shape} {np.dtype(dtype)}; {fix}")
        if expected is not None and n != expected:
            raise CacheError(f"NB101 cell cache {path} holds {n:,} cells, expected {expected:,}; {fix}")
        cells = cls(arrays["codes"], arrays["num_vertices"], arrays["ops"], arrays["hashes"],
                    int(arrays["num_classes"]))
        if n > 1 and not (cells._hex[1:] > cells._hex[:-1]).all():
            raise CacheError(f"NB101 cell cache {path}: hashes are not sorted and unique; {fix}")
        return cells


def cache_dir() -> Path:
    """``$NASLIB_AGNET_CACHE``, else ``$XDG_CACHE_HOME/naslib-agnet``, else ``~/.cache/naslib-agnet``."""
    if os.environ.get("NASLIB_AGNET_CACHE"):
        return Path(os.environ["NASLIB_AGNET_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "naslib-agnet"


_LOADED: dict[Path, Nb101Cells] = {}


def load_cells(cache: str | os.PathLike[str] | None = None, *, progress: bool = True,
               processes: int | None = None, rebuild: bool = False) -> Nb101Cells:
    """All 423,624 NB101 cells: read from the cache file, enumerated (and cached) if absent.

    Args:
        cache: the cache *folder* (default :func:`cache_dir`); the file is
            :data:`CACHE_FILE_NAME` inside it.
        progress: show a progress bar while enumerating.
        processes: hashing processes when enumerating (default: 2 if the machine has
            at least 2 CPUs, else 1).
        rebuild: enumerate again even if a cache file exists.

    A cache file that cannot be used (truncated, wrong layout, wrong count) is reported
    on stderr and rebuilt. Loaded tables are kept in memory per path.
    """
    path = (Path(cache).expanduser() if cache is not None else cache_dir()) / CACHE_FILE_NAME
    path = path.absolute()
    if not rebuild and path in _LOADED:
        return _LOADED[path]
    cells = None
    if path.exists() and not rebuild:
        try:
            cells = Nb101Cells.load(path, expected=NB101_NUM_CELLS)
        except CacheError as exc:
            print(f"naslib-agnet: {exc}. Rebuilding it now.", file=sys.stderr)
    if cells is None:
        if processes is None:
            processes = min(2, os.cpu_count() or 1)
        if progress:
            print(f"naslib-agnet: enumerating all NB101 cells once (cached in {path})", file=sys.stderr)
        cells = enumerate_cells(progress=progress, processes=processes)
        if len(cells) != NB101_NUM_CELLS:
            raise RuntimeError(f"the enumeration found {len(cells):,} NB101 cells, expected "
                               f"{NB101_NUM_CELLS:,}; this is a bug in naslib_agnet")
        cells.save(path)
    _LOADED[path] = cells
    return cells

