"""``PatchDataset`` and ``read_region`` on small h5 volumes, plus one Lucchi++ check."""

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

import volseg.data.dataset as dataset_mod
from tests.data.pipeline_common import config, make_volume, write_h5
from volseg.config import load
from volseg.data.dataset import PatchDataset, read_region
from volseg.data.split import make_split
from volseg.data.targets import make_targets
from volseg.errors import VolsegError

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
NO_AUG = "data.augmentation.preset=none"


@pytest.fixture
def files(tmp_path):
    raw, labels, mask = make_volume((24, 32, 32), boxes=6)
    mask[:, :, :4] = False
    write_h5(tmp_path / "a.h5", raw, labels, mask)
    return raw, labels, mask


def build(tmp_path, *, train=True, seed=0, patch=(4, 16, 16), mask=False, overrides=()):
    cfg = config(tmp_path, ["a.h5"], patch=patch, mask=mask, overrides=overrides)
    split = make_split(cfg)
    return PatchDataset(cfg, split, train=train, seed=seed), split


def test_item_layout_and_targets_follow_the_augmented_labels(tmp_path, files):
    ds, _ = build(
        tmp_path, mask=True, overrides=["data.iter_num_per_epoch=6", "data.augmentation.preset=all"]
    )
    assert len(ds) == 6
    for i in range(6):
        item = ds[i]
        assert item["index"] == i
        assert item["image"].dtype == torch.float32 and item["image"].shape == (1, 4, 16, 16)
        assert item["targets"].shape == (3, 4, 16, 16) and item["mask"].shape == (1, 4, 16, 16)
        image, labels, mask = ds.arrays(i)
        np.testing.assert_array_equal(item["image"][0].numpy(), image)
        np.testing.assert_array_equal(item["mask"][0].numpy(), mask.astype(np.float32))
        spec = [{"name": "binary"}, {"name": "instance_boundary"}, {"name": "instance_edt"}]
        expected = make_targets(labels, (8, 8, 8), spec, mask=mask)
        np.testing.assert_array_equal(item["targets"].numpy(), expected)
        assert np.all(item["targets"].numpy()[:, ~mask] == -1)


