"""Dock widget: run a shipped or trained model on an image layer (Qt).

The logic lives in :mod:`volseg.napari.segment_model`; this module wires magicgui widgets to
it. :func:`~volseg.napari.segment_model.segment_image` runs in a napari ``thread_worker``; its
progress reports (one per sliding window) move the widget's progress bar, and the result is
added as ``pred/*`` (hidden), ``seg`` and, with a ``gt`` layer, ``errors`` layers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from magicgui.widgets import ComboBox, Container, FileEdit, Label, LineEdit, ProgressBar, PushButton

from volseg.napari import segment_model as sm

RUN_DIR = "run directory..."


class SegmentWidget(Container):
    """Choose a model (shipped, or a run directory) and an image layer; press Segment."""

    def __init__(self, napari_viewer: Any) -> None:
        self.viewer = napari_viewer
        self.shipped = sm.shipped_models()
        self.worker: Any = None
        self.last: sm.Segmented | None = None
        self.last_error: str | None = None
        self.model = ComboBox(label="model", choices=[*self.shipped, RUN_DIR], value=RUN_DIR)
        self.run_dir = FileEdit(label="run directory", mode="d")
        self.image = ComboBox(label="image", choices=self._image_choices)
        self.voxel_size = LineEdit(label="voxel size (nm)", value="")
        self.button = PushButton(text="Segment")
        self.progress = ProgressBar(value=0, min=0, max=1, visible=False, label="progress")
        self.status = Label(value="choose a model and an image layer")
        super().__init__(
            widgets=[self.model, self.run_dir, self.image, self.voxel_size, self.button,
                     self.progress, self.status],
        )  # fmt: skip
        self.model.changed.connect(self._model_changed)
        self.image.changed.connect(self._fill_voxel_size)
        self.run_dir.changed.connect(self._fill_voxel_size)
        self.button.changed.connect(self.start)
        for event in (self.viewer.layers.events.inserted, self.viewer.layers.events.removed):
            event.connect(lambda *_: self.image.reset_choices())
        self._model_changed()

    def _image_choices(self, *_: Any) -> list[tuple[str, Any]]:
        return [(layer.name, layer) for layer in sm.image_layers(self.viewer.layers)]

    def _model_changed(self, *_: Any) -> None:
        self.run_dir.visible = self.model.value == RUN_DIR
        self._fill_voxel_size()

    def model_dir(self) -> Path:
        """The chosen model's run directory (checked)."""
        if self.model.value == RUN_DIR:
            return sm.check_run_dir(self.run_dir.value)
        return sm.check_run_dir(self.shipped[self.model.value])

    def _fill_voxel_size(self, *_: Any) -> None:
        layer = self.image.value
        if layer is None:
            return
        try:
            cfg = sm.load_run_config(self.model_dir())
            size, where = sm.default_voxel_size(layer.scale, cfg)
        except Exception as exc:  # no model chosen yet, or no size known: say so
            self.status.value = str(exc)
            return
        self.voxel_size.value = ",".join(f"{s:g}" for s in size)
        self.status.value = f"voxel size from {where}"

    def _voxel_size(self) -> tuple[float, float, float]:
        try:
            size = tuple(float(v) for v in self.voxel_size.value.replace("x", ",").split(","))
        except ValueError:
            size = ()
        if len(size) != 3 or min(size) <= 0:
            raise ValueError(
                f"voxel size must be three positive numbers z,y,x (nm), got "
                f"{self.voxel_size.value!r}."
            )
        return size  # type: ignore[return-value]

    def start(self, *_: Any) -> None:
        """Start a run in a worker thread (ignored while one runs)."""
        from napari.qt.threading import create_worker

        if self.worker is not None:
            return
        try:
            layer = self.image.value
            if layer is None:
                raise ValueError("no image layer: open an image first.")
            run, size = self.model_dir(), self._voxel_size()
            image = sm.image_array(layer.data)
        except Exception as exc:  # show any problem in the widget, never crash the viewer
            self._report_error(exc)
            return
        self.last_error = None
        self.progress.visible = True
        self.progress.range = (0, 0)
        self.status.value = f"loading {run.name}..."
        name = self.model.value if self.model.value != RUN_DIR else str(run)
        worker = create_worker(
            sm.segment_image, run, image, size, offset=tuple(layer.translate[-3:]), model=name,
            _progress={"desc": "volseg segment"},
        )  # fmt: skip
        worker.yielded.connect(self._on_progress)
        worker.returned.connect(lambda result: self._show(result, layer))
        worker.errored.connect(self._report_error)
        worker.finished.connect(self._finished)
        self.worker = worker
        self.button.enabled = False
        worker.start()

    def _on_progress(self, step: sm.Progress) -> None:
        if step.step == "predict" and step.total:
            self.progress.range = (0, step.total)
            self.progress.value = step.done
            self.status.value = f"predicting: window {step.done} of {step.total}"
        else:
            self.progress.range = (0, 0)
            self.status.value = "decoding..."

    def _show(self, result: sm.Segmented, layer: Any) -> None:
        self.last = result
        sm.show_result(self.viewer, result, layer)
        self.status.value = (
            f"{result.n_instances} instances ({result.decoder}, settings from "
            f"{result.settings_source})"
        )

    def _report_error(self, exc: BaseException) -> None:
        self.last_error = str(exc)
        self.status.value = f"error: {exc}"

    def _finished(self) -> None:
        self.worker = None
        self.button.enabled = True
        self.progress.range = (0, 1)
        self.progress.visible = False
