"""Findings of an adversarial pass: each bad input is one sentence on stderr, exit 2, and
nothing is written (or replaced)."""

import h5py
import numpy as np
import pytest
import zarr

from tests.decode.oracle import ball_labels, oracle_maps
from tests.infer.predict_fixtures import CONFIG, tiny_checkpoint, tiny_config
from volseg.cli.main import main
from volseg.errors import VolsegError
from volseg.infer.cluster import parse_cluster
from volseg.io import open_volume, write_volume
from volseg.maps import describe


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def one_sentence(code, err, *needles):
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err


@pytest.fixture
def case(tmp_path):
    gt = ball_labels()
    maps = oracle_maps(gt)
    pred = tmp_path / "run" / "predictions.zarr"
    write_volume(pred, maps, voxel_size=(30, 8, 8), kind="maps", attrs=describe(["b", "c", "d"]))
    return tmp_path, pred, gt


# A: --set without --config


def test_decode_set_without_config_is_refused(case, capsys):
    tmp, pred, _ = case
    out = tmp / "labels.zarr"
    code, _, err = run(
        ["decode", str(pred), "--out", str(out), "--decoder", "cc", "--set", "bogus.key=1"],
        capsys,
    )
    one_sentence(code, err, "--set needs --config")
    assert not out.exists()


# B: a sweep against ground truth without instances


def test_sweep_refuses_empty_ground_truth_and_keeps_thresholds(case, capsys):
    tmp, pred, gt = case
    zeros = tmp / "zeros.zarr"
    write_volume(zeros, np.zeros_like(gt), voxel_size=(30, 8, 8), kind="labels")
    earlier = pred.parent / "thresholds.json"
    earlier.write_text('{"earlier": true}')
    code, _, err = run(["decode", str(pred), "--sweep", "thresholds", "--gt", str(zeros)], capsys)
    one_sentence(code, err, "holds no labelled voxels", str(zeros))
    assert earlier.read_text() == '{"earlier": true}'
    assert not (pred.parent / "sweep.csv").exists()


def test_sweep_refuses_ground_truth_empty_inside_the_mask(case, capsys):
    tmp, pred, gt = case
    gt_path = tmp / "gt.zarr"
    write_volume(gt_path, gt, voxel_size=(30, 8, 8), kind="labels")
    mask = tmp / "mask.zarr"
    write_volume(mask, (gt == 0).astype(np.uint8), voxel_size=(30, 8, 8), kind="labels")
    code, _, err = run(
        ["decode", str(pred), "--sweep", "thresholds", "--gt", str(gt_path), "--mask", str(mask)],
        capsys,
    )
    one_sentence(code, err, "inside the mask")
    assert not (pred.parent / "thresholds.json").exists()


def test_evaluate_accepts_empty_ground_truth(case, capsys):
    tmp, _, gt = case
    zeros = tmp / "zeros.zarr"
    write_volume(zeros, np.zeros_like(gt), voxel_size=(30, 8, 8), kind="labels")
    seg = tmp / "seg.zarr"
    write_volume(seg, gt, voxel_size=(30, 8, 8), kind="labels")
    code, _, err = run(["evaluate", str(seg), str(zeros), "--json"], capsys)
    assert code == 0, err


# C: segmentation / maps and ground truth on different grids


def test_evaluate_refuses_different_voxel_sizes(case, capsys):
    tmp, _, gt = case
    seg = tmp / "seg.zarr"
    write_volume(seg, gt, voxel_size=(10, 5, 5), kind="labels")
    gt_path = tmp / "gt.zarr"
    write_volume(gt_path, gt, voxel_size=(30, 8, 8), kind="labels")
    code, _, err = run(["evaluate", str(seg), str(gt_path)], capsys)
    one_sentence(code, err, "same grid", str(seg), str(gt_path))
    mask = tmp / "mask.zarr"
    write_volume(mask, np.ones_like(gt, dtype=np.uint8), voxel_size=(10, 5, 5), kind="labels")
    code, _, err = run(["evaluate", str(gt_path), str(gt_path), "--mask", str(mask)], capsys)
    one_sentence(code, err, "same grid", str(mask))


def test_evaluate_without_recorded_voxel_size_still_works(case, capsys):
    tmp, _, gt = case
    plain = tmp / "plain.h5"
    with h5py.File(plain, "w") as f:
        f["labels"] = gt
    gt_path = tmp / "gt.zarr"
    write_volume(gt_path, gt, voxel_size=(30, 8, 8), kind="labels")
    code, _, err = run(["evaluate", f"{plain}:labels", str(gt_path), "--json"], capsys)
    assert code == 0, err


def test_sweep_refuses_ground_truth_or_mask_on_another_grid(case, capsys):
    tmp, pred, gt = case
    other = tmp / "other.zarr"
    write_volume(other, gt, voxel_size=(10, 5, 5), kind="labels")
    code, _, err = run(["decode", str(pred), "--sweep", "thresholds", "--gt", str(other)], capsys)
    one_sentence(code, err, "same grid")
    gt_path = tmp / "gt.zarr"
    write_volume(gt_path, gt, voxel_size=(30, 8, 8), kind="labels")
    mask = tmp / "mask.zarr"
    write_volume(mask, np.ones_like(gt, dtype=np.uint8), voxel_size=(10, 5, 5), kind="labels")
    code, _, err = run(
        ["decode", str(pred), "--sweep", "thresholds", "--gt", str(gt_path), "--mask", str(mask)],
        capsys,
    )
    one_sentence(code, err, "same grid", str(mask))
    assert not (pred.parent / "thresholds.json").exists()


