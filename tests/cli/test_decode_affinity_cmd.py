"""`volseg decode` and `volseg config check` on affinity maps and configs: decoding by the maps'
record, and the bad inputs of issue 18 (exit 2, one sentence, nothing written)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.decode.oracle import ball_labels, oracle_maps
from tests.decode.test_affinity import oracle_affinities, same_partition
from volseg.cli.main import main
from volseg.io import open_volume, write_volume
from volseg.maps import add_offsets, describe
from volseg.offsets import PRESETS

NEUROPROOF_TUTORIAL = "tutorials/neuroproof-affinities.yaml"


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def _affinity_maps(tmp_path, preset="isotropic-9"):
    gt = ball_labels()
    offsets = [list(o) for o in PRESETS[preset]]
    affs = oracle_affinities(gt, offsets)
    path = tmp_path / "affs.zarr"
    attrs = add_offsets(describe(["affinity"] * len(offsets)), offsets, (10, 10, 10))
    write_volume(path, affs, voxel_size=(10, 10, 10), kind="maps", attrs=attrs)
    return path, gt


@pytest.mark.parametrize("decoder", ["agglomerate", "mutex_watershed", "affinity_cc"])
def test_decode_reads_channels_and_offsets_from_the_maps(tmp_path, capsys, decoder):
    path, gt = _affinity_maps(tmp_path)
    out = tmp_path / "seg.zarr"
    code, stdout, err = run(["decode", str(path), "--decoder", decoder, "--out", str(out)], capsys)
    assert code == 0, err
    assert "offsets" in stdout
    assert same_partition(open_volume(out).numpy(), gt)


def test_affinity_decoder_on_boundary_maps_exits_2(tmp_path, capsys):
    gt = ball_labels()
    path = tmp_path / "maps.zarr"
    names = ["binary", "instance_boundary", "instance_edt"]
    write_volume(path, oracle_maps(gt), voxel_size=(10, 10, 10), kind="maps",
                 attrs=describe(names))  # fmt: skip
    out = tmp_path / "seg.zarr"
    code, _, err = run(["decode", str(path), "--decoder", "agglomerate", "--out", str(out)],
                       capsys)  # fmt: skip
    assert code == 2
    assert "reads affinity maps" in err and "binary, instance_boundary, instance_edt" in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_offsets_longer_than_the_patch_exit_2(capsys):
    code, _, err = run(["config", "check", NEUROPROOF_TUTORIAL,
                        "model.input_size=[8,96,96]"], capsys)  # fmt: skip
    assert code == 2
    assert "offset [-9, 0, 0]" in err and "longer than" in err


def test_channel_counts_that_do_not_match_the_offsets_exit_2(capsys):
    nearest = "data.label_transform.targets.0.kwargs.offsets=nearest"
    code, _, err = run(["config", "check", NEUROPROOF_TUTORIAL, nearest], capsys)
    assert code == 2
    assert "9 channels; it has 3 (one per offset)" in err
    code, _, err = run(["config", "check", NEUROPROOF_TUTORIAL,
                        "test.decoding.0.kwargs.offsets=nearest"], capsys)  # fmt: skip
    assert code == 2
    assert "9 affinity channel(s) but has 3 offset(s)" in err


def test_decode_maps_whose_offsets_do_not_match_exit_2(tmp_path, capsys):
    gt = ball_labels()
    offsets = [list(o) for o in PRESETS["nearest"]]
    path = tmp_path / "affs.zarr"
    attrs = add_offsets(describe(["affinity"] * 4), [*offsets, [0, 0, -3]], (10, 10, 10))
    affs = np.concatenate([oracle_affinities(gt, offsets)] * 2)[:4]
    write_volume(path, affs, voxel_size=(10, 10, 10), kind="maps", attrs=attrs)
    out = tmp_path / "seg.zarr"
    code, _, _ = run(["decode", str(path), "--decoder", "affinity_cc", "--out", str(out)], capsys)
    assert code == 0  # 4 channels, 4 offsets: fine
    attrs = add_offsets(describe(["affinity"] * 4), offsets, (10, 10, 10))
    write_volume(path, affs, voxel_size=(10, 10, 10), kind="maps", attrs=attrs, overwrite=True)
    code, _, err = run(["decode", str(path), "--decoder", "affinity_cc", "--out",
                        str(tmp_path / "b.zarr")], capsys)  # fmt: skip
    assert code == 2
    assert "4 affinity channel(s) but 3 offset(s)" in err
    assert not (tmp_path / "b.zarr").exists()


def test_sweep_tunes_an_affinity_decoder_and_records_its_offsets(tmp_path, capsys):
    import json

    import h5py

    path, gt = _affinity_maps(tmp_path)
    with h5py.File(tmp_path / "gt.h5", "w") as f:
        f["labels"] = gt
    out = tmp_path / "seg.zarr"
    gt_path = f"{tmp_path / 'gt.h5'}:labels"
    args = ["decode", str(path), "--sweep", "thresholds", "--gt", gt_path, "--decoder",
            "agglomerate", "--out-dir", str(tmp_path / "sweep"), "--out", str(out)]  # fmt: skip
    code, _, err = run(args, capsys)
    assert code == 0, err
    tuned = json.loads((tmp_path / "thresholds.json").read_text())
    assert tuned["decoder"] == "agglomerate"
    assert len(tuned["params"]["offsets"]) == 9
    assert same_partition(open_volume(out).numpy(), gt)