def test_deterministic_per_seed_epoch_and_index(tmp_path, files):
    ds, split = build(
        tmp_path, seed=3, overrides=["data.iter_num_per_epoch=4", "data.augmentation.preset=all"]
    )
    first = [ds[i]["image"] for i in range(4)]
    again, _ = build(
        tmp_path, seed=3, overrides=["data.iter_num_per_epoch=4", "data.augmentation.preset=all"]
    )
    for i in (2, 0, 3, 1):  # any order
        assert torch.equal(again[i]["image"], first[i])
    ds.set_epoch(1)
    second = [ds[i]["image"] for i in range(4)]
    assert not any(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    assert torch.equal(ds[(0, 2)]["image"], first[2])  # (epoch, index) items ignore set_epoch
    other_seed = PatchDataset(config(tmp_path, ["a.h5"]), split, seed=4)
    assert not torch.equal(other_seed[(0, 0)]["image"], first[0])


def test_window_is_read_padded_resampled_and_normalised(tmp_path, files):
    raw, labels, _ = files
    overrides = [
        NO_AUG,
        "data.foreground_probability=0",
        "data.train_resolution=[16,16,16]",
        "data.pad_size=[1,2,2]",
        "data.iter_num_per_epoch=12",
    ]
    ds, split = build(tmp_path, patch=(2, 8, 8), overrides=overrides)
    stats = split.volumes[0]["stats"]
    region = split.train[0]
    saw_padding = False
    for i in range(12):
        rng = np.random.default_rng([0, 0, i])  # the draw the item makes first
        window = ds.sampler.uniform(rng)
        start = np.array(window.start)
        lo = np.maximum(start, region.start)
        hi = np.minimum(start + (4, 16, 16), region.stop)
        box = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
        width = [
            (a - s, s + 4 * f - b) for s, a, b, f in zip(start, lo, hi, (1, 4, 4), strict=True)
        ]
        saw_padding |= any(w for p in width for w in p)
        big = np.pad(raw[box].astype(np.float64), width, mode="reflect")
        small = big.reshape(2, 2, 8, 2, 8, 2).mean(axis=(1, 3, 5))
        expected = np.clip((small - stats["low"]) / (stats["high"] - stats["low"]), 0, 1)
        image, lab, mask = ds.arrays(i)
        np.testing.assert_allclose(image, expected, atol=1e-6)
        np.testing.assert_array_equal(
            lab, np.pad(labels[box], width, mode="reflect")[1::2, 1::2, 1::2]
        )
        assert mask.all()
    assert saw_padding


def test_foreground_probability_one_always_has_foreground(tmp_path, files):
    ds, _ = build(
        tmp_path,
        overrides=[
            "data.foreground_probability=1.0",
            "data.iter_num_per_epoch=20",
            "data.augmentation.preset=all",
        ],
    )
    for i in range(20):
        _, labels, mask = ds.arrays(i)
        assert (labels[mask] > 0).any()


def test_reads_never_touch_the_validation_range(tmp_path, files, monkeypatch):
    reads = []

    class Recorder:
        def __init__(self, data):
            self.data, self.shape, self.dtype = data, data.shape, data.dtype

        def __getitem__(self, box):
            reads.append(box)
            return self.data[box]

    original = dataset_mod._open

    def recording_open(vol):
        handles = original(vol)
        for h in handles:
            if h is not None:
                h.data = Recorder(h.data)
        return handles

    monkeypatch.setattr(dataset_mod, "_open", recording_open)
    over = ["data.augmentation.preset=all", "data.pad_size=[3,4,4]", "data.iter_num_per_epoch=40"]
    ds, split = build(tmp_path, mask=True, patch=(6, 16, 16), overrides=over)
    (z0, z1), gap = split.val[0].z, split.volumes[0]["gap"]
    for i in range(40):
        ds[i]
    assert len(reads) > 40
    for box in reads:
        assert box[0].stop <= z0 - gap or box[0].start >= z1 + gap


def test_validation_tiles_and_read_region(tmp_path, files):
    raw, labels, mask = files
    ds, split = build(
        tmp_path,
        train=False,
        mask=True,
        patch=(8, 16, 16),
        overrides=["data.image_transform.normalize=zscore"],
    )
    region = split.val[0]  # z 19..24: 5 slices, patch 8: one padded tile in z, 2 x 2 in y, x
    assert region.z == (19, 24) and len(ds) == 4
    stats = split.volumes[0]["stats"]
    image, labs, valid = read_region(split, region)
    np.testing.assert_allclose(
        image, (raw[19:] - stats["mean"]) / stats["std"], rtol=1e-5, atol=1e-5
    )
    np.testing.assert_array_equal(labs, labels[19:])
    np.testing.assert_array_equal(valid, mask[19:])
    item = ds[0]
    assert item["image"].shape == (1, 8, 16, 16)
    m = item["mask"][0].numpy().astype(bool)
    # the tile starts at z = 19 - (8 - 5) // 2 = 18: slice 0 and slices 6, 7 are padding
    assert not m[0].any() and not m[6:].any()
    np.testing.assert_array_equal(m[1:6], mask[19:24, :16, :16])
    np.testing.assert_allclose(item["image"][0, 1:6].numpy(), image[:, :16, :16], atol=1e-5)
    assert torch.equal(ds[3]["targets"], ds[3]["targets"])


def test_two_d_patches(tmp_path, files):
    ds, _ = build(
        tmp_path,
        patch=(1, 16, 16),
        overrides=[
            "model.spatial_dims=2",
            "data.iter_num_per_epoch=3",
            "data.augmentation.preset=all",
        ],
    )
    item = ds[0]
    assert item["image"].shape == (1, 1, 16, 16) and item["targets"].shape == (3, 1, 16, 16)


def test_pickles_without_open_handles(tmp_path, files):
    ds, _ = build(tmp_path, overrides=["data.iter_num_per_epoch=2"])
    before = ds[1]["image"]
    clone = pickle.loads(pickle.dumps(ds))
    assert torch.equal(clone[1]["image"], before)


def test_no_foreground_is_an_error_naming_the_file(tmp_path):
    raw, labels, _ = make_volume((24, 32, 32))
    write_h5(tmp_path / "a.h5", raw, np.zeros_like(labels))
    with pytest.raises(VolsegError, match=r"labels .*a.h5:labels have no foreground .* 0.5"):
        build(tmp_path)
    # issue 14 row 12: without the bias all-zero labels used to train silently
    with pytest.raises(VolsegError, match=r"have no foreground .* nothing to learn .* is 0.0"):
        build(tmp_path, overrides=["data.foreground_probability=0"])


def test_all_masked_volume_is_an_error(tmp_path):
    raw, labels, mask = make_volume((24, 32, 32))
    write_h5(tmp_path / "a.h5", raw, labels, mask & False)
    with pytest.raises(VolsegError, match=r"mask .*a.h5:mask marks every voxel .* invalid"):
        build(tmp_path, mask=True)


def test_anisotropic_rotate90_is_refused(tmp_path, files):
    over = ["data.voxel_size=[30,8,8]", "data.augmentation.rotate90.spatial_axes=[0,2]"]
    with pytest.raises(VolsegError, match="90-degree rotations need equal voxel sizes"):
        build(tmp_path, overrides=over)


def test_lucchi_at_10nm():
    """Real data: raw / instances resampled to 10 nm, foreground in every patch, no overlap."""
    cfg = load(
        Path(__file__).resolve().parents[2] / "tutorials" / "lucchi-mito.yaml",
        [
            f"data.train_image=[{DATA}/lucchi_pp_crops/train_crop.h5:raw]",
            f"data.train_label=[{DATA}/lucchi_pp_crops/train_crop.h5:instances]",
            "data.voxel_size=[5,5,5]",  # the crop records none
            "data.val_region=[132,165]",
            "data.foreground_probability=1.0",
            "data.iter_num_per_epoch=12",
        ],
    )
    split = make_split(cfg)
    assert split.volumes[0]["shape"] == [165, 512, 512]
    assert [r.z for r in split.val] == [(132, 165)] and [r.z for r in split.train] == [(0, 131)]
    ds = PatchDataset(cfg, split, seed=0)
    for i in range(12):
        item = ds[i]
        assert item["image"].shape == (1, 1, 192, 192) and item["targets"].shape == (1, 1, 192, 192)
        assert item["targets"].max() == 1.0  # binary target: mitochondria in every patch
        assert abs(float(item["image"].mean())) < 2.0  # z-scored
    val = PatchDataset(cfg, split, train=False)
    # 33 slices at 10 nm windows of 2 x 384 x 384 data voxels: 17 x 2 x 2 tiles
    assert len(val) == 68 and val[len(val) - 1]["image"].shape == (1, 1, 192, 192)
