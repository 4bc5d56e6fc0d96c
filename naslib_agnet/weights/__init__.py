"""Shipped pretrained generators and their model cards.

A weights file is a plain ``torch.save`` dict of tensors, numbers and strings (safe to
read with ``torch.load(..., weights_only=True)``)::

    {"format": "naslib-agnet-generator/1", "search_space": str, "config": {GeneratorConfig fields},
     "state_dict": {name: tensor}, "meta": {...}}

``{search_space}_generator.pt`` beside this file is the shipped generator of a space;
``{search_space}_generator.md`` is its model card.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch

from ..model import GeneratorConfig

FORMAT = "naslib-agnet-generator/1"
WEIGHTS_DIR = Path(__file__).resolve().parent


def shipped_path(search_space: str) -> Path:
    return WEIGHTS_DIR / f"{search_space}_generator.pt"


def save_generator(path: str | os.PathLike[str], search_space: str, config: GeneratorConfig,
                   state_dict: dict, meta: dict) -> None:
    payload = {"format": FORMAT, "search_space": search_space, "config": config.to_dict(),
               "state_dict": {k: v.detach().cpu().clone() for k, v in state_dict.items()}, "meta": meta}
    tmp = Path(f"{path}.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def read_weights_file(path: str | os.PathLike[str]) -> dict:
    """Load and check a weights file (``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"generator weights file {path} does not exist; pass an existing file, "
                                "'default' for the shipped weights, or 'none' for a random generator")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{path} is not a readable generator weights file ({exc}); re-create it with "
                         "'naslib-agnet pretrain'") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not a naslib-agnet generator file (expected format {FORMAT!r})")
    return payload


def load_generator(search_space: str, pretrained: str = "default") -> tuple[dict | None, GeneratorConfig | None]:
    """(state_dict, config) of the generator to start a search from.

    ``pretrained``: ``"default"`` (the shipped weights of ``search_space``), ``"none"``
    (random initialisation: returns ``(None, None)``) or the path of a weights file.
    """
    if pretrained.lower() == "none":
        return None, None
    path = weights_path(search_space, pretrained)
    if pretrained.lower() == "default" and not path.is_file():
        raise FileNotFoundError(f"no shipped generator for search space {search_space!r} ({path} is missing); "
                                "pretrain one with 'naslib-agnet pretrain --search-space "
                                f"{search_space} --out FILE' and pass it as search.agnet.pretrained")
    payload = read_weights_file(path)
    if payload["search_space"] != search_space:
        raise ValueError(f"{path} holds a generator for {payload['search_space']!r}, not {search_space!r}")
    return payload["state_dict"], GeneratorConfig(**payload["config"])


def weights_path(search_space: str, pretrained: str) -> Path:
    """The file ``pretrained`` names: the shipped weights for ``"default"``, else the path itself."""
    return shipped_path(search_space) if pretrained.lower() == "default" else Path(pretrained)


def generator_fingerprint(search_space: str, pretrained: str = "default") -> str | None:
    """The first 16 hex digits of the SHA-256 of the weights file a search starts from (``None`` for
    ``"none"`` or a missing file), so a run record says which weights it used even when the config
    says ``default``."""
    if pretrained.lower() == "none":
        return None
    path = weights_path(search_space, pretrained)
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return None  # a missing file: load_generator reports it with the fix
