"""Run in a child process on an Xvfb display by ``test_viewer_xvfb.py``: open real napari
windows, save a screenshot and what the re-decode widget did to ``OUT/result.json``.

Kept out of the pytest process so that Qt's X connection closes before Xvfb stops.
"""

import json
import sys
import time
import traceback
from pathlib import Path

import numpy as np


def process_until(done, timeout=120.0):
    from qtpy.QtWidgets import QApplication

    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.02)
    if not done():
        raise TimeoutError("timed out waiting for the viewer")


def boxes():
    """Four well-separated boxes, ids 1..4, in a (6, 64, 64) volume."""
    seg = np.zeros((6, 64, 64), np.uint32)
    for i, (y, x) in enumerate(((4, 4), (4, 36), (36, 4), (36, 36)), start=1):
        seg[:, y : y + 24, x : x + 24] = i
    return seg


def screenshot(out: Path) -> dict:
    import napari
    from PIL import Image

    from volseg.io import write_volume
    from volseg.napari.layers import add_layers, find_layer
    from volseg.napari.reader import read_paths

    write_volume(out / "labels.zarr", boxes(), voxel_size=(30, 8, 8), kind="labels")
    viewer = napari.Viewer(show=True, title="volseg screenshot")
    try:
        add_layers(viewer, read_paths([out / "labels.zarr"]))
        seg = find_layer(viewer.layers, "seg")
        seg.opacity = 1.0  # pixel colours are then exactly the label colours
        viewer.reset_view()
        process_until(lambda: True)
        shot = viewer.screenshot(canvas_only=True, flash=False)
        Image.fromarray(shot).save(out / "seg.png")
        colours = {i: np.asarray(seg.get_color(i))[:3].tolist() for i in (1, 2, 3, 4)}
        return {"png": str(out / "seg.png"), "colours": colours, "shape": list(shot.shape)}
    finally:
        viewer.close()


def widget(out: Path) -> dict:
    import napari

    from tests.decode.oracle import ball_labels, oracle_maps
    from tests.napari.conftest import make_run_dir
    from volseg.napari._widget import RedecodeWidget
    from volseg.napari.layers import add_layers, find_layer
    from volseg.napari.reader import read_paths

    gt = ball_labels()
    run = make_run_dir(out, gt, oracle_maps(gt))
    viewer = napari.Viewer(show=True, title="volseg widget")
    try:
        add_layers(viewer, read_paths([run]))
        _, w = viewer.window.add_plugin_dock_widget("volseg", "Re-decode")
        result = {"class": type(w).__name__, "is_widget": isinstance(w, RedecodeWidget)}
        result["initial"] = w.values()
        w.decode()
        result["busy_shown"] = w.progress.native.isVisibleTo(w.native)
        process_until(lambda: not w.scheduler.running)
        result["first"] = {
            "error": w.last_error,
            "seg_max": int(np.asarray(find_layer(viewer.layers, "seg").data).max()),
            "errors_any": bool(find_layer(viewer.layers, "errors").data.any()),
            "status": w.status.value,
            "busy_shown": w.progress.native.isVisibleTo(w.native),
        }
        w.settings["distance_threshold.seed"].switch.value = False
        w.settings["contour_threshold.seed"].switch.value = False
        w.settings["binary_threshold.seed"].value_widget.value = 0.5
        process_until(lambda: w.scheduler.running)  # started by the debounce timer
        process_until(lambda: not w.scheduler.running)
        result["second"] = {
            "error": w.last_error,
            "n_instances": w.last.n_instances,
            "scores": w.last.scores,
            "errors_any": bool(find_layer(viewer.layers, "errors").data.any()),
        }
        return result
    finally:
        viewer.close()


