"""``simulate``: active learning replayed on a fully labelled volume (the labels annotate).

The config's training volume (one) is split as ``fit`` splits it; its training region is
tiled into regions of ``region`` voxels. Every strategy starts from the same random
``start`` fraction of the regions (``system.seed``); each round trains a model from scratch
for ``steps`` steps on the labelled regions only (``data.train_mask`` = the chosen regions),
scores it on the validation region, and queries a ``query`` fraction more with the strategy
(:mod:`volseg.active.acquisition`; uncertainty on the unlabelled regions, k-center from the
labelled set). Rounds ``0..R`` give the learning curve: foreground IoU (map > 0.5 against
ground truth > 0, every voxel of the validation region) and instance F1 at IoU 0.5 (the
config's first ``test.decoding`` decoder and ``test.evaluation.min_instance_size``) against
the labelled fraction of the training region's regions. Writes ``curve.csv``, ``curve.md`` and
``curve.png`` into ``out`` (with each round's run directory under ``out/runs``), all at once.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from volseg.active import acquisition as acq
from volseg.active.regions import Box, slices, tile
from volseg.errors import VolsegError

log = logging.getLogger(__name__)
COLUMNS = ("strategy", "round", "labelled_regions", "labelled_fraction", "fg_iou", "instance_f1")


def plan_rounds(n: int, *, start: float, query: float, rounds: int) -> tuple[int, int]:
    """Regions labelled at the start and per round; an error when the pool runs out."""
    for name, value in (("--start", start), ("--query", query)):
        if not 0.0 < value < 1.0:
            raise VolsegError(f"{name} must be a fraction in (0, 1), got {value}.")
    if rounds < 1:
        raise VolsegError(f"--rounds must be at least 1, got {rounds}.")
    first, step = max(1, round(start * n)), max(1, round(query * n))
    if first + rounds * step > n:
        raise VolsegError(
            f"{first} + {rounds} rounds x {step} regions exceed the {n} regions of the training "
            "region: lower --start, --query or --rounds, or give a smaller --region."
        )
    return first, step


def _query(predictor: Any, boxes: list[Box], labelled: list[int], strategy: str, k: int, *,
           layer: Any, rng: np.random.Generator) -> list[int]:  # fmt: skip
    from volseg.active.rank import score_regions

    free = [i for i in range(len(boxes)) if i not in set(labelled)]
    if strategy == "random":
        return [int(i) for i in rng.choice(free, size=k, replace=False)]
    if strategy in acq.FEATURE_STRATEGIES:
        scores, features = score_regions(predictor, boxes, strategy, layer=layer)
        weights = None if strategy == "diversity" else scores / max(scores.max(), 1e-12)
        return acq.k_center(features, k, weights=weights, chosen=labelled)[0]
    scores, _ = score_regions(predictor, [boxes[i] for i in free], strategy)
    return [free[i] for i in acq.order_by_score(scores)[:k]]


def _candidates(train: Sequence[Any], region: Sequence[int]) -> list[Box]:
    """Regions tiling every training region (a held-out box leaves several pieces); pieces too
    small for one region add none, and at least one region must fit somewhere."""
    boxes: list[Box] = []
    for piece in train:
        if any(s < r for s, r in zip(piece.shape, region, strict=True)) and len(train) > 1:
            continue
        origin = np.repeat(np.asarray(piece.start), 2)  # z0, z0, y0, y0, x0, x0
        tiled = tile(piece.shape, region, name=f"the training region of shape {list(piece.shape)}")
        boxes += [tuple(int(v) for v in np.asarray(b) + origin) for b in tiled]  # type: ignore[misc]
    if not boxes:
        shapes = [list(piece.shape) for piece in train]
        raise VolsegError(f"no training region {shapes} holds one region of {list(region)}.")
    return boxes


def _mask(path: Path, shape: Sequence[int], boxes: list[Box], chosen: list[int], voxel,
          val: Any) -> str:  # fmt: skip
    """The labelled regions and the validation region (validation reads the mask too)."""
    from volseg.io import write_volume

    mask = np.zeros(tuple(shape), dtype=np.uint8)
    mask[val.slices] = 1
    for i in chosen:
        mask[slices(boxes[i])] = 1
    write_volume(path, mask, voxel_size=voxel, kind="mask")
    return str(path)


def _score(predictor: Any, cfg: Any, val: Any, gt: np.ndarray) -> tuple[float, float]:
    from volseg.decode.registry import decode
    from volseg.metrics.evaluate import evaluate_arrays

    box = (*val.z, *val.y, *val.x)
    maps = predictor.maps(box)
    dec = cfg.test.decoding[0]
    seg = decode(maps, str(dec.name), dict(dec.kwargs or {}))
    min_size = int(cfg.test.evaluation.min_instance_size)
    res = evaluate_arrays(seg, gt, fg_map=maps[0], min_size=min_size, thresholds=(0.5,))
    table = res["map_foreground"]["per_threshold"]
    iou = next(t["iou_hard"] for t in table if t["threshold"] == 0.5)
    return float(iou), float(res["matching"]["thresholds"]["0.5"]["f1"])


def simulate(
    config: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    overrides: Sequence[str] = (),
    region: Sequence[int],
    strategies: Sequence[str],
    rounds: int,
    start: float,
    query: float,
    steps: int,
    feature_layer: str | None = None,
    overwrite: bool = False,
    echo: Callable[[str], None] | None = None,
) -> Path:
    """Replay active learning for each strategy; returns ``out`` (see the module docstring)."""
    import torch

    from volseg.active.features import find_layer
    from volseg.active.rank import Predictor
    from volseg.atomic import atomic_write_text, refuse_existing, staged
    from volseg.config import load
    from volseg.data.split import make_split
    from volseg.demo import held_out
    from volseg.io import open_volume
    from volseg.models.heads import require_foreground
    from volseg.train import fit

    say = echo or log.info
    for s in strategies:
        acq.check_strategy(s)
    if steps < 1:
        raise VolsegError(f"--steps must be at least 1, got {steps}.")
    if any(s in acq.FEATURE_STRATEGIES for s in strategies) and not feature_layer:
        raise VolsegError("diversity and hybrid need --feature-layer NAME (a model module).")
    out = Path(out)
    refuse_existing(out, overwrite=overwrite)
    base = load(config, list(overrides))
    require_foreground(base.model, command="volseg active")
    if base.data.train_mask:
        raise VolsegError("--simulate makes its own data.train_mask; leave it empty in the config.")
    split = make_split(base)
    if len(split.volumes) != 1 or len(split.val) != 1:
        raise VolsegError("--simulate needs one training volume with one validation region.")
    val = split.val[0]
    boxes = _candidates(split.train, region)
    first, step = plan_rounds(len(boxes), start=start, query=query, rounds=rounds)
    seed = int(base.system.seed)
    initial = [int(i) for i in np.random.default_rng(seed).choice(len(boxes), first, replace=False)]
    vol = split.volumes[0]
    volume = open_volume(vol["image"], voxel_size=vol["voxel_size"])
    _, gt, _ = held_out(split, val)
    common = [*overrides, f"optimization.max_steps={steps}", f"optimization.max_epochs={steps}"]
    rows: list[dict[str, Any]] = []
    with staged(out, overwrite=overwrite) as tmp:
        tmp.mkdir(parents=True)
        for strategy in strategies:
            labelled, rng = list(initial), np.random.default_rng([seed, 1])
            for r in range(rounds + 1):
                mask = _mask(tmp / "masks" / f"{strategy}-{r}.zarr", vol["shape"], boxes,
                             labelled, vol["voxel_size"], val)  # fmt: skip
                cfg = load(config, [*common, f"data.train_mask=[{mask}]",
                                    f"experiment_name={strategy}-round{r}"])  # fmt: skip
                threads = torch.get_num_threads()
                try:
                    run = fit(cfg, run_root=tmp / "runs", progress=False, echo=lambda _t: None)
                finally:
                    torch.set_num_threads(threads)
                ckpt = run / "checkpoints" / "best.pt"
                if not ckpt.exists():
                    ckpt = run / "checkpoints" / "last.pt"
                predictor = Predictor(cfg, ckpt, volume, vol["image"])
                iou, f1 = _score(predictor, cfg, val, gt)
                rows.append({"strategy": strategy, "round": r, "labelled_regions": len(labelled),
                             "labelled_fraction": len(labelled) / len(boxes),
                             "fg_iou": iou, "instance_f1": f1})  # fmt: skip
                say(f"{strategy} round {r}: {len(labelled)}/{len(boxes)} regions, fg IoU "
                    f"{iou:.3f}, instance F1 {f1:.3f}")  # fmt: skip
                if r < rounds:
                    layer = find_layer(predictor.model, feature_layer) if feature_layer else None
                    labelled += _query(predictor, boxes, labelled, strategy, step,
                                       layer=layer, rng=rng)  # fmt: skip
        atomic_write_text(tmp / "curve.csv", _csv(rows))
        atomic_write_text(tmp / "curve.md", _markdown(rows))
        _plot(rows, tmp / "curve.png")
    return out


def _csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _markdown(rows: list[dict[str, Any]]) -> str:
    head = "| strategy | round | labelled regions | labelled fraction | fg IoU | instance F1 |"
    lines = [head, "|---|---|---|---|---|---|"]
    for r in rows:
        cells = [r["strategy"], r["round"], r["labelled_regions"], f"{r['labelled_fraction']:.3f}",
                 f"{r['fg_iou']:.3f}", f"{r['instance_f1']:.3f}"]  # fmt: skip
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _plot(rows: list[dict[str, Any]], path: Path) -> None:
    # the project's Agg figure: no pyplot state, no backend switched under a running viewer
    from volseg.train.figures import new_figure, save_figure

    fig = new_figure(9, 3.5)
    axes = fig.subplots(1, 2)
    for strategy in dict.fromkeys(r["strategy"] for r in rows):
        mine = [r for r in rows if r["strategy"] == strategy]
        for ax, key in zip(axes, ("fg_iou", "instance_f1"), strict=True):
            ax.plot([r["labelled_fraction"] for r in mine], [r[key] for r in mine], "o-",
                    label=strategy)  # fmt: skip
    for ax, title in zip(axes, ("foreground IoU", "instance F1 (IoU 0.5)"), strict=True):
        ax.set_xlabel("labelled fraction of the training region")
        ax.set_title(title)
        ax.set_ylim(0, 1)
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
