"""``volseg segment``: the command line around volseg.infer.segment."""

import json
import time

import numpy as np
import pytest

from tests.infer.predict_fixtures import CC, command_files
from volseg.cli.main import main
from volseg.io import is_complete, open_volume


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["segment", *args])
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


@pytest.fixture(name="files", scope="module")
def files_fixture(tmp_path_factory):
    root = tmp_path_factory.mktemp("segment_cmd")
    return command_files(root, root / "best.pt")


def test_segment_prints_the_decoder_source_and_the_scores(capsys, files, tmp_path):
    root, config, checkpoint, image = files
    out = tmp_path / "seg.zarr"
    code, stdout, err = run(
        capsys, config, CC, "--checkpoint", checkpoint, "--image", image, "--out", str(out),
        "--gt", str(root / "gt.zarr"), "--block-shape", "8,32,32", "--halo", "4",
    )  # fmt: skip
    assert code == 0, err
    assert "decoder cc with settings from config test.decoding[0]" in stdout
    assert "adapted Rand error" in stdout and "VOI split" in stdout
    metrics = json.loads((tmp_path / "seg.metrics.json").read_text())
    assert set(metrics["adapted_rand_ignore_bg"]) == {"are", "precision", "recall"}
    assert "segmentation foreground IoU" in stdout and "instances segmented" in stdout
    labels = open_volume(f"{out}:labels/segmentation")
    assert labels.data.chunks == (8, 32, 32)
    assert labels.attrs["blockwise"]["halo"] == [4, 4, 4]
    assert is_complete(out, "labels/segmentation")


def test_an_absent_scheduler_fails_within_seconds(capsys, files, tmp_path):
    _, config, checkpoint, image = files
    start = time.monotonic()
    code, _, err = run(
        capsys, config, "--checkpoint", checkpoint, "--image", image,
        "--out", str(tmp_path / "s.zarr"), "--scheduler", "tcp://127.0.0.1:9",
    )  # fmt: skip
    assert code == 2
    assert "no Dask scheduler answered at tcp://127.0.0.1:9" in err
    assert time.monotonic() - start < 30
    assert not (tmp_path / "s.zarr").exists()


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--block-shape", "8,32", "--block-shape must be three integers >= 1"),
        ("--halo", "0", "--halo must be three integers >= 1"),
        ("--cluster", "remote:3", "--cluster takes local:N"),
        ("--voxel-size", "10,5", "--voxel-size must be three positive numbers z,y,x (nm)"),
    ],
)
def test_bad_options_exit_2(capsys, files, tmp_path, option, value, message):
    _, config, checkpoint, image = files
    code, _, err = run(
        capsys, config, "--checkpoint", checkpoint, "--image", image,
        "--out", str(tmp_path / "s.zarr"), option, value,
    )  # fmt: skip
    assert code == 2
    assert message in err


def test_a_halo_larger_than_the_block_exits_2_before_predicting(capsys, files, tmp_path):
    _, config, checkpoint, image = files
    code, _, err = run(
        capsys, config, "--checkpoint", checkpoint, "--image", image,
        "--out", str(tmp_path / "s.zarr"), "--block-shape", "8,32,32", "--halo", "12",
    )  # fmt: skip
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "halo (12, 12, 12) is larger than block_shape (8, 32, 32)" in err
    assert not (tmp_path / "s.zarr").exists()


def test_maps_of_the_wrong_channel_count_exit_2(capsys, files, tmp_path):
    _, config, checkpoint, image = files
    code, _, err = run(
        capsys, config, "model.out_channels=2", "--checkpoint", checkpoint, "--image", image,
        "--out", str(tmp_path / "s.zarr"),
    )  # fmt: skip
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "must lie within 0:2 (model.out_channels)" in err
    assert not (tmp_path / "s.zarr").exists()


def test_a_rerun_says_what_it_reused_and_refuses_other_settings(capsys, files, tmp_path):
    from volseg.io.write_zarr import set_complete

    _, config, checkpoint, image = files
    out = tmp_path / "s.zarr"
    argv = [config, CC, "--checkpoint", checkpoint, "--image", image, "--out", str(out),
            "--block-shape", "8,32,32", "--halo", "4"]  # fmt: skip
    code, stdout, err = run(capsys, *argv)
    assert code == 0, err
    blocks = open_volume(f"{out}:labels/segmentation").attrs["blockwise_result"]["blocks"]
    assert f"decode blocks: {blocks} computed, 0 reused" in stdout
    set_complete(out, "labels/segmentation", False)  # as if stopped while finishing
    code, _, err = run(capsys, *argv[:-1], "5")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "holds an unfinished run started with other halo" in err
    assert not is_complete(out, "labels/segmentation")


@pytest.mark.slow
def test_a_local_cluster_gives_the_threaded_result(capsys, files, tmp_path):
    _, config, checkpoint, image = files
    labels = []
    for name, extra in (("threads", []), ("cluster", ["--cluster", "local:2"])):
        out = tmp_path / f"{name}.zarr"
        code, _, err = run(
            capsys, config, CC, "--checkpoint", checkpoint, "--image", image,
            "--out", str(out), *extra,
        )  # fmt: skip
        assert code == 0, err
        labels.append(open_volume(f"{out}:labels/segmentation").numpy())
    maps_a = open_volume(f"{tmp_path / 'threads.zarr'}:maps").numpy()
    maps_b = open_volume(f"{tmp_path / 'cluster.zarr'}:maps").numpy()
    assert np.abs(maps_a - maps_b).max() < 1e-5
    a, b = labels
    assert a.max() == b.max()
    assert np.array_equal(a > 0, b > 0)
    assert len(np.unique(np.stack([a.ravel(), b.ravel()]), axis=1).T) == a.max() + 1


def test_a_2d_image_for_a_3d_model_is_one_sentence(capsys, files, tmp_path):
    import h5py

    _, config, checkpoint, _ = files
    with h5py.File(tmp_path / "slice.h5", "w") as f:
        f["raw"] = np.zeros((50, 70), np.uint8)
    out = tmp_path / "seg.zarr"
    image = f"{tmp_path / 'slice.h5'}:raw"
    code, _, err = run(capsys, config, CC, "--checkpoint", checkpoint, "--image", image,
                       "--out", str(out), "--voxel-size", "10,5,5")  # fmt: skip
    assert code == 2 and "is a 2D image of shape (50, 70); the model (a 3D network)" in err
    assert err.count("\n") == 1 and not out.exists()
