import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.decode.oracle import ball_labels, oracle_maps
from tests.napari.conftest import make_run_dir
from volseg.cli.main import main
from volseg.io import write_volume

REPO = Path(__file__).resolve().parents[2]
PROBE = """
import sys
from volseg.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in ("napari", "PyQt5", "qtpy", "vispy") if m in sys.modules)
print("exit", code, "heavy", heavy)
"""


@pytest.fixture
def run_dir(tmp_path):
    gt = ball_labels()
    return make_run_dir(tmp_path, gt, oracle_maps(gt))


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_missing_path_exits_2_before_importing_qt(tmp_path):
    missing = tmp_path / "nope.zarr"
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, "view", str(missing)],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert proc.stdout.strip() == "exit 2 heavy []", proc.stderr
    assert proc.stderr.strip() == f"volseg: error: path {missing} does not exist."


def test_list_prints_the_layers_of_a_run_folder(run_dir, capsys):
    code, out, err = run(["view", str(run_dir), "--list"], capsys)
    assert code == 0, err
    names = [line.split()[0] for line in out.splitlines()]
    assert names == ["raw", "pred/binary", "pred/boundary", "pred/edt", "gt", "seg", "errors"]
    assert "24x40x40" in out and "30x8x8 nm" in out
    assert out.splitlines()[1].endswith("hidden") and out.splitlines()[-1].endswith("shown")


def test_gt_option_and_no_errors(run_dir, tmp_path, capsys):
    other = tmp_path / "truth.zarr"
    write_volume(other, np.ones((24, 40, 40), np.uint32), voxel_size=(30, 8, 8), kind="labels")
    args = ["view", str(run_dir / "labels.zarr"), "--gt", str(other), "--list"]
    code, out, _ = run(args, capsys)
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == ["gt", "seg", "errors"]
    code, out, _ = run([*args, "--no-errors"], capsys)
    assert code == 0 and "errors" not in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--gt", "missing.h5:ids"], "--gt missing.h5:ids does not exist."),
        (["--min-overlap", "-1"], "--min-overlap must be >= 0"),
    ],
)
def test_bad_options_exit_2(run_dir, extra, message, capsys):
    code, _, err = run(["view", str(run_dir), *extra, "--list"], capsys)
    assert code == 2 and message in err


def test_unreadable_inputs_exit_2(tmp_path, capsys):
    (tmp_path / "plain").mkdir()
    code, _, err = run(["view", str(tmp_path / "plain"), "--list"], capsys)
    assert code == 2 and "neither a zarr store nor a volseg run folder" in err
    image = tmp_path / "img.zarr"
    write_volume(image, np.zeros((4, 5, 6), np.float32), voxel_size=1)
    code, _, err = run(["view", str(image), "--gt", str(image), "--list"], capsys)
    assert code == 2 and "gt must be (z, y, x) integer labels" in err
