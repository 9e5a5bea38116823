"""Blockwise decoding of affinity maps: ``affinity_cc`` equals the whole-volume decode exactly;
``agglomerate`` and ``mutex_watershed`` (global region graph over the block segments) agree
with it to an adapted Rand error of 0.01 on noisy NeuroProof affinities."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import zarr

from tests.infer.affinity_cases import OFFSETS, VOXEL, noisy_affinities, write_affinity_maps
from tests.infer.blockwise_cases import NEUROPROOF
from tests.infer.test_blockwise_decode import same_partition
from volseg.decode import decode
from volseg.errors import VolsegError
from volseg.infer.blockwise_decode import blockwise_decode, decoder_halo, stitch_rule
from volseg.metrics import adapted_rand
from volseg.offsets import PRESETS

needs_data = pytest.mark.skipif(not NEUROPROOF.exists(), reason="NeuroProof volume not found")


def crop(size: int) -> np.ndarray:
    with h5py.File(NEUROPROOF, "r") as f:
        return np.asarray(f["labels"][:size, :size, :size])


@pytest.fixture(name="neuro", scope="module")
def neuro_fixture(tmp_path_factory):
    """Noisy affinities of a 64^3 NeuroProof crop, whole and as float32 maps with offsets."""
    if not NEUROPROOF.exists():
        pytest.skip("NeuroProof volume not found")
    affs = noisy_affinities(crop(64), seed=0)
    path = write_affinity_maps(tmp_path_factory.mktemp("np") / "maps.zarr", affs, chunks=16)
    return affs, path


def blockwise(maps: str, tmp_path, decoder: str, params: dict, block, halo=None) -> np.ndarray:
    out = tmp_path / f"{decoder}-{'-'.join(map(str, np.atleast_1d(block)))}.zarr"
    volume = blockwise_decode(maps, out, decoder=decoder, params=params, block_shape=block,
                              halo=halo, overwrite=True)  # fmt: skip
    return np.asarray(volume.data[:])


@pytest.mark.parametrize("block", [8, (16, 12, 10), (24, 32, 16)])
@pytest.mark.parametrize("min_size", [0, 3])
def test_affinity_cc_blockwise_equals_whole_on_random_affinities(tmp_path, block, min_size):
    rng = np.random.default_rng(7)
    affs = rng.random((3, 24, 32, 32)).astype(np.float32)
    maps = str(tmp_path / "maps.zarr")
    from volseg.io import write_volume

    write_volume(maps, affs, voxel_size=VOXEL, kind="maps", chunks=(3, 8, 8, 8), levels=1)
    params = {"threshold": 0.6, "min_instance_size": min_size}
    whole = decode(affs, "affinity_cc", params)
    assert same_partition(blockwise(maps, tmp_path, "affinity_cc", params, block, 2), whole)


@needs_data
@pytest.mark.parametrize("block", [(8, 16, 16), (32, 16, 64), 48])
def test_affinity_cc_blockwise_equals_whole_on_neuroproof(neuro, tmp_path, block):
    affs, maps = neuro
    params = {"threshold": 0.8, "offsets": OFFSETS, "min_instance_size": 20}
    whole = decode(affs, "affinity_cc", params)
    assert same_partition(blockwise(maps, tmp_path, "affinity_cc", params, block, 3), whole)


@needs_data
@pytest.mark.parametrize(
    ("decoder", "params"),
    [("agglomerate", {"threshold": 0.5}), ("mutex_watershed", {})],
)
def test_graph_rules_agree_with_the_whole_volume_decode(neuro, tmp_path, decoder, params):
    affs, maps = neuro
    params = {**params, "offsets": OFFSETS, "min_instance_size": 20}
    whole = decode(affs, decoder, params)
    seg = blockwise(maps, tmp_path, decoder, params, 32)
    are = adapted_rand(seg, whole)[0]
    assert are <= 0.01, f"{decoder}: adapted Rand error {are:.4f} against the whole decode"
    assert abs(len(np.unique(seg)) - len(np.unique(whole))) <= 0.05 * len(np.unique(whole))


def test_rules_halo_and_signature(tmp_path):
    assert stitch_rule("affinity_cc", {}) == "any"
    assert stitch_rule("agglomerate", {}) == "agglomerate"
    assert stitch_rule("mutex_watershed", {}) == "mutex"
    long = [list(o) for o in PRESETS["isotropic-12"]]
    assert decoder_halo((10.0, 10.0, 10.0), "mutex_watershed", {"offsets": long}) == (27, 27, 27)
    assert decoder_halo((10.0, 10.0, 10.0), "agglomerate", {}) == (16, 16, 16)
    assert decoder_halo((40.0, 4.0, 4.0), "mutex_watershed", {"offsets": OFFSETS}) == (9, 16, 16)
    affs = noisy_affinities(np.ones((20, 20, 20), dtype=np.uint32), seed=1)
    maps = write_affinity_maps(tmp_path / "maps.zarr", affs, chunks=10)
    out = tmp_path / "out.zarr"
    blockwise_decode(maps, out, decoder="agglomerate", params={"offsets": OFFSETS},
                     block_shape=10, halo=9)  # fmt: skip
    signature = zarr.open_group(str(out), mode="r").attrs["volseg"]["blockwise"]
    assert signature["rule"] == "agglomerate" and signature["halo"] == [9, 9, 9]
    with pytest.raises(VolsegError, match="longest offset"):
        blockwise_decode(maps, tmp_path / "short.zarr", decoder="mutex_watershed",
                         params={"offsets": OFFSETS}, block_shape=5, halo=5)  # fmt: skip


def test_same_fragments_pairs_mutual_best_overlaps_only():
    from volseg.infer.affinity_stitch import same_fragments

    bases = np.array([0, 10, 20])  # ids 1..10 in block 0, 11..20 in block 1, 21.. in block 2
    overlaps = np.array([
        [1, 11, 50], [11, 1, 40],  # one fragment seen from both sides
        [2, 12, 30], [2, 13, 5], [13, 2, 20],  # 2 is 12's best and 12 is 2's: 13 loses
        [3, 21, 7], [3, 14, 9],  # 3 pairs with a fragment of each other block
    ])  # fmt: skip
    pairs = same_fragments(overlaps, bases).tolist()
    assert pairs == [[1, 11], [2, 12], [3, 14], [3, 21]]
    assert same_fragments(np.zeros((0, 3), dtype=np.int64), bases).shape == (0, 2)
