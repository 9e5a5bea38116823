"""Find what a path holds for the viewer: raw image, prediction maps, segmentation, ground truth.

Accepted paths:

* an OME-Zarr image (``volseg.io.write_volume(kind="image")``) -> ``raw``, plus the label images
  in its ``labels/`` group (``gt``, or ``seg`` when the label name says so);
* a maps store (``kind="maps"``, or any 4D array) -> ``maps`` (split into channels later);
* a labels store (``kind="labels"``, or a 3D array of a >= 32-bit integer type) -> ``seg``,
  or ``gt`` when the store name says so (``gt.zarr``, ``groundtruth.zarr``);
* a ``volseg segment`` store (``OUT.zarr``: the image at its root, ``maps``,
  ``labels/segmentation``) -> ``raw``, ``maps`` and ``seg``;
* inputs a store records by path (``attrs["volseg"]["inputs"]``: ``image``, ``gt``, written by
  ``volseg segment`` and ``volseg test``) -> ``raw`` and ``gt`` when the store holds none;
* a folder holding ``predictions.zarr``, ``labels.zarr``, ``thresholds.json`` or
  ``test_metrics.json`` (a run directory, the ``volseg demo`` output, a ``volseg test``
  folder) -> every ``*.zarr`` store in it, and the decoder settings of its ``thresholds.json``;
* any other volume ``volseg.io.open_volume`` reads (``file.h5:key``, ``file.tif``).

Only metadata is read here; arrays stay lazy (zarr arrays, or dask over h5 / tif).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from volseg.errors import VolsegError
from volseg.io.volume import Triple, Volume

# Pyramid levels are handed to napari only above this many voxels (about 400^3): below it,
# napari renders level 0 in 3D as well and single-level layers are simpler to work with.
MULTISCALE_MIN_VOXELS = 2**26
GT_HINTS = ("gt", "groundtruth", "ground_truth", "ground-truth", "truth", "annotation")
SEG_HINTS = ("seg", "segmentation", "pred", "prediction", "predictions")
# Integer volumes with these names are labels even in 8 or 16 bits (e.g. ``file.h5:instances``).
LABEL_HINTS = (*GT_HINTS, *SEG_HINTS, "labels", "label", "instances", "ids")
ROLES = ("raw", "maps", "seg", "gt", "mask")
# A folder is a run directory / demo output when it holds one of these (volseg's fixed names).
RUN_MARKERS = ("predictions.zarr", "labels.zarr", "thresholds.json", "test_metrics.json")
# Where ``volseg segment`` keeps the maps in its store (volseg.infer.segment.MAPS_KEY), and the
# attribute naming its inputs (volseg.infer.segment.INPUTS_ATTR).
MAPS_KEY = "maps"
INPUTS_ATTR = "inputs"
RECORDED_ROLES = (("image", "raw"), ("gt", "gt"))


@dataclass(frozen=True)
class Item:
    """One volume to show.

    Attributes:
        role: ``raw``, ``maps``, ``seg``, ``gt`` or ``mask``.
        levels: lazily readable arrays, level 0 first (more than one only for big pyramids).
        voxel_size: nm ``(z, y, x)`` of level 0.
        offset: nm ``(z, y, x)`` of voxel ``(0, 0, 0)``.
        source: where it was read from (for layer metadata and messages).
        attrs: the volume's attributes (``volseg_maps`` for maps).
    """

    role: str
    levels: tuple[Any, ...]
    voxel_size: Triple
    offset: Triple
    source: str
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.levels[0].shape)


@dataclass
class Found:
    """The items of one or more paths, and decoder settings found beside them."""

    items: list[Item] = field(default_factory=list)
    thresholds: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def extend(self, other: Found) -> None:
        self.items.extend(other.items)
        self.thresholds = self.thresholds or other.thresholds
        self.notes.extend(other.notes)


def _words(name: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9_-]+|[_-]", name.lower()) if w} | {name.lower()}


def labels_role(name: str, *, default: str) -> str:
    """``gt`` or ``seg`` from a store or label-image name (``default`` when it says neither)."""
    words = _words(name)
    if words & set(GT_HINTS):
        return "gt"
    if words & set(SEG_HINTS):
        return "seg"
    return default


def classify(volume: Volume, name: str = "") -> str:
    """``raw``, ``maps``, ``labels`` or ``mask`` from the stored kind, else ndim, dtype and
    name: integers of 32 bits or more, or integers named like labels (:data:`LABEL_HINTS`)."""
    kind = volume.attrs.get("kind")
    if kind in ("image", "labels", "maps", "mask"):
        return {"image": "raw"}.get(kind, kind)
    if volume.ndim == 4:
        return "maps"
    if volume.ndim != 3:
        raise VolsegError(
            f"{volume.path} has shape {volume.shape}; the viewer shows (z, y, x) volumes and "
            "(c, z, y, x) maps."
        )
    if volume.dtype == bool:
        return "mask"
    if volume.dtype.kind in "iu":
        if volume.dtype.itemsize >= 4 or _words(name) & set(LABEL_HINTS):
            return "labels"
    return "raw"


def _levels(volume: Volume, path: str, key: str | None) -> tuple[Any, ...]:
    from volseg.io import open_volume

    if volume.attrs.get("format") != "zarr":
        import dask.array as da

        chunks = getattr(volume.data, "chunks", None) or "auto"
        return (da.from_array(volume.data, chunks=chunks),)
    n_levels = int(volume.attrs.get("n_levels", 1))
    voxels = math.prod(volume.spatial_shape)
    if n_levels == 1 or voxels < MULTISCALE_MIN_VOXELS:
        return (volume.data,)
    return (volume.data,) + tuple(open_volume(path, key, level=k).data for k in range(1, n_levels))


def item_of(path: str, key: str | None = None, *, role: str | None = None) -> Item:
    """Open one volume and classify it (``role`` forces the role, e.g. ``gt``)."""
    from volseg.io import open_volume

    volume = open_volume(path, key)
    where = str(volume.path or path)
    name = where.rpartition(":")[2] if ":" in where else Path(where).stem
    name = name.rpartition("/")[2]
    kind = classify(volume, name)
    if role is None:
        role = labels_role(name, default="seg") if kind == "labels" else kind
    elif role in ("seg", "gt") and kind not in ("labels", "mask"):
        if volume.ndim != 3 or volume.dtype.kind not in "iub":
            raise VolsegError(
                f"{volume.path} holds {volume.dtype} {kind} data of shape {volume.shape}; "
                f"{role} must be (z, y, x) integer labels."
            )
    return Item(
        role=role,
        levels=_levels(volume, path, key),
        voxel_size=volume.voxel_size,
        offset=volume.offset,
        source=str(volume.path),
        attrs=dict(volume.attrs),
    )


def is_zarr_store(path: Path) -> bool:
    """A directory that is a zarr store (by suffix or by its metadata files)."""
    if not path.is_dir():
        return False
    if path.suffix.lower() == ".zarr":
        return True
    return any((path / n).is_file() for n in ("zarr.json", ".zgroup", ".zarray"))


def label_names(group: Any) -> list[str]:
    """Names listed by the ``labels/`` group of an OME-Zarr image (0.4 or 0.5)."""
    if "labels" not in group:
        return []
    attrs = group["labels"].attrs.asdict()
    names = (attrs.get("ome") or {}).get("labels") or attrs.get("labels") or []
    return [str(n) for n in names]


def recorded_inputs(found: Found, attrs: dict[str, Any], *, where: Path) -> None:
    """Add the image and ground truth a store records by path (lazily opened), for roles it
    does not hold itself; a recorded path that cannot be opened becomes a note."""
    inputs = (attrs.get("volseg") or {}).get(INPUTS_ATTR) or {}
    held = {item.role for item in found.items}
    for key, role in RECORDED_ROLES:
        value = inputs.get(key)
        if not value or role in held:
            continue
        try:
            found.items.append(item_of(str(value), role=role))
        except (VolsegError, OSError) as exc:
            found.notes.append(f"{where} records its {key} as {value}, which did not open: {exc}")


def discover_store(path: Path) -> Found:
    """Items of one zarr store: its own volume, the maps and label images nested in it, and
    the inputs it records (see the module docstring)."""
    import zarr

    from volseg.io.ome import multiscales_of
    from volseg.io.read_zarr import list_arrays

    try:
        root = zarr.open(str(path), mode="r")
    except Exception as exc:  # zarr raises many types for unreadable stores
        raise VolsegError(f"cannot read {path}: not a valid zarr store ({exc}).") from None
    if isinstance(root, zarr.Array):
        return Found([item_of(str(path))])
    attrs = root.attrs.asdict()
    found = Found()
    if multiscales_of(attrs):
        found.items.append(item_of(str(path)))
    if MAPS_KEY in root:
        found.items.append(item_of(str(path), MAPS_KEY, role="maps"))
    for name in label_names(root):
        found.items.append(
            item_of(str(path), f"labels/{name}", role=labels_role(name, default="gt"))
        )
    if not found.items:
        raise VolsegError(
            f"{path} is a zarr group without OME-Zarr multiscales; open one of its arrays "
            f"instead: {list_arrays(root)}."
        )
    recorded_inputs(found, attrs, where=path)
    return found


def is_run_folder(path: Path) -> bool:
    """A folder (not a zarr store) holding one of :data:`RUN_MARKERS`."""
    return (
        path.is_dir() and not is_zarr_store(path) and any((path / m).exists() for m in RUN_MARKERS)
    )


def discover_folder(path: Path) -> Found:
    """Every zarr store in a run directory or demo folder, plus its ``thresholds.json``."""
    from volseg.tune.settings import THRESHOLDS_NAME, read_thresholds

    if not is_run_folder(path):
        raise VolsegError(
            f"{path} is neither a zarr store nor a volseg run folder (one holding "
            f"{', '.join(RUN_MARKERS)})."
        )
    found = Found()
    for child in sorted(p for p in path.iterdir() if is_zarr_store(p)):
        found.extend(discover_store(child))
    # a sweep writes thresholds.json into the run's checkpoint folder (a run directory, or the
    # demo's runs/<name>/<time>/), else beside the maps
    candidates = [path / THRESHOLDS_NAME, path / "checkpoints" / THRESHOLDS_NAME]
    candidates += sorted(path.glob(f"runs/*/*/checkpoints/{THRESHOLDS_NAME}"), reverse=True)
    thresholds = next((c for c in candidates if c.is_file()), None)
    if thresholds is not None:
        tuned = read_thresholds(thresholds)
        found.thresholds = {"decoder": tuned.name, "params": tuned.params, "path": str(thresholds)}
    if not found.items:
        raise VolsegError(
            f"{path} holds no volseg outputs: expected *.zarr stores with an image, maps or "
            "labels (e.g. predictions.zarr, labels.zarr)."
        )
    return found


def discover(path: str | Path) -> Found:
    """What ``path`` holds (see the module docstring).

    Raises:
        VolsegError: the path does not exist or holds nothing the viewer can show.
    """
    text = str(path)
    local = Path(text)
    if local.is_dir():
        return discover_store(local) if is_zarr_store(local) else discover_folder(local)
    return Found([item_of(text)])
