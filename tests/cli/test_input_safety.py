"""Issue 14, rows 1-4: no command writes into its input; bad voxels and chunks are one sentence.

Each case runs the real command on tiny data and checks exit 2, one line on stderr, no output
written and the input's bytes unchanged (a checksum of every file before and after).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import zarr

from tests.decode.oracle import ball_labels, oracle_maps
from tests.infer.predict_fixtures import CONFIG, tiny_checkpoint, tiny_config, tiny_image
from volseg.cli.main import main
from volseg.io import write_volume
from volseg.maps import describe

CC = "test.decoding=[{name: cc, kwargs: {threshold: 0.5, connectivity: 6}}]"


def checksum(path: Path) -> str:
    """sha256 over every file's relative name and bytes below ``path`` (or of one file)."""
    path = Path(path)
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for f in files:
        digest.update(str(f.relative_to(path.parent)).encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main([*args])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def one_sentence(code: int, err: str, *fragments: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("volseg: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    root = tmp_path_factory.mktemp("safety")
    (root / "cfg.yaml").write_text(CONFIG)
    return str(root / "cfg.yaml"), str(tiny_checkpoint(root / "model.pt", tiny_config()))


@pytest.fixture
def store(tmp_path):
    """An input store like ``volseg synth`` writes: image, labels and mask."""
    path = tmp_path / "v.zarr"
    image = tiny_image((12, 40, 40))
    write_volume(path, image, voxel_size=(10, 5, 5), chunks=(8, 32, 32), levels=1)
    write_volume(path, (image > 150).astype(np.uint32), kind="labels", key="labels/cells",
                 voxel_size=(10, 5, 5), levels=1)  # fmt: skip
    return path


# Row 1 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
@pytest.mark.parametrize("out", ["v.zarr", "v.zarr/maps", "v.zarr/labels/cells"])
def test_predict_never_writes_into_its_image(model, store, capsys, out, overwrite):
    before = checksum(store)
    code, _, err = run(capsys, "predict", model[0], "--checkpoint", model[1], "--image",
                       str(store), "--out", str(store.parent / out), *overwrite)  # fmt: skip
    one_sentence(code, err, "the image", "never writes into its own input")
    assert checksum(store) == before


@pytest.mark.parametrize("out", ["v.zarr", "v.zarr/seg.zarr"])
def test_segment_never_deletes_its_image(model, store, capsys, out):
    before = checksum(store)
    code, _, err = run(capsys, "segment", model[0], CC, "--checkpoint", model[1], "--image",
                       str(store), "--out", str(store.parent / out), "--overwrite")  # fmt: skip
    one_sentence(code, err, "the image")
    assert checksum(store) == before


def test_segment_overwrite_refuses_a_store_volseg_did_not_write(model, store, tmp_path, capsys):
    foreign = tmp_path / "user.zarr"
    zarr.open_group(foreign, mode="w").create_array("raw", shape=(4, 4, 4), dtype="uint8")[...] = 7
    before = checksum(foreign)
    code, _, err = run(capsys, "segment", model[0], CC, "--checkpoint", model[1], "--image",
                       str(store), "--out", str(foreign), "--overwrite")  # fmt: skip
    one_sentence(code, err, "--overwrite replaces only an earlier volseg output")
    assert checksum(foreign) == before


def test_decode_overwrite_keeps_the_maps_and_image(tmp_path, capsys):
    path = tmp_path / "S.zarr"
    maps = oracle_maps(ball_labels())
    write_volume(path, maps[0], voxel_size=(30, 8, 8), kind="image", levels=1)
    write_volume(path, maps, key="maps", voxel_size=(30, 8, 8), kind="maps",
                 attrs=describe(["b", "c", "d"]), levels=1)  # fmt: skip
    before = checksum(path)
    code, _, err = run(
        capsys,
        "decode",
        f"{path}/maps",
        "--out",
        str(path),
        "--overwrite",
        "--binary-threshold",
        "0.9,0.85",
        "--distance-threshold",
        "0.5,0",
    )
    one_sentence(code, err, "S.zarr")
    assert checksum(path) == before


def test_synth_overwrite_refuses_a_foreign_store(tmp_path, capsys):
    foreign = tmp_path / "user.zarr"
    zarr.create_array(foreign, shape=(4, 4, 4), dtype="uint8")[...] = 7
    before = checksum(foreign)
    code, _, err = run(capsys, "synth", "vesicles", str(foreign), "--overwrite")
    one_sentence(code, err, "volseg did not write")
    assert checksum(foreign) == before


def test_view_writer_refuses_to_replace_the_image_it_shows(store):
    from volseg.errors import VolsegError
    from volseg.napari.writer import write_labels

    before = checksum(store)
    with pytest.raises(VolsegError, match="holds image, not labels"):
        write_labels(str(store), np.ones((2, 4, 4), np.uint32), {})
    assert checksum(store) == before


# Rows 2-4 --------------------------------------------------------------------------------------


def _float_image(tmp_path: Path) -> Path:
    path = tmp_path / "img.zarr"
    image = tiny_image((12, 40, 40)).astype(np.float32)
    write_volume(path, image, voxel_size=(10, 5, 5), chunks=(8, 32, 32), levels=1)
    return path


def _poke(path: Path, index: tuple[int, int, int], value: float) -> None:
    array = zarr.open_array(path / "s0", mode="r+")
    array[index] = value


def test_predict_refuses_nan_voxels(model, tmp_path, capsys):
    image = _float_image(tmp_path)
    _poke(image, (11, 39, 39), np.nan)
    before = checksum(image)
    out = tmp_path / "pred.zarr"
    code, _, err = run(capsys, "predict", model[0], "--checkpoint", model[1], "--image",
                       str(image), "--out", str(out))  # fmt: skip
    one_sentence(code, err, "NaN or inf", "img.zarr", "block")
    assert not out.exists() and checksum(image) == before


@pytest.mark.parametrize("command", ["predict", "segment"])
def test_missing_chunk_is_an_error(model, tmp_path, capsys, command):
    image = _float_image(tmp_path)
    (image / "s0" / "c" / "1" / "1" / "1").unlink()
    before = checksum(image)
    out = tmp_path / "out.zarr"
    extra = [CC] if command == "segment" else []
    code, _, err = run(capsys, command, model[0], *extra, "--checkpoint", model[1], "--image",
                       str(image), "--out", str(out))  # fmt: skip
    one_sentence(code, err, "missing chunk c/1/1/1", "VOLSEG_MISSING_CHUNKS=fill")
    assert not out.exists() and checksum(image) == before


def test_corrupt_chunk_is_one_sentence(model, tmp_path, capsys):
    image = _float_image(tmp_path)
    chunk = image / "s0" / "c" / "1" / "0" / "0"
    chunk.write_bytes(np.random.default_rng(1).bytes(chunk.stat().st_size))
    before = checksum(image)
    out = tmp_path / "pred.zarr"
    code, _, err = run(capsys, "predict", model[0], "--checkpoint", model[1], "--image",
                       str(image), "--out", str(out))  # fmt: skip
    one_sentence(code, err, "corrupt or unreadable", "img.zarr", "restore the file")
    assert not out.exists() and checksum(image) == before


# Row 9 -----------------------------------------------------------------------------------------


def test_a_scheduler_port_that_is_not_dask_fails_fast(model, store, tmp_path, capsys):
    import threading
    import time
    from http.server import HTTPServer, SimpleHTTPRequestHandler

    server = HTTPServer(("127.0.0.1", 0), SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out = tmp_path / "pred.zarr"
    try:
        start = time.monotonic()
        code, _, err = run(capsys, "predict", model[0], "--checkpoint", model[1], "--image",
                           str(store), "--out", str(out), "--scheduler",
                           f"tcp://127.0.0.1:{server.server_address[1]}")  # fmt: skip
        assert time.monotonic() - start < 30
    finally:
        server.shutdown()
        server.server_close()
    one_sentence(code, err, "is not a Dask scheduler")
    assert not out.exists()


# Row 11 ----------------------------------------------------------------------------------------


def test_training_voxel_size_never_applies_to_a_new_image(model, store, tmp_path, capsys):
    from volseg.io import open_volume

    out = tmp_path / "pred.zarr"  # the store says 10 x 5 x 5 nm; the config's training data 20
    code, _, err = run(capsys, "predict", model[0], "data.voxel_size=[20,20,20]", "--checkpoint",
                       model[1], "--image", str(store), "--out", str(out))  # fmt: skip
    assert code == 0, err
    assert open_volume(out).voxel_size == (10.0, 5.0, 5.0)


def test_inference_voxel_size_contradicting_the_file_is_an_error(model, store, tmp_path, capsys):
    before = checksum(store)
    out = tmp_path / "pred.zarr"
    code, _, err = run(capsys, "predict", model[0], "inference.voxel_size=[20,20,20]",
                       "--checkpoint", model[1], "--image", str(store),
                       "--out", str(out))  # fmt: skip
    one_sentence(code, err, "inference.voxel_size [20.0, 20.0, 20.0] nm contradicts",
                 "[10.0, 5.0, 5.0] nm")  # fmt: skip
    assert not out.exists() and checksum(store) == before


def test_an_image_without_voxel_size_needs_one(model, tmp_path, capsys):
    import h5py

    path = tmp_path / "bare.h5"
    with h5py.File(path, "w") as f:
        f["raw"] = tiny_image((12, 40, 40))
    out = tmp_path / "pred.zarr"
    argv = ["predict", model[0], "--checkpoint", model[1], "--image", f"{path}:raw", "--out",
            str(out)]  # fmt: skip
    code, _, err = run(capsys, *argv)
    one_sentence(code, err, "records no voxel size; give it as inference.voxel_size")
    assert not out.exists()
    code, _, err = run(capsys, *argv, "inference.voxel_size=[10,5,5]")
    assert code == 0, err


def test_image_and_labels_that_disagree_cannot_train(tmp_path, capsys):
    from tests.train.helpers import TINY

    write_volume(tmp_path / "img.zarr", tiny_image((16, 40, 40)), voxel_size=(10, 5, 5))
    labels = (tiny_image((16, 40, 40)) > 150).astype(np.uint32)
    write_volume(tmp_path / "lab.zarr", labels, voxel_size=(20, 10, 10), kind="labels")
    config = tmp_path / "cfg.yaml"
    config.write_text(TINY.replace("IMAGE", str(tmp_path / "img.zarr")).replace(
        "LABEL", str(tmp_path / "lab.zarr")))  # fmt: skip
    code, _, err = run(capsys, "fit", str(config), "--runs", str(tmp_path / "runs"))
    one_sentence(code, err, "is at [10.0, 5.0, 5.0] nm but labels", "[20.0, 10.0, 10.0] nm")
    assert not (tmp_path / "runs").exists()
    code, _, err = run(capsys, "fit", str(config), "data.voxel_size=[8,8,8]", "--runs",
                       str(tmp_path / "runs"))  # fmt: skip
    one_sentence(code, err, "data.voxel_size [8.0, 8.0, 8.0] nm contradicts")


# Rows 2-4 at fit, profile-data and evaluate ------------------------------------------------------


def _training_config(tmp_path: Path) -> tuple[Path, Path]:
    from tests.train.helpers import make_volume, tiny_text

    volume = make_volume(tmp_path / "ves.zarr", shape=(16, 64, 64))
    config = tmp_path / "cfg.yaml"
    config.write_text(tiny_text(volume))
    return volume, config


@pytest.mark.parametrize("command", ["fit", "profile-data"])
def test_training_reads_refuse_a_missing_chunk(tmp_path, capsys, command):
    volume, config = _training_config(tmp_path)
    next(p for p in sorted((volume / "s0" / "c").rglob("*")) if p.is_file()).unlink()
    before = checksum(volume)
    extra = ["--runs", str(tmp_path / "runs")] if command == "fit" else []
    code, _, err = run(capsys, command, str(config), *extra)
    one_sentence(code, err, "is missing chunk", "VOLSEG_MISSING_CHUNKS=fill")
    assert checksum(volume) == before and not (tmp_path / "runs").exists()


def test_training_reads_refuse_nan_voxels(tmp_path, capsys):
    volume, config = _training_config(tmp_path)
    image = zarr.open_array(volume / "s0", mode="r")[...].astype(np.float32)
    image[5, 9, 9] = np.inf
    write_volume(tmp_path / "f.zarr", image, voxel_size=(30, 8, 8))
    text = config.read_text().replace(f"train_image: {volume}", f"train_image: {tmp_path}/f.zarr")
    config.write_text(text)
    code, _, err = run(capsys, "fit", str(config), "--runs", str(tmp_path / "runs"))
    one_sentence(code, err, "f.zarr holds 1 NaN or inf values in block")
    assert not (tmp_path / "runs").exists()


def test_evaluate_refuses_a_corrupt_chunk(tmp_path, capsys):
    labels = ball_labels()
    write_volume(tmp_path / "gt.zarr", labels, voxel_size=(30, 8, 8), kind="labels", levels=1)
    write_volume(tmp_path / "seg.zarr", labels, voxel_size=(30, 8, 8), kind="labels", levels=1)
    chunk = next(p for p in sorted((tmp_path / "seg.zarr" / "s0" / "c").rglob("*")) if p.is_file())
    chunk.write_bytes(b"\x00garbage" * 8)
    code, _, err = run(capsys, "evaluate", str(tmp_path / "seg.zarr"), str(tmp_path / "gt.zarr"))
    one_sentence(code, err, "seg.zarr: a chunk is corrupt or unreadable")


def test_fit_never_writes_its_run_into_the_training_data(tmp_path, capsys):
    volume, config = _training_config(tmp_path)
    before = checksum(volume)
    code, _, err = run(capsys, "fit", str(config), "--runs", str(volume / "runs"))
    one_sentence(code, err, "the run directory", "is inside the image of volume 0")
    assert checksum(volume) == before and not (volume / "runs").exists()
