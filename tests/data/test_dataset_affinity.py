"""The dataset's affinity targets follow its flipped and rotated labels."""

import numpy as np
import pytest

from tests.data.pipeline_common import config, make_volume, write_h5
from volseg.data.affinity import affinities
from volseg.data.dataset import PatchDataset
from volseg.data.split import make_split
from volseg.offsets import PRESETS

OFFSETS = [[-1, 0, 0], [0, -2, 0], [0, 0, -3], [-1, 1, -1]]
EXTRA = f"  label_transform: {{targets: [{{name: affinity, kwargs: {{offsets: {OFFSETS}}}}}]}}\n"
MODEL = [
    "model.out_channels=4",
    "model.multi_task_config=[[0, 4, affinity, [0, 1]]]",
    "model.loss_functions=[BCEWithLogitsLoss, DiceLoss]",
    "model.loss_weights=[1, 1]",
    "model.loss_kwargs=[]",
]


@pytest.mark.parametrize("preset", ["none", "some"])
def test_targets_are_the_affinities_of_the_transformed_labels(tmp_path, preset):
    raw, labels, mask = make_volume((24, 32, 32), boxes=6)
    mask[:, :, :4] = False
    write_h5(tmp_path / "a.h5", raw, labels, mask)
    overrides = [*MODEL, "data.iter_num_per_epoch=8", f"data.augmentation.preset={preset}"]
    cfg = config(tmp_path, ["a.h5"], patch=(4, 16, 16), mask=True, extra=EXTRA, overrides=overrides)
    ds = PatchDataset(cfg, make_split(cfg), train=True, seed=0)
    for i in range(len(ds)):
        item = ds[i]
        _, labels_i, mask_i = ds.arrays(i)
        assert item["targets"].shape == (4, 4, 16, 16)
        want = affinities(labels_i, OFFSETS, mask=mask_i)
        np.testing.assert_array_equal(item["targets"].numpy(), want)


def test_flipping_labels_flips_and_reverses_the_affinities():
    """Why targets must follow the transformed labels: a flip reverses an offset's direction."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, (4, 6, 6)).astype(np.uint32)
    forward = affinities(labels, [(0, 0, 1)])
    flipped = affinities(labels[:, :, ::-1], PRESETS["nearest"])[2]
    np.testing.assert_array_equal(flipped, forward[0][:, :, ::-1])
