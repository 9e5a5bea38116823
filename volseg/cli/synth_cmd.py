"""``volseg synth vesicles OUT``: write a synthetic EM volume with vesicle instances."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from volseg.errors import VolsegError

synth_app = typer.Typer(
    help="Make synthetic EM-like volumes with ground truth.", no_args_is_help=True
)


def parse_numbers(text: str, *, option: str, integer: bool) -> tuple:
    """'64,256,256' -> (64, 256, 256); one number means the same on every axis."""
    kind = "positive integers" if integer else "positive numbers"
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(int(p) if integer else float(p) for p in parts)
    except ValueError:
        raise VolsegError(f"{option} takes {kind} z,y,x like 64,256,256, got {text!r}.") from None
    if len(values) == 1:
        values = values * 3
    if len(values) != 3 or not all(v > 0 and v != float("inf") for v in values):
        raise VolsegError(f"{option} takes three {kind} z,y,x, got {text!r}.")
    return values


def _check_out(out: Path, *, overwrite: bool) -> None:
    if out.suffix.lower() != ".zarr":
        raise VolsegError(f"OUT must be an OME-Zarr path ending in .zarr, got {out}.")
    if not out.exists() and not out.is_symlink():
        return
    if not overwrite:
        raise VolsegError(f"{out} already exists; pass --overwrite to replace it.")
    if not (out.is_dir() and (out / "zarr.json").is_file()):
        raise VolsegError(f"{out} exists and is not a zarr store; refusing to replace it.")
    from volseg.io.guard import check_replaceable

    check_replaceable(out, kind="image")


@synth_app.command("vesicles")
def vesicles_cmd(
    out: Path = typer.Argument(..., help="Output OME-Zarr store (.zarr).", show_default=False),
    shape: str = typer.Option("64,256,256", "--shape", help="Volume shape z,y,x in voxels."),
    voxel_size: str = typer.Option("30,8,8", "--voxel-size", help="Voxel size z,y,x in nm."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same bytes)."),
    density: float = typer.Option(0.02, "--density", help="Fraction of voxels in vesicles."),
    missing_sections: int = typer.Option(
        0, "--missing-sections", help="Number of blank z-slices (masked out)."
    ),
    tile: str | None = typer.Option(
        None, "--tile", help="Generate tile by tile (z,y,x voxels), never the whole volume."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing OUT."),
) -> None:
    """Image at the root, ids in labels/vesicles, valid-voxel mask in labels/mask.

    With --tile, each tile is its own seeded volume (vesicles never cross tile borders,
    ids stay global) and only one tile is in memory: any size fits (volseg.data.synth_tiles).
    """
    from volseg.atomic import remove, temp_name

    size = parse_numbers(voxel_size, option="--voxel-size", integer=False)
    dims = parse_numbers(shape, option="--shape", integer=True)
    tiles = parse_numbers(tile, option="--tile", integer=True) if tile else None
    if tiles is not None and missing_sections:
        raise VolsegError("--missing-sections is not available with --tile.")
    _check_out(out, overwrite=overwrite)
    if tiles is not None:
        from volseg.data.synth_tiles import tile_grid

        tile_grid(dims, tiles)  # fail before anything is written
        _write_tiled(out, dims, tiles, size, seed, density)
        return
    from volseg.data.synth import vesicles
    from volseg.io import write_volume

    raw, labels, mask = vesicles(
        shape=dims,
        voxel_size=size,
        seed=seed,
        density=density,
        missing_sections=missing_sections,
    )
    # Build the whole store beside OUT and swap it in at the end, so a failure never leaves a
    # half-written store and an existing OUT survives until the new one is complete.
    staging = temp_name(out)
    tmp = staging / out.name
    try:
        attrs = {"synth": {"kind": "vesicles", "seed": seed, "density": density}}
        write_volume(tmp, raw, voxel_size=size, kind="image", attrs=attrs)
        write_volume(tmp, labels, voxel_size=size, kind="labels", key="labels/vesicles")
        write_volume(tmp, mask, voxel_size=size, kind="mask", key="labels/mask")
        _swap_in(tmp, out)
    finally:
        remove(staging)
    n = int(labels.max())
    typer.echo(
        f"wrote {out}: image {raw.shape} uint8 at {size} nm (z, y, x); "
        f"labels/vesicles {n} vesicles covering {(labels > 0).mean():.2%} of the voxels; "
        f"labels/mask with {missing_sections} missing section(s)."
    )


def _swap_in(tmp: Path, out: Path) -> None:
    """Replace ``out`` by the finished store ``tmp`` (the old one kept until it is done)."""
    from volseg.atomic import remove, temp_name

    old = temp_name(out, "old")
    if out.exists():
        os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        if old.exists():
            os.replace(old, out)
        raise
    remove(old)


def _write_tiled(out: Path, dims: tuple, tiles: tuple, size: tuple, seed: int, density: float):
    from volseg.atomic import remove, temp_name
    from volseg.data.synth_tiles import write_vesicle_tiles

    staging = temp_name(out)
    tmp = staging / out.name
    try:
        found = write_vesicle_tiles(
            tmp, shape=dims, tile=tiles, voxel_size=size, seed=seed, density=density
        )
        _swap_in(tmp, out)
    finally:
        remove(staging)
    typer.echo(
        f"wrote {out}: image {dims} uint8 at {size} nm (z, y, x), {found['tiles']} tiles of "
        f"{tiles}; labels/vesicles {found['vesicles']} vesicles covering "
        f"{found['covered']:.2%} of the voxels; labels/mask."
    )


def register(app: typer.Typer) -> None:
    """Add the ``synth`` command group to the ``volseg`` app."""
    app.add_typer(synth_app, name="synth")
