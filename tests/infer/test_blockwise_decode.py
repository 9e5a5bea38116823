"""Blockwise decoding with stitching: the same instances as decoding the whole volume at once."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import zarr

from volseg.data import make_targets
from volseg.data.synth import vesicles
from volseg.decode import cc, contour_distance
from volseg.errors import VolsegError
from volseg.infer.blockwise_decode import blockwise_decode
from volseg.infer.decode_tasks import SCRATCH
from volseg.io import is_complete, open_volume, write_volume
from volseg.maps import quantize
from volseg.metrics import adapted_rand

REPO = Path(__file__).resolve().parents[2]
SPEC = [
    {"name": "binary"},
    {"name": "instance_boundary", "kwargs": {"edge_mode": "seg-all"}},
    {"name": "instance_edt"},
]
VOXEL = (30.0, 8.0, 8.0)


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal up to renumbering: same background and a one-to-one map between ids."""
    if a.shape != b.shape or not np.array_equal(a > 0, b > 0):
        return False
    fg = a > 0
    pairs = np.unique(np.stack([a[fg], b[fg]]).astype(np.int64), axis=1).shape[1]
    return pairs == len(np.unique(a[fg])) == len(np.unique(b[fg]))


@pytest.fixture(name="ves", scope="module")
def ves_fixture(tmp_path_factory):
    """Touching vesicles (about 530 voxels each), their oracle maps in a chunked zarr."""
    _, gt, _ = vesicles(shape=(16, 96, 96), seed=5, density=0.1, touching=0.3)
    maps = make_targets(gt, VOXEL, SPEC)
    path = tmp_path_factory.mktemp("ves") / "maps.zarr"
    write_volume(path, maps, voxel_size=VOXEL, kind="maps", chunks=(4, 16, 16), levels=1)
    return gt, maps, str(path)


def test_same_partition_helper_can_fail():
    a = np.array([[[0, 1, 1, 2]]])
    assert same_partition(a, a * 7)
    assert not same_partition(a, np.array([[[0, 1, 1, 1]]]))
    assert not same_partition(a, np.array([[[1, 1, 1, 2]]]))


@pytest.mark.parametrize("params", [{"min_seed_size": 1}, {"min_instance_size": 200}])
def test_vesicles_match_the_whole_volume_decode(ves, tmp_path, params):
    gt, maps, path = ves
    whole = contour_distance(maps, **params)
    out = tmp_path / "seg.zarr"
    seg_v = blockwise_decode(path, out, params=params, block_shape=(8, 32, 32), halo=(5, 16, 16))
    seg = seg_v.numpy()
    assert seg.dtype == np.uint32
    assert same_partition(seg, whole)
    assert int(seg.max()) == int(whole.max()) > 15
    assert np.array_equal(np.unique(seg), np.arange(seg.max() + 1))  # ids 1..N
    assert is_complete(out)
    assert not (out / SCRATCH).exists()
    assert seg_v.voxel_size == VOXEL
    assert seg_v.data.chunks == (8, 32, 32)
    result = seg_v.attrs["blockwise_result"]
    assert result["instances"] == whole.max() and result["blocks"] == 18
    assert seg_v.attrs["blockwise"]["params"] == {
        k: v for k, v in params.items() if k != "min_instance_size"
    }


@pytest.mark.slow
def test_blocks_smaller_than_the_vesicles(ves, tmp_path):
    """Blocks of 4 x 16 x 16 voxels: every vesicle (about 5 x 20 x 20) spans several."""
    _, maps, path = ves
    whole = contour_distance(maps)
    seg = blockwise_decode(path, tmp_path / "s.zarr", block_shape=(4, 16, 16), halo=(4, 16, 16))
    assert seg.attrs["blockwise_result"]["blocks"] == 144
    assert same_partition(seg.numpy(), whole)


