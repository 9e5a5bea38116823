"""The package's documentation: ``README.md``, ``cover.png``, attachments and provenance.

The README is generated from the config, the checkpoint and the run's ``metrics.csv``: the
data and grid, the network, the pre- and post-processing (and where they differ from
``volseg predict``), the training summary, a Validation section, how to run the package and
the citations (the card's; without any, the "Citation" section of a ``SOURCE.md`` beside the
training image). The card's ``documentation`` text is appended.
"""

from __future__ import annotations

import math
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from volseg.export.card import ModelCard
from volseg.export.processing import clips_before_zscore, describe_preprocessing
from volseg.export.sample import TestTile
from volseg.export.source import ExportSource

MEANING = {
    "binary": "foreground probability",
    "instance_boundary": "instance-boundary probability",
    "instance_edt": "distance to the instance border, (0, 1] inside, -1 on background",
    "semantic_edt": "distance to the foreground border",
}


@dataclass
class DocFiles:
    readme: Path
    cover: Path
    attachments: list[Path] = field(default_factory=list)


def summary_line(src: ExportSource) -> str:
    """A description for a run whose config and card give none."""
    return f"volseg {src.model_cfg.get('architecture')} network for EM segmentation."


def provenance(src: ExportSource, net: Any, test: TestTile) -> dict[str, Any]:
    """``config.volseg`` of the description: what made the package (YAML values only)."""
    import volseg

    transform = src.cfg.data.image_transform
    resolution = src.cfg.data.train_resolution
    return {
        "volseg_version": str(volseg.__version__),
        "checkpoint": {
            "file": src.checkpoint.name,
            "epoch": int(src.ckpt.get("epoch", 0)),
            "step": int(src.ckpt.get("step", 0)),
            "best_metric": src.ckpt.get("best_metric"),
        },  # fmt: skip
        "image_transform": {
            "normalize": str(transform.normalize),
            "clip_percentile_low": float(transform.clip_percentile_low),
            "clip_percentile_high": float(transform.clip_percentile_high),
        },
        "train_resolution": None if resolution is None else [float(r) for r in resolution],
        "activations_in_network": [name for _, _, name in net.groups],
        "test_input": {"image": Path(test.image).name, "start_zyx": list(test.start)},
    }


