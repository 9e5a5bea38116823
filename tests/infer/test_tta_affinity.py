"""Test-time augmentation of affinity channels: every view, turned back, describes the same
voxel pairs as the identity view."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from volseg.errors import VolsegError
from volseg.infer.tta import make_tta, predict_views
from volseg.offsets import PRESETS


class OracleAffinities(torch.nn.Module):
    """Reads a label image and returns, per offset, 1 where ``v`` and ``v + o`` share a label
    (0 where the pair leaves the window): an exact affinity network."""

    def __init__(self, offsets):
        super().__init__()
        self.offsets = [tuple(o) for o in offsets]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        labels = x[:, 0]
        out = torch.zeros((x.shape[0], len(self.offsets), *labels.shape[1:]))
        for k, o in enumerate(self.offsets):
            here = [slice(None)]
            there = [slice(None)]
            for d, n in zip(o, labels.shape[1:], strict=True):
                here.append(slice(-d, None) if d < 0 else slice(0, n - d))
                there.append(slice(0, n + d) if d < 0 else slice(d, None))
            out[(slice(None), k, *here[1:])] = (labels[tuple(here)] == labels[tuple(there)]).float()
        return out * 20 - 10  # logits; sigmoid gives ~0 / ~1


def _labels(seed=0, shape=(12, 14, 14)):
    rng = np.random.default_rng(seed)
    coarse = rng.integers(1, 6, (shape[0] // 3, shape[1] // 3 + 1, shape[2] // 3 + 1))
    lab = coarse.repeat(3, 0).repeat(3, 1).repeat(3, 2)[: shape[0], : shape[1], : shape[2]]
    return torch.from_numpy(lab.astype(np.float32))[None, None]


@pytest.mark.parametrize("preset", ["nearest", "isotropic-9"])
@pytest.mark.parametrize("rotate90", [False, True])
def test_every_view_agrees_with_the_identity_inside(preset, rotate90):
    offsets = PRESETS[preset]
    net = OracleAffinities(offsets)
    x = _labels()
    acts = ["sigmoid"] * len(offsets)
    pairs = list(enumerate(offsets))
    plain = predict_views(net, x, activations=acts)
    tta = make_tta([[0], [1], [2], [0, 1, 2]], rotate90=rotate90, ensemble="min", affinity=pairs)
    assert len(tta.views) > 4
    ensembled = predict_views(net, x, tta=tta, activations=acts)
    m = max(abs(v) for o in offsets for v in o)  # pairs within the window in every view
    inner = (slice(None), slice(None), *(slice(m, -m),) * 3)
    assert torch.allclose(ensembled[inner], plain[inner], atol=1e-4)


def test_without_the_shift_flips_would_misplace_pairs():
    """The reference failure: un-flipping alone puts every z pair one voxel off."""
    offsets = PRESETS["nearest"]
    net = OracleAffinities(offsets)
    x = _labels(1)
    acts = ["sigmoid"] * 3
    plain = predict_views(net, x, activations=acts)
    naive = predict_views(net, x, tta=make_tta([[0]], ensemble="min"), activations=acts)
    inner = (slice(None), 0, slice(2, -2), slice(2, -2), slice(2, -2))
    assert not torch.allclose(naive[inner], plain[inner], atol=1e-4)


def test_rotation_of_anisotropic_offsets_is_refused():
    offsets = [(-1, 0, 0), (0, -1, 0), (0, 0, -1), (0, -3, 0)]  # no (0, 0, -3) partner
    with pytest.raises(VolsegError, match="does not predict"):
        make_tta([], rotate90=True, affinity=list(enumerate(offsets)))
