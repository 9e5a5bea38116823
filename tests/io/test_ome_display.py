"""Display metadata other OME-Zarr viewers read: channel names and colours of maps
(``omero``), a transparent background for label images (``image-label`` ``colors``)."""

import json

import numpy as np

from volseg.io import open_volume, write_volume
from volseg.maps import quantize


def _ome(path):
    return json.loads((path / "zarr.json").read_text())["attributes"]["ome"]


MAPS = np.stack([
    np.full((4, 16, 16), 0.5), np.full((4, 16, 16), 0.1), np.full((4, 16, 16), -0.2)
]).astype(np.float32)  # fmt: skip
NAMES = ["binary", "boundary", "distance"]


def test_float_maps_name_their_channels(tmp_path):
    write_volume(tmp_path / "p.zarr", MAPS, voxel_size=5, kind="maps", attrs={"channels": NAMES})
    omero = _ome(tmp_path / "p.zarr")["omero"]
    assert [c["label"] for c in omero["channels"]] == NAMES
    assert [c["color"] for c in omero["channels"]] == ["FF00FF", "FFFF00", "00FFFF"]
    windows = [(c["window"]["start"], c["window"]["end"]) for c in omero["channels"]]
    assert windows == [(0.0, 1.0), (0.0, 1.0), (-1.0, 1.0)]
    assert open_volume(tmp_path / "p.zarr").shape == MAPS.shape  # readers are not disturbed


def test_uint8_maps_window_their_stored_values(tmp_path):
    q, record = quantize(MAPS, NAMES)
    write_volume(tmp_path / "q.zarr", q, voxel_size=5, kind="maps",
                 attrs={"channels": NAMES, **record})  # fmt: skip
    channels = _ome(tmp_path / "q.zarr")["omero"]["channels"]
    assert {(c["window"]["min"], c["window"]["max"]) for c in channels} == {(0.0, 255.0)}


def test_unnamed_maps_get_placeholder_labels(tmp_path):
    write_volume(tmp_path / "u.zarr", MAPS[:2], voxel_size=5, kind="maps")
    assert [c["label"] for c in _ome(tmp_path / "u.zarr")["omero"]["channels"]] == ["c0", "c1"]


def test_label_images_have_a_transparent_background(tmp_path):
    store = tmp_path / "img.zarr"
    write_volume(store, MAPS[0], voxel_size=5)
    labels = (MAPS[0] > 0).astype(np.uint32)
    write_volume(store, labels, voxel_size=5, kind="labels", key="labels/cells")
    meta = _ome(store / "labels" / "cells")
    assert meta["image-label"]["colors"] == [{"label-value": 0, "rgba": [0, 0, 0, 0]}]
    assert "omero" not in _ome(store)  # images carry no map channel list
