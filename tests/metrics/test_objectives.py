"""Named objectives: independent references, and flooding background never beats the truth."""

import numpy as np
import pytest
from scipy import ndimage
from skimage.metrics import adapted_rand_error

from volseg.errors import VolsegError
from volseg.metrics import contingency, semantic
from volseg.metrics.objectives import (
    OBJECTIVES,
    all_scores,
    check_objective,
    count_instances,
    default_objective,
    rank_key,
)


def random_instances(seed, shape=(12, 28, 28), n=5):
    rng = np.random.default_rng(seed)
    gt = np.zeros(shape, np.uint32)
    zz, yy, xx = np.indices(shape)
    for i in range(1, n + 1):
        c = rng.uniform((2, 4, 4), np.subtract(shape, (2, 4, 4)))
        r = rng.uniform(2.5, 5.0)
        gt[(zz - c[0]) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2 < r * r] = i
    return gt


def floods(gt, rng):
    """Segmentations equal to gt on its objects that also label all gt background."""
    one_new = np.where(gt > 0, gt, gt.max() + 1)
    into_first = np.where(gt > 0, gt, gt[gt > 0].min())
    _, idx = ndimage.distance_transform_edt(gt == 0, return_indices=True)
    nearest = gt[tuple(idx)]
    noisy = np.where(gt > 0, gt, rng.integers(1, gt.max() + 2, gt.shape)).astype(np.uint32)
    return one_new, into_first, nearest, noisy


@pytest.mark.parametrize("seed", range(6))
def test_labelling_all_background_never_beats_the_truth(seed):
    rng = np.random.default_rng(seed)
    gt = random_instances(seed)
    truth = all_scores(contingency(gt, gt))
    for flood in floods(gt, rng):
        scores = all_scores(contingency(flood, gt))
        for name, objective in OBJECTIVES.items():
            if objective.lower_is_better:
                assert scores[name] >= truth[name] - 1e-12, name
            else:
                assert scores[name] <= truth[name] + 1e-12, name
        # and with the tie-breaks, the truth ranks strictly first under every objective
        for name in OBJECTIVES:
            assert rank_key(truth, name) < rank_key(scores, name), name


@pytest.mark.parametrize("seed", range(3))
def test_against_independent_references(seed):
    rng = np.random.default_rng(seed)
    gt = random_instances(seed)
    seg = random_instances(seed + 100)
    seg[rng.random(seg.shape) < 0.02] = 0
    s = all_scores(contingency(seg, gt))

    # background counted = every 0 voxel its own segment on both sides; skimage on volumes
    # relabelled that way, ignoring nothing, is the independent reference
    def singletons(a):
        out = a.astype(np.int64)
        zeros = out == 0
        out[zeros] = a.max() + 1 + np.arange(int(zeros.sum()))
        return out

    ref = adapted_rand_error(singletons(gt), singletons(seg), ignore_labels=())
    assert s["are_with_bg"] == pytest.approx(ref[0], abs=1e-12)
    assert s["are_ignore_bg"] == pytest.approx(adapted_rand_error(gt, seg)[0])
    sem = semantic(seg > 0, gt > 0)
    assert s["fg_iou"] == pytest.approx(sem["iou"]) and s["fg_dice"] == pytest.approx(sem["dice"])
    assert s["n_instances"] == len(set(np.unique(seg)) - {0})


def test_count_instances_never_counts_background():
    assert count_instances(np.array([[1, 2], [2, 9]])) == 3  # no 0 present: still 3
    assert count_instances(np.array([[0, 2], [2, 9]])) == 2


def test_default_objective_and_names():
    assert default_objective(0.96)[0] == "f1@0.5"
    assert default_objective(0.1)[0] == "are_ignore_bg"
    assert check_objective("ap@0.75").lower_is_better is False
    with pytest.raises(VolsegError, match="ambiguous"):
        check_objective("adapted_rand")
    with pytest.raises(VolsegError, match="did you mean `fg_iou`"):
        check_objective("fg_iuo")


def test_schema_lists_the_same_objectives():
    from volseg.config.schema_decode import OBJECTIVE_NAMES

    assert tuple(OBJECTIVES) == OBJECTIVE_NAMES
