"""AG-Net on the DARTS space: the two-input generator's first steps, the two-phase search (spec §5.6),
the NASLib-protocol space (sampling, mutation, neighbourhood, query), NASLib's nb301_model layout, and
a short search end to end on the real YAHPO surrogate."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from naslib_agnet.model import GeneratorConfig, TwoInputGenerator, build_generator
from naslib_agnet.search import AGNetSearch, AGNetSettings
from naslib_agnet.spaces import darts, get_codec
from naslib_agnet.spaces.base import sample_discrete

pytest.importorskip("onnxruntime", reason="the NB301 surrogate needs onnxruntime (installed by make setup)")

CODEC = get_codec("nasbench301")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def api(data_dir):
    from naslib_agnet.bridge.darts_space import make_nb301_dataset_api

    return make_nb301_dataset_api(data_dir)


def test_the_darts_generator_has_the_specs_size_and_first_steps():
    gen = build_generator(GeneratorConfig.for_codec(CODEC))
    assert isinstance(gen, TwoInputGenerator)
    assert sum(p.numel() for p in gen.parameters()) == 56_558  # spec §2.1
    z = torch.randn(64, 32, generator=torch.Generator().manual_seed(0))
    nodes, edges = gen.generate(z)
    assert nodes.shape == (64, 11, 11) and edges.shape == (64, 55)
    assert (nodes[:, 0].argmax(1) == 1).all()  # node 0 is input
    assert torch.equal(edges[:, 0], torch.full((64,), -1.0))  # 0->1 fixed to -1
    assert torch.equal(edges[:, 1:3], torch.tensor([1.0, -1.0]).expand(64, 2))  # 0->2 +1, 1->2 -1
    assert nodes[:, 1].std(0).max() > 0  # node 1's type is learned
    # one graph's output does not depend on its batch-mates
    single = gen.generate(z[5:6])
    torch.testing.assert_close(single[1], edges[5:6])


def run_search(oracle, queries, seed=0, **loop):
    settings = AGNetSettings.build(space="nasbench301", loop={"retrain_epochs": 1, **loop})
    search = AGNetSearch(CODEC, settings, seed=seed)
    rng = np.random.default_rng(seed)
    for arch in CODEC.sample(rng, 16):
        search.observe(arch, oracle.query(arch)["val_acc"])
    batches = []
    while len(search.archs) < queries:
        batch = search.propose()
        assert batch, "the search must propose"
        batches.append((len(search.archs), search.cell, list(search.fixed_cells), batch))
        for arch in batch:
            search.observe(arch, oracle.query(arch)["val_acc"])
    return search, batches


def test_the_search_generates_the_normal_cell_then_the_reduction_cell(api):
    search, batches = run_search(api["oracle"], 96, phase_switch=48)
    assert AGNetSettings.build(space="nasbench301").loop.phase_switch == 160  # spec §5.6
    first = [b for b in batches if b[0] < 48]
    second = [b for b in batches if b[0] >= 48]
    assert first and second
    reduce_fixed = first[0][2][1]
    for size, cell, fixed, batch in first:
        assert cell == 0 and fixed[1] == reduce_fixed
        assert all(arch[1] == reduce_fixed for arch in batch)  # phase 1: the reduction cell stays fixed
    best_at_switch = max(zip(search.scores[:48], search.archs[:48]))[1]
    for size, cell, fixed, batch in second:
        assert cell == 1 and fixed[0] == best_at_switch[0]
        assert all(arch[0] == best_at_switch[0] for arch in batch)  # phase 2: the best normal cell fixed
        assert len({arch[1] for arch in batch}) == len(batch)  # QUIRK-7 fixed: no duplicate in a batch
    assert len(set(search.archs)) == len(search.archs)
    assert all(darts.why_invalid(a) is None and darts.canonical(a) == a for a in search.archs)
    assert [it["cell"] for it in search.timings.per_iteration][:1] == ["normal"]
    assert search.timings.per_iteration[-1]["cell"] == "reduce"


def test_retraining_reconstructs_the_active_cell(api):
    search, _ = run_search(api["oracle"], 48, phase_switch=32)
    assert search.cell == 1
    nodes, edges = search.observations().nodes, search.observations().edges
    expected = CODEC.encode([a[1] for a in search.archs])
    assert (nodes == expected[0]).all() and (edges == expected[1]).all()


def test_the_search_settings_of_the_darts_space():
    loop = AGNetSettings.build(space="nasbench301").loop
    assert (loop.retrain_epochs, loop.chunk_size, loop.max_chunks, loop.node_loss_weight) == (15, 1000, 4, 2.0)
    assert AGNetSettings.build(space="nasbench201").loop.node_loss_weight == 1.0


# ------------------------------------------------------------------ the NASLib-protocol space
def test_the_space_samples_mutates_and_neighbours_like_naslib(api):
    from naslib_agnet.bridge.darts_space import NasBench301Space

    np.random.seed(0)
    graph = NasBench301Space()
    graph.sample_random_architecture()
    arch = graph.get_hash()
    assert darts.why_invalid(arch) is None and darts.canonical(arch) == arch
    for _ in range(200):
        child = NasBench301Space()
        child.mutate(graph)
        diff = sum(p != q for a, b in zip(arch, child.get_hash()) for p, q in zip(a, b))
        assert child.get_hash() != arch and darts.why_invalid(child.get_hash()) is None
        assert 1 <= diff <= 2  # one pair changed (the other may move when the pair is re-sorted)
    nbhd = [n.arch.get_hash() for n in graph.get_nbhd()]
    assert len(nbhd) == len(set(nbhd)) and arch not in nbhd
    # 16 pairs x 6 other ops, plus every other input a pair can take
    inputs = sum(len([s for s in range(j // 2 + 2) if s not in (cell[j][0], cell[j ^ 1][0])])
                 for cell in arch for j in range(8))
    assert len(nbhd) == 16 * 6 + inputs
    assert graph.query("VAL_ACCURACY", dataset_api=api) == api["oracle"].query(arch)["val_acc"]
    assert graph.query("TRAIN_TIME", dataset_api=api) == api["oracle"].query(arch)["runtime"]
    assert graph.query("TEST_ACCURACY", dataset_api=api) == -1
    assert graph.get_arch_str().startswith("Genotype(normal=[")


def test_naslibs_nb301_model_layout_reads_the_same_numbers(api):
    arch = darts.sample(np.random.default_rng(4))
    genotype = darts.compact_to_genotype(arch)
    perf, runtime = api["nb301_model"]
    assert perf.predict(config=genotype, representation="genotype") == api["oracle"].query(arch)["val_acc"]
    assert runtime.predict(config=darts.compact_to_config(arch), representation="configspace") == \
        api["oracle"].query(arch)["runtime"]
    with pytest.raises(ValueError, match="deterministic"):
        perf.predict(config=genotype, representation="genotype", with_noise=True)


# ------------------------------------------------------------------ end to end
def test_a_short_search_runs_end_to_end_on_the_surrogate(data_dir, tmp_path):
    from naslib_agnet.experiments.config import load_config
    from naslib_agnet.experiments.runner import run_search

    config = load_config(REPO / "configs" / "agnet_nb301_cifar10.yaml",
                             ["out_dir", str(tmp_path), "search.epochs", "40", "search.agnet.pretrained", "none",
                              "search.agnet.loop.phase_switch", "24", "search.agnet.loop.retrain_epochs", "1"])
    result = run_search(config, data_dir, progress="off")
    summary = json.loads((result.path / "summary.json").read_text())
    queries = summary["queries"]
    assert len(queries) == 40 and summary["finished"]
    assert "substitute" in summary["splits"]["val_acc"]
    for q in queries:
        arch = darts.canonical(q["arch"])
        assert darts.genotype_str_to_arch(q["arch_str"]) == arch
        assert q["test_acc"] is None and 85 < q["val_acc"] < 95
    assert darts.genotype_str_to_arch(summary["best"]["arch_str"]) == darts.canonical(queries[-1]["best_arch"])
    assert summary["agnet"]["random_fallbacks"] == 0
    from naslib_agnet.experiments.report import headline, run_report

    assert "substitute surrogate" in headline(summary)
    run_report(tmp_path, out=tmp_path / "report")
    assert "Substitute benchmark: " in (tmp_path / "report" / "results.md").read_text()


def test_pretraining_on_random_cells_writes_weights_a_search_starts_from(tmp_path):
    from naslib_agnet.experiments.pretrain import pretrain_defaults, run_pretrain
    from naslib_agnet.weights import load_generator

    assert pretrain_defaults("nasbench301") == {"samples": 10_000_000, "batch_size": 256}  # spec §4
    out = tmp_path / "g.pt"
    meta = run_pretrain("nasbench301", out, samples=512, seed=0, batch_size=256, lr=2e-4, command="test",
                        progress=False, cells=1000)
    assert meta["steps"] == 2 and meta["training_cells"] == 1000
    assert "random valid cells" in meta["training_data"] and "random valid cells" in out.with_suffix(".md").read_text()
    assert 0.0 <= meta["sample_quality_uniform3"]["validity"] <= 1.0
    state, cfg = load_generator("nasbench301", str(out))
    assert (cfg.input_nodes, cfg.gnn_layers) == (2, 4)
    search = AGNetSearch(CODEC, AGNetSettings.build(space="nasbench301"), generator_state=state, generator_config=cfg)
    assert isinstance(search.generator, TwoInputGenerator)


# ------------------------------------------------------------------ baselines on DARTS
def test_naslibs_darts_path_encoding_by_hand():
    from naslib_agnet.baselines.encodings_darts import (ADJACENCY_LENGTH, MAX_PATHS, PATH_ENCODING_LENGTH,
                                                         encode_adjacency_one_hot, encode_paths, path_indices)

    assert (MAX_PATHS, PATH_ENCODING_LENGTH, ADJACENCY_LENGTH) == (2801, 11204, 114)
    # normal cell: a chain 0 -> 2 -> 3 -> 4 -> 5 next to input 1 at every node
    chain = ((0, 3), (1, 0), (1, 1), (2, 2), (1, 4), (3, 5), (1, 6), (4, 2))
    flat = ((0, 0), (1, 0), (0, 0), (1, 0), (0, 0), (1, 0), (0, 0), (1, 0))
    arch = (chain, flat)
    # chain paths: [0: sep3], node 3 via 2: [0: sep3, skip], node 4 via 3: [.., dil3], node 5 (pair 7 dropped by NASLib)
    b = lambda cell, start, ops: (2 * cell + start) * MAX_PATHS + sum(7 ** j * (o + 1) for j, o in enumerate(ops))
    expected = {b(0, 0, (3,)), b(0, 1, (0,)), b(0, 1, (1,)), b(0, 0, (3, 2)), b(0, 1, (0, 2)), b(0, 1, (4,)),
                b(0, 0, (3, 2, 5)), b(0, 1, (0, 2, 5)), b(0, 1, (1, 5)), b(0, 1, (6,)),
                b(1, 0, (0,)), b(1, 1, (0,))}
    assert set(path_indices(arch)) == expected
    full = set(path_indices(arch, naslib_compatible=False))
    assert full - expected == {b(0, 0, (3, 2, 5, 2)), b(0, 1, (0, 2, 5, 2)), b(0, 1, (1, 5, 2)), b(0, 1, (4, 2))}
    enc = encode_paths([arch, arch])
    assert enc.shape == (2, 11204) and set(np.flatnonzero(enc[0])) == expected
    adj = encode_adjacency_one_hot(arch)
    matrix = adj[:49].reshape(7, 7)
    assert matrix[0, 2] == matrix[1, 2] == matrix[2, 3] == matrix[3, 4] == matrix[4, 5] == 1
    assert matrix[:, 6].tolist() == [0, 0, 1, 1, 1, 1, 0] and matrix.sum() == 12
    assert adj[49:57].tolist() == [op for _, op in chain]


@pytest.mark.parametrize("name", ["rs", "re", "ls", "bananas", "npenas"])
def test_every_builtin_baseline_searches_the_darts_space(api, name):
    from naslib_agnet.bridge.darts_space import NasBench301Space
    from naslib_agnet.experiments.registry import get_optimizer_factory

    np.random.seed(0)
    torch.manual_seed(0)
    cls = get_optimizer_factory(name, "builtin")
    search = {"epochs": 40, "num_init": 10, "k": 5, "num_ensemble": 2, "mlp_epochs": 5, "population_size": 10,
              "sample_size": 4, "num_candidates": 20}
    opt = cls({"dataset": "cifar10", "search": {k: v for k, v in search.items()
                                                 if k in cls({"dataset": "cifar10", "search": {}}).config["search"]
                                                 or k in ("epochs",)}})
    opt.adapt_search_space(NasBench301Space(), dataset_api=api)
    for epoch in range(40):
        opt.new_epoch(epoch)
    hashes = [m.arch.get_hash() for m in opt.history]
    assert len(hashes) == 40 and all(darts.why_invalid(h) is None for h in hashes)
    assert [m.accuracy for m in opt.history] == [api["oracle"].query(h)["val_acc"] for h in hashes]


def test_models_fitted_apart_see_every_cell_of_a_darts_architecture():
    from naslib_agnet.search.scorers import discrete_encoding
    from naslib_agnet.search.scorers.base import architecture_encoding

    rng = np.random.default_rng(6)
    a, b = darts.sample(rng), darts.sample(rng)
    same_normal = (a[0], b[1])  # differs from a in the reduction cell only
    nodes, edges = CODEC.encode([a[0], same_normal[0]])
    enc = architecture_encoding(CODEC, [a, same_normal], nodes, edges)
    assert enc.shape == (2, 2 * (11 * 11 + 55))
    assert not np.array_equal(enc[0], enc[1])
    np.testing.assert_array_equal(enc[:, :176], discrete_encoding(CODEC, nodes, edges).numpy())
    nb201 = get_codec("nasbench201")
    n2, e2 = nb201.encode([(0, 1, 2, 3, 4, 0)])
    np.testing.assert_array_equal(architecture_encoding(nb201, [(0, 1, 2, 3, 4, 0)], n2, e2),
                                  discrete_encoding(nb201, n2, e2).numpy())


# ------------------------------------------------------------------ pinned details (from a mutation review)
def test_sampling_mutation_and_neighbourhood_cover_the_space_as_naslibs_rules_do(api):
    from naslib_agnet.bridge.darts_space import NasBench301Space

    np.random.seed(1)
    ops, pairs_by_node = set(), {d: set() for d in darts.INTERMEDIATE_NODES}
    for _ in range(300):
        graph = NasBench301Space()
        graph.sample_random_architecture()
        for cell in graph.get_hash():
            for j, (source, op) in enumerate(cell):
                ops.add(op)
                pairs_by_node[j // 2 + 2].add(source)
    assert ops == set(range(7))
    assert all(pairs_by_node[d] == set(range(d)) for d in darts.INTERMEDIATE_NODES)
    parent = NasBench301Space()
    parent.sample_random_architecture()
    neighbours = {n.arch.get_hash() for n in parent.get_nbhd()}
    children = set()
    for _ in range(6000):
        child = NasBench301Space()
        child.mutate(parent)
        children.add(child.get_hash())
    assert children == neighbours  # a rate-1 mutation reaches exactly the neighbourhood
    np.random.seed(2)
    first = [n.arch.get_hash() for n in parent.get_nbhd()]
    second = [n.arch.get_hash() for n in parent.get_nbhd()]
    assert first != second and set(first) == set(second)  # shuffled, as NASLib's


def test_dataset_names_files_and_the_compact_representation(api, data_dir):
    from naslib_agnet.bridge.darts_space import canonical_dataset, data_files

    assert canonical_dataset(" CIFAR10 ") == "cifar10" and canonical_dataset("Cifar10-Official") == "cifar10-official"
    files = data_files(data_dir, "cifar10")
    assert [p.name for p in files] == ["model_v2.onnx", "encoding_v2.json"]
    assert all(p.parent.name == "yahpo-nb301-v2" for p in files)
    assert data_files(data_dir, "cifar10-official") == []  # not here
    arch = darts.sample(np.random.default_rng(8))
    loose = tuple(tuple(cell[j ^ 1] if j in (6, 7) else cell[j] for j in range(8)) for cell in arch)
    perf = api["nb301_model"][0]
    assert perf.predict(config=loose, representation="compact") == api["oracle"].query(arch)["val_acc"]
    with pytest.raises(ValueError, match="representation"):
        perf.predict(config=arch, representation="naslib")


def test_the_darts_generator_reads_node_1_alone_at_step_2_and_passes_messages_from_step_3():
    gen = build_generator(GeneratorConfig.for_codec(CODEC))
    calls = []
    forward = gen.gnn.forward
    gen.gnn.forward = lambda h, adj, biases=None: calls.append(h.shape[1]) or forward(h, adj, biases)
    z = torch.randn(4, 32, generator=torch.Generator().manual_seed(1))
    nodes, _ = gen.generate(z)
    assert calls == list(range(3, 11))  # message passing from step 3 on, over t nodes
    # step 1 reads node 0's state, step 2 node 1's alone (no gate), then the gated readouts
    assert [gen._single_node_readout(t) for t in (1, 2, 3)] == [0, 1, None]


def test_the_phase_follows_the_count_of_observations_exactly(api):
    search = AGNetSearch(CODEC, AGNetSettings.build(space="nasbench301", loop={"phase_switch": 48}), seed=0)
    rng = np.random.default_rng(3)
    bounds = []
    search.generator.sample_latent = (lambda original: lambda num, generator=None, bound=None:
                                      bounds.append(bound) or original(num, generator=generator, bound=bound)
                                      )(search.generator.sample_latent)
    for arch in CODEC.sample(rng, 47):
        search.observe(arch, api["oracle"].query(arch)["val_acc"])
    search._update_phase()
    assert search.cell == 0 and bounds and set(bounds) == {search.settings.loop.latent_bound}
    arch = CODEC.sample(rng, 1)[0]
    search.observe(arch, api["oracle"].query(arch)["val_acc"])
    search._update_phase()
    assert search.cell == 1
    for arch in CODEC.sample(rng, 200):
        search.observe(arch, 90.0)
    search._update_phase()
    assert search.cell == 1  # the last cell to the end


def test_an_untrained_generator_without_valid_cells_falls_back_to_random_cells():
    search = AGNetSearch(CODEC, AGNetSettings.build(space="nasbench301"), seed=0)
    search.codec = type("NoValid", (type(CODEC),), {"decode": lambda self, *a, **k: [None] * len(a[0])})()
    cells = search._generated_cells(2, tries=2)
    assert len(cells) == 2 and all(darts.why_invalid_cell(c) is None for c in cells)
