import numpy as np
import pytest


def ball_labels(shape=(24, 40, 40), centres=((12, 14, 14), (12, 26, 26)), radius=8.0):
    """Two touching balls (ids 1, 2) as a tiny deterministic instance volume."""
    zz, yy, xx = np.indices(shape)
    labels = np.zeros(shape, dtype=np.uint32)
    for i, (cz, cy, cx) in enumerate(centres, start=1):
        inside = (zz - cz) ** 2 + (yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2
        labels[inside & (labels == 0)] = i
    return labels


def oracle_maps(labels, voxel_size=(1.0, 1.0, 1.0)):
    """binary / boundary / normalised-EDT maps from labels, computed independently here."""
    from scipy import ndimage

    binary = (labels > 0).astype(np.float32)
    boundary = np.zeros(labels.shape, dtype=np.float32)
    for axis in range(3):
        a = np.swapaxes(labels, 0, axis)
        b = np.swapaxes(boundary, 0, axis)
        diff = a[1:] != a[:-1]
        b[1:][diff & (a[1:] > 0)] = 1
        b[:-1][diff & (a[:-1] > 0)] = 1
    dist = np.full(labels.shape, -1.0, dtype=np.float32)
    for i in np.unique(labels[labels > 0]):
        inside = labels == i
        d = ndimage.distance_transform_edt(inside, sampling=voxel_size)
        dist[inside] = d[inside] / d.max()
    return np.stack([binary, boundary, dist])


@pytest.fixture(name="balls")
def balls_fixture():
    return ball_labels()
