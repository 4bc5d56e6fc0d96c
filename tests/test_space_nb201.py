"""The lightweight NB201 space: NASLib's graph methods and rules, without NASLib."""
import numpy as np
import pytest

from naslib_agnet.bridge import Metric, NasBench201Space


def test_random_sampling_follows_naslibs_rule():
    np.random.seed(0)
    space = NasBench201Space()
    seen = set()
    for _ in range(3000):
        space.sample_random_architecture()
        ops = space.get_hash()
        assert not (ops[0] == ops[1] == ops[2] == 1)  # all three edges out of the input are 'none'
        assert not (ops[2] == ops[4] == ops[5] == 1)  # all three edges into the output are 'none'
        seen.add(ops)
    assert len(seen) > 2500


def test_clone_is_independent_and_set_spec_checks_input():
    a = NasBench201Space((0, 1, 2, 3, 4, 0))
    b = a.clone()
    b.set_spec((4, 4, 4, 4, 4, 4))
    assert a.get_hash() == (0, 1, 2, 3, 4, 0)
    assert a.get_arch_str() == "|skip_connect~0|+|none~0|nor_conv_1x1~1|+|nor_conv_3x3~0|avg_pool_3x3~1|skip_connect~2|"
    with pytest.raises(ValueError, match="6 integers in 0..4"):
        b.set_spec((0, 1, 2))
    with pytest.raises(ValueError, match="no architecture yet"):
        NasBench201Space().get_hash()


def test_mutation_and_neighbourhood_change_one_edge():
    np.random.seed(1)
    parent = NasBench201Space((0, 1, 2, 3, 4, 0))
    child = NasBench201Space()
    for _ in range(50):
        child.mutate(parent)
        assert sum(x != y for x, y in zip(child.get_hash(), parent.get_hash())) == 1
    nbhd = parent.get_nbhd()
    hashes = {n.arch.get_hash() for n in nbhd}
    assert len(nbhd) == 24 == len(hashes)
    assert all(sum(x != y for x, y in zip(h, parent.get_hash())) == 1 for h in hashes)


def test_query_needs_the_matching_dataset_api():
    arch = NasBench201Space((0, 1, 2, 3, 4, 0))
    with pytest.raises(ValueError, match="make_nb201_dataset_api"):
        arch.query(Metric.VAL_ACCURACY, "cifar10", dataset_api=None)
