import numpy as np
import pytest
import zarr

from volseg.errors import VolsegError
from volseg.io.zarr_layout import node_type, plan_layout


def test_new_store_is_staged_whole(tmp_path):
    layout = plan_layout(tmp_path / "n.zarr", "labels/cells", overwrite=False)
    assert layout.final == tmp_path / "n.zarr" and layout.node_in_tmp == "labels/cells"
    assert layout.groups_in_tmp == [
        ("", {}),
        ("labels", {"ome": {"version": "0.5", "labels": ["cells"]}}),
    ]
    assert layout.label_image and layout.name == "cells" and layout.labels_group is None
    root = plan_layout(tmp_path / "img.ome.zarr", None, overwrite=False)
    assert (root.final, root.node_in_tmp, root.groups_in_tmp, root.name) == (
        tmp_path / "img.ome.zarr",
        "",
        [],
        "img",
    )


def test_existing_store_stages_only_the_missing_part(tmp_path):
    store = tmp_path / "s.zarr"
    zarr.open_group(store, mode="w").create_group("a")
    layout = plan_layout(store, "a/b/c", overwrite=False)
    assert layout.final == store / "a" / "b" and layout.node_in_tmp == "c"
    assert layout.groups_in_tmp == [("", {})] and not layout.label_image
    labels = plan_layout(store, "labels/x", overwrite=False)
    assert labels.final == store / "labels" and labels.node_in_tmp == "x"
    assert labels.groups_in_tmp[0][1]["ome"]["labels"] == ["x"]
    zarr.open_group(store, mode="a").create_group("labels")
    second = plan_layout(store, "labels/y", overwrite=False)
    assert second.final == store / "labels" / "y" and second.labels_group == store / "labels"
    assert plan_layout(store, "a", overwrite=True).final == store / "a"


def test_register_label_appends_once(tmp_path):
    store = tmp_path / "s.zarr"
    zarr.open_group(store, mode="w").create_group(
        "labels", attributes={"ome": {"version": "0.5", "labels": ["a"]}}
    )
    layout = plan_layout(store, "labels/b", overwrite=False)
    layout.register_label()
    layout.register_label()
    assert zarr.open_group(store / "labels").attrs["ome"]["labels"] == ["a", "b"]


def test_refuses_v2_stores_and_arrays_on_the_path(tmp_path):
    zarr.open_group(tmp_path / "v2.zarr", mode="w", zarr_format=2)
    assert node_type(tmp_path / "v2.zarr") == "v2"
    with pytest.raises(VolsegError, match="cannot add 'x' to .*v2.zarr: the store is zarr v2"):
        plan_layout(tmp_path / "v2.zarr", "x", overwrite=False)
    root = zarr.open_group(tmp_path / "s.zarr", mode="w")
    root.create_array("arr", shape=(1,), dtype=np.uint8)
    with pytest.raises(VolsegError, match="'arr' is not a group"):
        plan_layout(tmp_path / "s.zarr", "arr/x", overwrite=False)
    (tmp_path / "bad.zarr").mkdir()
    (tmp_path / "bad.zarr" / "zarr.json").write_text("[")
    with pytest.raises(VolsegError, match="not valid zarr v3 metadata"):
        node_type(tmp_path / "bad.zarr")
