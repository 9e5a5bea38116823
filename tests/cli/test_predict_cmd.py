"""``volseg predict``: maps written from the command line; bad input is one sentence, exit 2."""

import importlib
import socket
import time

import numpy as np
import pytest

from tests.infer.predict_fixtures import CONFIG, tiny_checkpoint, tiny_config, tiny_image
from volseg.io import is_complete, open_volume, write_volume
from volseg.maps import dequantize

cli = importlib.import_module("volseg.cli.main")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("predict_cmd")
    (tmp / "cfg.yaml").write_text(CONFIG)
    ckpt = tiny_checkpoint(tmp / "model.pt", tiny_config())
    write_volume(tmp / "raw.h5:raw", tiny_image((12, 40, 40)), voxel_size=(10, 5, 5))
    return tmp, str(tmp / "cfg.yaml"), str(ckpt), str(tmp / "raw.h5:raw")


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_predict_writes_maps_with_overrides(files, tmp_path, capsys):
    _, cfg, ckpt, image = files
    out = tmp_path / "pred.zarr"
    argv = ["predict", cfg, "--checkpoint", ckpt, "--image", image, "--out", str(out),
            "inference.save_prediction.dtype=uint8"]  # fmt: skip
    code, stdout, err = run(argv, capsys)
    assert code == 0, err
    assert f"wrote {out}: uint8 maps (3, 12, 40, 40)" in stdout
    maps = open_volume(out)
    assert is_complete(out) and maps.dtype == np.uint8
    values = dequantize(maps.numpy(), maps.attrs)
    assert values[:2].min() >= 0 and values[:2].max() <= 1 and values[2].min() >= -1
    code, _, err = run([*argv, "--overwrite", "--block-shape", "8,16,16"], capsys)
    assert code == 0, err


def one_line_error(code, err):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("volseg: error: ")
    return lines[0]


def test_checkpoint_not_matching_the_config(files, tmp_path, capsys):
    _, cfg, ckpt, image = files
    argv = ["predict", cfg, "model.filters=[8,8]", "--checkpoint", ckpt, "--image", image,
            "--out", str(tmp_path / "p.zarr")]  # fmt: skip
    message = one_line_error(*run(argv, capsys)[::2])
    assert "does not match the config: model.filters=[4, 8] in the checkpoint" in message


def test_wrong_channels(files, tmp_path, capsys):
    _, cfg, ckpt, _ = files
    two = tmp_path / "two.zarr"
    write_volume(two, np.zeros((2, 8, 32, 32), np.uint8), kind="maps", voxel_size=(10, 5, 5))
    argv = ["predict", cfg, "--checkpoint", ckpt, "--image", str(two), "--out",
            str(tmp_path / "p.zarr")]  # fmt: skip
    assert "model takes model.in_channels=1" in one_line_error(*run(argv, capsys)[::2])


def test_unwritable_output(files, tmp_path, capsys):
    _, cfg, ckpt, image = files
    (tmp_path / "file").write_text("x")
    argv = ["predict", cfg, "--checkpoint", ckpt, "--image", image, "--out",
            str(tmp_path / "file" / "p.zarr")]  # fmt: skip
    assert "cannot write the output" in one_line_error(*run(argv, capsys)[::2])


def test_silent_scheduler_fails_fast(files, tmp_path, capsys):
    _, cfg, ckpt, image = files
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = ["predict", cfg, "--checkpoint", ckpt, "--image", image, "--out",
            str(tmp_path / "p.zarr"), "--scheduler", f"tcp://127.0.0.1:{port}"]  # fmt: skip
    start = time.monotonic()
    message = one_line_error(*run(argv, capsys)[::2])
    assert "no Dask scheduler answered" in message and time.monotonic() - start < 15
    assert not (tmp_path / "p.zarr").exists()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--block-shape", "8,16"], "--block-shape must be three positive integers"),
        (["--cluster", "lots"], "--cluster takes local:N"),
        (["--cluster", "local:1", "--scheduler", "tcp://x:1"], "not both"),
    ],
)
def test_bad_options(files, tmp_path, capsys, extra, expected):
    _, cfg, ckpt, image = files
    argv = ["predict", cfg, "--checkpoint", ckpt, "--image", image, "--out",
            str(tmp_path / "p.zarr"), *extra]  # fmt: skip
    assert expected in one_line_error(*run(argv, capsys)[::2])


def test_missing_output_path(files, capsys):
    _, cfg, ckpt, image = files
    argv = ["predict", cfg, "--checkpoint", ckpt, "--image", image]
    assert "give --out or set inference.output_path" in one_line_error(*run(argv, capsys)[::2])


def test_blocks_that_cut_the_output_chunks_exit_2(files, tmp_path, capsys):
    _, cfg, ckpt, image = files
    argv = ["predict", cfg, "inference.save_prediction.chunks=[8,12,12]", "--checkpoint", ckpt,
            "--image", image, "--out", str(tmp_path / "p.zarr"),
            "--block-shape", "8,32,32"]  # fmt: skip
    message = one_line_error(*run(argv, capsys)[::2])
    assert "chunks [8, 12, 12] must divide the block shape [8, 32, 32]" in message
    assert not (tmp_path / "p.zarr").exists()


@pytest.mark.slow
def test_a_blockwise_rerun_says_what_it_reused_and_refuses_other_settings(files, tmp_path, capsys):
    from volseg.io.write_zarr import set_complete

    _, cfg, ckpt, image = files
    out = tmp_path / "p.zarr"
    argv = ["predict", cfg, "--checkpoint", ckpt, "--image", image, "--out", str(out),
            "--cluster", "local:1", "--block-shape", "8,32,32"]  # fmt: skip
    code, stdout, err = run(argv, capsys)
    assert code == 0, err
    assert "prediction blocks: 8 computed, 0 reused" in stdout  # 12 x 40 x 40 in 8 x 32 x 32
    set_complete(out, "", False)
    code, stdout, err = run(argv, capsys)
    assert code == 0, err
    assert "prediction blocks: 0 computed, 8 reused" in stdout
    set_complete(out, "", False)
    other = [*argv, "inference.sliding_window.overlap=0.25"]
    message = one_line_error(*run(other, capsys)[::2])
    assert f"unfinished output {out} was started with overlap=0.5, not 0.25" in message
    assert not is_complete(out)
