"""The network options, once: keys, defaults and rules of every architecture.

The builders (:mod:`volseg.models.registry`) and the config schema and checks
(:mod:`volseg.config.schema_model`, :mod:`volseg.config.validate_model`) read these tables and
call :func:`resolve`, so a key, a default or a rule cannot differ between them. Nothing here
imports torch: loading a config does not.

``resolve(cfg)`` validates the ``model`` section (dict, namespace or DictConfig; absent or
``None`` keys take the defaults of ``volseg.models._config.DEFAULTS``, which the config's
dataclass reads too) and returns the builder arguments of its architecture.
"""

from __future__ import annotations

from typing import Any

from volseg.errors import VolsegError
from volseg.models import _config as C

COMMON_KEYS = frozenset(
    {"architecture", "in_channels", "out_channels", "deep_supervision", "deep_supervision_weights"}
)
#: Keys each architecture reads besides :data:`COMMON_KEYS`.
USED_KEYS: dict[str, frozenset[str]] = {
    "rsunet": frozenset(
        {"filters", "strides", "kernel_size", "num_2d_levels", "norm", "activation", "dropout"}
        | {"upsample", "spatial_dims"}
    ),
    "mednext": frozenset({"mednext_size", "mednext_kernel_size", "spatial_dims"}),
    "monai_basic_unet3d": frozenset(
        {"filters", "norm", "activation", "dropout", "upsample", "spatial_dims"}
    ),
    "attention_unet": frozenset({"filters", "strides", "kernel_size", "dropout", "spatial_dims"}),
    "monai_unet": frozenset(
        {"filters", "strides", "kernel_size", "num_res_units", "norm", "activation", "dropout"}
        | {"spatial_dims"}
    ),
    "attention_resunet": frozenset(
        {"filters", "strides", "kernel_size", "num_res_units", "norm", "activation", "dropout"}
        | {"spatial_dims"}
    ),
}
ARCHITECTURES = tuple(USED_KEYS)
#: ``filters`` when the config leaves it null (mednext has fixed widths and takes none).
DEFAULT_FILTERS: dict[str, list[int]] = {
    "rsunet": [28, 36, 48, 64, 80],
    "monai_basic_unet3d": [32, 32, 64, 128, 256, 32],
    "attention_unet": [16, 32, 64, 128, 256],
    "monai_unet": [16, 32, 64, 128, 256],
    "attention_resunet": [16, 32, 64, 128, 256],
}
#: Downsampling steps of the architectures whose depth is fixed (factor 2 on every axis).
FIXED_DEPTH = {"mednext": 4, "monai_basic_unet3d": 4}
NORMS = ("batch", "group", "instance")
ACTIVATIONS = ("relu", "leakyrelu", "prelu", "elu", "gelu")
UPSAMPLE = {
    "rsunet": ("nontrainable", "deconv"),
    "monai_basic_unet3d": ("deconv", "pixelshuffle", "nontrainable"),
}
MEDNEXT_SIZES = ("S", "B", "M", "L")
MEDNEXT_KERNELS = (3, 5, 7)


def architecture(cfg: Any) -> str:
    """The validated architecture name."""
    name = C.get(cfg, "architecture")
    if name not in USED_KEYS:
        raise VolsegError(
            f"unknown model.architecture {name!r}; valid architectures: {', '.join(ARCHITECTURES)}."
        )
    return name


