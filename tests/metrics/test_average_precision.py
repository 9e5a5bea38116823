"""COCO-style AP (MitoEM AP-50 / AP-75): a hand-worked case and pycocotools as the reference."""

import numpy as np
import pytest

from volseg.errors import VolsegError
from volseg.metrics import average_precision, contingency, match_instances


def boxes():
    """Three gt boxes; seg: a good match, a half match, a false positive, a split.

    gt 1 = x 0:10 (100 voxels per row pair), gt 2 = x 10:20, gt 3 = x 30:40 (each 1x10x10).
    """
    gt = np.zeros((1, 10, 50), np.uint32)
    gt[0, :, 0:10] = 1
    gt[0, :, 10:20] = 2
    gt[0, :, 30:40] = 3
    seg = np.zeros_like(gt)
    seg[0, :, 0:10] = 5  # = gt 1, IoU 1.0, size 100
    seg[0, :, 10:16] = 6  # inside gt 2, IoU 0.6, size 60
    seg[0, :, 42:50] = 7  # false positive, size 80
    seg[0, :2, 30:40] = 8  # sliver of gt 3, IoU 0.2, size 20
    return seg, gt


def test_hand_worked_ranking_by_size():
    seg, gt = boxes()
    ap = average_precision(seg, gt, thresholds=(0.5, 0.75))
    # rank by size: 5 (hit), 7 (miss), 6 (hit at 0.5 only), 8 (miss); 3 gt instances
    # t=0.5: precision 1, 1/2, 2/3, 2/4 at recall 1/3, 1/3, 2/3, 2/3; envelope 1, 2/3, 2/3, 1/2
    # recall points 0..0.33 (34 of them) -> 1, 0.34..0.66 (33) -> 2/3, above (34) -> 0
    assert ap[0.5] == pytest.approx((34 * 1.0 + 33 * 2 / 3) / 101)
    # t=0.75: only 5 hits: precision 1 up to recall 1/3
    assert ap[0.75] == pytest.approx(34 / 101)


def test_scores_change_the_ranking():
    seg, gt = boxes()
    ap = average_precision(seg, gt, thresholds=(0.5,), scores={5: 0.9, 6: 0.8, 7: 0.1, 8: 0.2})
    assert ap[0.5] == pytest.approx(67 / 101)  # both hits first: precision 1 up to recall 2/3
    with pytest.raises(VolsegError, match="no confidence for segment id"):
        average_precision(seg, gt, scores={5: 1.0})


def test_match_instances_reports_ap_from_the_same_table():
    seg, gt = boxes()
    table = contingency(seg, gt)
    got = match_instances(table=table, thresholds=(0.5, 0.75))
    want = average_precision(table=table, thresholds=(0.5, 0.75))
    assert got[0.5]["ap"] == want[0.5] and got[0.75]["ap"] == want[0.75]
    assert got[0.5]["ap_dsb"] == pytest.approx(2 / 5)


def test_empty_cases_and_bad_thresholds():
    empty = np.zeros((2, 3, 3), np.uint32)
    one = empty.copy()
    one[0, 0, 0] = 1
    assert average_precision(empty, empty) == {0.5: 1.0, 0.75: 1.0}
    assert average_precision(one, empty)[0.5] == 0.0
    assert average_precision(empty, one)[0.5] == 0.0
    with pytest.raises(VolsegError, match=r"thresholds must be in \(0, 1\]"):
        average_precision(one, one, thresholds=(0.0,))


def random_instances(rng, shape, n):
    """Voronoi cells of ``n`` random points, background farther than 5 voxels from every point."""
    points = rng.uniform(0, 1, size=(n, 3)) * np.array(shape)
    grid = np.indices(shape).reshape(3, -1).T + 0.5
    dist = ((grid[:, None, :] - points[None]) ** 2).sum(-1)
    labels = (dist.argmin(1) + 1).astype(np.uint32)
    labels[dist.min(1) > 25] = 0
    return labels.reshape(shape)


def coco_ap(seg, gt, thresholds):
    """pycocotools on the volume flattened to one (z*y, x) image: IoUs are unchanged."""
    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    flat_gt, flat_seg = gt.reshape(-1, gt.shape[-1]), seg.reshape(-1, seg.shape[-1])

    def rle(m):
        code = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
        code["counts"] = code["counts"].decode()
        return code

    anns = [{"id": int(i), "image_id": 1, "category_id": 1, "segmentation": rle(flat_gt == i),
             "area": float((flat_gt == i).sum()), "iscrowd": 0, "bbox": [0, 0, 1, 1]}
            for i in np.unique(flat_gt) if i]  # fmt: skip
    h, w = flat_gt.shape
    coco = COCO()
    coco.dataset = {"images": [{"id": 1, "height": h, "width": w}], "annotations": anns,
                    "categories": [{"id": 1, "name": "x"}]}  # fmt: skip
    coco.createIndex()
    dets = [{"image_id": 1, "category_id": 1, "segmentation": rle(flat_seg == i),
             "score": float((flat_seg == i).sum())} for i in np.unique(flat_seg) if i]  # fmt: skip
    ev = COCOeval(coco, coco.loadRes(dets), "segm")
    ev.params.iouThrs = np.array(thresholds)
    ev.params.maxDets = [100000]
    ev.params.areaRng = [[0, 1e10]]
    ev.params.areaRngLbl = ["all"]
    ev.evaluate()
    ev.accumulate()
    prec = ev.eval["precision"][:, :, 0, 0, 0]  # (threshold, recall point)
    return {
        t: float(np.mean(np.where(p > -1, p, 0.0))) for t, p in zip(thresholds, prec, strict=True)
    }


@pytest.mark.parametrize("seed", range(6))
def test_equals_pycocotools(seed):
    pytest.importorskip("pycocotools")
    rng = np.random.default_rng(seed)
    gt = random_instances(rng, (6, 16, 20), 12)
    seg = gt.copy()
    seg[rng.random(seg.shape) < 0.15] = 0  # holes
    seg = np.roll(seg, rng.integers(0, 2), axis=2)  # shifts
    seg[seg == 3] = 4  # a merge
    seg[(seg == 5) & (np.indices(seg.shape)[1] < 8)] = 99  # a split
    thresholds = (0.5, 0.6, 0.75, 0.9)
    got = average_precision(seg, gt, thresholds=thresholds)
    want = coco_ap(seg, gt, thresholds)
    for t in thresholds:
        assert got[t] == pytest.approx(want[t], abs=1e-12), t
    assert 0.0 < got[0.5] < 1.0  # a case where ranking and matching matter
