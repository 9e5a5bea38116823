"""Decoder settings: the one policy for where they come from, and ``thresholds.json``.

Order, highest first: options given on the command line; a ``thresholds.json`` named
explicitly; the ``thresholds.json`` of the run that made the maps (its checkpoint folder, found
from the maps' ``checkpoint`` attribute or the checkpoint given); one beside the maps; the
config's first ``test.decoding`` entry; the decoder's own defaults.

A sweep writes ``thresholds.json`` to exactly one place (:func:`thresholds_dir`): the run's
checkpoint folder when the maps say which run made them, else beside the maps. The file holds
everything the decode needs (decoder, every option including ``channels``) and the geometry of
the maps it was tuned on; :func:`check_fits` refuses it for maps with another channel count
before any work, and :func:`resolve` says on stderr when it applies settings tuned on other maps.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from volseg.atomic import atomic_write_text
from volseg.errors import VolsegError
from volseg.io.guard import place

log = logging.getLogger(__name__)
THRESHOLDS_NAME = "thresholds.json"
PAIR_OPTIONS = ("binary_threshold", "contour_threshold", "distance_threshold")


@dataclass
class DecoderSettings:
    """A decoder, its options, where they came from and the maps they were tuned on."""

    name: str
    params: dict[str, Any]
    source: str
    tuned_on: dict[str, Any] = field(default_factory=dict)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def maps_folder(maps_path: str) -> Path:
    """The folder holding the maps' container (the working directory for a URL)."""
    where = place(maps_path)
    return where.path.parent if where is not None else Path.cwd()


def thresholds_dir(maps_path: str, maps_attrs: Mapping[str, Any]) -> Path:
    """Where a sweep of these maps writes ``thresholds.json``: the run's checkpoint folder, else
    the folder holding the maps."""
    checkpoint = maps_attrs.get("checkpoint")
    if checkpoint and Path(checkpoint).parent.is_dir():
        return Path(checkpoint).resolve().parent
    return maps_folder(maps_path)


