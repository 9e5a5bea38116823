"""BCE, weighted BCE and focal loss against direct formulas with manual masking."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from volseg.errors import VolsegError
from volseg.losses import BCEWithLogitsLoss, FocalLoss, WeightedBCEWithLogitsLoss


def sample(seed=0, shape=(2, 1, 3, 4, 5)):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(shape, generator=g, dtype=torch.float64) * 3
    target = (torch.rand(shape, generator=g) > 0.6).double()
    valid = (torch.rand(shape, generator=g) > 0.3).double()
    return logits, target, valid


@pytest.mark.parametrize("pos_weight", [None, 3.0])
def test_bce_equals_torch_on_valid_voxels(pos_weight):
    logits, target, valid = sample()
    keep = valid > 0
    pw = None if pos_weight is None else torch.tensor(pos_weight, dtype=torch.float64)
    ref = F.binary_cross_entropy_with_logits(logits[keep], target[keep], pos_weight=pw)
    got = BCEWithLogitsLoss(pos_weight=pos_weight)(logits, target, valid)
    torch.testing.assert_close(got, ref)


def test_weighted_bce_weight_map_is_normalised_by_valid_count():
    logits, target, valid = sample(1)
    weight = torch.rand(
        logits.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(7)
    )
    x, t, v, w = (a.numpy() for a in (logits, target, valid, weight))
    p = 1 / (1 + np.exp(-x))
    bce = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    ref = (bce * w * v).sum() / v.sum()
    got = WeightedBCEWithLogitsLoss()(logits, target, valid, weight)
    assert float(got) == pytest.approx(ref, rel=1e-10)


def test_weighted_bce_class_balance():
    logits, target, valid = sample(2)
    x, t, v = (a.numpy() for a in (logits, target, valid))
    n_fg, n_valid = (t * v).sum(), v.sum()
    w = np.where(t > 0.5, n_valid / (2 * n_fg), n_valid / (2 * (n_valid - n_fg)))
    p = 1 / (1 + np.exp(-x))
    bce = -(2.0 * t * np.log(p) + (1 - t) * np.log(1 - p))  # pos_weight 2
    ref = (bce * w * v).sum() / n_valid
    got = WeightedBCEWithLogitsLoss(pos_weight=2.0, class_balance=True)(logits, target, valid)
    assert float(got) == pytest.approx(ref, rel=1e-10)


@pytest.mark.parametrize(
    ("alpha", "gamma", "pw"), [(0.25, 2.0, None), (0.7, 0.5, 2.0), (None, 1.0, None)]
)
def test_focal_equals_direct_formula(alpha, gamma, pw):
    logits, target, valid = sample(3)
    x, t, v = (a.numpy() for a in (logits, target, valid))
    p = 1 / (1 + np.exp(-x))
    a = 1.0 if alpha is None else alpha
    b = 1.0 if alpha is None else 1 - alpha
    pos = -a * (1 - p) ** gamma * (pw or 1.0) * np.log(p)
    neg = -b * p**gamma * np.log(1 - p)
    ref = (np.where(t > 0, pos, neg) * v).sum() / v.sum()
    got = FocalLoss(alpha=alpha, gamma=gamma, pos_weight=pw)(logits, target, valid)
    assert float(got) == pytest.approx(ref, rel=1e-9)


def test_focal_with_gamma_zero_and_no_alpha_is_bce():
    logits, target, valid = sample(4)
    focal = FocalLoss(alpha=None, gamma=0.0)(logits, target, valid)
    torch.testing.assert_close(focal, BCEWithLogitsLoss()(logits, target, valid))


def test_no_valid_voxel_gives_zero_not_nan():
    logits, target, _ = sample(5)
    logits.requires_grad_(True)
    loss = FocalLoss()(logits, target, torch.zeros_like(target))
    loss.backward()
    assert float(loss) == 0.0 and torch.equal(logits.grad, torch.zeros_like(logits))


@pytest.mark.parametrize(("kw", "match"), [({"alpha": 1.5}, "alpha"), ({"gamma": -1}, "gamma")])
def test_focal_bad_options(kw, match):
    with pytest.raises(VolsegError, match=match):
        FocalLoss(**kw)
