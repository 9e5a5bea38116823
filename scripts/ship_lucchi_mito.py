"""Train, score and package the shipped mitochondria model ``lucchi-mito`` (rerun to remake it).

    python scripts/ship_lucchi_mito.py [--minutes 20] [--compare] [--out volseg/zoo/lucchi-mito]

1. ``volseg fit tutorials/lucchi-mito.yaml`` on the whole Lucchi++ training volume at 10 nm
   (``../shared/data/lucchi_pp_train_10nm``), trained to a wall-clock budget of ``--minutes``
   (``optimization.max_time``; the schedule ends at min_lr within it). The tutorial holds out
   a box apart in z and x (slices 46-81, x < 256): training never reads it.
2. The validated weights of ``best.pt`` predict that box with the tutorial's inference (TTA).
3. The tutorial's ``tune:`` space is swept on the box's first half in z; the tuned settings
   decode the second half, which is scored (neither training nor the sweep saw it). The whole
   box is also scored at the tutorial's own decoding.
4. The model folder gets ``config.yaml`` (data paths removed), ``checkpoints/best.pt`` (the
   validated weights only), ``checkpoints/thresholds.json``, ``card.json`` and
   ``MODEL_CARD.md``; it is written next to ``--out`` and renamed into place.

``--compare`` trains twice with the same seed and budget, with and without the tutorial's
``subvoxel_shift`` augmentation, scores both the same way, ships the one with the higher
held-out foreground IoU and writes both rows to ``benchmarks/results/lucchi_shift.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TUTORIAL = REPO / "tutorials" / "lucchi-mito.yaml"
DATA = REPO.parent / "shared" / "data" / "lucchi_pp_train_10nm" / "volume.h5"
SOURCE = REPO.parent / "shared" / "data" / "lucchi_pp_crops" / "SOURCE.md"
NAME = "lucchi-mito"
CITATION = [
    "Lucchi A., Smith K., Achanta R., Knott G., Fua P. Supervoxel-Based Segmentation of "
    "Mitochondria in EM Image Stacks with Learned Shape Features. IEEE TMI 31(2):474-486, 2012.",
    "Casser V., Kang K., Pfister H., Haehn D. Fast Mitochondria Detection for Connectomics. "
    "MIDL 2020, arXiv:1812.06024 (Lucchi++ annotations).",
]
TERMS = (
    "The Lucchi++ data come with no license statement; they are widely used for research. "
    "These weights were trained on them: research and test use only; check the data's terms "
    "before any other use."
)


def train(minutes: float, runs: Path, extra: list[str]) -> Path:
    from volseg.config import load
    from volseg.train import fit

    overrides = [f"optimization.max_time={60 * minutes:.0f}", *extra]
    cfg = load(TUTORIAL, overrides)
    return fit(cfg, run_root=runs, echo=print)


def score_run(run: Path, work: Path) -> dict[str, Any]:
    """Predict the held-out box, sweep its first half, score its second half (and the whole
    box at the tutorial's decoding)."""
    from omegaconf import OmegaConf

    from volseg.config import load
    from volseg.data.split import Split
    from volseg.decode.registry import decode
    from volseg.demo import held_out, predict_region
    from volseg.metrics.evaluate import evaluate_arrays
    from volseg.tune import sweep
    from volseg.tune.run import load_space

    cfg = load(run / "config.yaml")
    split = Split.from_json(run / "split.json")
    region = split.val[0]
    image, gt, voxel_size = held_out(split, region)
    t = time.perf_counter()
    maps = predict_region(cfg, run / "checkpoints" / "best.pt", image, voxel_size, work)
    predict_s = time.perf_counter() - t
    ev = cfg.test.evaluation
    min_size = int(ev.min_instance_size)
    ious = tuple(float(v) for v in ev.iou_thresholds)
    dec = cfg.test.decoding[0]
    default = dict(OmegaConf.to_container(dec.kwargs, resolve=True))
    space, options = load_space(None, cfg)
    half = gt.shape[0] // 2
    result = sweep(maps[:, :half], gt[:half], space, decoder=str(dec.name), base_params=default,
                   metric=options.get("metric"), min_size=min_size)  # fmt: skip
    tuned = dict(result.best_params)
    second = evaluate_arrays(decode(maps[:, half:], str(dec.name), tuned), gt[half:],
                             fg_map=maps[0, half:], min_size=min_size, thresholds=ious)  # fmt: skip
    whole = evaluate_arrays(decode(maps, str(dec.name), default), gt, fg_map=maps[0],
                            min_size=min_size, thresholds=ious)  # fmt: skip
    return {
        "run": str(run),
        "region": region.to_dict(),
        "predict_seconds": predict_s,
        "decoder": str(dec.name),
        "tuned": {k: list(v) if isinstance(v, tuple) else v for k, v in tuned.items()},
        "sweep": {"metric": result.metric, "reason": result.metric_reason,
                  "settings": len(result.rows), "half": half,
                  "best": {k: v for k, v in result.best_row.items() if k not in result.names}},
        "second_half_tuned": summary(second),
        "whole_box_default": summary(whole),
        "maps_shape": list(maps.shape),
    }  # fmt: skip


def summary(scores: dict[str, Any]) -> dict[str, float]:
    m50 = scores["matching"]["thresholds"]["0.5"]
    m75 = scores["matching"]["thresholds"].get("0.75", {})
    seg = scores["segmentation_foreground"]
    are = scores["adapted_rand_ignore_bg"]
    return {
        "fg_iou": float(seg["iou"]),
        "fg_dice": float(seg["dice"]),
        "f1_50": float(m50["f1"]),
        "f1_75": float(m75.get("f1", float("nan"))),
        "tp_50": int(m50["tp"]),
        "fp_50": int(m50["fp"]),
        "fn_50": int(m50["fn"]),
        "are": float(are["are"]),
        "instances": int(scores["instances"]["segmentation"]),
        "gt_instances": int(scores["instances"]["ground_truth"]),
    }


def metrics_of(run: Path) -> dict[str, Any]:
    from volseg.train.logger import read_csv

    rows = read_csv(run / "metrics.csv")
    steps = max(int(r["step"]) for r in rows if r.get("step") not in (None, ""))
    epochs = max(int(r["epoch"]) for r in rows if r.get("epoch") not in (None, ""))
    return {"steps": steps, "epochs": epochs}


def package(run: Path, scores: dict[str, Any], minutes: dict[str, float], out: Path) -> Path:
    """Write the model folder next to ``out`` and rename it into place."""
    import torch
    import yaml

    from volseg.checkpoint import build_model_from_checkpoint, load_checkpoint, save_checkpoint
    from volseg.tune.settings import write_thresholds

    ckpt = load_checkpoint(run / "checkpoints" / "best.pt")
    config = yaml.safe_load((run / "config.yaml").read_text())
    data = config["data"]
    for key in ("train_image", "train_label", "train_mask", "val_image", "val_label", "val_mask"):
        data[key] = []
    config["test"]["data"] = {k: [] for k in config["test"].get("data", {})}
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "checkpoints").mkdir(parents=True)
    (tmp / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    model = build_model_from_checkpoint(run / "checkpoints" / "best.pt")  # validated weights
    save_checkpoint(tmp / "checkpoints" / "best.pt", model=model, model_cfg=ckpt["model_cfg"],
                    config=config, epoch=ckpt["epoch"], step=ckpt["step"],
                    best_metric=ckpt.get("best_metric"),
                    extra={"shipped_as": NAME, "trained_in": str(run.name)})  # fmt: skip
    write_thresholds(
        tmp / "checkpoints", decoder=scores["decoder"], params=scores["tuned"],
        scores=scores["sweep"]["best"], metric=scores["sweep"]["metric"],
        metric_reason=scores["sweep"]["reason"],
        settings_tried=scores["sweep"]["settings"],
        maps={"path": "held-out box of the training run", "channels": scores["maps_shape"][0],
              "voxel_size": [float(v) for v in config["data"]["train_resolution"]],
              "shape": scores["maps_shape"][1:], "z_range_tuned": [0, scores["sweep"]["half"]]},
        sources={"run": run.name},
    )  # fmt: skip
    params = sum(p.numel() for p in model.parameters())
    card = {
        "name": NAME,
        "task": "mitochondria, instance segmentation (foreground + connected components)",
        "dims": int(config["model"].get("spatial_dims", 3)),
        "architecture": config["model"]["architecture"],
        "parameters": int(params),
        "voxel_size_nm": [float(v) for v in config["data"]["train_resolution"]],
        "data": "Lucchi++ training volume (mouse CA1 hippocampus, FIB-SEM), whole field of "
        "view at 10 nm: ../shared/data/lucchi_pp_train_10nm (82 x 384 x 512)",
        "held_out": {"region_zyx": [scores["region"][a] for a in "zyx"],
                     "note": "never read in training; decoder tuned on its first half in z, "
                     "scores of its second half", "scores": scores["second_half_tuned"],
                     "whole_box_at_tutorial_decoding": scores["whole_box_default"]},
        "training": {**metrics_of(run), "minutes": round(minutes["train"], 1),
                     "hardware": f"{platform.machine()} CPU, 2 cores, no GPU",
                     "torch": torch.__version__, "recipe": "tutorials/lucchi-mito.yaml",
                     "script": "scripts/ship_lucchi_mito.py"},
        "decoder": {"name": scores["decoder"], "params": scores["tuned"]},
        "terms": TERMS,
        "citation": CITATION,
    }  # fmt: skip
    (tmp / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    (tmp / "model_card.yaml").write_text(yaml.safe_dump(export_card(card), sort_keys=False))
    (tmp / "MODEL_CARD.md").write_text(model_card(card))
    if out.exists():
        old = out.with_name(out.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old)
    else:
        tmp.rename(out)
    return out


def export_card(card: dict[str, Any]) -> dict[str, Any]:
    """``model_card.yaml`` for ``volseg export lucchi-mito --format bioimageio``."""
    held = card["held_out"]["scores"]
    return {
        "name": "volseg lucchi-mito 2D U-Net",
        "description": "Mitochondria foreground in FIB-SEM at 10 nm (Lucchi++), volseg's "
        f"shipped model; held-out foreground IoU {held['fg_iou']:.3f}, F1@0.5 "
        f"{held['f1_50']:.3f}.",
        "version": "0.1.0",
        # the data carry no license and are for research use: the weights are shared under
        # a non-commercial license that says as much
        "license": "CC-BY-NC-4.0",
        "authors": [{"name": "volseg developers"}],
        "tags": ["mitochondria", "fib-sem", "electron-microscopy", "2d", "semantic-segmentation"],
        "cite": [
            {"text": CITATION[0], "doi": "10.1109/TMI.2011.2171705"},
            {"text": CITATION[1], "doi": "10.48550/arXiv.1812.06024"},
        ],
        "documentation": f"## Data terms\n\n{TERMS}\n",
    }


def model_card(card: dict[str, Any]) -> str:
    held = card["held_out"]["scores"]
    whole = card["held_out"]["whole_box_at_tutorial_decoding"]
    tr = card["training"]
    z, y, x = card["held_out"]["region_zyx"]
    head = "| foreground IoU | Dice | F1@0.5 | F1@0.75 | TP / FP / FN @0.5 | ARE | pred / gt |"
    cells = [f"{held[k]:.3f}" for k in ("fg_iou", "fg_dice", "f1_50", "f1_75")]
    cells += [f"{held['tp_50']} / {held['fp_50']} / {held['fn_50']}", f"{held['are']:.3f}",
              f"{held['instances']} / {held['gt_instances']}"]  # fmt: skip
    row = "| " + " | ".join(cells) + " |"
    return f"""# {card["name"]}: mitochondria in FIB-SEM

- **Task:** {card["task"]}.
- **Network:** {card["architecture"]}, {card["dims"]}D (slice by slice), {card["parameters"]:,}
  parameters; one output channel (foreground probability).
- **Grid:** {" x ".join(f"{v:g}" for v in card["voxel_size_nm"])} nm (z, y, x). Images on
  another grid are resampled to it, and the labels return to the image's grid.
- **Training data:** {card["data"]}.
- **Training:** `{tr["recipe"]}` by `{tr["script"]}`: {tr["steps"]} steps ({tr["epochs"]} epochs)
  in {tr["minutes"]} minutes on {tr["hardware"]}, torch {tr["torch"]}.
- **Decoder:** {card["decoder"]["name"]} with {card["decoder"]["params"]} (`thresholds.json`).

## Held-out scores

The box z {z[0]}-{z[1] - 1}, y {y[0]}-{y[1] - 1}, x {x[0]}-{x[1] - 1} (10 nm voxels) was held out
of training, apart in z and in x. The decoder was tuned on its first half in z; the second half:

{head}
|---|---|---|---|---|---|---|
{row}

The whole box at the tutorial's own decoding: foreground IoU {whole["fg_iou"]:.3f}, F1@0.5
{whole["f1_50"]:.3f}, ARE {whole["are"]:.3f}. One volume, one lab, one microscope: expect lower
scores on other tissue, staining or resolution; fine-tune on a few labelled slices of yours
(`model.external_weights_path`).

## Use

```bash
volseg segment --model {card["name"]} --image my_volume.h5:raw --out seg.zarr
volseg view seg.zarr
```

## Terms

{card["terms"]}

## Citation of the data

{chr(10).join("- " + c for c in card["citation"])}
"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=20.0, help="training budget per run")
    p.add_argument("--compare", action="store_true", help="with and without subvoxel_shift")
    p.add_argument("--out", type=Path, default=REPO / "volseg" / "zoo" / NAME)
    p.add_argument("--work", type=Path, default=REPO / "runs" / "ship")
    args = p.parse_args(argv)
    if not DATA.is_file():
        sys.exit(f"{DATA} is not there: the whole Lucchi++ training volume is needed.")
    variants = [("subvoxel_shift", [])]
    if args.compare:
        variants.append(("no subvoxel_shift", ["data.augmentation.subvoxel_shift.enabled=false"]))
    rows = []
    for label, extra in variants:
        t = time.perf_counter()
        run = train(args.minutes, args.work / label.replace(" ", "-"), extra)
        train_min = (time.perf_counter() - t) / 60
        scores = score_run(run, args.work / (label.replace(" ", "-") + "-maps"))
        rows.append({"variant": label, "train_minutes": train_min, **metrics_of(run), **scores})
        print(json.dumps(rows[-1], indent=2, default=str), flush=True)
    best = max(rows, key=lambda r: r["whole_box_default"]["fg_iou"])
    if args.compare:
        path = REPO / "benchmarks" / "results" / "lucchi_shift.json"
        path.write_text(json.dumps({"minutes": args.minutes, "rows": rows}, indent=2,
                                   default=str) + "\n")  # fmt: skip
        print(f"comparison -> {path}; shipping: {best['variant']}")
    out = package(Path(best["run"]), best, {"train": best["train_minutes"]}, args.out)
    print(f"shipped -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
