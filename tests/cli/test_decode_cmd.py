import json
import re

import h5py
import numpy as np
import pytest

from tests.decode.oracle import ball_labels, oracle_maps
from volseg.cli.main import main
from volseg.io import open_volume, write_volume
from volseg.maps import describe, quantize


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


@pytest.fixture
def case(tmp_path):
    gt = ball_labels()
    maps = oracle_maps(gt)
    run_dir = tmp_path / "run"
    pred = run_dir / "predictions.zarr"
    write_volume(pred, maps, voxel_size=(30, 8, 8), kind="maps", attrs=describe(["b", "c", "d"]))
    gt_path = tmp_path / "gt.h5"
    with h5py.File(gt_path, "w") as f:
        f["labels"] = gt
    return run_dir, pred, f"{gt_path}:labels", gt


def test_decode_with_explicit_thresholds(case, tmp_path, capsys):
    run_dir, pred, _, gt = case
    out = tmp_path / "labels.zarr"
    code, stdout, _ = run(
        [
            "decode", str(pred), "--out", str(out), "--binary-threshold", "0.9,0.85",
            "--distance-threshold", "0.5,0", "--min-seed-size", "4",
        ],
        capsys,
    )  # fmt: skip
    assert code == 0
    assert "command-line options" in stdout
    labels = open_volume(out)
    assert labels.voxel_size == (30.0, 8.0, 8.0)
    assert labels.numpy().max() == 2


def test_sweep_then_decode_uses_thresholds_json(case, tmp_path, capsys):
    run_dir, pred, gt_path, gt = case
    space = tmp_path / "space.yaml"
    space.write_text("parameters:\n  binary_threshold.seed: [0.8, 0.95]\n  min_seed_size: [4]\n")
    code, stdout, _ = run(
        ["decode", str(pred), "--sweep", "thresholds", "--gt", gt_path, "--space", str(space)],
        capsys,
    )
    assert code == 0, stdout
    doc = json.loads((run_dir / "thresholds.json").read_text())
    assert doc["decoder"] == "contour_distance"
    assert doc["scores"]["are_ignore_bg"] < 0.01 and doc["metric"] == "f1@0.5"
    assert doc["params"]["channels"] == [0, 1, 2] and doc["maps"]["channels"] == 3
    assert (run_dir / "sweep.csv").exists() and (run_dir / "sweep_heatmap.png").exists()
    out = tmp_path / "labels.zarr"
    code, stdout, _ = run(["decode", str(pred), "--out", str(out)], capsys)
    assert code == 0
    assert "thresholds.json" in stdout
    assert open_volume(out).numpy().max() == 2


def test_decode_reads_uint8_maps(case, tmp_path, capsys):
    _, _, _, gt = case
    q, attrs = quantize(oracle_maps(gt), ["binary", "boundary", "distance"])
    pred = tmp_path / "q.zarr"
    write_volume(pred, q, voxel_size=(1, 1, 1), kind="maps", attrs=attrs)
    out = tmp_path / "labels.zarr"
    code, _, _ = run(["decode", str(pred), "--out", str(out), "--min-seed-size", "4"], capsys)
    assert code == 0
    assert open_volume(out).numpy().max() == 2


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--binary-threshold", "0.9"], "seed,fg"),
        (["--binary-threshold", "1.5,0.5"], "lie in"),
        (["--sweep", "thresholds"], "--gt"),
        (["--sweep", "grid", "--gt", "x"], "'thresholds'"),
        (["--channels", "0,a,2"], "--channels"),
    ],
)
def test_bad_options_exit_2(case, tmp_path, capsys, extra, message):
    _, pred, _, _ = case
    code, _, err = run(["decode", str(pred), "--out", str(tmp_path / "o.zarr"), *extra], capsys)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_bad_inputs_exit_2(case, tmp_path, capsys):
    _, pred, gt_path, gt = case
    code, _, err = run(["decode", str(tmp_path / "missing.zarr"), "--out", "x.zarr"], capsys)
    assert code == 2 and "Traceback" not in err
    write_volume(tmp_path / "three_d.zarr", gt, voxel_size=(1, 1, 1), kind="labels")
    code, _, err = run(["decode", str(tmp_path / "three_d.zarr"), "--out", "x.zarr"], capsys)
    assert code == 2 and "channel-first" in err
    small = tmp_path / "small.h5"
    with h5py.File(small, "w") as f:
        f["labels"] = gt[:-1]
    code, _, err = run(["decode", str(pred), "--sweep", "thresholds", "--gt", f"{small}:labels"],
                       capsys)  # fmt: skip
    assert code == 2 and "shape" in err
    code, _, err = run(["decode", str(pred)], capsys)
    assert code == 2 and "--out" in err