def folder_screenshot(folder: Path, png: Path) -> dict:
    """Open ``folder`` as ``volseg view`` does (default layer settings), save a screenshot;
    returns the layers (name, visible) and the Qt binding in use."""
    import napari
    import qtpy
    from PIL import Image

    from volseg.napari.layers import add_layers
    from volseg.napari.reader import read_paths

    viewer = napari.Viewer(show=True, title="volseg view")
    try:
        add_layers(viewer, read_paths([folder]))
        viewer.reset_view()
        process_until(lambda: True)
        shot = viewer.screenshot(canvas_only=True, flash=False)
        Image.fromarray(shot).save(png)
        return {
            "png": str(png),
            "layers": [[layer.name, bool(layer.visible)] for layer in viewer.layers],
            "qt_api": qtpy.API_NAME,
        }
    finally:
        viewer.close()


def demo_folder(out: Path) -> dict:
    """A demo-shaped folder (tiny arrays, the demo's writers) in a real window."""
    from tests.decode.oracle import ball_labels, oracle_maps
    from tests.napari.conftest import make_demo_folder

    gt = ball_labels()
    folder = make_demo_folder(out / "demo", gt, oracle_maps(gt))
    return folder_screenshot(folder, out / "demo.png")


def segment_widget(out: Path) -> dict:
    """The Segment dock widget on an image layer, with a tiny random model's run directory."""
    import napari

    from tests.infer.predict_fixtures import tiny_image
    from tests.napari.test_segment_model import make_model_run
    from volseg.napari._segment_widget import SegmentWidget

    run = make_model_run(out / "model")
    viewer = napari.Viewer(show=True, title="volseg segment")
    try:
        viewer.add_image(tiny_image((8, 40, 48)), name="em", scale=(10, 5, 5))
        _, w = viewer.window.add_plugin_dock_widget("volseg", "Segment")
        result = {"is_widget": isinstance(w, SegmentWidget), "image": w.image.value.name}
        w.run_dir.value = run
        result["voxel_size"] = w.voxel_size.value
        seen = []
        w.start()
        process_until(lambda: w.worker is not None)
        w.worker.yielded.connect(lambda step: seen.append(w.progress.native.isVisibleTo(w.native)))
        process_until(lambda: w.worker is None)
        result.update(
            error=w.last_error,
            status=w.status.value,
            progress_shown=any(seen),
            layers=[layer.name for layer in viewer.layers],
            n_instances=None if w.last is None else w.last.n_instances,
        )
        return result
    finally:
        viewer.close()


def cli_view(out: Path) -> dict:
    """``volseg view RUN`` with a timer that records the window's layers and closes it."""
    import napari
    from qtpy.QtCore import QTimer

    from tests.decode.oracle import ball_labels, oracle_maps
    from tests.napari.conftest import make_run_dir
    from volseg.cli.main import main

    gt = ball_labels()
    run = make_run_dir(out / "cli", gt, oracle_maps(gt))
    seen: dict = {}

    def inspect_and_close() -> None:
        viewer = napari.current_viewer()
        seen["layers"] = [layer.name for layer in viewer.layers]
        seen["docks"] = list(viewer.window.dock_widgets)
        viewer.close()

    QTimer.singleShot(2000, inspect_and_close)
    try:
        main(["view", str(run)])
    except SystemExit as exc:
        seen["exit"] = exc.code
    return seen


def notifications() -> list[str]:
    """Every warning napari showed (e.g. its PyQt5 deprecation notice)."""
    from napari.utils.notifications import notification_manager

    return [str(n.message) for n in notification_manager.records]


def main(out: Path) -> None:
    from volseg.napari import prefer_supported_qt

    prefer_supported_qt()  # as `volseg view` does, before qtpy is imported
    results = {}
    for case in (screenshot, widget, cli_view, demo_folder, segment_widget):
        try:
            results[case.__name__] = case(out)
        except Exception:
            results[case.__name__] = {"traceback": traceback.format_exc()}
    results["notifications"] = notifications()
    (out / "result.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[2] == "--folder":  # by hand: screenshot a real folder
        from volseg.napari import prefer_supported_qt

        prefer_supported_qt()
        print(json.dumps(folder_screenshot(Path(sys.argv[3]), Path(sys.argv[1]) / "view.png")))
    else:
        main(Path(sys.argv[1]))
