"""The shipped NB201 generator: safe to load, matches the networks, and its model card."""
import pytest
import torch

from naslib_agnet.model import Generator
from naslib_agnet.weights import load_generator, read_weights_file, save_generator, shipped_path


def test_shipped_weights_load_with_weights_only():
    path = shipped_path("nasbench201")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    assert payload["search_space"] == "nasbench201"
    state, config = load_generator("nasbench201", "default")
    Generator(config).load_state_dict(state)  # strict: every tensor matches
    card = path.with_suffix(".md").read_text()
    meta = payload["meta"]
    assert meta["command"] in card and "naslib-agnet pretrain --search-space nasbench201" in meta["command"]
    assert meta["samples_seen"] > 0 and meta["sample_quality_uniform3"]["samples"] == 10_000


def test_pretrained_generator_samples_valid_cells():
    from naslib_agnet.experiments.pretrain import sample_quality
    from naslib_agnet.spaces import get_codec

    state, config = load_generator("nasbench201", "default")
    gen = Generator(config)
    gen.load_state_dict(state)
    quality = sample_quality(gen, get_codec("nasbench201"), num=2000, bound=3.0)
    assert quality["validity"] > 0.95 and quality["uniqueness"] > 0.8


def test_bad_weights_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_generator("nasbench201", str(tmp_path / "missing.pt"))
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="not a readable generator weights file"):
        read_weights_file(junk)
    state, config = load_generator("nasbench201", "default")
    other = tmp_path / "other.pt"
    save_generator(other, "nasbench101", config, state, meta={})
    with pytest.raises(ValueError, match="holds a generator for 'nasbench101'"):
        load_generator("nasbench201", str(other))
    assert load_generator("nasbench201", "none") == (None, None)
