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


def main(out: Path) -> None:
    results = {}
    for case in (screenshot, widget, cli_view):
        try:
            results[case.__name__] = case(out)
        except Exception:
            results[case.__name__] = {"traceback": traceback.format_exc()}
    (out / "result.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
