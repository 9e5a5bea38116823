import json
import re

import h5py
import numpy as np
import pytest
import zarr

from volseg.cli.main import main
from volseg.metrics import adapted_rand, contingency, match_instances, semantic, voi
from volseg.metrics.objectives import are_with_background


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", *args])
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


@pytest.fixture
def volumes(tmp_path):
    rng = np.random.default_rng(7)
    gt = np.repeat(rng.integers(0, 9, (6, 12, 4)), 4, axis=2).astype(np.uint32)
    seg = np.roll(gt, 1, axis=1).astype(np.uint64) + np.uint64(2**40) * (gt % 2)
    mask = rng.random(gt.shape) < 0.8
    path = tmp_path / "vols.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("gt", data=gt, chunks=(2, 12, 16))
        f.create_dataset("seg", data=seg)
        f.create_dataset("mask", data=mask)
        f.create_dataset("maps", data=rng.random(gt.shape).astype(np.float32))
        f.create_dataset("small", data=gt[:3])
        f.create_dataset("fmask", data=mask.astype(np.float32))
    return path, gt, seg, mask


def test_json_output_equals_library(capsys, volumes):
    path, gt, seg, mask = volumes
    code, out, err = run(
        capsys, f"{path}:seg", f"{path}:gt", "--mask", f"{path}:mask", "--json",
        "--iou", "0.3,0.5", "--min-size", "5",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    are, precision, recall = adapted_rand(seg, gt, mask=mask)
    assert result["adapted_rand_ignore_bg"] == {
        "are": are,
        "precision": precision,
        "recall": recall,
    }
    with_bg = are_with_background(contingency(seg, gt, mask=mask))
    assert result["adapted_rand_with_bg"]["are"] == with_bg[0]
    fg = semantic(seg > 0, gt > 0, mask=mask)
    assert result["segmentation_foreground"]["iou"] == pytest.approx(fg["iou"])
    assert result["instances"]["segmentation"] == len(set(np.unique(seg[mask])) - {0})
    split, merge = voi(seg, gt, mask=mask)
    assert result["voi"] == {"split": split, "merge": merge, "total": split + merge}
    expected = match_instances(seg, gt, mask=mask, thresholds=(0.3, 0.5), min_size=5)
    assert result["matching"]["thresholds"] == {"0.3": expected[0.3], "0.5": expected[0.5]}
    assert result["shape"] == list(gt.shape)
    assert result["voxels_scored"] == int(mask.sum())


def test_table_output_and_zarr_input(capsys, volumes, tmp_path):
    path, gt, seg, _ = volumes
    z = zarr.open_group(tmp_path / "labels.zarr", mode="w")
    z.create_array("seg", shape=seg.shape, dtype=seg.dtype, chunks=(3, 12, 16))[...] = seg
    code, out, err = run(capsys, str(tmp_path / "labels.zarr" / "seg"), f"{path}:gt")
    assert code == 0, err
    are = adapted_rand(seg, gt)[0]
    assert "adapted Rand error" in out and f"{are:.4f}" in out
    assert "AP-dsb" in out and "AP (MitoEM)" in out and "0.75" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("{p}:small", "{p}:gt"), r"shape \(3, 12, 16\) but ground truth .* has shape"),
        (("{p}:maps", "{p}:gt"), "holds float32 values; volseg evaluate needs instance labels"),
        (("{p}:seg", "{p}:maps"), "ground truth .* holds float32"),
        (("{p}:seg", "{p}:gt", "--mask", "{p}:fmask"), "needs a boolean or integer mask"),
        (("{p}:seg", "{p}:gt", "--mask", "{p}:small"), r"mask .* has shape \(3, 12, 16\)"),
        (("{p}:seg", "{p}:gt", "--iou", "0.5,x"), "--iou takes numbers"),
        (("{p}:seg", "{p}:gt", "--iou", "0"), r"--iou values must be in \(0, 1\]"),
        (("{p}:seg", "{p}:gt", "--min-size", "-1"), "--min-size must be >= 0"),
        (("{p}:seg", "{p}:gt", "--seg-background", "x"), "seg_background must be one of"),
        (("{p}:seg", "{p}:nothing"), "nothing"),
    ],
)
def test_bad_input_exits_2_with_one_sentence(capsys, volumes, args, message):
    path = volumes[0]
    code, out, err = run(capsys, *(a.format(p=path) for a in args))
    assert code == 2
    assert err.startswith("volseg: error:") and err.count("\n") == 1
    assert re.search(message, err), err


def test_empty_ground_truth_is_an_error(capsys, tmp_path):
    path = tmp_path / "empty.h5"
    with h5py.File(path, "w") as f:
        f["gt"] = np.zeros((2, 3, 4), np.uint8)
        f["seg"] = np.ones((2, 3, 4), np.uint8)
    code, out, err = run(capsys, f"{path}:seg", f"{path}:gt", "--json")
    assert code == 0, err
    result = json.loads(out)  # no object: only the scores that count background are defined
    assert "adapted_rand_ignore_bg" not in result and "voi" not in result
    assert result["adapted_rand_with_bg"]["are"] == 1.0
    assert result["segmentation_foreground"]["iou"] == 0.0
    assert result["instances"] == {"segmentation": 1, "ground_truth": 0}


def test_instance_metric_on_a_semantic_mask_exits_2(capsys, tmp_path):
    path = tmp_path / "sem.h5"
    with h5py.File(path, "w") as f:
        f["gt"] = np.zeros((2, 3, 4), bool)
        f["seg"] = np.ones((2, 3, 4), np.uint8)
    code, _, err = run(capsys, f"{path}:seg", f"{path}:gt")
    assert code == 2 and "needs instance labels" in err and "semantic (boolean) mask" in err
    code, _, err = run(capsys, f"{path}:seg", f"{path}:gt", "--metrics", "semantic")
    assert code == 0, err
    code, _, err = run(capsys, f"{path}:seg", f"{path}:gt", "--metrics", "dice")
    assert code == 2 and "unknown metric `dice`" in err