def test_a_small_halo_gives_the_same_labels_in_more_rounds(ves, tmp_path):
    """Context beyond the halo arrives through the neighbours' labels and levels."""
    _, maps, path = ves
    whole = contour_distance(maps, min_seed_size=1)
    seg = blockwise_decode(
        path, tmp_path / "s.zarr", params={"min_seed_size": 1}, block_shape=(4, 16, 16),
        halo=(1, 1, 1),
    )  # fmt: skip
    result = seg.attrs["blockwise_result"]
    assert result["converged"] and result["rounds"] > 2
    assert same_partition(seg.numpy(), whole)


def test_a_halo_larger_than_the_volume_is_fine_where_one_block_spans_it(ves, tmp_path):
    _, maps, path = ves  # 16 slices: one block along z, so there is no neighbour to reach past
    seg = blockwise_decode(path, tmp_path / "s.zarr", params={"min_seed_size": 1},
                           block_shape=(16, 32, 32), halo=(20, 8, 8))  # fmt: skip
    assert same_partition(seg.numpy(), contour_distance(maps, min_seed_size=1))


def test_round_cap_is_reported_and_errors_stay_local(ves, tmp_path):
    """Stopped after one round, labels may be wrong near seams but never merge seeds."""
    _, maps, path = ves
    whole = contour_distance(maps, min_seed_size=1)
    seg = blockwise_decode(
        path, tmp_path / "s.zarr", params={"min_seed_size": 1}, block_shape=(4, 16, 16),
        halo=(1, 1, 1), max_rounds=1,
    )  # fmt: skip
    assert not seg.attrs["blockwise_result"]["converged"]
    labels = seg.numpy()
    assert not same_partition(labels, whole)
    assert int(labels.max()) == int(whole.max())  # one id per global seed: nothing chained


def spiral_mask(shape=(24, 40, 40)) -> np.ndarray:
    """A tube winding through the volume, plus a few separate specks."""
    mask = np.zeros(shape, dtype=bool)
    t = np.linspace(0, 6 * np.pi, 2000)
    z = (shape[0] - 4) * t / t.max() + 2
    y = shape[1] / 2 + 14 * np.cos(t)
    x = shape[2] / 2 + 14 * np.sin(t)
    for zi, yi, xi in zip(z, y, x, strict=True):
        mask[int(zi), int(yi) - 1 : int(yi) + 1, int(xi) - 1 : int(xi) + 1] = True
    mask[0, 0, 0] = mask[0, 5, 5] = mask[-1, -1, -1] = True
    return mask


def test_cc_decoder_stitches_exactly(tmp_path):
    fg = spiral_mask()
    maps = np.stack([fg.astype(np.float32)] * 3)
    path = tmp_path / "maps.zarr"
    write_volume(path, maps, voxel_size=1, kind="maps", chunks=(8, 8, 8), levels=1)
    whole = cc(fg.astype(np.float32), threshold=0.5, connectivity=26)
    seg = blockwise_decode(
        path, tmp_path / "seg.zarr", decoder="cc", params={"connectivity": 26},
        block_shape=8, halo=1,
    )  # fmt: skip
    assert seg.attrs["blockwise"]["rule"] == "any"
    assert same_partition(seg.numpy(), whole)
    assert seg.numpy().max() == 4


def test_uint8_maps_decode_like_their_float_values(ves, tmp_path):
    _, maps, _ = ves
    stored, attrs = quantize(maps, ["binary", "boundary", "distance"])
    path = tmp_path / "maps8.zarr"
    write_volume(path, stored, voxel_size=VOXEL, kind="maps", chunks=(8, 32, 32), attrs=attrs)
    back = open_volume(path)
    from volseg.maps import dequantize

    whole = contour_distance(dequantize(back.numpy(), back.attrs), min_seed_size=1)
    seg = blockwise_decode(path, tmp_path / "s.zarr", params={"min_seed_size": 1},
                           block_shape=(8, 32, 32), halo=(5, 16, 16))  # fmt: skip
    assert same_partition(seg.numpy(), whole)


