"""``volseg models list`` and ``volseg segment --model``: a shipped model without a config."""

import h5py
import numpy as np
import pytest

from tests.infer.predict_fixtures import CC, tiny_image, write_image
from tests.zoo.conftest import zoo_root_fixture  # noqa: F401 (fixture)
from volseg.cli.main import main
from volseg.io import open_volume


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_models_list_shows_each_model(capsys, zoo_root):
    code, out, err = run(capsys, "models", "list")
    assert code == 0, err
    assert "tiny" in out and "test stand-in" in out and "10 x 5 x 5" in out
    assert "fg_iou 0.500" in out and "incomplete" not in out


def test_segment_model_equals_the_config_and_checkpoint_route(capsys, zoo_root, tmp_path):
    image = write_image(tmp_path / "image.zarr", tiny_image())
    a, b = tmp_path / "a.zarr", tmp_path / "b.zarr"
    code, out, err = run(capsys, "segment", "--model", "tiny", "--image", image, "--out", str(a))
    assert code == 0, err
    assert "tiny: the image is on the model's grid (10 x 5 x 5 nm), no resampling." in out
    model = zoo_root / "tiny"
    code, _, err = run(
        capsys, "segment", str(model / "config.yaml"), CC, "--checkpoint",
        str(model / "checkpoints" / "best.pt"), "--image", image, "--out", str(b),
    )  # fmt: skip
    assert code == 0, err
    la = open_volume(f"{a}:labels/segmentation")[...]
    np.testing.assert_array_equal(la, open_volume(f"{b}:labels/segmentation")[...])


def test_another_grid_is_resampled_and_said(capsys, zoo_root, tmp_path):
    image = write_image(tmp_path / "image.zarr", tiny_image(), voxel_size=(20.0, 10.0, 10.0))
    out_path = tmp_path / "seg.zarr"
    code, out, err = run(
        capsys, "segment", "--model", "tiny", "--image", image, "--out", str(out_path)
    )
    assert code == 0, err
    assert "the image's voxels are 20 x 10 x 10 nm, the model works at 10 x 5 x 5 nm" in out
    labels = open_volume(f"{out_path}:labels/segmentation")
    assert labels.shape == tiny_image().shape and labels.voxel_size == (20.0, 10.0, 10.0)


def _h5(path, array):
    with h5py.File(path, "w") as f:
        f["raw"] = array
    return f"{path}:raw"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("unknown", r"no shipped model is named 'mito' \(shipped: tiny; `volseg models list`\)"),
        ("no voxel size", r"records no voxel size; give it with --voxel-size z,y,x in nm"),
        ("2d", r"is a 2D image of shape \(50, 70\); tiny segments 3D volumes"),
        ("both", r"--model brings its own weights; leave out --checkpoint"),
        ("neither", r"give a CONFIG and --checkpoint, or a shipped model with --model NAME"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(capsys, zoo_root, tmp_path, case, message):
    import re

    volume = tiny_image()
    image = _h5(tmp_path / "v.h5", volume[0] if case == "2d" else volume)
    args = ["segment", "--model", "mito" if case == "unknown" else "tiny"]
    if case == "both":
        args += ["--checkpoint", str(zoo_root / "tiny" / "checkpoints" / "best.pt")]
    if case == "neither":
        args = ["segment"]
    out = tmp_path / "seg.zarr"
    code, _, err = run(capsys, *args, "--image", image, "--out", str(out))
    assert code == 2
    assert re.search(message, err), err
    assert err.count("\n") == 1 and not out.exists()


def test_voxel_size_option_fills_in(capsys, zoo_root, tmp_path):
    image = _h5(tmp_path / "v.h5", tiny_image())
    out = tmp_path / "seg.zarr"
    code, stdout, err = run(
        capsys, "segment", "--model", "tiny", "--image", image, "--out", str(out),
        "--voxel-size", "10,5,5",
    )  # fmt: skip
    assert code == 0, err
    assert "no resampling" in stdout
    assert open_volume(f"{out}:labels/segmentation").voxel_size == (10.0, 5.0, 5.0)


def test_export_takes_a_shipped_model_by_name(capsys, zoo_root, tmp_path):
    image = write_image(tmp_path / "image.zarr", tiny_image())
    out = tmp_path / "tiny.zip"
    code, stdout, err = run(
        capsys, "export", "tiny", str(out), "--format", "bioimageio", "--image", image
    )
    assert code == 0, err
    assert out.is_file() and f"wrote {out}" in stdout
