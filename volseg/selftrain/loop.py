"""``selftrain(config, unlabelled, out)``: supervised training, then rounds of pseudo-labels.

Layout of ``out``::

    split.json            the labelled split: its validation regions are fixed for every run
    masks/                all-valid masks of labelled volumes that had none (a pseudo-labelled
                          volume needs a mask, and data.train_mask pairs with every image)
    iter-0/               the supervised run: runs/<experiment>/<time>/, metrics.json, figure.png
    iter-K/               pseudo-<j>.zarr (labels/pseudo, labels/mask; opens in volseg view),
                          split.json, runs/…, metrics.json, figure.png
    baseline/             supervised only, for the same total steps: runs/…, metrics.json
    summary.md, summary.csv, summary.png

Iteration ``K`` predicts every unlabelled volume with the previous iteration's model (with the
config's TTA), turns the maps into pseudo-labels with the K-th thresholds of the schedule
(:mod:`volseg.selftrain.pseudo`) and trains ``selftrain.steps`` steps on the labelled volumes
(their training regions) plus the pseudo-labelled volumes (whole, never validated on), from the
previous weights or from scratch (``selftrain.from_scratch``). Every run is scored against the
original ground truth on the labelled split's validation regions (:mod:`volseg.selftrain.score`).
All input checks run before anything is written.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from volseg.data.split import Split, add_whole, as_dict, make_split
from volseg.errors import VolsegError
from volseg.selftrain import report
from volseg.selftrain.pseudo import pseudo_labels, write_pseudo
from volseg.selftrain.schedule import class_balanced, thresholds
from volseg.selftrain.score import checkpoint, float_maps, score, summary_scores

MARKER = "selftrain.json"


def selftrain(
    cfg: Any,
    unlabelled: Sequence[str],
    out: str | Path,
    *,
    overwrite: bool = False,
    progress: bool | None = False,
    echo: Callable[[str], None] | None = None,
) -> Path:
    """Run self-training (see the module) and return ``out``.

    Raises:
        VolsegError: bad input, before anything is written: no unlabelled volume, one of
            another voxel size than the labelled data, an existing ``out`` (without
            ``overwrite``, or not an earlier self-training), no number of steps.
    """
    from volseg.models.heads import require_foreground

    say = echo or (lambda _text: None)
    out = Path(out)
    st = cfg.selftrain
    require_foreground(cfg.model, command="volseg selftrain")
    steps = st.steps if st.steps is not None else cfg.optimization.max_steps
    if steps is None:
        raise VolsegError(
            "set `selftrain.steps` (or `optimization.max_steps`): the number of optimizer steps "
            "of each self-training iteration."
        )
    _check_out(out, unlabelled, overwrite=overwrite)
    base = make_split(cfg)
    _check_unlabelled(unlabelled, base, as_dict(cfg)["data"])
    schedule = thresholds(list(st.t_hi), list(st.t_lo), int(st.iterations))
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text(json.dumps({"unlabelled": list(map(str, unlabelled))}) + "\n")
    cfg = _with_masks(cfg, base, out / "masks")
    base = make_split(cfg)
    base.to_json(out / "split.json")

    rows: list[dict[str, Any]] = []
    folder = out / "iter-0"
    say(f"iteration 0: supervised training on {len(base.volumes)} labelled volume(s)")
    cfg0 = _edited(cfg, optimization__max_steps=int(steps), optimization__max_epochs=int(steps))
    run = _fit(cfg0, out / "split.json", folder, None, progress, say)
    from volseg.compare.runs import collect

    total = collect(run).steps
    metrics, views = _score(cfg, run, base, folder, {"iteration": 0, "steps": total})
    rows.append(_row("supervised", total, None, metrics))
    report.save_panels(folder / "figure.png", views[0], None, "iteration 0 (supervised)")
    prev_run, prev_views = run, views
    props = [p for p, _ in thresholds(list(st.proportion), list(st.proportion), len(schedule))]
    for k, (t_hi, t_lo) in enumerate(schedule, start=1):
        folder = out / f"iter-{k}"
        folder.mkdir()
        prop = props[k - 1] if st.thresholds == "class_balanced" else None
        rule = f", class-balanced to the top {prop:.0%} of each class" if prop else ""
        say(f"iteration {k}: pseudo-labels at t_hi {t_hi}, t_lo {t_lo}{rule}")
        ckpt = checkpoint(prev_run)
        split, cfg_k, stats = _pseudo_split(cfg, base, unlabelled, ckpt, t_hi, t_lo, folder, say,
                                            proportion=prop)  # fmt: skip
        t_hi, t_lo = stats.pop("t_hi"), stats.pop("t_lo")
        split.to_json(folder / "split.json")
        cfg_k = _edited(cfg_k, optimization__max_steps=int(steps),
                        optimization__max_epochs=int(steps))  # fmt: skip
        init = None if st.from_scratch else ckpt
        run = _fit(cfg_k, folder / "split.json", folder, init, progress, say)
        total += collect(run).steps
        info = {"iteration": k, "steps": total, "t_hi": t_hi, "t_lo": t_lo,
                "from_scratch": bool(st.from_scratch), "pseudo": stats}  # fmt: skip
        metrics, views = _score(cfg_k, run, base, folder, info)
        rows.append(_row(f"iteration {k}", total, (t_hi, t_lo), metrics, stats))
        shown = _pseudo_view(cfg, prev_run, prev_views[0], t_hi, t_lo, base)
        report.save_panels(folder / "figure.png", views[0], shown, f"iteration {k}")
        prev_run, prev_views = run, views

    folder = out / "baseline"
    say(f"baseline: supervised only for the same {total} steps")
    cfg_b = _edited(cfg, optimization__max_steps=int(total), optimization__max_epochs=int(total))
    run = _fit(cfg_b, out / "split.json", folder, None, progress, say)
    metrics, views = _score(cfg_b, run, base, folder, {"iteration": None, "steps": total})
    rows.append(_row("baseline", collect(run).steps, None, metrics))
    report.save_panels(folder / "figure.png", views[0], None, "baseline (supervised only)")

    (out / "summary.md").write_text(report.to_markdown(rows), encoding="utf-8")
    (out / "summary.csv").write_text(report.to_csv(rows), encoding="utf-8")
    report.save_plot(out / "summary.png", rows)
    return out


def _check_out(out: Path, unlabelled: Sequence[str], *, overwrite: bool) -> None:
    from volseg.atomic import refuse_existing
    from volseg.io.guard import refuse_overlap

    if not unlabelled:
        raise VolsegError("give at least one --unlabelled volume.")
    refuse_overlap(out, {f"--unlabelled {u}": u for u in unlabelled}, option="--out")
    refuse_existing(out, overwrite=overwrite, what=f"--out {out}")
    if out.exists() and not (out / MARKER).is_file():
        raise VolsegError(
            f"--out {out} exists and is not an earlier self-training (no {MARKER}); "
            "--overwrite replaces only what volseg selftrain wrote."
        )


def _check_unlabelled(unlabelled: Sequence[str], base: Split, d: dict[str, Any]) -> None:
    """Every unlabelled volume opens, is a finite 3D image and has the labelled voxel size."""
    from volseg.io import check_raw, open_volume
    from volseg.io.voxels import agreed_voxel_size

    want = [float(v) for v in base.volumes[0]["voxel_size"]]
    for path in unlabelled:
        with open_volume(str(path), ndim=3) as vol:
            size = agreed_voxel_size(vol, d["voxel_size"], key="data.voxel_size")
            have = [float(v) for v in (size if size is not None else vol.voxel_size)]
            if not np.allclose(have, want, rtol=1e-6):
                raise VolsegError(
                    f"--unlabelled {path} has voxel size {have} nm but the labelled data "
                    f"{base.volumes[0]['image']} has {want} nm; resample it to the labelled grid."
                )
            check_raw(vol)


def _edited(cfg: Any, **changes: Any) -> Any:
    """A checked copy of the (read-only) config with ``section__key=value`` changes."""
    import yaml
    from omegaconf import OmegaConf

    from volseg.config import loads

    plain = OmegaConf.to_container(cfg, resolve=True)
    for dotted, value in changes.items():
        section, key = dotted.split("__")
        plain[section][key] = value  # type: ignore[index]
    return loads(yaml.safe_dump(plain), source="the self-training config")


def _with_masks(cfg: Any, base: Split, folder: Path) -> Any:
    """``cfg`` with a ``data.train_mask`` for every labelled volume (all-valid where none)."""
    from volseg.io import write_volume

    if cfg.data.train_mask:
        return cfg
    masks = []
    for i, vol in enumerate(v for v in base.volumes if v["role"] == "train"):
        path = folder / f"labelled-{i}.zarr"
        write_volume(path, np.ones(vol["shape"], np.uint8), voxel_size=vol["voxel_size"],
                     kind="mask")  # fmt: skip
        masks.append(str(path))
    return _edited(cfg, data__train_mask=masks)


def _pseudo_split(
    cfg: Any, base: Split, unlabelled: Sequence[str], ckpt: Path, t_hi: float, t_lo: float,
    folder: Path, say: Callable[[str], None], *, proportion: float | None = None,
) -> tuple[Split, Any, dict[str, float]]:  # fmt: skip
    """Pseudo-label every unlabelled volume; the split and config that train on them. With a
    ``proportion``, each volume's thresholds are class-balanced
    (:func:`volseg.selftrain.schedule.class_balanced`); the stats carry the first volume's."""
    from volseg.infer.segment import decoder_settings

    d = as_dict(cfg)["data"]
    split = base
    images, labels_, masks = list(cfg.data.train_image), list(cfg.data.train_label), []
    fg = ignored = voxels = 0
    used: list[tuple[float, float]] = []
    for j, image in enumerate(map(str, unlabelled)):
        maps = float_maps(cfg, ckpt, image, folder / f"unlabelled-{j}-maps.zarr")
        vs = base.volumes[0]["voxel_size"]
        name, params, _ = decoder_settings(cfg, ckpt, voxel_size=vs)
        hi, lo = t_hi, t_lo
        if proportion is not None:
            hi, lo = class_balanced(maps[0], proportion, t_hi=t_hi, t_lo=t_lo)
            say(f"{image}: class-balanced thresholds t_hi {hi}, t_lo {lo}")
        used.append((hi, lo))
        labels, mask = pseudo_labels(maps, t_hi=hi, t_lo=lo, decoder=name, params=params)
        label, mask_path = write_pseudo(
            folder / f"pseudo-{j}.zarr", labels, mask, voxel_size=vs, image=image,
            attrs={"t_hi": hi, "t_lo": lo, "proportion": proportion},
        )  # fmt: skip
        fg += int(np.count_nonzero(mask & (labels > 0)))
        ignored += int(np.count_nonzero(~mask))
        voxels += mask.size
        if not mask.any():
            say(f"{image}: no voxel has p >= {hi} or p <= {lo}; it is left out of this "
                "iteration (every pseudo-label would be ignored)")  # fmt: skip
            continue
        split = add_whole(split, d, image, label, mask_path)
        images.append(image)
        labels_.append(label)
        masks.append(mask_path)
    cfg_k = _edited(cfg, data__train_image=images, data__train_label=labels_,
                    data__train_mask=[*cfg.data.train_mask, *masks])  # fmt: skip
    hi, lo = used[0]
    return split, cfg_k, {"fg": fg / voxels, "ignored": ignored / voxels, "t_hi": hi, "t_lo": lo}


