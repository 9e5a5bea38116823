"""Whole-region validation: sliding-window prediction (padding, grids), decoding, scores."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from volseg.data.resample import resample_image
from volseg.data.targets import make_targets
from volseg.infer.tta import tta_from_config
from volseg.train.full_val import combine, full_validation, grid_shape, predict_region, score_region

MODEL = SimpleNamespace(
    architecture="rsunet",
    out_channels=3,
    loss_functions=["DiceLoss"] * 3,
    multi_task_config=[
        [0, 1, "binary", [0]],
        [1, 2, "instance_boundary", [1]],
        [2, 3, "instance_edt", [2]],
    ],
)


NO_TTA = SimpleNamespace(enabled=False, flip_axes=[], rotate90=False, ensemble_mode="mean")


def window(**kw):
    base = dict(
        window_size=[8, 16, 16],
        overlap=0.5,
        sigma_scale=0.125,
        blending="gaussian",
        sw_batch_size=2,
        padding_mode="reflect",
    )
    base.update(kw)
    return SimpleNamespace(**base)


class Pointwise(nn.Module):
    """Logits = the input on every channel, so maps are sigmoid / tanh of the image."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert not self.training
        return x.repeat(1, 3, 1, 1, 1)


def expected(image: np.ndarray) -> np.ndarray:
    t = torch.from_numpy(image.astype(np.float64))
    return np.stack([torch.sigmoid(t), torch.sigmoid(t), torch.tanh(t)]).astype(np.float32)


def test_grid_shape() -> None:
    assert grid_shape((33, 512, 512), (5, 5, 5), (10, 10, 10)) == (16, 256, 256)
    assert grid_shape((3, 7, 7), (30, 8, 8), None) == (3, 7, 7)
    assert grid_shape((1, 3, 3), (5, 5, 5), (20, 20, 20)) == (1, 1, 1)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "constant"])
def test_pointwise_prediction_on_a_thin_slab(mode: str) -> None:
    image = np.random.default_rng(0).normal(size=(3, 20, 27)).astype(np.float32)
    net = Pointwise()
    maps = predict_region(
        net,
        image,
        model_cfg=MODEL,
        window=window(padding_mode=mode),
        voxel_size=(30, 8, 8),
        resolution=None,
        device=torch.device("cpu"),
    )
    assert maps.shape == (3, 3, 20, 27) and maps.dtype == np.float32
    np.testing.assert_allclose(maps, expected(image), atol=1e-5)


def test_prediction_on_a_coarser_training_grid() -> None:
    image = np.random.default_rng(1).normal(size=(6, 20, 24)).astype(np.float32)
    maps = predict_region(
        Pointwise(),
        image,
        model_cfg=MODEL,
        window=window(),
        voxel_size=(5, 5, 5),
        resolution=(10, 10, 10),
        device=torch.device("cpu"),
    )
    coarse = expected(resample_image(image, (3, 10, 12)))
    want = np.stack([resample_image(m, (6, 20, 24)) for m in coarse])
    assert maps.shape == (3, 6, 20, 24)
    np.testing.assert_allclose(maps, want, atol=1e-5)