def test_existing_output_is_not_replaced(case, tmp_path, capsys):
    _, pred, _, _ = case
    out = tmp_path / "labels.zarr"
    assert run(["decode", str(pred), "--out", str(out), "--min-seed-size", "4"], capsys)[0] == 0
    code, _, err = run(["decode", str(pred), "--out", str(out)], capsys)
    assert code == 2
    assert open_volume(out).numpy().max() == 2
    assert run(["decode", str(pred), "--out", str(out), "--overwrite"], capsys)[0] == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--metric", "dice"], "unknown metric `dice`"),
        (["--metric", "adapted_rand"], "ambiguous"),
        (["--binary-threshold", "0.9,-0.5", "--space", "{space}"], "every one of the 2 settings"),
        (["--gt", "{small}"], "has shape"),
    ],
)
def test_bad_sweeps_exit_2_with_one_sentence(case, tmp_path, capsys, extra, message):
    _, pred, gt_path, _ = case
    space = tmp_path / "space.yaml"
    space.write_text("binary_threshold.fg: [-0.5, -0.2]\n")
    small = tmp_path / "small.h5"
    with h5py.File(small, "w") as f:
        f["gt"] = np.zeros((3, 4, 5), np.uint8)
    args = [a.format(space=space, small=f"{small}:gt") for a in extra]
    if "--gt" not in args:
        args += ["--gt", gt_path]
    code, _, err = run(["decode", str(pred), "--sweep", "thresholds", *args], capsys)
    assert code == 2 and message in err, err
    assert err.startswith("volseg: error:") and err.count("\n") == 1


def test_semantic_ground_truth_with_an_instance_metric_exits_2(case, tmp_path, capsys):
    _, pred, _, gt = case
    path = tmp_path / "sem.h5"
    with h5py.File(path, "w") as f:
        f["gt"] = gt > 0
    code, _, err = run(["decode", str(pred), "--sweep", "thresholds", "--gt", f"{path}:gt",
                        "--metric", "f1@0.5"], capsys)  # fmt: skip
    assert code == 2 and "needs instance labels" in err


def test_tuned_settings_never_reach_other_maps_silently(case, tmp_path, capsys):
    """Issue 14 row 6: a sweep of 3-channel maps, then a decode of a 2-channel prediction in the
    same folder, and of another 3-channel prediction there."""
    run_dir, pred, gt_path, gt = case
    code, _, err = run(["decode", str(pred), "--sweep", "thresholds", "--gt", gt_path], capsys)
    assert code == 0, err
    two = run_dir / "two.zarr"
    write_volume(two, oracle_maps(gt)[:2], voxel_size=(30, 8, 8), kind="maps",
                 attrs=describe(["b", "c"]))  # fmt: skip
    code, _, err = run(["decode", str(two), "--out", str(tmp_path / "l2.zarr")], capsys)
    assert code == 2 and "tuned on maps with 3 channels but the maps" in err
    assert not (tmp_path / "l2.zarr").exists()
    other = run_dir / "other.zarr"
    write_volume(other, oracle_maps(gt), voxel_size=(30, 8, 8), kind="maps",
                 attrs=describe(["b", "c", "d"]))  # fmt: skip
    code, out, err = run(["decode", str(other), "--out", str(tmp_path / "l3.zarr")], capsys)
    assert code == 0 and "were tuned on" in err and str(pred) in err
    code, out, err = run(["decode", str(two), "--out", str(tmp_path / "l4.zarr"),
                          "--no-thresholds", "--channels", "0,1,-",
                          "--distance-threshold", "none"], capsys)  # fmt: skip
    assert code == 0, err


