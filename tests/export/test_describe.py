"""Pieces of the description: channel names, hashed files."""

import hashlib

import pytest

from volseg.export.describe import hashed_file, spatial_axes, unique_names

pytest.importorskip("bioimageio.spec")


def test_channel_names_are_unique():
    assert unique_names(["binary", "instance_boundary"]) == ["binary", "instance_boundary"]
    assert unique_names(["binary", "aff", "aff", "aff"]) == ["binary", "aff0", "aff1", "aff2"]
    assert spatial_axes(2) == ["y", "x"] and spatial_axes(3) == ["z", "y", "x"]


def test_files_carry_their_sha256(tmp_path):
    path = tmp_path / "a.npy"
    path.write_bytes(b"volseg")
    assert str(hashed_file(path).sha256) == hashlib.sha256(b"volseg").hexdigest()
