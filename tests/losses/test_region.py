"""Dice and Tversky against numpy formulas on valid voxels."""

import numpy as np
import pytest
import torch

from volseg.losses import DiceLoss, TverskyLoss


def sample(seed=0, shape=(2, 2, 3, 4, 5)):
    g = torch.Generator().manual_seed(seed)
    prob = torch.rand(shape, generator=g, dtype=torch.float64)
    target = (torch.rand(shape, generator=g) > 0.5).double()
    valid = (torch.rand(shape, generator=g) > 0.3).double()
    return prob, target, valid


def channel_sums(p, t, v):
    """Per-channel masked sums over batch and space, written out with numpy."""
    out = []
    for c in range(p.shape[1]):
        pc, tc, vc = p[:, c], t[:, c], v[:, c] > 0
        out.append(((pc * tc)[vc].sum(), pc[vc].sum(), tc[vc].sum(), (pc**2)[vc].sum()))
    return out


@pytest.mark.parametrize("squared", [False, True])
def test_dice_equals_numpy(squared):
    prob, target, valid = sample()
    p, t, v = (a.numpy() for a in (prob, target, valid))
    s = 1e-3
    per = []
    for tp, ps, ts, p2 in channel_sums(p, t, v):
        den = (p2 + ts) if squared else (ps + ts)  # targets are 0/1, so t^2 = t
        per.append(1 - (2 * tp + s) / (den + s))
    got = DiceLoss(smooth=s, squared_pred=squared)(prob, target, valid)
    assert float(got) == pytest.approx(np.mean(per), rel=1e-12)


def test_tversky_equals_numpy_and_half_half_is_dice():
    prob, target, valid = sample(1)
    p, t, v = (a.numpy() for a in (prob, target, valid))
    a, b, s = 0.3, 0.7, 1e-5
    per = [
        1 - (tp + s) / (tp + a * (ps - tp) + b * (ts - tp) + s)
        for tp, ps, ts, _ in channel_sums(p, t, v)
    ]
    got = TverskyLoss(alpha=a, beta=b, smooth=s)(prob, target, valid)
    assert float(got) == pytest.approx(np.mean(per), rel=1e-12)
    half = TverskyLoss(alpha=0.5, beta=0.5, smooth=s)(prob, target, valid)
    torch.testing.assert_close(half, DiceLoss(smooth=s)(prob, target, valid))


def test_dice_of_perfect_prediction_is_zero():
    _, target, valid = sample(2)
    assert float(DiceLoss(smooth=0.0)(target, target, valid)) == pytest.approx(0.0, abs=1e-12)
