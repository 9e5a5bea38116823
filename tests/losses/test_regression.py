"""Smooth L1 and MSE against numpy formulas on valid voxels."""

import numpy as np
import pytest
import torch

from volseg.errors import VolsegError
from volseg.losses import MSELoss, SmoothL1Loss


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
def test_smooth_l1_equals_numpy(beta):
    g = torch.Generator().manual_seed(3)
    pred = torch.rand((2, 1, 4, 4, 4), generator=g, dtype=torch.float64) * 4 - 2
    target = torch.rand((2, 1, 4, 4, 4), generator=g, dtype=torch.float64) * 2 - 1
    valid = (torch.rand((2, 1, 4, 4, 4), generator=g) > 0.4).double()
    d = np.abs(pred.numpy() - target.numpy())
    per = np.where(d < beta, 0.5 * d**2 / beta, d - 0.5 * beta)
    ref = per[valid.numpy() > 0].mean()
    got = SmoothL1Loss(beta=beta)(pred, target, valid)
    assert float(got) == pytest.approx(ref, rel=1e-12)
    mse = MSELoss()(pred, target, valid)
    assert float(mse) == pytest.approx((d**2)[valid.numpy() > 0].mean(), rel=1e-12)


def test_smooth_l1_bad_beta():
    with pytest.raises(VolsegError, match="beta must be > 0"):
        SmoothL1Loss(beta=0)