def _pseudo_view(
    cfg: Any, run: Path, view: dict[str, Any], t_hi: float, t_lo: float, base: Split
) -> tuple[np.ndarray, np.ndarray]:
    """The pseudo-label rule applied to the previous model's maps of the validation region."""
    from volseg.infer.segment import decoder_settings

    ckpt = checkpoint(run)
    name, params, _ = decoder_settings(cfg, ckpt, voxel_size=base.volumes[0]["voxel_size"])
    return pseudo_labels(view["maps"], t_hi=t_hi, t_lo=t_lo, decoder=name, params=params)


def _fit(cfg: Any, split: Path, folder: Path, init: Path | None, progress: Any, say: Any) -> Path:
    from volseg.train import fit

    run = fit(cfg, split=split, init_from=init, run_root=folder / "runs", progress=progress,
              echo=say)  # fmt: skip
    say(f"{folder.name} -> {run}")
    return Path(run)


def _score(cfg: Any, run: Path, base: Split, folder: Path, info: dict) -> tuple[dict, list]:
    from volseg.infer.segment import write_metrics

    metrics, views = score(cfg, run, base, folder)
    metrics = {**info, "run_dir": str(run), **metrics}
    write_metrics(metrics, folder / "metrics.json")
    return metrics, views


def _row(stage: str, steps: int, ts: Any, metrics: dict, stats: dict | None = None) -> dict:
    return {
        "stage": stage, "steps": steps, "t_hi": ts[0] if ts else None,
        "t_lo": ts[1] if ts else None, "pseudo_fg": (stats or {}).get("fg"),
        "pseudo_ignored": (stats or {}).get("ignored"), **summary_scores(metrics),
    }  # fmt: skip
