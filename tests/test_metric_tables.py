"""The user metric-table format (docs/metric_tables.md): key forms, BOM, text columns, metadata lines
(dataset, input size, units) and the errors that name the file's real line numbers."""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from naslib_agnet.benchmarks.errors import BenchmarkDataError
from naslib_agnet.benchmarks.metrics import load_metric_table

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "metric_table_nb201.csv"
IN16 = "ImageNet16-120"
# two real NB201 cells: NASLib op indices and the official arch string of each
A = ((4, 3, 3, 0, 0, 0),
     "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|")
B = ((2, 2, 0, 4, 2, 0),
     "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")


def _write(tmp_path, text, name="t.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _dash(key):
    return "-".join(map(str, key))


def test_the_example_table_loads_with_units_notes_and_its_dataset():
    table = load_metric_table(str(EXAMPLE), dataset=IN16)
    assert len(table) == 10 and table.metric_names == ["gpu_latency", "robust_acc"]
    assert table.units == {"gpu_latency": "ms", "robust_acc": "%"}
    assert table.declared == {"datasets": [IN16], "input_size": None,
                              "units": {"gpu_latency": "ms", "robust_acc": "%"}}
    assert len(table.notes) == 1 and "'arch_str'" in table.notes[0] and "ignored" in table.notes[0]
    assert A[0] in table and B[0] in table
    assert "(ms)" in table.splits["gpu_latency"] and "(%)" in table.splits["robust_acc"]
    assert np.isnan(table.values("robust_acc")).sum() == 1  # one unmeasured cell in the example
    with pytest.raises(BenchmarkDataError, match="made for ImageNet16-120 .* the run is on cifar10"):
        load_metric_table(str(EXAMPLE), dataset="cifar10")


def test_a_header_with_a_byte_order_mark_loads(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(("\ufeffnaslib_op_indices,gpu_latency\n" + f"{_dash(A[0])},1.5\n").encode("utf-8"))
    table = load_metric_table(str(path))
    assert table.keys() == [A[0]] and table.values("gpu_latency").tolist() == [1.5]
    # a BOM before a metadata line, too
    path.write_bytes(("\ufeff# dataset: cifar10\nnaslib_op_indices,gpu_latency\n" + f"{_dash(A[0])},1.5\n")
                     .encode("utf-8"))
    assert load_metric_table(str(path), dataset="cifar10").declared["datasets"] == ["cifar10"]


@pytest.mark.parametrize("cells", [
    ['"(4, 3, 3, 0, 0, 0)"', '"(2, 2, 0, 4, 2, 0)"'],
    ['"[4, 3, 3, 0, 0, 0]"', '"[2,2,0,4,2,0]"'],
    ['"4,3,3,0,0,0"', '"2, 2, 0, 4, 2, 0"'],
    ["4 3 3 0 0 0", " 2 2 0 4 2 0 "],
    ["(4-3-3-0-0-0)", "2-2-0-4-2-0"],
])
def test_every_accepted_key_form_gives_the_keys_of_the_dash_form(tmp_path, cells):
    dash = load_metric_table(str(_write(tmp_path, f"naslib_op_indices,gpu_latency\n{_dash(A[0])},1\n"
                                                  f"{_dash(B[0])},2\n", "dash.csv")))
    other = load_metric_table(str(_write(tmp_path, f"naslib_op_indices,gpu_latency\n{cells[0]},1\n{cells[1]},2\n")))
    assert other.keys() == dash.keys() == [A[0], B[0]]
    assert other.values("gpu_latency").tolist() == [1.0, 2.0]


def test_an_arch_str_column_is_the_key_when_there_is_no_naslib_op_indices(tmp_path):
    table = load_metric_table(str(_write(tmp_path, f"arch_str,gpu_latency\n{A[1]},1\n{B[1]},2\n")))
    assert table.keys() == [A[0], B[0]] and table.metric_names == ["gpu_latency"] and table.notes == []
    bad = _write(tmp_path, f"# dataset: cifar10\narch_str,gpu_latency\n{A[1]},1\n|conv~0|+|x|,2\n", "bad.csv")
    with pytest.raises(BenchmarkDataError) as info:
        load_metric_table(str(bad))
    msg = str(info.value)
    assert f"{bad}, line 4" in msg and "column 'arch_str'" in msg and "|conv~0|+|x|" in msg


def test_with_both_key_columns_arch_str_must_agree(tmp_path):
    table = load_metric_table(str(_write(tmp_path, f"naslib_op_indices,arch_str,gpu_latency\n"
                                                   f"{_dash(A[0])},{A[1]},1\n{_dash(B[0])},{B[1]},2\n")))
    assert table.keys() == [A[0], B[0]] and table.metric_names == ["gpu_latency"]
    assert any("'arch_str'" in note for note in table.notes)
    path = _write(tmp_path, f"naslib_op_indices,arch_str,gpu_latency\n{_dash(A[0])},{A[1]},1\n"
                            f"{_dash(B[0])},{A[1]},2\n", "disagree.csv")
    with pytest.raises(BenchmarkDataError, match=r"line 3: .*'arch_str'.*4-3-3-0-0-0.*2-2-0-4-2-0"):
        load_metric_table(str(path))


def test_a_malformed_key_names_file_line_column_and_the_accepted_forms(tmp_path):
    path = _write(tmp_path, f"# units: gpu_latency=ms\n\nnaslib_op_indices,gpu_latency\n{_dash(A[0])},1\n"
                            "4-3-3-0-0-7,2\n")
    with pytest.raises(BenchmarkDataError) as info:
        load_metric_table(str(path))
    msg = str(info.value)
    assert f"{path}, line 5: column 'naslib_op_indices' has the malformed key '4-3-3-0-0-7'" in msg
    for form in ("4-0-3-1-4-3", "(4, 0, 3, 1, 4, 3)", "[4, 0, 3, 1, 4, 3]", "4,0,3,1,4,3"):
        assert form in msg


def test_a_text_column_is_ignored_with_a_note(tmp_path):
    path = _write(tmp_path, f"naslib_op_indices,device,gpu_latency,comment\n{_dash(A[0])},jetson,1.5,\n"
                            f"{_dash(B[0])},jetson,2.5,slow run\n")
    table = load_metric_table(str(path))
    assert table.metric_names == ["gpu_latency"] and table.units == {"gpu_latency": "ms"}
    assert any("column 'device' is text; ignored" in note for note in table.notes)
    assert any("column 'comment' is text; ignored" in note for note in table.notes)
    only_text = _write(tmp_path, f"naslib_op_indices,device\n{_dash(A[0])},jetson\n", "text.csv")
    with pytest.raises(BenchmarkDataError, match="no metric column.*'device'"):
        load_metric_table(str(only_text))


@pytest.mark.parametrize("cells, line, value", [(["1.5", "fast", "2"], 4, "fast"), (["fast", "1.5", ""], 3, "fast")])
def test_a_column_of_numbers_and_text_fails_naming_the_real_line(tmp_path, cells, line, value):
    path = _write(tmp_path, "# dataset: cifar10\nnaslib_op_indices,score\n"
                            + "".join(f"{k},{c}\n" for k, c in zip(("4-3-3-0-0-0", "2-2-0-4-2-0", "0-0-0-0-0-0"),
                                                                    cells)))
    with pytest.raises(BenchmarkDataError, match=rf"{re.escape(str(path))}, line {line}: column 'score' has the non-numeric "
                                                 rf"value '{value}'"):
        load_metric_table(str(path), dataset="cifar10")


def test_a_declared_dataset_must_match_the_run(tmp_path):
    path = _write(tmp_path, f"# made by me\n# dataset: cifar10\nnaslib_op_indices,gpu_latency\n{_dash(A[0])},1\n")
    with pytest.raises(BenchmarkDataError) as info:
        load_metric_table(str(path), dataset="cifar100")
    msg = str(info.value)
    assert f"{path}, line 2" in msg and "made for cifar10" in msg and "the run is on cifar100" in msg
    assert "{dataset}" in msg and "remove the line" in msg
    assert load_metric_table(str(path), dataset="CIFAR10").declared["datasets"] == ["cifar10"]
    assert len(load_metric_table(str(path))) == 1  # no run dataset given: nothing to compare
    several = _write(tmp_path, f"# dataset: cifar10, ImageNet16\nnaslib_op_indices,gpu_latency\n{_dash(A[0])},1\n",
                     "several.csv")
    assert load_metric_table(str(several), dataset=IN16).declared["datasets"] == ["cifar10", IN16]
    with pytest.raises(BenchmarkDataError, match="made for cifar10, ImageNet16-120 .* the run is on cifar100"):
        load_metric_table(str(several), dataset="cifar100")
    unknown = _write(tmp_path, f"# dataset: mnist\nnaslib_op_indices,gpu_latency\n{_dash(A[0])},1\n", "u.csv")
    with pytest.raises(BenchmarkDataError, match=r"line 1: .*'mnist'"):
        load_metric_table(str(unknown))


def test_a_declared_input_size_must_match_the_run(tmp_path):
    path = _write(tmp_path, f"# input_size: 32\nnaslib_op_indices,gpu_latency\n{_dash(A[0])},1\n")
    assert load_metric_table(str(path), dataset="cifar100").declared["input_size"] == 32
    with pytest.raises(BenchmarkDataError) as info:
        load_metric_table(str(path), dataset=IN16)
    msg = str(info.value)
    assert f"{path}, line 1" in msg and "32x32" in msg and IN16 in msg and "16x16" in msg
    clash = _write(tmp_path, f"# dataset: cifar10\n# input_size: 16\nnaslib_op_indices,gpu_latency\n{_dash(A[0])},1\n",
                   "clash.csv")
    with pytest.raises(BenchmarkDataError, match="line 2: .*16.*cifar10"):
        load_metric_table(str(clash))


def test_declared_units_override_the_guess_from_the_name(tmp_path):
    path = _write(tmp_path, "# units: gpu_latency=s, top1_acc=fraction, score=points\n"
                            f"naslib_op_indices,gpu_latency,top1_acc,score,gpu_energy,other\n"
                            f"{_dash(A[0])},0.012,0.71,3,1.5,7\n")
    table = load_metric_table(str(path))
    assert table.units == {"gpu_latency": "s", "top1_acc": "fraction", "score": "points", "gpu_energy": "mJ",
                           "other": None}
    assert table.declared["units"] == {"gpu_latency": "s", "top1_acc": "fraction", "score": "points"}
    assert "(s)" in table.splits["gpu_latency"] and "(ms)" not in table.splits["gpu_latency"]
    # a latency in seconds still must not be negative, and the message says seconds
    negative = _write(tmp_path, f"# units: gpu_latency=s\nnaslib_op_indices,gpu_latency\n{_dash(A[0])},-0.5\n", "n.csv")
    with pytest.raises(BenchmarkDataError, match=r"line 3: column 'gpu_latency' has value '-0.5', out of range: "
                                                 r"expected a latency in s >= 0"):
        load_metric_table(str(negative))
    # a column with a declared unit is a metric: text in it is an error, not a text column
    text = _write(tmp_path, f"# units: device=name\nnaslib_op_indices,device,gpu_latency\n{_dash(A[0])},x,1\n", "x.csv")
    with pytest.raises(BenchmarkDataError, match="line 3: column 'device' has the non-numeric value 'x'"):
        load_metric_table(str(text))
    typo = _write(tmp_path, f"# units: gpu_latncy=ms\nnaslib_op_indices,gpu_latency\n{_dash(A[0])},1\n", "typo.csv")
    with pytest.raises(BenchmarkDataError, match=r"line 1: .*'gpu_latncy'.*gpu_latency"):
        load_metric_table(str(typo))


def test_range_checks_still_bite_with_metadata_lines(tmp_path):
    head = "# a comment\n# units: robust_acc=%\n\nnaslib_op_indices,robust_acc,neg_robust_acc,gpu_latency\n"
    acc = _write(tmp_path, head + f"{_dash(A[0])},40,-40,1\n{_dash(B[0])},150,-150,2\n", "acc.csv")
    with pytest.raises(BenchmarkDataError, match=r"acc.csv, line 6: column 'robust_acc' has value '150', out of "
                                                 r"range: expected an accuracy in percent in \[0, 100\]"):
        load_metric_table(str(acc))
    lat = _write(tmp_path, head + f"{_dash(A[0])},40,-40,1\n{_dash(B[0])},50,-150,-2\n", "lat.csv")
    with pytest.raises(BenchmarkDataError, match=r"lat.csv, line 6: column 'gpu_latency' has value '-2', out of "
                                                 r"range: expected a latency in ms >= 0"):
        load_metric_table(str(lat))
    ok = load_metric_table(str(_write(tmp_path, head + f"{_dash(A[0])},40,-40,1\n{_dash(B[0])},nan,-150,\n",
                                      "ok.csv")))
    assert ok.values("neg_robust_acc").tolist() == [-40.0, -150.0]
    assert math.isnan(ok.values("robust_acc")[1]) and math.isnan(ok.values("gpu_latency")[1])


def test_hw_nas_bench_tables_get_units_and_no_notes(data_dir):
    table = load_metric_table("hw-nas-bench", data_dir, "cifar10")
    assert len(table) == 15_625 and table.notes == []
    assert table.declared == {"datasets": [], "input_size": None, "units": {}}
    assert table.units["edgegpu_latency"] == "ms" and table.units["edgegpu_energy"] == "mJ"
    assert table.units["eyeriss_arithmetic_intensity"] is None and "nb201_index" not in table.units