def test_blocks_write_whole_shards(ves, tmp_path):
    _, maps, path = ves
    seg = blockwise_decode(
        path, tmp_path / "s.zarr", params={"min_seed_size": 1}, block_shape=(8, 32, 32),
        halo=(5, 16, 16), chunks=(4, 16, 16), shards=(8, 32, 32),
    )  # fmt: skip
    assert seg.data.chunks == (4, 16, 16) and seg.data.shards == (8, 32, 32)
    assert same_partition(seg.numpy(), contour_distance(maps, min_seed_size=1))


def test_labels_go_into_an_existing_ome_zarr(ves, tmp_path):
    gt, _, path = ves
    store = tmp_path / "all.zarr"
    write_volume(store, gt.astype(np.uint8), voxel_size=VOXEL, levels=1)
    seg = blockwise_decode(path, f"{store}:labels/segmentation", block_shape=(8, 32, 32))
    assert is_complete(store, "labels/segmentation")
    group = zarr.open_group(str(store / "labels"), mode="r")
    assert group.attrs["ome"]["labels"] == ["segmentation"]
    assert seg.shape == gt.shape


def test_existing_outputs_are_protected(ves, tmp_path):
    _, _, path = ves
    out = tmp_path / "seg.zarr"
    first = blockwise_decode(path, out, block_shape=(8, 32, 32)).numpy()
    with pytest.raises(VolsegError, match="already holds finished labels; pass overwrite=True"):
        blockwise_decode(path, out, block_shape=(8, 32, 32))
    again = blockwise_decode(path, out, block_shape=(8, 32, 32), halo=(6, 16, 16), overwrite=True)
    assert same_partition(again.numpy(), first)


def test_bad_input_fails_before_anything_is_written(ves, tmp_path):
    _, _, path = ves
    out = tmp_path / "never.zarr"
    cases = [
        ({"params": {"min_seed": 3}}, "has no option `min_seed`"),
        ({"decoder": "magic"}, "unknown decoder 'magic'"),
        ({"params": {"binary_threshold": (2.0, 0.5)}}, "must lie in"),
        ({"halo": 0}, "halo must be three integers >= 1"),
        ({"halo": (9, 16, 16)}, r"halo \(9, 16, 16\) is larger than block_shape \(8, 32, 32\)"),
        ({"params": {"channels": (0, 1, 3)}}, "holds 3 map channels, which decoder"),
        ({"block_shape": (8, 30, 32), "chunks": 16}, "must be a multiple of the output chunks"),
        ({"block_shape": (8, 32, 32), "shards": (16, 32, 32)}, "multiple of the output shards"),
    ]
    for kwargs, message in cases:
        with pytest.raises(VolsegError, match=message):
            blockwise_decode(path, out, **{"block_shape": (8, 32, 32), **kwargs})
        assert not out.exists()
    raw = tmp_path / "raw.zarr"
    write_volume(raw, np.zeros((8, 8, 8), np.uint8), voxel_size=1)
    with pytest.raises(VolsegError, match="expected 4D"):
        blockwise_decode(raw, out)
    ints = tmp_path / "ints.zarr"
    write_volume(ints, np.zeros((3, 8, 8, 8), np.uint8), voxel_size=1, kind="maps")
    with pytest.raises(VolsegError, match="without a `volseg_maps` quantisation record"):
        blockwise_decode(ints, out)
    with pytest.raises(VolsegError, match="written to zarr"):
        blockwise_decode(path, tmp_path / "seg.h5:labels", block_shape=(8, 32, 32))
    assert not out.exists()


SLOW_RUN = """
import sys, time
import volseg.infer.seeded_tasks as st
plain = st.ring_flood
def slow(*args, **kwargs):
    time.sleep(0.4)
    return plain(*args, **kwargs)
st.ring_flood = slow
from volseg.infer.blockwise_decode import blockwise_decode
blockwise_decode(sys.argv[1], sys.argv[2], params={"min_seed_size": 1},
                 block_shape=(4, 32, 32), halo=(4, 16, 16))
"""


