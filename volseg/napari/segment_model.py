"""Run a trained or shipped model on an image held in memory: the logic of the Segment widget.

A model is a run directory (``config.yaml`` and ``checkpoints/best.pt``, optionally
``checkpoints/thresholds.json``) or a shipped model of :mod:`volseg.zoo` (laid out the same
way). :func:`segment_image` is a generator: it yields :class:`Progress` while the sliding
window runs (one step per window) and returns a :class:`Segmented` with the maps and the
instances. Prediction is :func:`volseg.infer.predict` (the config's sliding window, TTA and
resolution) into a temporary zarr; decoding follows the one settings policy of
:func:`volseg.infer.segment.decoder_settings` (the run's ``thresholds.json``, else the config's
``test.decoding[0]``). Nothing here imports Qt; the widget runs the generator in a napari
``thread_worker``.
"""

from __future__ import annotations

import dataclasses
import queue
import tempfile
import threading
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from volseg.errors import VolsegError
from volseg.io.volume import Triple

CONFIG_NAME = "config.yaml"
CHECKPOINT = Path("checkpoints") / "best.pt"


class Progress(NamedTuple):
    """``step`` is ``"predict"`` (``done`` of ``total`` windows) or ``"decode"``."""

    step: str
    done: int
    total: int


@dataclass
class Segmented:
    """What a model made of an image: float32 maps ``(c, z, y, x)``, their attributes, the
    instances ``(z, y, x)`` and the decoder that made them (with where its settings came
    from)."""

    labels: np.ndarray
    maps: np.ndarray
    maps_attrs: dict[str, Any]
    decoder: str
    params: dict[str, Any]
    settings_source: str
    voxel_size: Triple
    model: str = ""
    n_instances: int = field(init=False)

    def __post_init__(self) -> None:
        self.n_instances = int(np.unique(self.labels[self.labels > 0]).size)


class Cancelled(Exception):
    """Raised in the prediction thread when the consumer stopped the generator."""


def shipped_models() -> dict[str, Path]:
    """Shipped model name -> its run directory (empty when :mod:`volseg.zoo` is absent)."""
    try:
        from volseg import zoo  # type: ignore[attr-defined]
    except ImportError:
        return {}
    return {str(name): Path(zoo.run_dir(name)) for name in zoo.names()}


def check_run_dir(path: str | Path) -> Path:
    """``path`` if it holds ``config.yaml`` and ``checkpoints/best.pt``.

    Raises:
        VolsegError: naming the missing file.
    """
    run = Path(path).expanduser()
    if not run.is_dir():
        raise VolsegError(f"model folder {run} does not exist.")
    for need in (CONFIG_NAME, CHECKPOINT):
        if not (run / need).is_file():
            raise VolsegError(
                f"{run} is not a volseg run directory: {need} is missing (expected "
                f"{CONFIG_NAME} and {CHECKPOINT}, as `volseg fit` writes them)."
            )
    return run


def load_run_config(run: Path) -> Any:
    from volseg.config import load

    return load(run / CONFIG_NAME)


def default_voxel_size(scale: Sequence[float], cfg: Any) -> tuple[Triple, str]:
    """The voxel size to predict with: the layer's scale, unless napari's default (all 1),
    then the model's training voxel size. Returns ``(voxel size, where it came from)``."""
    size = tuple(float(s) for s in scale[-3:])
    if any(s != 1.0 for s in size):
        return size, "the image layer's scale"  # type: ignore[return-value]
    for key in ("voxel_size", "train_resolution"):
        trained = getattr(cfg.data, key, None)
        if trained is not None:
            value = tuple(float(v) for v in trained)
            return value, f"the model's data.{key} (the layer has no scale: check it)"  # type: ignore[return-value]
    raise VolsegError(
        "the image layer has no scale and the model records no training voxel size; "
        "enter the voxel size (nm, z,y,x)."
    )


def image_array(data: Any) -> np.ndarray:
    """Level 0 of a layer's data as a ``(z, y, x)`` numpy array."""
    if isinstance(data, list | tuple):  # multiscale: level 0
        data = data[0]
    array = np.asarray(data)
    if array.ndim != 3:
        raise VolsegError(
            f"the image layer has shape {array.shape}; the model needs a (z, y, x) volume."
        )
    return array


