"""Deep-supervision resizing: box means over fully valid blocks, ignore never leaks."""

import numpy as np
import torch

from volseg.losses.scales import resize_pair, resize_weight


def block_reduce(a, f, fn):
    b, c, z, y, x = a.shape
    blocks = a.reshape(b, c, z // f[0], f[0], y // f[1], f[1], x // f[2], f[2])
    return fn(blocks, axis=(3, 5, 7))


def test_integer_factors_match_numpy_blocks():
    g = np.random.default_rng(0)
    target = g.random((2, 3, 4, 8, 8))
    valid = (g.random((2, 3, 4, 8, 8)) > 0.1).astype(np.float64)
    t, v = resize_pair(torch.from_numpy(target), torch.from_numpy(valid), (2, 4, 2))
    f = (2, 2, 4)
    ref_v = block_reduce(valid, f, np.min)
    ref_t = block_reduce(np.where(valid > 0, target, 0), f, np.mean)
    np.testing.assert_array_equal(v.numpy(), ref_v)
    keep = ref_v > 0
    np.testing.assert_allclose(t.numpy()[keep], ref_t[keep], rtol=1e-12)
    assert 0 < keep.mean() < 1


def test_ignore_value_never_reaches_valid_coarse_voxels():
    g = np.random.default_rng(1)
    target = (g.random((1, 1, 8, 16, 16)) > 0.5).astype(np.float32)
    ignore = g.random(target.shape) > 0.98
    target[ignore] = -1.0
    valid = torch.from_numpy((~ignore).astype(np.float32))
    t, v = resize_pair(torch.from_numpy(target), valid, (4, 4, 4))
    assert 0 < v.mean() < 1 and t[v > 0].min() >= 0.0 and t[v > 0].max() <= 1.0


def test_same_size_is_untouched_and_weights_average():
    t = torch.rand(1, 1, 2, 4, 4)
    v = torch.ones_like(t)
    assert resize_pair(t, v, (2, 4, 4))[0] is t
    w = resize_weight(t, (1, 2, 2))
    torch.testing.assert_close(w, torch.from_numpy(block_reduce(t.numpy(), (2, 2, 2), np.mean)))