def test_outputs_never_overlap_the_inputs(case, tmp_path, capsys):
    """Issue 14 row 1: ``decode S.zarr/maps --out S.zarr --overwrite`` and friends."""
    _, pred, gt_path, _ = case
    before = sorted(p.name for p in pred.rglob("*"))
    for args in (
        ["--out", str(pred), "--overwrite"],
        ["--out", f"{pred}/labels", "--overwrite"],
        ["--sweep", "thresholds", "--gt", gt_path, "--out-dir", str(pred)],
    ):
        code, _, err = run(["decode", str(pred), *args], capsys)
        assert code == 2 and "never writes into its own input" in err, err
    assert sorted(p.name for p in pred.rglob("*")) == before


def test_blockwise_decode_equals_the_whole_decode_and_resumes(case, tmp_path, capsys):
    _, pred, _, _ = case
    settings = ["--binary-threshold", "0.9,0.85", "--distance-threshold", "0.5,0",
                "--min-seed-size", "4"]  # fmt: skip
    whole = tmp_path / "whole.zarr"
    assert run(["decode", str(pred), "--out", str(whole), *settings], capsys)[0] == 0
    blocks = tmp_path / "blocks.zarr"
    args = ["decode", str(pred), "--out", str(blocks), *settings, "--block-shape", "8,16,16",
            "--halo", "4,8,8"]  # fmt: skip
    code, stdout, _ = run(args, capsys)
    assert code == 0
    assert re.search(r"decode blocks: (\d+) computed, 0 reused", stdout)
    np.testing.assert_array_equal(open_volume(blocks).numpy(), open_volume(whole).numpy())
    code, _, err = run(args, capsys)  # finished: not done again
    assert code == 2 and "--overwrite" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--block-shape", "8,16,16", "--halo", "9,8,8"], "halo"),
        (["--block-shape", "8,16"], "--block-shape must be three integers"),
        (["--block-shape", "8,16,16", "--channels", "0,1,5"], "channel"),
    ],
)
def test_bad_blockwise_options_exit_2(case, tmp_path, capsys, extra, message):
    _, pred, _, _ = case
    out = tmp_path / "o.zarr"
    code, _, err = run(["decode", str(pred), "--out", str(out), *extra], capsys)
    assert code == 2 and message in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_maps_of_the_wrong_channel_count_exit_2(case, tmp_path, capsys):
    _, pred, _, _ = case
    two = tmp_path / "two.zarr"
    write_volume(two, open_volume(pred).numpy()[:2], voxel_size=(30, 8, 8), kind="maps")
    code, _, err = run(["decode", str(two), "--out", str(tmp_path / "x.zarr")], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "read channel 2, but the maps" in err and "has only 2 channels" in err
    assert not (tmp_path / "x.zarr").exists()


def test_blockwise_rerun_on_maps_replaced_at_the_same_path_is_refused(case, tmp_path, capsys):
    from volseg.io.write_zarr import set_complete

    _, pred, _, _ = case
    out = tmp_path / "blocks.zarr"
    args = ["decode", str(pred), "--out", str(out), "--min-seed-size", "4", "--block-shape",
            "8,16,16", "--halo", "4,8,8"]  # fmt: skip
    assert run(args, capsys)[0] == 0
    set_complete(out, "", False)  # as if it had stopped before finishing
    maps = open_volume(pred).numpy()
    write_volume(pred, maps[:, ::-1].copy(), voxel_size=(30, 8, 8), kind="maps",
                 attrs=describe(["b", "c", "d"]), overwrite=True)  # fmt: skip
    code, _, err = run(args, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "another version of the maps (their files changed since)" in err


def test_blockwise_decode_of_bad_maps_leaves_nothing_behind(case, tmp_path, capsys):
    _, pred, _, _ = case
    maps = open_volume(pred).numpy()
    maps[0, 20, 30, 30] = np.nan  # in the last block
    bad = tmp_path / "bad.zarr"
    write_volume(bad, maps, voxel_size=(30, 8, 8), kind="maps", attrs=describe(["b", "c", "d"]))
    out = tmp_path / "labels.zarr"
    code, _, err = run(["decode", str(bad), "--out", str(out), "--block-shape", "8,16,16",
                        "--halo", "4,8,8"], capsys)  # fmt: skip
    assert code == 2 and "NaN" in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()
