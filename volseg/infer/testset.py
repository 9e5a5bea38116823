"""``volseg test``: PyTorch Connectomics' ``--mode test`` step, with the code ``segment`` uses.

Reads the config's ``test.data`` (``test_image``; ``test_label`` and ``test_mask`` empty or one
per image), ``test.decoding`` (one decoder; a ``thresholds.json`` beside the checkpoint, from a
sweep, takes precedence as it does for ``segment``) and ``test.evaluation`` (score groups,
IoU thresholds, minimum instance size). Each image goes through
:func:`volseg.infer.segment.segment` into ``OUT/<name>.zarr``; the scores of all images are
written to ``OUT/test_metrics.json``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from volseg.errors import VolsegError


def default_out(checkpoint: str | os.PathLike) -> Path:
    """``RUN/test`` for ``RUN/checkpoints/best.pt``; else ``test`` beside the checkpoint."""
    folder = Path(checkpoint).resolve().parent
    return (folder.parent if folder.name == "checkpoints" else folder) / "test"


def volumes_to_test(cfg: Any) -> list[tuple[str, str | None, str | None]]:
    """``(image, label, mask)`` per test volume, checked for matching list lengths."""
    data = cfg.test.data
    images, labels, masks = (list(data.test_image), list(data.test_label), list(data.test_mask))
    if not images:
        raise VolsegError("test.data.test_image is empty: name the volumes to segment.")
    for key, values in (("test_label", labels), ("test_mask", masks)):
        if values and len(values) != len(images):
            raise VolsegError(
                f"test.data.{key} has {len(values)} entries but test_image has {len(images)}; "
                "give one per image or none."
            )
    if masks and not labels:
        raise VolsegError("test.data.test_mask restricts the scoring: give test_label too.")
    if len(cfg.test.decoding) != 1:
        raise VolsegError(
            f"test.decoding lists {len(cfg.test.decoding)} decoders; volseg test runs exactly one."
        )
    return [
        (str(img), str(labels[i]) if labels else None, str(masks[i]) if masks else None)
        for i, img in enumerate(images)
    ]


def _name(image: str, used: set[str]) -> str:
    from volseg.io.guard import place

    where = place(image)
    stem = (where.path.stem if where is not None else "") or "volume"
    name, i = stem, 1
    while name in used:
        i += 1
        name = f"{stem}-{i}"
    used.add(name)
    return name


def run_test(
    cfg: Any,
    checkpoint: str | os.PathLike,
    *,
    out_dir: str | os.PathLike | None = None,
    client: Any = None,
    overwrite: bool = False,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Segment and score every test volume; returns ``{"volumes": [...], "path": ...}``."""
    from volseg.infer.segment import decoder_settings, segment, write_metrics

    items = volumes_to_test(cfg)
    decoder_settings(cfg, checkpoint)  # refuse settings that do not fit before any work
    out = Path(out_dir) if out_dir is not None else default_out(checkpoint)
    out.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    volumes = []
    for image, label, mask in items:
        store = out / f"{_name(image, used)}.zarr"
        say(f"test volume {image} -> {store}")
        summary = segment(cfg, checkpoint, image, store, gt=label, mask=mask, client=client,
                          overwrite=overwrite, say=say)  # fmt: skip
        volumes.append({"image": image, "label": label, "mask": mask, **summary})
    path = write_metrics({"checkpoint": str(checkpoint), "volumes": volumes},
                         out / "test_metrics.json")  # fmt: skip
    return {"volumes": volumes, "path": str(path)}
