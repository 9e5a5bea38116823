"""Real napari windows under Xvfb: a screenshot of a segmentation, and the re-decode widget.

Needs the Xvfb binary (Debian: xvfb libxcb-icccm4 libxcb-keysyms1 and the other xcb libraries
``.ci/run`` installs). Without it the tests skip, except under ``CI=true`` where they fail.
The viewer runs in a child process (``xvfb_session.py``) so that Qt's X connection is closed
before Xvfb stops; the assertions are made here on what it saved.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL = "apt-get install -y xvfb libxcb-icccm4 libxcb-keysyms1"
pytestmark = pytest.mark.slow


def _free_display() -> int:
    for n in range(90, 190):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    raise RuntimeError("no free X display number between :90 and :189")


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """Start ``Xvfb :N``, run ``xvfb_session.py`` on it, return its results and folder."""
    if shutil.which("Xvfb") is None:
        reason = f"Xvfb is not installed ({INSTALL})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; under CI=true the napari screenshot test must run.")
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("xvfb")
    n = _free_display()
    xvfb = subprocess.Popen(
        ["Xvfb", f":{n}", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        socket = Path(f"/tmp/.X11-unix/X{n}")
        deadline = time.monotonic() + 20
        while not socket.exists() and xvfb.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if not socket.exists():
            pytest.fail(f"Xvfb :{n} did not start: {xvfb.stderr.read().decode()[-500:]}")
        runtime = out / "xdg"
        runtime.mkdir(mode=0o700)
        env = {**os.environ, "DISPLAY": f":{n}", "QT_QPA_PLATFORM": "xcb",
               "XDG_RUNTIME_DIR": str(runtime)}  # fmt: skip
        child = subprocess.run(
            [sys.executable, "-m", "tests.napari.xvfb_session", str(out)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
    result = out / "result.json"
    assert child.returncode == 0 and result.exists(), child.stderr[-3000:]
    return json.loads(result.read_text()), out


def test_screenshot_shows_the_segmentation_colours(session):
    from PIL import Image

    results, out = session
    shot_info = results["screenshot"]
    assert "traceback" not in shot_info, shot_info.get("traceback")
    shot = np.asarray(Image.open(shot_info["png"]))
    if os.environ.get("VOLSEG_SCREENSHOT_DIR"):
        shutil.copy(shot_info["png"], os.environ["VOLSEG_SCREENSHOT_DIR"])
    rgb = shot[..., :3].reshape(-1, 3).astype(int)
    assert min(shot.shape[:2]) > 100
    assert rgb.std(axis=0).max() > 10, "the screenshot is blank"
    for label, colour in shot_info["colours"].items():
        expected = np.round(np.asarray(colour) * 255).astype(int)
        close = int((np.abs(rgb - expected).max(axis=1) <= 3).sum())
        assert close > 0.02 * len(rgb), f"label {label} colour {expected} missing ({close} px)"


def test_redecode_widget_updates_seg_errors_and_scores(session):
    results, _ = session
    w = results["widget"]
    assert "traceback" not in w, w.get("traceback")
    assert w["is_widget"] and w["initial"]["binary_threshold.fg"] == 0.5  # thresholds.json
    assert w["busy_shown"], "no progress indicator while decoding"
    first = w["first"]
    assert first["error"] is None and not first["busy_shown"]
    assert first["seg_max"] == 2  # the merged segmentation on disk was replaced by two balls
    assert not first["errors_any"] and "ARE" in first["status"]
    second = w["second"]  # looser seeds, started by moving sliders: one merged instance
    assert second["error"] is None and second["n_instances"] == 1
    assert second["scores"]["precision"] < 0.6 and second["errors_any"]


def test_view_command_opens_a_window_with_the_layers_and_widget(session):
    results, _ = session
    seen = results["cli_view"]
    assert "traceback" not in seen, seen.get("traceback")
    assert seen["exit"] == 0
    assert seen["layers"] == [
        "raw", "pred/binary", "pred/boundary", "pred/edt", "gt", "seg", "errors",
    ]  # fmt: skip
    assert seen["docks"] == ["volseg re-decode"]


def test_demo_folder_opens_with_the_image_under_the_segmentation(session):
    from PIL import Image

    results, _ = session
    demo = results["demo_folder"]
    assert "traceback" not in demo, demo.get("traceback")
    assert demo["layers"] == [
        ["raw", True], ["pred/binary", False], ["pred/boundary", False], ["pred/edt", False],
        ["gt", False], ["seg", True], ["errors", True],
    ]  # fmt: skip
    shot = np.asarray(Image.open(demo["png"]))[..., :3].astype(int)
    if os.environ.get("VOLSEG_SCREENSHOT_DIR"):
        shutil.copy(demo["png"], os.environ["VOLSEG_SCREENSHOT_DIR"])
    assert shot.mean() > 20 and shot.std() > 10, "the screenshot is (nearly) black"
    # the EM image shows: many grey pixels (r = g = b) of many different brightnesses
    grey = (np.ptp(shot, axis=-1) <= 2) & (shot.max(axis=-1) > 10)
    assert grey.mean() > 0.2, f"only {grey.mean():.1%} grey image pixels"
    assert len(np.unique(shot[grey][:, 0])) > 50
    assert (np.ptp(shot, axis=-1) > 30).mean() > 0.01, "no coloured segmentation pixels"


def test_segment_widget_runs_a_model_in_a_worker_and_adds_the_labels(session):
    results, _ = session
    w = results["segment_widget"]
    assert "traceback" not in w, w.get("traceback")
    assert w["is_widget"] and w["image"] == "em" and w["voxel_size"] == "10,5,5"
    assert w["error"] is None and w["progress_shown"], w
    assert w["layers"] == ["em", "pred/binary", "pred/boundary", "pred/edt", "seg"]
    assert w["n_instances"] is not None and "instances" in w["status"]


def test_napari_runs_on_pyqt6_without_the_pyqt5_deprecation_notice(session):
    results, _ = session
    assert results["demo_folder"]["qt_api"] == "PyQt6"
    assert not [n for n in results["notifications"] if "PyQt5" in n]