def write_thresholds(
    directory: str | os.PathLike,
    *,
    decoder: str,
    params: Mapping[str, Any],
    scores: Mapping[str, Any],
    metric: str,
    metric_reason: str,
    settings_tried: int,
    maps: Mapping[str, Any],
    sources: Mapping[str, str] | None = None,
) -> Path:
    """Write ``thresholds.json`` (atomically) into ``directory``; returns its path.

    ``params`` must hold every decoder option (``channels`` included); ``maps`` records the
    geometry the settings were tuned on (``path``, ``channels``: the channel count, ``shape``).
    """
    doc = {
        "decoder": decoder,
        "params": {k: _plain(v) for k, v in params.items()},
        "metric": metric,
        "metric_reason": metric_reason,
        "scores": dict(scores),
        "settings_tried": settings_tried,
        "maps": dict(maps),
        "sources": dict(sources or {}),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    text = json.dumps(doc, indent=2, default=_plain) + "\n"
    return atomic_write_text(Path(directory) / THRESHOLDS_NAME, text)


def read_thresholds(path: str | os.PathLike) -> DecoderSettings:
    """The settings in a ``thresholds.json``."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        decoder, params = str(doc["decoder"]), dict(doc["params"])
        maps = dict(doc.get("maps") or {})
    except FileNotFoundError:
        raise VolsegError(f"{path} does not exist.") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise VolsegError(f"{path} is not a volseg thresholds file ({exc}).") from None
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
    return DecoderSettings(decoder, params, str(path), maps)


#: Decoder options counted in voxels: they scale with the voxel volume when the grid changes.
SIZE_OPTIONS = ("min_instance_size", "min_seed_size")


def on_grid(settings: DecoderSettings, voxel_size: Any) -> tuple[DecoderSettings, str | None]:
    """The settings for maps on a grid of ``voxel_size`` nm, and a sentence when they changed.

    A ``thresholds.json`` records the voxel size of the maps it was tuned on
    (``maps.voxel_size``); sizes in voxels (:data:`SIZE_OPTIONS`) then keep their volume in
    nm^3 on another grid (1000 voxels at 5 nm are 125 at 10 nm). Without a record nothing
    changes.
    """
    tuned = settings.tuned_on.get("voxel_size")
    if tuned is None or voxel_size is None:
        return settings, None
    old = [float(v) for v in tuned]
    new = [float(v) for v in voxel_size]
    if all(abs(a - b) <= 1e-3 * b for a, b in zip(old, new, strict=True)):
        return settings, None
    factor = (old[0] * old[1] * old[2]) / (new[0] * new[1] * new[2])
    params = dict(settings.params)
    changed = []
    for key in SIZE_OPTIONS:
        if isinstance(params.get(key), int | float) and params[key]:
            scaled = int(round(params[key] * factor))
            changed.append(f"{key} {params[key]} -> {scaled}")
            params[key] = scaled
    if not changed:
        return settings, None
    grid = " x ".join(f"{v:g}" for v in old)
    text = (
        f"sizes tuned on {grid} nm maps kept in nm^3 on these maps' "
        f"{' x '.join(f'{v:g}' for v in new)} nm voxels: {', '.join(changed)}"
    )
    return DecoderSettings(settings.name, params, settings.source, settings.tuned_on), text


def _channels_used(settings: DecoderSettings) -> list[int]:
    from volseg.tune.space import decoder_defaults

    p = {**decoder_defaults(settings.name), **settings.params}
    value = p.get("channels", p.get("channel"))
    values = value if isinstance(value, list | tuple) else [value]
    return [int(c) for c in values if c is not None]


def check_fits(settings: DecoderSettings, *, n_channels: int, what: str) -> None:
    """Refuse settings that read a channel the maps do not have, or were tuned on maps with
    another channel count (``what`` names the maps, or the model, in the sentence)."""
    recorded = settings.tuned_on.get("channels")
    if recorded is not None and int(recorded) != int(n_channels):
        raise VolsegError(
            f"{settings.source} was tuned on maps with {recorded} channels but {what} has "
            f"{n_channels}; sweep these maps again or pass --no-thresholds."
        )
    used = _channels_used(settings)
    if used and max(used) >= n_channels:
        raise VolsegError(
            f"decoder settings from {settings.source} read channel {max(used)}, but {what} has "
            f"only {n_channels} channels; fix the decoder's channels."
        )


def config_settings(cfg: Any) -> DecoderSettings | None:
    """The config's first ``test.decoding`` entry (None when the list is empty)."""
    from omegaconf import OmegaConf

    decoding = OmegaConf.to_container(cfg.test.decoding, resolve=True) or []
    if not decoding:
        return None
    first = decoding[0]
    params = {
        k: tuple(v) if isinstance(v, list) else v
        for k, v in (first.get("kwargs") or {}).items()
        if v is not None or k in PAIR_OPTIONS
    }
    return DecoderSettings(str(first["name"]), params, "config test.decoding[0]")


def _tuned_candidates(maps_path: str | None, checkpoint: str | None) -> list[Path]:
    found = []
    if checkpoint:
        found.append(Path(checkpoint).resolve().parent / THRESHOLDS_NAME)
    if maps_path:
        found.append(maps_folder(maps_path) / THRESHOLDS_NAME)
    return found


def resolve(
    *,
    cfg: Any = None,
    explicit: Mapping[str, Any] | None = None,
    decoder: str | None = None,
    thresholds: str | os.PathLike | None = None,
    use_thresholds: bool = True,
    maps_path: str | None = None,
    checkpoint: str | None = None,
    n_channels: int,
    what: str,
    warn: Callable[[str], None] | None = None,
) -> DecoderSettings:
    """Decoder settings by the module's order, checked against ``n_channels`` before any work.

    Args:
        cfg: resolved config (its ``test.decoding``), or None.
        explicit: options given on the command line (override everything).
        decoder: a decoder named on the command line; a tuned file for another one is skipped.
        thresholds: a ``thresholds.json`` named by the user (must exist).
        use_thresholds: False ignores every ``thresholds.json``.
        maps_path: the maps to decode (to find the file beside them, and to warn when the file
            was tuned on other maps); None when the maps are still to be predicted.
        checkpoint: the checkpoint that made (or will make) the maps.
        n_channels: channel count of the maps (or of the model's output).
        what: how the sentence names the maps or the model.
        warn: where the notice about settings tuned on other maps goes (default: this
            module's logger, at WARNING).
    """
    warn = warn or log.warning
    if thresholds is not None and not use_thresholds:
        raise VolsegError("--thresholds names a file but --no-thresholds ignores it; give one.")
    chosen: DecoderSettings | None = None
    if thresholds is not None:
        chosen = read_thresholds(thresholds)
    elif use_thresholds:
        for path in _tuned_candidates(maps_path, checkpoint):
            if path.is_file():
                chosen = read_thresholds(path)
                break
    if chosen is not None and decoder is not None and chosen.name != decoder:
        if thresholds is not None:
            raise VolsegError(f"{thresholds} holds {chosen.name} settings, not {decoder}.")
        chosen = None
    if chosen is None and cfg is not None:
        chosen = config_settings(cfg)
        if chosen is not None and decoder is not None and chosen.name != decoder:
            chosen = None
    if chosen is None:
        chosen = DecoderSettings(decoder or "contour_distance", {}, "decoder defaults")
    tuned_path = chosen.tuned_on.get("path")
    if tuned_path and maps_path and place(tuned_path) != place(maps_path):
        warn(f"note: decoder settings from {chosen.source} were tuned on {tuned_path}, "
             f"not on {maps_path}.")  # fmt: skip
    elif tuned_path and not maps_path:
        warn(f"note: decoder settings from {chosen.source} were tuned on {tuned_path}.")
    if explicit:
        chosen.params.update(explicit)
        chosen.source += " + command-line options"
    chosen = _with_affinity_layout(chosen, cfg=cfg, maps_path=maps_path, what=what)
    check_fits(chosen, n_channels=n_channels, what=what)
    return chosen


def _with_affinity_layout(
    chosen: DecoderSettings, *, cfg: Any, maps_path: str | None, what: str
) -> DecoderSettings:
    """An affinity decoder's channels and offsets from the maps' record, else the config."""
    from volseg.decode.affinity_settings import complete_for

    params = complete_for(chosen.name, chosen.params, maps_path=maps_path, cfg=cfg, what=what)
    return dataclasses.replace(chosen, params=params)
