"""Dock widget: re-decode the cached maps with threshold sliders, scores shown live (Qt).

All decisions live in :mod:`volseg.napari.redecode`; this module only wires magicgui widgets
to it. Decoding runs in a napari ``thread_worker`` (with a progress indicator in the widget
and in napari's activity dock), so the viewer stays responsive; while one decode runs, only
the newest slider state waits (:class:`~volseg.napari.redecode.LatestOnly`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from magicgui.widgets import (
    CheckBox,
    Container,
    FloatSlider,
    Label,
    ProgressBar,
    PushButton,
    SpinBox,
)
from qtpy.QtCore import QTimer

from volseg.napari.errors_layer import COLORS, DEFAULT_MIN_OVERLAP
from volseg.napari.layers import PRED_ROLES, find_layer, role_of
from volseg.napari.redecode import (
    SLIDERS,
    LatestOnly,
    Redecoded,
    describe_result,
    fixed_params,
    initial_values,
    level0,
    pred_sources,
    redecode,
    stack_maps,
    to_params,
)

DEBOUNCE_MS = 300


class _Setting(Container):
    """One slider row: an on/off box for optional thresholds, then the value."""

    def __init__(self, spec, value: float | None) -> None:
        if spec.integer:
            self.value_widget = SpinBox(
                value=int(value or 0), min=int(spec.low), max=int(spec.high), step=1
            )
        else:
            start = spec.low if value is None else float(value)
            self.value_widget = FloatSlider(
                value=start, min=spec.low, max=spec.high, step=spec.step, readout=True
            )
        self.switch = CheckBox(value=value is not None, text="", visible=spec.optional)
        super().__init__(layout="horizontal", widgets=[self.switch, self.value_widget],
                         label=spec.label, labels=False)  # fmt: skip
        self.value_widget.enabled = self.switch.value

    def current(self) -> float | None:
        if not self.switch.value:
            return None
        return self.value_widget.value


class RedecodeWidget(Container):
    """Re-decode the ``pred/*`` layers with ``contour_distance``; update ``seg`` and ``errors``."""

    def __init__(self, napari_viewer: Any) -> None:
        self.viewer = napari_viewer
        self.scheduler = LatestOnly()
        self._cache: dict[str, Any] = {}
        self.last: Redecoded | None = None
        self.last_error: str | None = None
        thresholds = self._thresholds()
        values = initial_values(thresholds)
        self.fixed = fixed_params(thresholds)
        self.settings = {s.key: _Setting(s, values[s.key]) for s in SLIDERS}
        self.min_overlap = SpinBox(
            value=DEFAULT_MIN_OVERLAP, min=0, max=10**7, label="error overlap >"
        )
        self.live = CheckBox(value=True, text="decode while sliding")
        self.button = PushButton(text="Decode")
        self.progress = ProgressBar(value=0, min=0, max=1, visible=False, label="decoding")
        self.status = Label(value=self._hint())
        super().__init__(
            widgets=[*self.settings.values(), self.min_overlap, self.live, self.button,
                     self.progress, self.status],
        )  # fmt: skip
        self._timer = QTimer()
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.decode)
        for setting in self.settings.values():
            setting.switch.changed.connect(self._switched(setting))
            setting.value_widget.changed.connect(self._changed)
        self.min_overlap.changed.connect(self._changed)
        self.button.changed.connect(self.decode)

    def _thresholds(self) -> dict[str, Any] | None:
        for layer in self.viewer.layers:
            if role_of(layer) in PRED_ROLES:
                found = layer.metadata["volseg"].get("thresholds")
                if found:
                    return found
        return None

    def _hint(self) -> str:
        if any(find_layer(self.viewer.layers, r) is not None for r in PRED_ROLES):
            return "move a slider or press Decode"
        return "no pred/* layers: open a predictions.zarr or run directory first"

    def _switched(self, setting: _Setting):
        def on_switch(on: bool) -> None:
            setting.value_widget.enabled = on
            self._changed()

        return on_switch

    def _changed(self, *_: Any) -> None:
        if self.live.value:
            self._timer.start()

    def values(self) -> dict[str, float | None]:
        """The current slider values (None for switched-off thresholds)."""
        return {key: setting.current() for key, setting in self.settings.items()}

    def decode(self, *_: Any) -> None:
        """Request a decode with the current settings (runs now, or after the current one)."""
        try:
            arrays, channels = pred_sources(self.viewer.layers)
        except Exception as exc:  # show any problem in the widget, never crash the viewer
            self._report_error(exc)
            return
        gt_layer = find_layer(self.viewer.layers, "gt")
        job = {
            "params": to_params(self.values(), fixed=self.fixed, channels=channels),
            "arrays": arrays,
            "gt": None if gt_layer is None else level0(gt_layer),
            "min_overlap": int(self.min_overlap.value),
        }
        job = self.scheduler.request(job)
        if job is not None:
            self._start(job)

    def _maps(self, arrays: list[Any]) -> np.ndarray:
        key = tuple(id(a) for a in arrays)
        if self._cache.get("maps_key") != key:
            self._cache.update(maps=stack_maps(arrays), maps_key=key)
        return self._cache["maps"]

    def _gt(self, data: Any) -> np.ndarray | None:
        if data is None:
            return None
        if self._cache.get("gt_key") != id(data):
            self._cache.update(gt=np.asarray(data[...]), gt_key=id(data))
        return self._cache["gt"]

    def _start(self, job: dict[str, Any]) -> None:
        from napari.qt.threading import create_worker

        def work() -> Redecoded:
            maps = self._maps(job["arrays"])
            gt = self._gt(job["gt"])
            return redecode(maps, job["params"], gt=gt, min_overlap=job["min_overlap"])

        self.progress.visible = True
        self.progress.range = (0, 0)  # busy indicator
        self.status.value = "decoding..."
        worker = create_worker(work, _progress={"desc": "volseg re-decode"})
        worker.returned.connect(self._show)
        worker.errored.connect(self._report_error)
        worker.finished.connect(self._finished)
        worker.start()

    def _finished(self) -> None:
        job = self.scheduler.finished()
        if job is not None:
            self._start(job)
            return
        self.progress.range = (0, 1)
        self.progress.visible = False

    def _report_error(self, exc: BaseException) -> None:
        self.last_error = str(exc)
        self.status.value = f"error: {exc}"

    def _show(self, result: Redecoded) -> None:
        self.last, self.last_error = result, None
        self.status.value = describe_result(result)
        self._put("seg", result.labels, {})
        if result.errors is not None:
            self._put("errors", result.errors, {"colormap": dict(COLORS), "opacity": 0.8})

    def _put(self, role: str, data: np.ndarray, extra: dict[str, Any]) -> None:
        """Replace the data of the ``role`` layer, or add one placed like the maps."""
        layer = find_layer(self.viewer.layers, role)
        if layer is not None and not layer.multiscale and layer.data.shape == data.shape:
            layer.data = data
            return
        reference = find_layer(self.viewer.layers, PRED_ROLES[0]) or next(
            (lay for lay in self.viewer.layers if role_of(lay) in PRED_ROLES), None
        )
        meta = {"name": role, "metadata": {"volseg": {"role": role, "source": "re-decode"}}}
        if reference is not None:
            meta.update(
                scale=reference.scale[-3:],
                translate=reference.translate[-3:],
                axis_labels=reference.axis_labels[-3:],
                units=reference.units[-3:],
            )
        if layer is not None:
            self.viewer.layers.remove(layer)
        self.viewer.add_labels(data, **meta, **extra)
