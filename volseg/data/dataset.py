"""``PatchDataset``: lazily read, resampled, normalised, augmented training patches with targets.

``PatchDataset(cfg, split, *, train=True, seed=0)`` is a ``torch.utils.data.Dataset``. Item
``i`` is ``{"image": (1, z, y, x), "targets": (C, z, y, x), "mask": (1, z, y, x), "index": i}``
(float32 tensors; mask 1 = valid; targets -1 where the mask is 0; C = one channel per
``data.label_transform.targets`` entry). For a 2D model the patch has z = 1 and the caller
squeezes that axis.

Training (``train=True``, length ``data.iter_num_per_epoch``): item ``i`` of epoch ``e``
(``set_epoch(e)``, or ``dataset[(e, i)]``, which is what :func:`volseg.data.loader.make_loader`
sends so that persistent workers follow the epoch) draws everything from
``numpy.random.default_rng([seed, e, i])``, so it is the same patch and augmentation whatever the
number of workers. Steps: with probability ``data.foreground_probability`` the window is centred
on a foreground voxel (:mod:`volseg.data.sampling`), else uniform; the data-grid window is read
inside its training region only and padded (``pad_mode``; constant padding is marked invalid in
the mask), resampled to ``data.train_resolution`` (image by area / linear, labels and mask
nearest), normalised with the volume's statistics, augmented (image, labels and mask together)
and only then turned into targets with ``make_targets`` at the training grid's voxel size. A
patch with no valid voxel, or a foreground draw whose augmented patch lost its foreground, is
drawn again (at most :data:`MAX_TRIES` times).

Validation (``train=False``): fixed, non-augmented windows tiling ``split.val`` (padding outside
a region is masked out). :func:`read_region` returns a whole region on the data grid for
sliding-window evaluation. Volumes are opened lazily in each process (h5py handles cannot be
pickled or shared across a fork).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from volseg.data.augment import build_augmentation
from volseg.data.normalize import normalize
from volseg.data.resample import resample_image, resample_nearest
from volseg.data.sampling import PatchSampler, RegionIndex, Window, build_index, tile_starts
from volseg.data.split import Region, Split, as_dict, patch_geometry
from volseg.data.targets import make_targets
from volseg.errors import VolsegError
from volseg.io import Volume, open_volume

#: Draws per training item before the last one is accepted as it is.
MAX_TRIES = 10
Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]


def _open(vol: dict[str, Any]) -> tuple[Volume, Volume, Volume | None]:
    size = vol["voxel_size"]
    image = open_volume(vol["image"], voxel_size=size, ndim=3)
    labels = open_volume(vol["label"], voxel_size=size, ndim=3)
    mask = open_volume(vol["mask"], voxel_size=size, ndim=3) if vol.get("mask") else None
    return image, labels, mask


def _read(
    handles: tuple[Volume, Volume, Volume | None],
    region: Region,
    start: tuple[int, ...],
    extent: tuple[int, ...],
    *,
    pad_mode: str,
    pad_valid: bool,
) -> Arrays:
    """Raw image, labels and boolean mask of a window, read inside ``region`` and padded."""
    lo = [max(s, a) for s, a in zip(start, region.start, strict=True)]
    hi = [min(s + d, b) for s, d, b in zip(start, extent, region.stop, strict=True)]
    crop = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
    image_v, labels_v, mask_v = handles
    image, labels = image_v[crop], labels_v[crop]
    mask = mask_v[crop] != 0 if mask_v is not None else np.ones(labels.shape, dtype=bool)
    width = [(a - s, s + d - b) for s, d, a, b in zip(start, extent, lo, hi, strict=True)]
    if any(w for pair in width for w in pair):
        mode = "reflect" if pad_mode == "reflect" else "constant"
        image, labels = np.pad(image, width, mode=mode), np.pad(labels, width, mode=mode)
        if pad_valid and mode == "reflect":
            mask = np.pad(mask, width, mode="reflect")
        else:
            mask = np.pad(mask, width, mode="constant", constant_values=False)
    return image, labels, mask


def read_region(split: Split, region: Region) -> Arrays:
    """A whole region on the data grid: ``(image float32 normalised, labels, mask bool)``."""
    vol = split.volumes[region.volume]
    handles = _open(vol)
    try:
        image, labels, mask = _read(
            handles, region, region.start, region.shape, pad_mode="constant", pad_valid=False
        )
    finally:
        for h in handles:
            if h is not None:
                h.close()
    mode = split.normalization.get("normalize", "none")
    return normalize(image, vol["stats"], mode=mode), labels, mask


class PatchDataset(torch.utils.data.Dataset):
    """Training or validation patches of a :class:`~volseg.data.split.Split` (module docstring).

    Args:
        cfg: a loaded config (or the same as a plain dict).
        split: from :func:`volseg.data.split.make_split`.
        train: random augmented training patches, or fixed validation tiles.
        seed: base seed of every training draw.

    Raises:
        VolsegError: rotate90 in an anisotropic plane, an all-masked volume, or no foreground
            in any training label volume while ``data.foreground_probability`` > 0.
    """

    def __init__(self, cfg: Any, split: Split, *, train: bool = True, seed: int = 0) -> None:
        d = as_dict(cfg)["data"]
        self.split, self.train, self.seed, self.epoch = split, bool(train), int(seed), 0
        self.patch = tuple(int(p) for p in d["patch_size"])
        self.resolution = d["train_resolution"]
        self.pad_mode = d["pad_mode"]
        self.spec = d["label_transform"]["targets"]
        self.mode = split.normalization.get("normalize", d["image_transform"]["normalize"])
        self.fg_prob = float(d["foreground_probability"]) if train else 0.0
        self.regions = list(split.train if train else split.val)
        self.geometry = [
            patch_geometry(d, split.volumes[r.volume]["voxel_size"]) for r in self.regions
        ]
        self._handles: dict[int, tuple[Volume, Volume, Volume | None]] = {}
        self._pid = os.getpid()
        self.indexes = self._index() if (self.fg_prob > 0 or self._any_mask()) else None
        if train and self.indexes is None:
            self._require_foreground()
        if train:
            self.length = int(d["iter_num_per_epoch"])
            self.sampler = PatchSampler(self.regions, self.geometry, self.indexes)
            self.augment = {
                size: build_augmentation(d["augmentation"], voxel_size=size)
                for size in {self.grid_voxel_size(r) for r in self.regions}
            }
        else:
            self.tiles = [
                Window(i, s)
                for i, r in enumerate(self.regions)
                for s in tile_starts(r, self.geometry[i][0])
            ]
            self.length = len(self.tiles)

    # -- set-up -----------------------------------------------------------------------------
    def _any_mask(self) -> bool:
        return any(self.split.volumes[r.volume].get("mask") for r in self.regions)

    def _require_foreground(self) -> None:
        """Refuse training labels without a single object (read until the first one)."""
        from volseg.io.blocks import iter_blocks

        for region in self.regions:
            _, labels, _ = self._volume(region.volume)
            for rel in iter_blocks(region.shape, (16, 256, 256)):
                box = tuple(
                    slice(s.start + o, s.stop + o) for s, o in zip(rel, region.start, strict=True)
                )
                if np.any(np.asarray(labels[box]) > 0):
                    return
        files = sorted({self.split.volumes[r.volume]["label"] for r in self.regions})
        raise VolsegError(
            f"labels {', '.join(files)} have no foreground (label > 0) inside the training "
            f"regions; there is nothing to learn (data.foreground_probability is {self.fg_prob}): "
            "check data.train_label."
        )

    def _index(self) -> list[RegionIndex]:
        out = []
        for region, (patch, _) in zip(self.regions, self.geometry, strict=True):
            _, labels, mask = self._volume(region.volume)
            cell = tuple(max(1, d // 2) for d in patch)
            index = build_index(
                labels.data,
                mask.data if mask is not None else None,
                region,
                cell=cell,
                per_cell=32 if self.fg_prob > 0 else 0,
                seed=self.seed,
            )
            out.append(index)
        role = "training" if self.train else "validation"
        for v in sorted({r.volume for r in self.regions}):
            if sum(ix.valid for ix, r in zip(out, self.regions, strict=True) if r.volume == v) == 0:
                vol = self.split.volumes[v]
                raise VolsegError(
                    f"mask {vol['mask']} marks every voxel of the {role} regions of "
                    f"{vol['image']} as invalid; nothing is left to learn from."
                )
        if (self.train or self.fg_prob > 0) and not any(ix.foreground for ix in out):
            files = sorted({self.split.volumes[r.volume]["label"] for r in self.regions})
            raise VolsegError(
                f"labels {', '.join(files)} have no foreground (label > 0) inside the valid "
                f"{role} regions; there is nothing to learn (data.foreground_probability is "
                f"{self.fg_prob}): check data.train_label."
            )
        return out

    def grid_voxel_size(self, region: Region) -> tuple[float, float, float]:
        """Voxel size (nm) of the patches of ``region``: the training resolution when set."""
        size = self.resolution or self.split.volumes[region.volume]["voxel_size"]
        return tuple(float(v) for v in size)  # type: ignore[return-value]

    def _volume(self, index: int) -> tuple[Volume, Volume, Volume | None]:
        if self._pid != os.getpid():  # forked: the parent's h5py handles are not ours to use
            self._handles, self._pid = {}, os.getpid()
        if index not in self._handles:
            self._handles[index] = _open(self.split.volumes[index])
        return self._handles[index]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_handles"] = {}
        return state

    # -- items ------------------------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        """Select the epoch of the next training items (each epoch draws new patches)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.length

    def _window(self, window: Window, *, pad_valid: bool) -> Arrays:
        region = self.regions[window.region]
        patch = self.geometry[window.region][0]
        vol = self.split.volumes[region.volume]
        image, labels, mask = _read(
            self._volume(region.volume),
            region,
            window.start,
            patch,
            pad_mode=self.pad_mode,
            pad_valid=pad_valid,
        )
        if patch != self.patch:
            image = resample_image(image, self.patch)
            labels = resample_nearest(labels, self.patch)
            mask = resample_nearest(mask, self.patch)
        return normalize(image, vol["stats"], mode=self.mode), labels, mask

    def arrays(self, index: int, epoch: int | None = None) -> Arrays:
        """Item ``index`` as numpy ``(image, labels, mask)`` on the training grid (after
        augmentation, before targets)."""
        return self._item(index, epoch)[:3]  # type: ignore[return-value]

    def _item(
        self, index: int, epoch: int | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.length} patches")
        if not self.train:
            window = self.tiles[index]
            return (*self._window(window, pad_valid=False), window.region)
        epoch = self.epoch if epoch is None else int(epoch)
        rng = np.random.default_rng([self.seed, epoch, index])
        want_fg = self.fg_prob > 0 and rng.random() < self.fg_prob
        for _ in range(MAX_TRIES):
            window = self.sampler.foreground(rng) if want_fg else self.sampler.uniform(rng)
            image, labels, mask = self._window(window, pad_valid=True)
            aug = self.augment[self.grid_voxel_size(self.regions[window.region])]
            image, labels, mask = aug(image, labels, mask, rng)
            if mask.any() and (not want_fg or bool((labels[mask] > 0).any())):
                break
        return image, labels, mask, window.region

    def __getitem__(self, item: int | tuple[int, int]) -> dict[str, Any]:
        epoch, index = item if isinstance(item, tuple) else (None, item)
        index = int(index)
        image, labels, mask, region = self._item(index, epoch)
        size = self.grid_voxel_size(self.regions[region])
        targets = make_targets(labels, size, self.spec, mask=mask)
        return {
            "image": torch.from_numpy(np.ascontiguousarray(image)[None]),
            "targets": torch.from_numpy(targets),
            "mask": torch.from_numpy(mask[None].astype(np.float32)),
            "index": index,
        }
