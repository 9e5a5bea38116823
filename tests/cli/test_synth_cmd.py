"""``volseg synth vesicles``: writes an OME-Zarr store; bad input exits 2 with one sentence."""

import numpy as np
import pytest

from volseg.cli.main import main
from volseg.cli.synth_cmd import parse_numbers
from volseg.data.synth import vesicles
from volseg.errors import VolsegError
from volseg.io import open_volume

SMALL = ["--shape", "16,96,96", "--voxel-size", "30,8,8"]


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_writes_image_labels_and_mask(tmp_path, capsys):
    out = tmp_path / "ves.zarr"
    code, stdout, err = run(
        ["synth", "vesicles", str(out), *SMALL, "--seed", "5", "--missing-sections", "2"], capsys
    )
    assert code == 0, err
    raw, labels, mask = vesicles(shape=(16, 96, 96), seed=5, missing_sections=2)
    image = open_volume(out)
    assert image.dtype == np.uint8 and image.voxel_size == (30.0, 8.0, 8.0)
    np.testing.assert_array_equal(image.numpy(), raw)
    ids = open_volume(out, "labels/vesicles")
    assert ids.dtype == np.uint32 and ids.voxel_size == (30.0, 8.0, 8.0)
    np.testing.assert_array_equal(ids.numpy(), labels)
    np.testing.assert_array_equal(open_volume(out, "labels/mask").numpy().astype(bool), mask)
    assert f"{labels.max()} vesicles" in stdout and "2 missing section" in stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ves.zarr"]  # no temporaries left


def test_existing_output_needs_overwrite(tmp_path, capsys):
    out = tmp_path / "ves.zarr"
    assert run(["synth", "vesicles", str(out), *SMALL], capsys)[0] == 0
    before = open_volume(out).numpy()
    code, _, err = run(["synth", "vesicles", str(out), *SMALL, "--seed", "1"], capsys)
    assert code == 2 and "already exists; pass --overwrite" in err
    np.testing.assert_array_equal(open_volume(out).numpy(), before)
    code, _, err = run(
        ["synth", "vesicles", str(out), *SMALL, "--seed", "1", "--overwrite"], capsys
    )
    assert code == 0, err
    assert not np.array_equal(open_volume(out).numpy(), before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ves.zarr"]


def test_failure_keeps_the_old_store(tmp_path, capsys):
    out = tmp_path / "ves.zarr"
    assert run(["synth", "vesicles", str(out), *SMALL], capsys)[0] == 0
    before = open_volume(out).numpy()
    code, _, err = run(["synth", "vesicles", str(out), "--shape", "4,40,40", "--overwrite"], capsys)
    assert code == 2 and "too small for vesicles" in err
    np.testing.assert_array_equal(open_volume(out).numpy(), before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ves.zarr"]


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--shape", "64,256"], "--shape takes three positive integers z,y,x, got '64,256'."),
        (["--shape", "64,2.5,256"], "--shape takes positive integers z,y,x like"),
        (["--shape", "0,64,64"], "--shape takes three positive integers"),
        (["--voxel-size", "30,x,8"], "--voxel-size takes positive numbers z,y,x like"),
        (["--voxel-size", "30,-8,8"], "--voxel-size takes three positive numbers"),
        (["--density", "0.9"], r"density must be in (0, 0.25], got 0.9."),
        (["--missing-sections", "99"], "missing_sections must be in [0, 15]"),
    ],
)
def test_bad_options_exit_2_with_one_sentence(tmp_path, capsys, args, match):
    out = tmp_path / "ves.zarr"
    code, _, err = run(["synth", "vesicles", str(out), *SMALL, *args], capsys)
    assert code == 2
    assert match in err and err.count("\n") == 1, err
    assert not out.exists()


def test_output_must_be_zarr_and_never_replaces_other_things(tmp_path, capsys):
    code, _, err = run(["synth", "vesicles", str(tmp_path / "ves.h5"), *SMALL], capsys)
    assert code == 2 and "must be an OME-Zarr path ending in .zarr" in err
    folder = tmp_path / "data.zarr"
    folder.mkdir()
    (folder / "keep.txt").write_text("x")
    code, _, err = run(["synth", "vesicles", str(folder), *SMALL, "--overwrite"], capsys)
    assert code == 2 and "is not a zarr store; refusing" in err
    assert (folder / "keep.txt").read_text() == "x"


def test_parse_numbers():
    assert parse_numbers("10", option="--voxel-size", integer=False) == (10.0, 10.0, 10.0)
    assert parse_numbers(" 8, 16 ,32", option="--shape", integer=True) == (8, 16, 32)
    with pytest.raises(VolsegError, match="--voxel-size takes three positive numbers"):
        parse_numbers("nan,1,1", option="--voxel-size", integer=False)


def test_help_lists_the_command(capsys):
    code, out, _ = run(["synth", "--help"], capsys)
    assert code == 0 and "vesicles" in out


def test_tiled_volume_is_written_tile_by_tile(tmp_path, capsys):
    from volseg.data.synth_tiles import tile_seed

    out = tmp_path / "tiled.zarr"
    argv = ["synth", "vesicles", str(out), "--shape", "16,64,128", "--tile", "16,64,64"]
    code, stdout, err = run([*argv, "--seed", "2"], capsys)
    assert code == 0, err
    raw, _, _ = vesicles(shape=(16, 64, 64), seed=tile_seed(2, 1))
    np.testing.assert_array_equal(open_volume(out).numpy()[:, :, 64:], raw)
    assert "2 tiles" in stdout
    code, _, err = run(
        [*argv[:2], str(tmp_path / "b.zarr"), "--shape", "16,64,100", "--tile", "16,64,64"], capsys
    )
    assert code == 2 and "whole number of tiles" in err
    code, _, err = run([*argv, "--missing-sections", "1", "--overwrite"], capsys)
    assert code == 2 and "--tile" in err