def resolve(cfg: Any) -> dict[str, Any]:
    """Validate ``cfg`` and return the arguments its architecture's builder takes.

    Always present: ``architecture``, ``dims``, ``in_channels``, ``out_channels``,
    ``deep_supervision`` and ``factors`` (per-level down factors, ``dims``-tuples); the rest
    are the keys of :data:`USED_KEYS` the architecture reads, checked and normalised.
    """
    arch = architecture(cfg)
    dims = C.get(cfg, "spatial_dims")
    if isinstance(dims, bool) or dims not in (2, 3):
        raise VolsegError(f"model.spatial_dims must be 2 or 3, got {dims!r}.")
    ds = C.get(cfg, "deep_supervision")
    if not isinstance(ds, bool):
        raise VolsegError(f"model.deep_supervision must be true or false, got {ds!r}.")
    out: dict[str, Any] = {
        "architecture": arch, "dims": dims, "deep_supervision": ds,
        "in_channels": C.positive_int(C.get(cfg, "in_channels"), "in_channels"),
        "out_channels": C.positive_int(C.get(cfg, "out_channels"), "out_channels"),
    }  # fmt: skip
    used = USED_KEYS[arch]
    if "filters" in used:
        out["filters"] = C.int_list(
            C.get(cfg, "filters", DEFAULT_FILTERS[arch]), "filters", min_len=2
        )
    if arch == "monai_basic_unet3d" and len(out["filters"]) != 6:
        raise VolsegError(
            "model.filters must have 6 entries for monai_basic_unet3d (5 levels and the last "
            f"decoder width), got {out['filters']}."
        )
    if "kernel_size" in used:
        out["kernel_size"] = _odd_kernel(cfg, dims)
    if "norm" in used:
        out["norm"] = C.choice(C.get(cfg, "norm"), "norm", NORMS)
    if "activation" in used:
        out["activation"] = C.choice(C.get(cfg, "activation"), "activation", ACTIVATIONS)
    if "dropout" in used:
        out["dropout"] = C.dropout_rate(C.get(cfg, "dropout"))
    if "upsample" in used:
        out["upsample"] = C.choice(C.get(cfg, "upsample"), "upsample", UPSAMPLE[arch])
    if "num_res_units" in used:
        units = C.get(cfg, "num_res_units")
        if isinstance(units, bool) or not isinstance(units, int) or units < 0:
            raise VolsegError(f"model.num_res_units must be an integer >= 0, got {units!r}.")
        if arch == "attention_resunet" and units < 1:
            raise VolsegError(
                "model.num_res_units must be >= 1 for attention_resunet (its stages are "
                f"residual units), got {units}."
            )
        out["num_res_units"] = units
    if arch == "mednext":
        size = str(C.get(cfg, "mednext_size")).upper()
        if size not in MEDNEXT_SIZES:
            raise VolsegError(
                f"model.mednext_size {size!r} is not valid; choose one of: S, B, M, L."
            )
        kernel = C.get(cfg, "mednext_kernel_size")
        if kernel not in MEDNEXT_KERNELS or isinstance(kernel, bool):
            raise VolsegError(f"model.mednext_kernel_size must be 3, 5 or 7 (odd), got {kernel!r}.")
        out.update(mednext_size=size, mednext_kernel_size=kernel)
    out["factors"] = _factors(cfg, arch, dims, out)
    return out


def down_factors(cfg: Any) -> list[tuple[int, int, int]]:
    """The ``(z, y, x)`` down factor of each level transition (z is 1 for a 2D network)."""
    resolved = resolve(cfg)
    if resolved["dims"] == 2:
        return [(1, *f) for f in resolved["factors"]]  # type: ignore[misc]
    return list(resolved["factors"])


def _factors(cfg: Any, arch: str, dims: int, out: dict[str, Any]) -> list[tuple[int, ...]]:
    if arch in FIXED_DEPTH:
        return [(2,) * dims] * FIXED_DEPTH[arch]
    levels = len(out["filters"]) - 1
    if arch != "rsunet":
        return C.down_factors(cfg, levels, dims, 2)
    n2d = C.get(cfg, "num_2d_levels")
    if isinstance(n2d, bool) or not isinstance(n2d, int) or not 0 <= n2d <= levels + 1:
        raise VolsegError(
            f"model.num_2d_levels must be an integer from 0 to {levels + 1} (the number of "
            f"levels), got {n2d!r}."
        )
    if dims == 2 and n2d:
        raise VolsegError("model.num_2d_levels must be 0 for a 2D network (spatial_dims=2).")
    out["num_2d_levels"] = n2d
    # Without explicit strides the 2D levels pool in-plane (1, 2, 2), the others (2, 2, 2).
    return C.down_factors(cfg, levels, dims, [[1, 2, 2] if i < n2d else 2 for i in range(levels)])


def _odd_kernel(cfg: Any, dims: int) -> tuple[int, ...]:
    kernel = C.per_axis(C.get(cfg, "kernel_size"), "kernel_size", dims)
    if any(k % 2 == 0 for k in kernel):
        raise VolsegError(f"model.kernel_size must be odd on every axis, got {list(kernel)}.")
    return kernel