@pytest.mark.slow
def test_a_killed_run_resumes_and_finishes_with_the_same_result(ves, tmp_path):
    _, maps, path = ves
    out = tmp_path / "seg.zarr"
    records = out / SCRATCH / "flood" / "wave0"  # done-records of the first flood wave
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SLOW_RUN), path, str(out)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if records.exists() and len(list(records.glob("*.npy"))) >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.stdout.read().decode()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not is_complete(out)
    done = len(list(records.glob("*.npy")))
    assert 3 <= done < 8  # wave 0: the 8 blocks at even grid positions
    with pytest.raises(VolsegError, match="started with other params; use --overwrite"):
        blockwise_decode(path, out, params={"min_seed_size": 2}, block_shape=(4, 32, 32),
                         halo=(4, 16, 16))  # fmt: skip
    seg = blockwise_decode(path, out, params={"min_seed_size": 1}, block_shape=(4, 32, 32),
                           halo=(4, 16, 16))  # fmt: skip
    assert is_complete(out)
    result = seg.attrs["blockwise_result"]
    assert result["seeds_decoded"] == 0  # every seed block was finished
    assert result["floods_reused"] == done  # so was part of the first flood wave
    assert result["converged"]
    assert same_partition(seg.numpy(), contour_distance(maps, min_seed_size=1))


def test_a_run_stopped_while_finishing_starts_again(ves, tmp_path):
    _, maps, path = ves
    out = tmp_path / "seg.zarr"
    kwargs = {"params": {"min_seed_size": 1}, "block_shape": (8, 32, 32), "halo": (5, 16, 16)}
    blockwise_decode(path, out, **kwargs)
    meta = json.loads((out / "zarr.json").read_text())
    meta["attributes"]["volseg"]["complete"] = False  # as if killed after the scratch went
    (out / "zarr.json").write_text(json.dumps(meta))
    seg = blockwise_decode(path, out, **kwargs)
    assert seg.attrs["blockwise_result"]["seeds_decoded"] == 18
    assert same_partition(seg.numpy(), contour_distance(maps, min_seed_size=1))


@pytest.fixture(name="client", scope="module")
def client_fixture():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.mark.slow
def test_local_cluster_decodes_and_evaluates(ves, tmp_path, client):
    gt, maps, path = ves
    params = {"min_seed_size": 1}
    seg = blockwise_decode(
        path, tmp_path / "s.zarr", params=params, block_shape=(8, 32, 32), halo=(5, 16, 16),
        client=client,
    )  # fmt: skip
    whole = contour_distance(maps, **params)
    assert same_partition(seg.numpy(), whole)
    assert adapted_rand(seg, gt) == pytest.approx(adapted_rand(whole, gt), abs=1e-12)
    assert adapted_rand(seg, gt)[0] < 0.05


@pytest.mark.slow
def test_killing_a_worker_does_not_change_the_result(ves, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from distributed import Client, LocalCluster

    # its own cluster: the slowed-down worker is thrown away with it, not restarted (a restart
    # waits for workers to come back, which timed out on a loaded 2-core machine)
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = Client(cluster)

    _, maps, path = ves
    out = tmp_path / "s.zarr"

    def slow_down():  # runs on the workers (pickled by value)
        import time as t

        import volseg.infer.seeded_tasks as st

        plain = st.ring_flood

        def slow(*args, **kwargs):
            t.sleep(0.3)
            return plain(*args, **kwargs)

        st.ring_flood = slow

    client.run(slow_down)
    try:
        with ThreadPoolExecutor(1) as pool:
            run = pool.submit(
                blockwise_decode, path, out, params={"min_seed_size": 1},
                block_shape=(4, 32, 32), halo=(4, 16, 16), client=client,
            )  # fmt: skip
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not run.done():
                blocks = out / SCRATCH / "flood"
                if blocks.exists() and len(list(blocks.glob("*.npy.z"))) >= 2:
                    break
                time.sleep(0.05)
            assert not run.done()
            pid = next(iter(client.run(os.getpid).values()))
            os.kill(pid, signal.SIGKILL)
            seg = run.result(timeout=300)
    finally:
        client.close()
        cluster.close()
    assert is_complete(out)
    assert same_partition(seg.numpy(), contour_distance(maps, min_seed_size=1))
