"""The sweep workflow on files: every tutorial's tune section, one thresholds.json, and the
"flood everything" setting never winning under the default objective on real and synthetic data."""

from pathlib import Path

import h5py
import numpy as np
import pytest
from scipy import ndimage

from tests.decode.oracle import ball_labels, oracle_maps
from tests.decode.test_affinity import oracle_affinities
from volseg.config import load
from volseg.errors import VolsegError
from volseg.io import open_volume, write_volume
from volseg.maps import add_offsets, describe
from volseg.offsets import PRESETS
from volseg.tune import sweep
from volseg.tune.run import run_sweep

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = [p for p in sorted((ROOT / "tutorials").glob("*.yaml")) if "\ntune:" in p.read_text()]
LUCCHI = ROOT.parent / "shared" / "data" / "lucchi_pp_crops" / "train_crop.h5"
# which oracle map (binary 0, boundary 1, distance 2) each model output channel holds
LAYOUT = {1: [0], 2: [0, 1], 3: [0, 1, 2]}


def _files(tmp_path, n_channels, *, checkpoint=None, offsets=None):
    gt = ball_labels(shape=(20, 48, 48), centres=((10, 14, 14), (10, 32, 30), (5, 36, 12)))
    rng = np.random.default_rng(0)
    if offsets is not None:  # affinity maps, recorded as such
        maps = oracle_affinities(gt, offsets) + rng.normal(0, 0.05, (n_channels, *gt.shape))
        maps = np.clip(maps, 0, 1).astype(np.float32)
        attrs = add_offsets(describe(["affinity"] * n_channels), offsets, (8, 8, 8))
    else:
        oracle = oracle_maps(gt)
        maps = oracle[LAYOUT[n_channels]] + rng.normal(0, 0.05, (n_channels, *gt.shape))
        maps = np.clip(maps, -1, 1).astype(np.float32)
        maps[: min(2, n_channels)] = np.clip(maps[: min(2, n_channels)], 0, 1)
        attrs = describe([f"c{i}" for i in range(n_channels)])
    if checkpoint is not None:
        attrs["checkpoint"] = str(checkpoint)
    pred = tmp_path / "pred" / "p.zarr"
    write_volume(pred, maps, voxel_size=(8, 8, 8), kind="maps", attrs=attrs)
    gt_path = tmp_path / "gt.h5"
    with h5py.File(gt_path, "w") as f:
        f["gt"] = gt
    return str(pred), f"{gt_path}:gt"


@pytest.mark.parametrize("tutorial", TUTORIALS, ids=lambda p: p.stem)
def test_every_tutorial_tune_section_runs_as_written(tutorial, tmp_path):
    cfg = load(tutorial)
    assert cfg.tune.parameters, tutorial
    targets = {t.name: t for t in cfg.data.label_transform.targets}
    offsets = None
    if "affinity" in targets:
        offsets = [list(o) for o in PRESETS[targets["affinity"].kwargs.offsets]]
    pred, gt = _files(tmp_path, int(cfg.model.out_channels), offsets=offsets)
    files = run_sweep(pred, gt=gt, cfg=cfg, say=lambda _: None)
    result = files.result
    assert result.decoder == cfg.tune.decoder
    assert result.metric == (cfg.tune.metric or result.metric)
    assert len(result.rows) == np.prod([len(v) for v in result_space(result).values()])
    assert files.thresholds == Path(pred).parent / "thresholds.json"  # no run: beside the maps
    assert files.csv.exists() and files.heatmap.exists()


def result_space(result):
    return {n: {r[n] for r in result.rows} for n in result.names}


def test_thresholds_json_goes_to_the_run_only(tmp_path):
    ckpt = tmp_path / "run" / "checkpoints" / "best.pt"
    ckpt.parent.mkdir(parents=True)
    pred, gt = _files(tmp_path, 3, checkpoint=ckpt)
    files = run_sweep(pred, gt=gt, say=lambda _: None)
    assert files.thresholds == ckpt.parent / "thresholds.json"
    assert not (Path(pred).parent / "thresholds.json").exists()


def test_bad_sweep_inputs(tmp_path):
    pred, gt = _files(tmp_path, 3)
    space = tmp_path / "s.yaml"
    space.write_text("binary_threshold.fg: [-0.5, -0.2]\n")
    with pytest.raises(VolsegError, match="every one of the 2 settings"):
        run_sweep(pred, gt=gt, space=space, say=lambda _: None)
    with pytest.raises(VolsegError, match="unknown metric `dice`"):
        run_sweep(pred, gt=gt, metric="dice", say=lambda _: None)
    small = tmp_path / "small.h5"
    with h5py.File(small, "w") as f:
        f["gt"] = np.zeros((3, 4, 5), np.uint8)
    with pytest.raises(VolsegError, match="has shape"):
        run_sweep(pred, gt=f"{small}:gt", say=lambda _: None)


def _flood_case(gt, seed=0):
    """A blurry map whose background never goes below 0.33, as a briefly trained net gives."""
    rng = np.random.default_rng(seed)
    fg = ndimage.gaussian_filter((gt > 0).astype(np.float32), 0.8)
    bg = rng.uniform(0.33, 0.45, gt.shape).astype(np.float32)
    return np.maximum(fg, bg)[None]


def _assert_flood_never_wins(gt, *, min_size):
    maps = _flood_case(gt)
    lo = float(maps.min())
    space = {"binary_threshold.seed": [0.8, 0.9], "binary_threshold.fg": [lo + 1e-4, 0.5, 0.6],
             "min_instance_size": [0, min_size]}  # fmt: skip
    base = {"channels": (0, None, None), "contour_threshold": None,
            "distance_threshold": None, "min_seed_size": 0}  # fmt: skip
    result = sweep(maps, gt, space, base_params=base, min_size=min_size)
    assert result.metric == "f1@0.5"
    floods = [r for r in result.rows if r["binary_threshold.fg"] == lo + 1e-4]
    assert all(r["degenerate"] for r in floods)
    assert not result.best_row["degenerate"] and result.best_row["binary_threshold.fg"] >= 0.5
    best = result.best_row
    assert all(best["fg_iou"] > r["fg_iou"] + 0.2 and best["f1@0.5"] > r["f1@0.5"] for r in floods)
    assert best["fg_iou"] > 0.7 and best["f1@0.5"] > 0.7


@pytest.mark.skipif(not LUCCHI.exists(), reason=f"{LUCCHI} is not there")
def test_flood_never_wins_on_the_lucchi_crop():
    with h5py.File(LUCCHI, "r") as f:
        gt = f["instances"][40:72, 256:, 256:].astype(np.uint32)
    assert np.count_nonzero(gt) > 0.02 * gt.size
    _assert_flood_never_wins(gt, min_size=1000)


def test_flood_never_wins_on_synthetic_vesicles():
    from volseg.data.synth import vesicles

    _, gt, _ = vesicles(shape=(24, 96, 96), seed=1)
    _assert_flood_never_wins(gt.astype(np.uint32), min_size=10)


def test_sweep_files_go_beside_a_store_never_inside_it(tmp_path):
    pred, gt = _files(tmp_path, 3)
    maps = open_volume(pred)
    store = tmp_path / "seg.zarr"
    write_volume(f"{store}:maps", maps.numpy(), voxel_size=(8, 8, 8), kind="maps",
                 attrs=dict(maps.attrs))  # fmt: skip
    files = run_sweep(f"{store}/maps", gt=gt, say=lambda _: None)
    assert files.csv.parent == files.thresholds.parent == tmp_path
    assert not list(store.rglob("sweep.csv"))