def _predict_in_thread(
    predict: Callable[[Callable[[int, int], None]], Any],
) -> Generator[Progress, None, Any]:
    """Run ``predict(progress)`` in a thread, yielding its progress reports; returns its result.

    Closing the generator makes the next progress report raise :class:`Cancelled` in the
    thread, and waits for it to stop."""
    reports: queue.Queue[tuple[int, int] | None] = queue.Queue()
    stop = threading.Event()
    outcome: dict[str, Any] = {}

    def report(done: int, total: int) -> None:
        if stop.is_set():
            raise Cancelled()
        reports.put((done, total))

    def work() -> None:
        try:
            outcome["result"] = predict(report)
        except BaseException as exc:  # handed to the consumer below
            outcome["error"] = exc
        finally:
            reports.put(None)

    thread = threading.Thread(target=work, name="volseg-segment", daemon=True)
    thread.start()
    try:
        while (item := reports.get()) is not None:
            yield Progress("predict", *item)
    finally:
        stop.set()
        thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def segment_image(
    run_dir: str | Path,
    image: Any,
    voxel_size: Sequence[float],
    *,
    offset: Sequence[float] = (0.0, 0.0, 0.0),
    model: str = "",
) -> Generator[Progress, None, Segmented]:
    """Predict and decode ``image`` with the model of ``run_dir``.

    Yields :class:`Progress` (per sliding window, then once before decoding); returns a
    :class:`Segmented`. Use ``result = yield from segment_image(...)``, or napari's
    ``thread_worker`` (its ``returned`` signal carries the result).

    Raises:
        VolsegError: not a run directory, an image that is not 3D, settings that do not fit
            the model.
    """
    from volseg.infer import predict
    from volseg.infer.segment import decoder_settings
    from volseg.io import Volume
    from volseg.maps import dequantize

    run = check_run_dir(run_dir)
    cfg = load_run_config(run)
    checkpoint = run / CHECKPOINT
    name, params, source = decoder_settings(cfg, checkpoint, voxel_size=tuple(voxel_size))
    volume = Volume(image_array(image), voxel_size=tuple(voxel_size), offset=tuple(offset))
    with tempfile.TemporaryDirectory(prefix="volseg-segment-") as tmp:

        def run_predict(progress: Callable[[int, int], None]) -> tuple[np.ndarray, dict]:
            pred = predict(cfg, checkpoint, volume, Path(tmp) / "maps.zarr", progress=progress)
            attrs = dict(pred.attrs)
            return dequantize(np.asarray(pred.data[...]), attrs), attrs

        maps, attrs = yield from _predict_in_thread(run_predict)
    yield Progress("decode", 0, 1)
    from volseg.decode.registry import decode

    labels = decode(maps, name, params)
    return Segmented(
        labels=labels, maps=maps, maps_attrs=attrs, decoder=name, params=dict(params),
        settings_source=source, voxel_size=volume.voxel_size, model=model or str(run),
    )  # fmt: skip


def image_layers(layers: Any) -> list[Any]:
    """The 3D image layers a model can run on (not the ``pred/*`` maps)."""
    from volseg.napari.layers import role_of

    return [
        layer
        for layer in layers
        if type(layer).__name__ == "Image"
        and not str(role_of(layer) or "").startswith("pred/")
        and len(layer.data[0].shape if layer.multiscale else layer.data.shape) == 3
    ]


def result_layers(result: Segmented, image_layer: Any, gt: Any = None) -> list[Any]:
    """Layer-data tuples of a result, placed like ``image_layer``: the maps (hidden, with the
    decoder settings for the re-decode widget), ``seg``, and ``errors`` against the
    ground-truth data ``gt`` when it is given and has the image's shape."""
    from volseg.napari.discover import Item
    from volseg.napari.errors_layer import COLORS, DEFAULT_MIN_OVERLAP, error_labels
    from volseg.napari.layers import item_layer, map_layers

    place = {
        "voxel_size": tuple(float(s) for s in image_layer.scale[-3:]),
        "offset": tuple(float(t) for t in image_layer.translate[-3:]),
        "source": f"segment: {result.model}",
    }
    maps = Item(role="maps", levels=(result.maps,), attrs=result.maps_attrs, **place)
    settings = {
        "decoder": result.decoder, "params": result.params, "path": result.settings_source,
    }  # fmt: skip
    out = map_layers(maps, thresholds=settings)
    seg = Item(role="seg", levels=(result.labels,), **place)
    out.append(item_layer(seg))
    if gt is not None and tuple(gt.shape) == result.labels.shape:
        errors = error_labels(result.labels, np.asarray(gt), min_overlap=DEFAULT_MIN_OVERLAP)
        data, meta, kind = item_layer(dataclasses.replace(seg, role="errors", levels=(errors,)))
        meta.update(colormap=dict(COLORS), opacity=0.8)
        out.append((data, meta, kind))
    units = tuple(str(u) for u in getattr(image_layer, "units", ())[-3:])
    for _, meta, _ in out:
        meta["metadata"]["volseg"].update(model=result.model, decoder=result.decoder)
        if len(units) == 3:  # the image's units (napari renders without units when they differ)
            meta["units"] = units
    return out


def show_result(viewer: Any, result: Segmented, image_layer: Any) -> list[Any]:
    """Put a result into a napari ``Viewer`` or ``ViewerModel``: layers of the same role
    (an earlier run's maps, seg and errors) are replaced. Returns the new layers."""
    from volseg.napari.layers import add_layers, find_layer, role_of

    gt_layer = find_layer(viewer.layers, "gt")
    gt = None
    if gt_layer is not None:
        gt = gt_layer.data[0] if gt_layer.multiscale else gt_layer.data
    layer_data = result_layers(result, image_layer, gt=gt)
    roles = {meta["metadata"]["volseg"]["role"] for _, meta, _ in layer_data}
    for layer in [lay for lay in viewer.layers if role_of(lay) in roles]:
        viewer.layers.remove(layer)
    return add_layers(viewer, layer_data)
