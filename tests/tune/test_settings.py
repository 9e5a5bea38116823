"""One decoder-settings policy: order, fit checks before work, notices on stderr."""

import json

import pytest

from volseg.errors import VolsegError
from volseg.tune.settings import read_thresholds, resolve, thresholds_dir, write_thresholds


def _write(directory, *, decoder="contour_distance", params=None, channels=3, path="a.zarr"):
    directory.mkdir(parents=True, exist_ok=True)
    return write_thresholds(
        directory, decoder=decoder, params=params or {"channels": (0, 1, 2), "min_seed_size": 4},
        scores={"f1@0.5": 1.0}, metric="f1@0.5", metric_reason="given", settings_tried=3,
        maps={"path": str(path), "channels": channels, "shape": [4, 5, 6]},
    )  # fmt: skip


def test_round_trip_records_everything_the_decode_needs(tmp_path):
    path = _write(tmp_path)
    doc = json.loads(path.read_text())
    assert doc["params"]["channels"] == [0, 1, 2] and doc["maps"]["channels"] == 3
    tuned = read_thresholds(path)
    assert tuned.name == "contour_distance" and tuned.params["channels"] == (0, 1, 2)
    with pytest.raises(VolsegError, match="does not exist"):
        read_thresholds(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(VolsegError, match="not a volseg thresholds file"):
        read_thresholds(tmp_path / "bad.json")


def test_thresholds_go_to_the_run_that_made_the_maps(tmp_path):
    ckpt = tmp_path / "run" / "checkpoints" / "best.pt"
    ckpt.parent.mkdir(parents=True)
    assert thresholds_dir(str(tmp_path / "p.zarr"), {"checkpoint": str(ckpt)}) == ckpt.parent
    assert thresholds_dir(str(tmp_path / "x" / "p.zarr"), {}) == tmp_path / "x"


def test_order_run_file_then_beside_the_maps_then_defaults(tmp_path):
    notes = []
    maps = str(tmp_path / "pred" / "p.zarr")
    got = resolve(maps_path=maps, n_channels=3, what="m", warn=notes.append)
    assert got.source == "decoder defaults" and got.name == "contour_distance"
    _write(tmp_path / "pred", path=maps)
    got = resolve(maps_path=maps, n_channels=3, what="m", warn=notes.append)
    assert got.source.endswith("pred/thresholds.json") and got.params["min_seed_size"] == 4
    assert not notes  # tuned on these very maps: nothing to say
    ckpt = tmp_path / "run" / "best.pt"
    _write(ckpt.parent, params={"channels": (0, 1, 2), "min_seed_size": 9}, path="other.zarr")
    got = resolve(maps_path=maps, checkpoint=str(ckpt), n_channels=3, what="m",
                  explicit={"min_instance_size": 5}, warn=notes.append)  # fmt: skip
    assert got.params["min_seed_size"] == 9 and got.params["min_instance_size"] == 5
    assert "command-line options" in got.source
    assert len(notes) == 1 and "were tuned on" in notes[0] and "other.zarr" in notes[0]
    got = resolve(maps_path=maps, checkpoint=str(ckpt), use_thresholds=False, n_channels=3,
                  what="m")  # fmt: skip
    assert got.source == "decoder defaults"


def test_settings_that_do_not_fit_fail_before_any_work(tmp_path):
    path = _write(tmp_path)
    with pytest.raises(VolsegError, match="tuned on maps with 3 channels but the maps x has 2"):
        resolve(thresholds=path, n_channels=2, what="the maps x")
    _write(tmp_path / "b", params={"channels": (0, 1, 4)}, channels=None)
    with pytest.raises(VolsegError, match="read channel 4, but m has only 3 channels"):
        resolve(thresholds=tmp_path / "b" / "thresholds.json", n_channels=3, what="m")
    with pytest.raises(VolsegError, match="holds contour_distance settings, not cc"):
        resolve(thresholds=path, decoder="cc", n_channels=3, what="m")


def test_a_named_file_and_no_thresholds_contradict(tmp_path):
    path = _write(tmp_path)
    with pytest.raises(VolsegError, match="--no-thresholds ignores it"):
        resolve(thresholds=path, use_thresholds=False, n_channels=3, what="m")


def test_sizes_tuned_on_one_grid_keep_their_volume_on_another():
    from volseg.tune.settings import DecoderSettings, on_grid

    tuned = DecoderSettings(
        "cc", {"threshold": 0.5, "min_instance_size": 125}, "t.json", {"voxel_size": [10, 10, 10]}
    )
    same, note = on_grid(tuned, (10.0, 10.0, 10.0))
    assert same is tuned and note is None
    finer, note = on_grid(tuned, (5.0, 5.0, 5.0))
    assert finer.params == {"threshold": 0.5, "min_instance_size": 1000}
    assert note == (
        "sizes tuned on 10 x 10 x 10 nm maps kept in nm^3 on these maps' 5 x 5 x 5 nm voxels: "
        "min_instance_size 125 -> 1000"
    )
    unrecorded = DecoderSettings("cc", {"min_instance_size": 125}, "config", {})
    assert on_grid(unrecorded, (5.0, 5.0, 5.0)) == (unrecorded, None)
