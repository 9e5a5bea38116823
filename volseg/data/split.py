"""Which volumes and regions train and which validate: ``make_split(cfg) -> Split``.

Sources of validation data, in order:

- ``data.val_image`` / ``val_label`` / ``val_mask``: separate volumes, validated whole;
  the training volumes train whole.
- ``data.val_region``: a z-range ``[z0, z1]`` (data voxels) or a fraction ``f`` in (0, 1)
  (the last ``round(f * Z)`` slices) of *every* training volume is held out; or a box
  ``[[z0, z1], [y0, y1], [x0, x1]]``, held out apart in y and x too (structures that run
  through many slices are then not seen in training beside the slab that validates them).
- neither: the last 20 % of z of every training volume.

A :class:`Region` is ``(volume index, z0:z1, y0:y1, x0:x1)`` in voxels of the data grid.
Training regions keep a gap of half a patch (``ceil(D / 2)``, ``D`` = patch extent on the data
grid) from the held-out range or box on each axis it is bounded on, and training patches are
read only inside their region (reflect padding uses the region's own voxels), so no training
patch ever touches validation voxels. ``Split.volumes[i]`` is ``{"image", "label", "mask",
"voxel_size", "shape", "role", "stats"}`` plus ``"gap"`` (z-slices; ``[z, y, x]`` for a box)
where a region was held out (``role`` is ``train`` or ``val``; ``stats`` are the image's
normalisation statistics, see :mod:`volseg.data.normalize`). ``Split.to_json(path)`` /
``Split.from_json(path)`` store it; ``make_split(cfg, reuse=path)`` reuses a stored split
verbatim after checking it names the same
volumes with the same shapes (an incompatible one is an error).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from volseg.data.normalize import image_stats
from volseg.data.resample import data_extent
from volseg.errors import VolsegError
from volseg.io import check_labels, check_raw, check_same_shape, open_volume
from volseg.io.checks import label_dtype_error
from volseg.io.voxels import agreed_voxel_size, check_same_voxel_size

DEFAULT_VAL_FRACTION = 0.2
VOLUME_KEYS = ("image", "label", "mask", "shape", "voxel_size", "role")


def as_dict(cfg: Any) -> dict[str, Any]:
    """A config (OmegaConf or plain mapping) as plain nested Python containers."""
    if type(cfg).__module__.startswith("omegaconf"):
        from omegaconf import OmegaConf

        return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
    return dict(cfg)


@dataclass(frozen=True)
class Region:
    """A box ``[z0, z1) x [y0, y1) x [x0, x1)`` of volume ``volume`` (data-grid voxels)."""

    volume: int
    z: tuple[int, int]
    y: tuple[int, int]
    x: tuple[int, int]

    @property
    def start(self) -> tuple[int, int, int]:
        return (self.z[0], self.y[0], self.x[0])

    @property
    def stop(self) -> tuple[int, int, int]:
        return (self.z[1], self.y[1], self.x[1])

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.z[1] - self.z[0], self.y[1] - self.y[0], self.x[1] - self.x[0])

    @property
    def slices(self) -> tuple[slice, slice, slice]:
        return (slice(*self.z), slice(*self.y), slice(*self.x))

    def to_dict(self) -> dict[str, Any]:
        return {"volume": self.volume, "z": list(self.z), "y": list(self.y), "x": list(self.x)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Region:
        return cls(int(d["volume"]), *(tuple(int(v) for v in d[a]) for a in "zyx"))  # type: ignore[arg-type]


@dataclass
class Split:
    """Training and validation regions over ``volumes`` (see the module docstring)."""

    volumes: list[dict[str, Any]]
    train: list[Region]
    val: list[Region]
    normalization: dict[str, Any] = field(default_factory=dict)

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """The split as JSON text; also written atomically to ``path`` when given."""
        text = json.dumps(
            {
                "version": 1,
                "volumes": self.volumes,
                "train": [r.to_dict() for r in self.train],
                "val": [r.to_dict() for r in self.val],
                "normalization": self.normalization,
            },
            indent=1,
        )
        if path is not None:
            from volseg.atomic import atomic_write_text

            atomic_write_text(path, text + "\n")
        return text

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> Split:
        """Read a split written by :meth:`to_json`."""
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(
                volumes=list(d["volumes"]),
                train=[Region.from_dict(r) for r in d["train"]],
                val=[Region.from_dict(r) for r in d["val"]],
                normalization=dict(d.get("normalization", {})),
            )
        except OSError as exc:
            raise VolsegError(f"cannot read split file {path}: {exc.strerror}.") from None
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise VolsegError(f"{path} is not a volseg split.json ({exc!r}).") from None


def _describe(image: str, label: str | None, mask: str | None, vs: Any, role: str) -> dict:
    """Open and check one image / label / mask triple; return its description."""
    img = open_volume(image, ndim=3)
    try:
        size = agreed_voxel_size(img, vs, key="data.voxel_size")
        if size is not None:
            img.voxel_size = size
        check_raw(img)
        entry = {
            "image": image,
            "label": label,
            "mask": mask,
            "shape": list(img.shape),
            "voxel_size": list(img.voxel_size),
            "role": role,
        }
        for path, name in ((label, "labels"), (mask, "mask")):
            if path is None:
                continue
            with open_volume(path, ndim=3) as other:
                agreed_voxel_size(other, vs, key="data.voxel_size")
                check_same_voxel_size(img, other, names=("image", name))
                check_same_shape(img, other, names=("image", name))
                if name == "labels":
                    check_labels(other)
                elif label_dtype_error(other.dtype, path):
                    raise VolsegError(
                        f"mask {path} must be boolean or integer (nonzero = valid), "
                        f"got {other.dtype}."
                    )
        return entry
    finally:
        img.close()


def _volumes(d: dict[str, Any]) -> list[dict[str, Any]]:
    if not d["train_image"]:
        raise VolsegError("`data.train_image` is empty; give at least one training volume.")
    if len(d["train_label"]) != len(d["train_image"]):
        raise VolsegError(
            f"`data.train_label` must give one label volume per training image "
            f"({len(d['train_image'])}), got {len(d['train_label'])}."
        )
    if d["val_image"] and len(d["val_label"]) != len(d["val_image"]):
        raise VolsegError(
            f"`data.val_label` must give one label volume per validation image "
            f"({len(d['val_image'])}), got {len(d['val_label'])}."
        )
    out = []
    for role in ("train", "val"):
        images, labels, masks = (d[f"{role}_{k}"] for k in ("image", "label", "mask"))
        for i, image in enumerate(images):
            mask = masks[i] if masks else None
            out.append(_describe(image, labels[i], mask, d["voxel_size"], role))
    return out


def _held_out(val_region: Any, depth: int, where: str) -> tuple[int, int]:
    if val_region is None:
        val_region = DEFAULT_VAL_FRACTION
    if isinstance(val_region, list | tuple):
        z0, z1 = (int(v) for v in val_region)
        if z1 > depth:
            raise VolsegError(
                f"`data.val_region` {[z0, z1]} reaches past the {depth} z-slices of {where}."
            )
        return z0, z1
    n = max(1, int(round(float(val_region) * depth)))
    return depth - n, depth


def is_box(val_region: Any) -> bool:
    """Whether ``data.val_region`` is a box ``[[z0, z1], [y0, y1], [x0, x1]]``."""
    return (
        isinstance(val_region, list | tuple)
        and bool(val_region)
        and all(isinstance(r, list | tuple) for r in val_region)
    )


def held_out_box(val_region: Any, shape: Any, where: str) -> tuple[tuple[int, int], ...]:
    """The box of ``data.val_region`` as three ``(start, stop)`` pairs inside ``shape``."""
    box = tuple((int(a), int(b)) for a, b in val_region)
    for (_, b), n, name in zip(box, shape, "zyx", strict=True):
        if b > n:
            raise VolsegError(
                f"`data.val_region` reaches {name} {b}, past the {n} voxels of {where}."
            )
    return box


def box_complement(
    box: tuple[tuple[int, int], ...], shape: Any, gaps: Any
) -> list[tuple[tuple[int, int], ...]]:
    """Boxes covering ``shape`` outside ``box`` grown by ``gaps`` (at most six, disjoint).

    Slabs before and after the grown box in z, then (inside its z-band) before and after it
    in y, then (inside both bands) before and after it in x; empty pieces are left out.
    """
    grown = [(max(0, a - g), min(n, b + g)) for (a, b), n, g in zip(box, shape, gaps, strict=True)]
    out = []
    for axis in range(3):
        for lo, hi in ((0, grown[axis][0]), (grown[axis][1], int(shape[axis]))):
            if hi <= lo:
                continue
            piece = [grown[a] if a < axis else (0, int(shape[a])) for a in range(3)]
            piece[axis] = (lo, hi)
            out.append(tuple(piece))
    return out


def _fits(extent: int, pad: int, patch: int) -> bool:
    return extent + 2 * pad >= patch


def _check_fits(region: Region, vol: dict, pad: tuple, patch: tuple) -> None:
    for axis, name in enumerate("zyx"):
        if not _fits(region.shape[axis], pad[axis], patch[axis]):
            raise VolsegError(
                f"the patch ({patch[axis]} data voxels in {name}) is larger than the training "
                f"region of {vol['image']} ({region.shape[axis]} voxels + 2 x "
                f"{pad[axis]} padding); use a smaller `data.patch_size` or more `data.pad_size`."
            )


def split_regions(volumes: list[dict], d: dict[str, Any]) -> tuple[list[Region], list[Region]]:
    """Training and validation regions of described ``volumes`` under the ``data`` section ``d``."""
    train: list[Region] = []
    val: list[Region] = []
    separate = any(v["role"] == "val" for v in volumes)
    for i, vol in enumerate(volumes):
        z, y, x = vol["shape"]
        whole = Region(i, (0, z), (0, y), (0, x))
        if vol["role"] == "val":
            val.append(whole)
            continue
        patch, pad = patch_geometry(d, vol["voxel_size"])
        if separate:
            _check_fits(whole, vol, pad, patch)
            train.append(whole)
            continue
        if is_box(d["val_region"]):
            box = held_out_box(d["val_region"], vol["shape"], vol["image"])
            gaps = vol["gap"] = [math.ceil(p / 2) for p in patch]
            val.append(Region(i, *box))
            pieces = [Region(i, *b) for b in box_complement(box, vol["shape"], gaps)]
            kept = [r for r in pieces if all(map(_fits, r.shape, pad, patch))]
            if not kept:
                raise VolsegError(
                    f"after holding out {box} of {vol['image']} for validation with gaps of "
                    f"{gaps} voxels, no region is left that holds a patch of {list(patch)}."
                )
            train.extend(kept)
            continue
        z0, z1 = _held_out(d["val_region"], z, vol["image"])
        gap = vol["gap"] = math.ceil(patch[0] / 2)
        val.append(Region(i, (z0, z1), (0, y), (0, x)))
        pieces = [(0, z0 - gap), (z1 + gap, z)]
        kept = [Region(i, p, (0, y), (0, x)) for p in pieces if p[1] - p[0] > 0]
        kept = [r for r in kept if _fits(r.shape[0], pad[0], patch[0])]
        if not kept:
            raise VolsegError(
                f"after holding out z [{z0}, {z1}) of {vol['image']} for validation with a gap "
                f"of {gap} slices, no z-range is left that holds a patch of {patch[0]} slices."
            )
        for r in kept:
            _check_fits(r, vol, pad, patch)
        train.extend(kept)
    return train, val


def patch_geometry(d: dict[str, Any], voxel_size: Any) -> tuple[tuple, tuple]:
    """``(patch extent, pad)`` in data-grid voxels for a volume of ``voxel_size`` nm."""
    res = d["train_resolution"]
    patch = data_extent(d["patch_size"], voxel_size, res)
    if res is None:
        pad = tuple(int(p) for p in d["pad_size"])
    else:
        pad = tuple(
            int(round(p * r / v)) for p, r, v in zip(d["pad_size"], res, voxel_size, strict=True)
        )
    return patch, pad


def _normalization(d: dict[str, Any]) -> dict[str, Any]:
    it = d["image_transform"]
    return {
        "normalize": it["normalize"],
        "clip_percentile_low": float(it["clip_percentile_low"]),
        "clip_percentile_high": float(it["clip_percentile_high"]),
    }


def _add_stats(volumes: list[dict], norm: dict[str, Any]) -> None:
    for vol in volumes:
        with open_volume(vol["image"], voxel_size=vol["voxel_size"], ndim=3) as img:
            vol["stats"] = image_stats(
                img.data,
                low=norm["clip_percentile_low"],
                high=norm["clip_percentile_high"],
                where=vol["image"],
            )


def _check_compatible(stored: Split, volumes: list[dict], where: str) -> None:
    for key in VOLUME_KEYS:
        have = [v.get(key) for v in stored.volumes]
        want = [v[key] for v in volumes]
        if have != want:
            raise VolsegError(
                f"split {where} does not match the config: its volume {key}s are {have} but the "
                f"config gives {want}."
            )
    for r in (*stored.train, *stored.val):
        shape = volumes[r.volume]["shape"] if 0 <= r.volume < len(volumes) else None
        if shape is None or any(b > s for b, s in zip(r.stop, shape, strict=True)):
            raise VolsegError(f"split {where} has region {r.to_dict()} outside its volume.")


def make_split(cfg: Any, *, reuse: str | os.PathLike | None = None) -> Split:
    """Build (or reuse) the train / validation split of a config.

    Args:
        cfg: a loaded config (``volseg.config.load``) or the same as a plain dict.
        reuse: a stored ``split.json``; its volumes and regions are kept verbatim (its
            normalisation statistics too, unless ``data.image_transform`` changed).

    Returns:
        The :class:`Split`.

    Raises:
        VolsegError: unreadable or inconsistent volumes (shape mismatch, float labels, NaN in
            the image), a patch that does not fit a training region, or an incompatible
            ``reuse`` file.
    """
    d = as_dict(cfg)["data"]
    volumes = _volumes(d)
    norm = _normalization(d)
    if reuse is not None:
        stored = Split.from_json(reuse)
        _check_compatible(stored, volumes, str(reuse))
        if stored.normalization != norm or any("stats" not in v for v in stored.volumes):
            stored.normalization = norm
            _add_stats(stored.volumes, norm)
        return stored
    train, val = split_regions(volumes, d)
    _add_stats(volumes, norm)
    return Split(volumes=volumes, train=train, val=val, normalization=norm)


def add_whole(split: Split, d: dict[str, Any], image: str, label: str, mask: str | None) -> Split:
    """``split`` plus one more training volume that trains whole (no region of it is held
    out; the validation regions stay those of ``split``), described and checked as
    :func:`make_split` does under the ``data`` section ``d`` (self-training's pseudo-labelled
    volumes: never validated on)."""
    vol = _describe(image, label, mask, d["voxel_size"], "train")
    _add_stats([vol], split.normalization)
    i = len(split.volumes)
    z, y, x = vol["shape"]
    whole = Region(i, (0, z), (0, y), (0, x))
    patch, pad = patch_geometry(d, vol["voxel_size"])
    _check_fits(whole, vol, pad, patch)
    return Split(
        volumes=[*split.volumes, vol],
        train=[*split.train, whole],
        val=list(split.val),
        normalization=dict(split.normalization),
    )