class Shifted(nn.Module):
    """Logits = the input rolled one voxel along x: not flip-equivariant, so TTA shows."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.roll(x, 1, dims=-1).repeat(1, 3, 1, 1, 1)


def test_validation_ensembles_the_inference_tta_views() -> None:
    image = np.random.default_rng(2).normal(size=(8, 16, 16)).astype(np.float32)
    one = window(window_size=[8, 16, 16], overlap=0.0)  # a single window: no blending
    common = dict(model_cfg=MODEL, window=one, voxel_size=(8, 8, 8), resolution=None,
                  device=torch.device("cpu"))  # fmt: skip
    tta = tta_from_config(SimpleNamespace(enabled=True, flip_axes=[[2]], rotate90=False,
                                          ensemble_mode="mean"))  # fmt: skip
    plain = predict_region(Shifted(), image, **common)
    both = predict_region(Shifted(), image, tta=tta, **common)
    right, left = np.roll(image, 1, axis=-1), np.roll(image, -1, axis=-1)
    np.testing.assert_allclose(plain, expected(right), atol=1e-5)
    # the flipped view, flipped back, is the input rolled the other way; mean of activations
    np.testing.assert_allclose(both, (expected(right) + expected(left)) / 2, atol=1e-5)


def balls() -> np.ndarray:
    z, y, x = np.mgrid[:12, :24, :36]
    labels = np.zeros((12, 24, 36), np.uint32)
    labels[(z - 6) ** 2 + (y - 12) ** 2 + (x - 10) ** 2 <= 25] = 1
    labels[(z - 6) ** 2 + (y - 12) ** 2 + (x - 22) ** 2 <= 36] = 2
    return labels


def cfg(min_size: int = 0):
    return SimpleNamespace(
        model=MODEL,
        test=SimpleNamespace(
            decoding=[SimpleNamespace(name="contour_distance", kwargs={"min_seed_size": 2})],
            evaluation=SimpleNamespace(min_instance_size=min_size),
        ),
        data=SimpleNamespace(train_resolution=None),
        inference=SimpleNamespace(sliding_window=window(), test_time_augmentation=NO_TTA),
    )


def test_perfect_maps_score_perfectly() -> None:
    labels = balls()
    spec = ["binary", "instance_boundary", "instance_edt"]
    maps = make_targets(labels, (8, 8, 8), spec)
    scores, seg = score_region(maps, labels, None, cfg=cfg())
    assert len(np.unique(seg[seg > 0])) == 2
    assert scores["val/map_fg_iou"] == 1.0
    assert scores["val/are"] < 0.02 and scores["val/precision"] > 0.98
    assert scores["val/seg_fg_iou"] > 0.9 and scores["val/f1_50"] == 1.0
    assert scores["val/instances"] == scores["val/gt_instances"] == 2
    assert scores["weight"] == labels.size


def test_mask_small_gt_and_empty_regions() -> None:
    labels = balls()
    maps = make_targets(labels, (8, 8, 8), ["binary", "instance_boundary", "instance_edt"])
    gt = labels.copy()
    gt[5:7, 11:13, 9:11] = 9  # an 8-voxel ground-truth speck inside what the maps call ball 1
    with_speck, _ = score_region(maps, gt, None, cfg=cfg(0))
    without, _ = score_region(maps, gt, None, cfg=cfg(9))  # the speck is dropped first
    assert with_speck["val/precision"] < 1.0
    assert without["val/are"] < with_speck["val/are"]
    empty = np.zeros_like(labels)
    mask = np.zeros(labels.shape, bool)
    mask[:, :, :5] = True
    scores, _ = score_region(np.zeros_like(maps), empty, mask, cfg=cfg())
    assert np.isnan(scores["val/are"]) and scores["val/map_fg_iou"] == 1.0
    assert scores["val/seg_fg_iou"] == 1.0 and scores["val/instances"] == 0
    assert scores["weight"] == mask.sum()


def test_combine_weights_and_skips_nan() -> None:
    a = {"weight": 1.0, "val/are": 0.2, "val/map_fg_iou": 0.5, "val/instances": 3}
    b = {"weight": 3.0, "val/are": float("nan"), "val/map_fg_iou": 0.9, "val/instances": 4}
    out = combine([a, b])
    assert out["val/are"] == pytest.approx(0.2)
    assert out["val/map_fg_iou"] == pytest.approx((0.5 + 2.7) / 4)
    assert out["val/instances"] == 7  # counts add up


def test_full_validation_example() -> None:
    labels = balls()
    image = labels.astype(np.float32) - 0.5
    scores, ex = full_validation(
        Pointwise(), [(image, labels, None, (8, 8, 8))], cfg=cfg(), device=torch.device("cpu")
    )
    from volseg.train.names import FULL_METRICS

    assert set(scores) == {*FULL_METRICS, "val/instances", "val/gt_instances"}
    assert scores["val/map_fg_iou"] == 1.0  # sigmoid(label - 0.5) > 0.5 exactly on the balls
    assert ex["image"].shape == (24, 36) and ex["maps"].shape == (3, 24, 36)