def _cover(path: Path, x: np.ndarray, y: np.ndarray, channels: list[str]) -> Path:
    """Input and first output channel side by side (middle z-slice), 2:1."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def middle(a: np.ndarray) -> np.ndarray:  # (c, [z,] y, x) -> (y, x)
        return a[0] if a.ndim == 3 else a[0, a.shape[1] // 2]

    fig, axes = plt.subplots(1, 2, figsize=(6, 3), dpi=100)
    axes[0].imshow(middle(x[0]), cmap="gray")
    axes[0].set_title("input", fontsize=9)
    axes[1].imshow(middle(y[0]), cmap="magma", vmin=-1 if y.min() < 0 else 0, vmax=1)
    axes[1].set_title(channels[0], fontsize=9)
    for ax in axes:
        ax.axis("off")
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.9, wspace=0.03)
    fig.savefig(path)
    plt.close(fig)
    return path


def _source_citation(src: ExportSource) -> str | None:
    """The "Citation" section of a SOURCE.md beside the training image."""
    from volseg.io.paths import locate

    train = list(src.cfg.data.train_image or [])
    if not train:
        return None
    try:
        target = locate(str(train[0])).target
    except Exception:  # the image need not be readable here: no citation, then
        return None
    if not isinstance(target, Path):
        return None
    source_md = target.parent / "SOURCE.md"
    if not source_md.is_file():
        return None
    text = source_md.read_text(encoding="utf-8")
    match = re.search(r"^## Citation\s*\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    return match.group(1).strip() if match else None


def _training(src: ExportSource) -> list[str]:
    cfg, ckpt = src.cfg, src.ckpt
    opt = cfg.optimization.optimizer
    monitor = cfg.monitor.checkpoint
    best_epoch = (ckpt.get("extra") or {}).get("best_epoch", ckpt.get("epoch"))
    lines = [
        f"- optimizer {opt.name}, learning rate {opt.lr:g}, batch size "
        f"{cfg.system.training.batch_size}, at most {cfg.optimization.max_epochs} epochs",
        f"- weights: `{src.checkpoint.name}` from epoch {best_epoch} (step {ckpt.get('step')})",
    ]
    if ckpt.get("best_metric") is not None:
        lines.append(f"- best {monitor.monitor} ({monitor.mode}): {float(ckpt['best_metric']):.4g}")
    if src.metrics:
        epochs = max(int(r.get("epoch", 0)) for r in src.metrics)
        seconds = sum(r.get("train/epoch_seconds", 0.0) for r in src.metrics)
        lines.append(f"- the run logged {epochs} epochs, {seconds / 60:.1f} minutes of training")
        rows = [r for r in src.metrics if int(r.get("epoch", -1)) == best_epoch]
        vals = {
            k: v for r in rows for k, v in r.items() if k.startswith("val") and math.isfinite(v)
        }
        if vals:
            shown = ", ".join(f"{k} {v:.4g}" for k, v in sorted(vals.items()))
            lines.append(f"- validation at that epoch: {shown}")
    return lines


def _readme(src: ExportSource, card: ModelCard, channels: list[str], tile: tuple, test: TestTile,
            activations: list[str]) -> str:  # fmt: skip
    cfg, m = src.cfg, src.model_cfg
    dims = int(m.get("spatial_dims") or 3)
    axes = "(batch, channel, z, y, x)" if dims == 3 else "(batch, channel, y, x)"
    grid = "unknown" if test.voxel_size is None else ", ".join(f"{v:g}" for v in test.voxel_size)
    maps = "\n".join(f"- `{c}`: {MEANING.get(c, c)}" for c in channels)
    images = ", ".join(f"`{Path(p).name}`" for p in cfg.data.train_image) or "not recorded"
    act = (
        "`sigmoid` post-processing step (the network returns logits)"
        if not activations
        else "inside the exported network (the spec has no `tanh` step): " + ", ".join(activations)
    )
    where_2d = " (one z-slice for this 2D network)" if dims == 2 else ""
    clip_note = (
        "; volseg standardises with the mean and std of the clipped intensities, the spec's "
        "`zero_mean_unit_variance` with those of the image before clipping (the spec has no "
        "step computing statistics of a processed image)"
        if clips_before_zscore(cfg.data.image_transform)
        else ""
    )
    cites = "\n".join(f"- {c['text']} ({c.get('doi') or c.get('url')})" for c in card.cite)
    cites = (
        cites or _source_citation(src) or "No citation was given (add `cite` to the model card)."
    )
    decode = (
        "`thresholds.json` (attached) holds the decoder settings a sweep chose for these maps"
        if src.thresholds
        else "no `thresholds.json` was found beside the checkpoint; `config.yaml` lists "
        "`test.decoding`"
    )
    parts = [
        f"# {card.name or cfg.experiment_name or 'volseg model'}\n",
        f"{card.description or cfg.description or summary_line(src)}\n",
        "## Data\n",
        f"- training images: {images}",
        f"- network grid: voxel size (z, y, x) {grid} nm; resample images to it first",
        f"- test input: a {' x '.join(map(str, tile))} tile from the centre of "
        f"`{Path(test.image).name}`\n",
        "## Network\n",
        f"- {m.get('architecture')}, {dims}D, {m.get('in_channels')} input channel(s), "
        f"input axes {axes}; spatial sizes must be multiples of the total down factor",
        f"- {len(channels)} output channel(s), float32 maps:\n",
        maps + "\n",
        "## Pre- and post-processing\n",
        f"- input: {describe_preprocessing(cfg.data.image_transform)}, with statistics over "
        f"each input image{where_2d}",
        f"- activations: {act}",
        "- differences from `volseg predict`: volseg takes the statistics once per volume from "
        "a sample of up to 8 M voxels and divides by max(std or range, 1e-8) (the spec: by "
        f"std or range + 1e-6){clip_note}; volseg predicts with overlapping, blended windows "
        "and test-time augmentation, a consumer of this package tiles as it likes",
        f"- instances: the maps are not instances; {decode} (`volseg decode`)\n",
        "## Training\n",
        *_training(src),
        "",
        "## Validation\n",
        "volseg computed the test output (the test input normalised as the pre-processing "
        "steps describe, then volseg's network and activations); the package reproduces it "
        "with either weight format: `bioimageio test model.zip`, or `volseg export ... "
        "--check` when exporting. To score the model on annotated data, predict and decode "
        "with volseg and compare with `volseg evaluate labels.zarr GT` (adapted Rand, VOI, "
        "instance matching, semantic IoU)."
        + (
            " The run's `volseg test` scores on the config's test volumes are attached: "
            "`test_metrics.json`."
            if src.test_metrics is not None
            else ""
        )
        + "\n",
        "## How to run\n",
        "- any BioImage Model Zoo consumer; the `torchscript` weights need torch only, the "
        "`pytorch_state_dict` weights need volseg (`environment.yaml`, `volseg_network.py`)",
        "- bioimageio.core: `bioimageio predict --inputs image.tif model.zip` (bioimageio.spec "
        "up to 0.5.14 fails on every model with pydantic 2.14 or later; use pydantic < 2.14 "
        "there)\n",
        "## Citation\n",
        cites,
        "",
    ]
    if card.documentation:
        parts += [card.documentation.strip(), ""]
    return "\n".join(parts)


def write_docs(src: ExportSource, card: ModelCard, folder: Path, *, x: np.ndarray, y: np.ndarray,
               channels: list[str], tile: tuple, test: TestTile,
               activations: list[str]) -> DocFiles:  # fmt: skip
    """Write README.md, cover.png and the attachments into ``folder``."""
    readme = folder / "README.md"
    readme.write_text(_readme(src, card, channels, tile, test, activations), encoding="utf-8")
    files = DocFiles(readme=readme, cover=_cover(folder / "cover.png", x, y, channels))
    config = folder / "config.yaml"
    config.write_text(yaml.safe_dump(src.ckpt["config"], sort_keys=False), encoding="utf-8")
    files.attachments.append(config)
    if src.thresholds is not None:
        files.attachments.append(Path(shutil.copyfile(src.thresholds, folder / "thresholds.json")))
    if src.test_metrics is not None:
        files.attachments.append(
            Path(shutil.copyfile(src.test_metrics, folder / "test_metrics.json"))
        )
    return files
