"""Synthetic EM-like volumes with vesicle instances (``volseg synth vesicles``)."""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
from scipy import ndimage

from volseg.errors import VolsegError
from volseg.io.volume import as_triple

CYTOPLASM = 140.0  # mean grey value of the background
LUMEN_GAIN = 40.0  # lumen brighter than cytoplasm by this much (before blur and noise)
RIM_GAIN = 110.0  # depth of the dark membrane rim
MEMBRANE_NM = 8.0  # membrane thickness
TEXTURE = ((60.0, 10.0), (16.0, 6.0))  # (sigma nm, std grey levels) of the background texture


def _shape(value: Any) -> tuple[int, int, int]:
    try:
        out = tuple(int(v) for v in value)
        ok = len(out) == 3 and all(o > 0 and o == v for o, v in zip(out, value, strict=True))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise VolsegError(f"shape must be three positive integers (z, y, x), got {value!r}.")
    return out  # type: ignore[return-value]


def _positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    ok = isinstance(value, Real) and not isinstance(value, bool) and np.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        want = "a number >= 0" if allow_zero else "a positive number"
        raise VolsegError(f"{name} must be {want}, got {value!r}.")
    return float(value)


def _rotation(rng: np.random.Generator) -> np.ndarray:
    """Uniform random 3D rotation matrix from a random unit quaternion."""
    q = rng.standard_normal(4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def _smooth_noise(rng: np.random.Generator, shape, sigma_vox, std: float) -> np.ndarray:
    field = rng.standard_normal(shape, dtype=np.float32)
    ndimage.gaussian_filter(field, sigma_vox, output=field, mode="wrap", truncate=3.0)
    field *= std / max(float(field.std()), 1e-12)
    return field


class _Placer:
    """Rasterises non-overlapping ellipsoids into ``labels`` and their contrast into ``delta``."""

    def __init__(self, shape, voxel_size, margin_nm: float) -> None:
        self.shape = shape
        self.vs = np.asarray(voxel_size, dtype=np.float64)
        self.margin_nm = margin_nm
        self.labels = np.zeros(shape, dtype=np.uint32)
        self.delta = np.zeros(shape, dtype=np.float32)
        self.centres: list[np.ndarray] = []
        self.radii: list[float] = []
        self.covered = 0

    def half_extent(self, reach_nm: float) -> np.ndarray:
        return np.ceil((reach_nm + self.margin_nm) / self.vs).astype(int)

    def try_place(self, centre: np.ndarray, axes: np.ndarray, rot: np.ndarray) -> bool:
        """Place one ellipsoid centred at ``centre`` (voxels) if it fits and overlaps nothing."""
        ext = self.half_extent(float(axes.max()))
        lo = np.round(centre).astype(int) - ext
        hi = np.round(centre).astype(int) + ext + 1
        if np.any(lo < 0) or np.any(hi > np.asarray(self.shape)):
            return False
        box = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
        grids = np.meshgrid(*(np.arange(a, b) for a, b in zip(lo, hi, strict=True)), indexing="ij")
        p = np.stack([(g - c) * v for g, c, v in zip(grids, centre, self.vs, strict=True)], -1)
        q = p @ rot  # coordinates in the ellipsoid's frame (nm)
        rho = np.sqrt(((q / axes) ** 2).sum(-1))
        inside = rho <= 1.0
        region = self.labels[box]
        if not inside.any() or region[inside].any():
            return False
        region[inside] = len(self.centres) + 1
        # Signed distance to the surface along the ray from the centre (exact for spheres):
        # negative inside. The membrane lies just inside the labelled region.
        r = np.sqrt((p**2).sum(-1))
        s = np.where(rho > 1e-9, r * (1.0 - 1.0 / np.maximum(rho, 1e-9)), -axes.max())
        half = MEMBRANE_NM / 2
        lumen = LUMEN_GAIN / (1.0 + np.exp(np.clip((s + MEMBRANE_NM) / 2.0, -50, 50)))
        rim = RIM_GAIN * np.exp(-(((s + half) / half) ** 2))
        self.delta[box] += (lumen - rim).astype(np.float32)
        self.centres.append(np.asarray(centre, dtype=np.float64))
        self.radii.append(float(axes[1]))
        self.covered += int(inside.sum())
        return True


def vesicles(
    *,
    shape: tuple[int, int, int] = (64, 256, 256),
    voxel_size: tuple[float, float, float] = (30.0, 8.0, 8.0),
    seed: int = 0,
    density: float = 0.02,
    missing_sections: int = 0,
    radius_nm: tuple[float, float] = (45.0, 78.0),
    elongation: float = 1.3,
    touching: float = 0.05,
    blur_nm: float = 6.0,
    noise: float = 6.0,
    poisson_gain: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """EM-like volume with vesicles: bright lumen, dark membrane rim, textured cytoplasm.

    Vesicles are ellipsoids with semi-axes ``(r * e, r, r)`` nm, ``r`` uniform in ``radius_nm``
    and ``e`` uniform in ``[1, elongation]``, randomly oriented, placed without overlap and fully
    inside the volume until ``density`` of the voxels are vesicle (the last one may overshoot by
    one vesicle). A fraction ``touching`` of the placements start next to an earlier vesicle, so
    a few touch. At 30x8x8 nm the defaults give about 200-1400 voxels per vesicle. The image is
    blurred (Gaussian PSF of ``blur_nm``), then gets Poisson noise (``poisson_gain`` grey levels
    per count, 0 = none) and Gaussian noise (std ``noise``). ``missing_sections`` random
    z-slices are blanked to 0 and marked False in the mask; their labels are kept.

    Args:
        shape: ``(z, y, x)`` voxels.
        voxel_size: ``(z, y, x)`` nm.
        seed: random seed; the same arguments give identical bytes.
        density: target fraction of vesicle voxels, in (0, 0.25].
        missing_sections: number of blank z-slices (fewer than ``shape[0]``).
        radius_nm: ``(min, max)`` radius in nm.
        elongation: maximum ratio of the long to the short semi-axis (>= 1).
        touching: fraction of placements attempted next to an existing vesicle, in [0, 1].
        blur_nm: PSF sigma in nm (0 = no blur).
        noise: Gaussian noise std in grey levels.
        poisson_gain: grey levels per Poisson count (0 = no shot noise).

    Returns:
        ``(raw, labels, mask)``: uint8 image, uint32 ids ``1..N`` (0 = background), bool mask.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise VolsegError(f"seed must be an integer >= 0, got {seed!r}.")
    shape = _shape(shape)
    vs = np.asarray(as_triple(voxel_size), dtype=np.float64)
    if not np.all(np.isfinite(vs)) or np.any(vs <= 0):
        raise VolsegError(f"voxel_size must be three positive nanometre values, got {voxel_size}.")
    if not 0 < _positive("density", density) <= 0.25:
        raise VolsegError(f"density must be in (0, 0.25], got {density!r}.")
    if isinstance(missing_sections, bool) or not isinstance(missing_sections, int | np.integer):
        raise VolsegError(f"missing_sections must be an integer, got {missing_sections!r}.")
    if not 0 <= missing_sections < shape[0]:
        raise VolsegError(
            f"missing_sections must be in [0, {shape[0] - 1}] for {shape[0]} z-slices, "
            f"got {missing_sections}."
        )
    try:
        r_lo, r_hi = (_positive("radius_nm", float(r)) for r in radius_nm)
    except (TypeError, ValueError):
        raise VolsegError(f"radius_nm must be two positive numbers, got {radius_nm!r}.") from None
    if r_lo > r_hi:
        raise VolsegError(f"radius_nm must be (min, max) with min <= max, got {radius_nm!r}.")
    if _positive("elongation", elongation) < 1:
        raise VolsegError(f"elongation must be >= 1, got {elongation!r}.")
    if not 0 <= _positive("touching", touching, allow_zero=True) <= 1:
        raise VolsegError(f"touching must be in [0, 1], got {touching!r}.")
    for name, value in (("blur_nm", blur_nm), ("noise", noise), ("poisson_gain", poisson_gain)):
        _positive(name, value, allow_zero=True)

    rng = np.random.default_rng(seed)
    placer = _Placer(shape, vs, margin_nm=2 * MEMBRANE_NM)
    ext = placer.half_extent(r_hi * elongation)
    need = tuple(int(e) for e in 2 * ext + 1)
    if any(n < m for n, m in zip(shape, need, strict=True)):
        raise VolsegError(
            f"shape {shape} is too small for vesicles of radius up to {r_hi * elongation:g} nm "
            f"at voxel size {tuple(vs.tolist())} nm; it needs at least {need}."
        )
    target = density * float(np.prod(shape))
    mean_size = 4 / 3 * np.pi * ((r_lo + r_hi) / 2) ** 3 * (1 + elongation) / 2 / np.prod(vs)
    budget = 200 + int(50 * target / mean_size)
    attempts = 0
    while placer.covered < target:
        attempts += 1
        if attempts > budget:
            raise VolsegError(
                f"could not place vesicles up to density {density} in shape {shape} "
                f"(reached {placer.covered / np.prod(shape):.4f}); use a lower density."
            )
        r = rng.uniform(r_lo, r_hi)
        axes = np.array([r * rng.uniform(1.0, elongation), r, r])
        rot = _rotation(rng)
        if placer.centres and rng.random() < touching:
            k = int(rng.integers(len(placer.centres)))
            u = rng.standard_normal(3)
            u /= np.linalg.norm(u)
            centre = placer.centres[k] + u * (placer.radii[k] + r + MEMBRANE_NM / 2) / vs
        else:
            centre = np.array([rng.uniform(e, n - 1 - e) for e, n in zip(ext, shape, strict=True)])
        placer.try_place(centre, axes, rot)

    image = CYTOPLASM + placer.delta
    for sigma_nm, std in TEXTURE:
        image += _smooth_noise(rng, shape, sigma_nm / vs, std)
    if blur_nm > 0:
        ndimage.gaussian_filter(image, blur_nm / vs, output=image, truncate=3.0)
    np.clip(image, 0, 255, out=image)
    if poisson_gain > 0:
        image = rng.poisson(image / poisson_gain).astype(np.float32) * poisson_gain
    if noise > 0:
        image += rng.standard_normal(shape, dtype=np.float32) * noise
    raw = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    mask = np.ones(shape, dtype=bool)
    if missing_sections:
        gone = rng.choice(shape[0], size=int(missing_sections), replace=False)
        raw[gone] = 0
        mask[gone] = False
    return raw, placer.labels, mask
