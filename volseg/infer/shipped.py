"""Checks before a shipped model segments an image: the model exists, the image is a volume,
its voxel size is known, and whether it will be resampled to the model's grid."""

from __future__ import annotations

from pathlib import Path

from volseg.errors import VolsegError


def shipped_paths(name: str) -> tuple[Path, Path]:
    """``(config, weights)`` of shipped model ``name``; VolsegError for an unknown name."""
    from volseg import zoo

    return zoo.config(name), zoo.weights(name)


def parse_voxel_size(text: str | None) -> tuple[float, ...] | None:
    """``--voxel-size`` (``"5,5,5"``, ``"30x8x8"`` or one number for all axes) in nm."""
    if text is None:
        return None
    try:
        values = tuple(float(v) for v in text.replace("x", ",").split(","))
    except ValueError:
        values = ()
    if len(values) == 1:
        values = values * 3
    if len(values) != 3 or min(values) <= 0:
        raise VolsegError(f"--voxel-size must be three positive numbers z,y,x (nm), got {text!r}.")
    return values


def check_image_for(name: str, image: str, voxel_size: tuple[float, ...] | None) -> str:
    """One line on how shipped model ``name`` will see ``image``, or a VolsegError.

    Errors: a 2D image (volseg segments volumes; a 2D network runs slice by slice on one), an
    image that records no voxel size when ``voxel_size`` (``--voxel-size``, parsed by
    :func:`parse_voxel_size`) is not given.
    """
    from volseg import zoo
    from volseg.io import open_volume
    from volseg.io.voxels import recorded_voxel_size

    card = zoo.card(name)
    model_grid = tuple(float(v) for v in card["voxel_size_nm"])
    volume = open_volume(image)
    try:
        if volume.ndim != 3:
            raise VolsegError(
                f"{image} is a {volume.ndim}D image of shape {tuple(volume.shape)}; {name} "
                f"segments 3D volumes (z, y, x) — a {card.get('dims', 3)}D network run on a "
                "volume: stack the slices into one (a folder of tif slices opens as one)."
            )
        size = voxel_size or recorded_voxel_size(volume)
    finally:
        volume.close()
    if size is None:
        raise VolsegError(
            f"{image} records no voxel size; give it with --voxel-size z,y,x in nm ({name} "
            f"works at {_nm(model_grid)} and resamples other grids to it)."
        )
    if all(abs(a - b) <= 1e-3 * b for a, b in zip(size, model_grid, strict=True)):
        return f"{name}: the image is on the model's grid ({_nm(size)}), no resampling."
    return (
        f"{name}: the image's voxels are {_nm(size)}, the model works at {_nm(model_grid)}: the "
        "image is resampled to the model's grid and the labels return to the image's grid."
    )


def _nm(size) -> str:
    return " x ".join(f"{v:g}" for v in size) + " nm"