# D: too many local workers, an empty --block-shape


def test_cluster_refuses_more_workers_than_cores(case, capsys):
    with pytest.raises(VolsegError, match="CPU cores"):
        parse_cluster("local:99999")
    tmp, pred, _ = case
    out = tmp / "labels.zarr"
    code, _, err = run(
        ["decode", str(pred), "--out", str(out), "--decoder", "cc", "--cluster", "local:99999"],
        capsys,
    )
    one_sentence(code, err, "99999", "CPU cores")
    assert not out.exists()


def test_empty_block_shape_is_refused(case, capsys):
    tmp, pred, _ = case
    out = tmp / "labels.zarr"
    code, _, err = run(
        ["decode", str(pred), "--out", str(out), "--decoder", "cc", "--block-shape", ""], capsys
    )
    one_sentence(code, err, "--block-shape")
    assert not out.exists()
    cfg = tmp / "cfg.yaml"
    cfg.write_text(CONFIG)
    for command in ("predict", "segment"):
        argv = [command, str(cfg), "--checkpoint", str(tmp / "none.pt"), "--image", str(pred),
                "--out", str(out), "--block-shape", ""]  # fmt: skip
        code, _, err = run(argv, capsys)
        one_sentence(code, err, "--block-shape")
        assert not out.exists()


# E: messages that name command-line options


def test_h5_with_several_datasets_names_the_colon_key(tmp_path):
    path = tmp_path / "two.h5"
    with h5py.File(path, "w") as f:
        f["a"] = np.zeros((2, 3, 4), np.uint8)
        f["b"] = np.zeros((2, 3, 4), np.uint8)
    with pytest.raises(
        VolsegError, match=r"\['a', 'b'\]; name one after a colon, e.g. .*two.h5:a\."
    ) as info:
        open_volume(path)
    assert "key=," not in str(info.value)


def test_zarr_group_without_arrays_says_so(tmp_path):
    path = tmp_path / "empty_group.zarr"
    zarr.open_group(str(path), mode="w")
    with pytest.raises(VolsegError, match="holds no arrays") as info:
        open_volume(path)
    assert "[]" not in str(info.value)


def test_existing_output_message_names_the_option(case, capsys):
    tmp, pred, _ = case
    out = tmp / "labels.zarr"
    argv = ["decode", str(pred), "--out", str(out), "--decoder", "cc"]
    assert run(argv, capsys)[0] == 0
    code, _, err = run(argv, capsys)
    one_sentence(code, err, "--overwrite")
    assert "overwrite=True" not in err


def test_predict_to_h5_names_the_option(tmp_path, capsys):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(CONFIG)
    ckpt = tiny_checkpoint(tmp_path / "model.pt", tiny_config())
    image = tmp_path / "raw.zarr"
    write_volume(image, np.zeros((8, 32, 32), np.uint8), voxel_size=(10, 5, 5))
    out = tmp_path / "ph.h5"
    argv = ["predict", str(cfg), "--checkpoint", str(ckpt), "--image", str(image),
            "--out", str(out)]  # fmt: skip
    code, _, err = run(argv, capsys)
    one_sentence(code, err, "--out", "zarr store")
    assert "create_volume" not in err
    assert not out.exists()


def test_decode_refuses_writing_into_its_input_h5(case, capsys):
    tmp, _, gt = case
    path = tmp / "mh.h5"
    with h5py.File(path, "w") as f:
        f["maps"] = oracle_maps(gt)
    code, _, err = run(
        ["decode", f"{path}:maps", "--out", f"{path}:labels", "--decoder", "cc"], capsys
    )
    one_sentence(code, err, "choose another file for --out", "also an input")
    with h5py.File(path, "r") as f:
        assert list(f) == ["maps"]


# F: volumes without voxels


def test_empty_volume_is_refused_where_it_is_read(tmp_path, capsys):
    empty = tmp_path / "empty0.zarr"
    zarr.open_array(str(empty), mode="w", shape=(0, 64, 64), chunks=(1, 64, 64), dtype="uint8")
    with pytest.raises(VolsegError, match="empty"):
        open_volume(empty)
    h5 = tmp_path / "empty.h5"
    with h5py.File(h5, "w") as f:
        f["raw"] = np.zeros((4, 0, 8), np.uint8)
    with pytest.raises(VolsegError, match="empty"):
        open_volume(f"{h5}:raw")
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(CONFIG)
    ckpt = tiny_checkpoint(tmp_path / "model.pt", tiny_config())
    out = tmp_path / "o.zarr"
    argv = ["predict", str(cfg), "--checkpoint", str(ckpt), "--image", str(empty),
            "--out", str(out)]  # fmt: skip
    code, _, err = run(argv, capsys)
    one_sentence(code, err, "empty0.zarr", "empty")
    assert not out.exists()


def test_model_summary_refuses_an_empty_shape(tmp_path, capsys):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(CONFIG)
    code, _, err = run(["model", "summary", str(cfg), "--shape", ""], capsys)
    one_sentence(code, err, "--shape")
