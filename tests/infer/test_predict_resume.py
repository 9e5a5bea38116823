"""An interrupted in-process ``predict`` resumes: finished blocks are kept, the others are
written, and the maps equal an uninterrupted run's bit for bit (also with a rescale)."""

import re

import numpy as np
import pytest
import zarr

from volseg.errors import VolsegError
from volseg.infer.output import DONE, NETMAPS, done_array
from volseg.infer.predict import BackgroundWriter, predict
from volseg.io import is_complete

from .predict_fixtures import tiny_checkpoint, tiny_config, tiny_image, write_image

BLOCKS = (8, 16, 16)
RESCALED = "data.train_resolution=[10,10,10]"  # the image is 10 x 5 x 5 nm


def interrupt_after(monkeypatch, writes: int) -> None:
    """Make the maps writer fail, as a crash would, once ``writes`` regions are stored."""
    original = BackgroundWriter._write
    count = {"n": 0}

    def failing(self, region, maps):
        if count["n"] == writes:
            raise KeyboardInterrupt
        count["n"] += 1
        original(self, region, maps)

    monkeypatch.setattr(BackgroundWriter, "_write", failing)


def stop_predicting(monkeypatch, cfg, ckpt, path, out, *, after: int) -> None:
    """Start a prediction into ``out`` that crashes once ``after`` regions are stored."""
    with monkeypatch.context() as patch:
        interrupt_after(patch, after)
        with pytest.raises(KeyboardInterrupt):
            predict(cfg, ckpt, path, out, block_shape=BLOCKS)


def markers(out) -> np.ndarray:
    return np.asarray(zarr.open_group(str(out), mode="r")[DONE][...])


def counts(line: str) -> tuple[int, int]:
    found = re.fullmatch(r"prediction blocks: (\d+) computed, (\d+) reused", line)
    assert found, line
    return int(found[1]), int(found[2])


@pytest.mark.parametrize("extra", [(), (RESCALED,)], ids=["same-grid", "rescaled"])
@pytest.mark.parametrize("at", [0.0, 0.5, 0.99])
def test_interrupted_prediction_resumes_to_the_same_maps(tmp_path, monkeypatch, extra, at):
    cfg = tiny_config(*extra)
    ckpt = tiny_checkpoint(tmp_path / "m.pt", cfg)
    path = write_image(tmp_path / "image.zarr", tiny_image((20, 50, 70)))
    first = predict(cfg, ckpt, path, tmp_path / "ref.zarr", block_shape=BLOCKS).numpy()
    writes = int(at * markers(tmp_path / "ref.zarr").size)  # one write per block
    out = tmp_path / "pred.zarr"
    stop_predicting(monkeypatch, cfg, ckpt, path, out, after=writes)
    assert not is_complete(out)
    before = markers(out)
    assert before.sum() <= writes < before.size
    lines: list[str] = []
    maps = predict(cfg, ckpt, path, out, block_shape=BLOCKS, say=lines.append)
    computed, reused = counts(lines[-1])
    assert (computed, reused) == (before.size - before.sum(), before.sum())
    np.testing.assert_array_equal(maps.numpy(), first)
    assert is_complete(out) and markers(out).all()
    assert NETMAPS not in zarr.open_group(str(out), mode="r")


def test_markers_of_one_kind_of_run_do_not_resume_the_other(tmp_path):
    cfg = tiny_config()
    ckpt = tiny_checkpoint(tmp_path / "m.pt", cfg)
    path = write_image(tmp_path / "image.zarr", tiny_image((20, 50, 70)))
    out = tmp_path / "pred.zarr"
    predict(cfg, ckpt, path, out, block_shape=BLOCKS)
    with pytest.raises(VolsegError, match="started by an in-process run; resume it the same way"):
        done_array(out, markers(out).shape, unit="blocks")


def test_a_rerun_with_another_block_shape_is_refused(tmp_path, monkeypatch):
    cfg = tiny_config()
    ckpt = tiny_checkpoint(tmp_path / "m.pt", cfg)
    path = write_image(tmp_path / "image.zarr", tiny_image((20, 50, 70)))
    out = tmp_path / "pred.zarr"
    stop_predicting(monkeypatch, cfg, ckpt, path, out, after=3)
    with pytest.raises(
        VolsegError, match="use the same block shape or start again with --overwrite"
    ):
        predict(cfg, ckpt, path, out, block_shape=(16, 32, 32))
    assert not is_complete(out)


@pytest.mark.parametrize("change", ["checkpoint", "image", "normalisation"])
def test_a_rerun_from_changed_inputs_is_refused(tmp_path, monkeypatch, change):
    """Paths alone do not say the inputs are the same: a checkpoint rewritten in place (as
    training does with best.pt), an image replaced at the same path, or other clip
    percentiles would mix two predictions into one output."""
    cfg = tiny_config()
    ckpt = tiny_checkpoint(tmp_path / "m.pt", cfg)
    path = write_image(tmp_path / "image.zarr", tiny_image((20, 50, 70)))
    out = tmp_path / "pred.zarr"
    stop_predicting(monkeypatch, cfg, ckpt, path, out, after=3)
    message = {
        "checkpoint": "another version of the checkpoint",
        "image": "another version of the image",
        "normalisation": "clip_percentiles",
    }
    if change == "checkpoint":
        tiny_checkpoint(tmp_path / "m.pt", cfg, seed=5)
    elif change == "image":
        import shutil

        shutil.rmtree(tmp_path / "image.zarr")
        write_image(tmp_path / "image.zarr", tiny_image((20, 50, 70), seed=3))
    else:
        cfg = tiny_config("data.image_transform.clip_percentile_high=0.5")
    with pytest.raises(VolsegError, match=message[change]):
        predict(cfg, ckpt, path, out, block_shape=BLOCKS)
    assert not is_complete(out)
