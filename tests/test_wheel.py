"""The built package works outside the checkout: a wheel in a fresh venv runs the CLI and
finds its shipped tutorials. Dependencies come from the running interpreter's site-packages
(a .pth path line, so nothing is downloaded); volseg itself must come from the wheel."""

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def sh(*args, cwd, check=True, timeout=300):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    # sdist first, then the wheel from it: MANIFEST.in is tested too, no stale build/ reused
    sh(sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp / "dist"), str(ROOT),
       cwd=tmp)  # fmt: skip
    (wheel,) = (tmp / "dist").glob("volseg-*.whl")
    env = tmp / "venv"
    sh(sys.executable, "-m", "venv", "--without-pip", str(env), cwd=tmp)
    python = env / "bin" / "python"
    sh(sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
       str(wheel), cwd=tmp)  # fmt: skip
    site = sh(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp)
    # a path line (not `import site`): the deps' .pth files, an editable volseg among them,
    # are not processed, so only the wheel's volseg can be imported
    (Path(site.stdout.strip()) / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return env, tmp / "work"


def volseg(venv, *args, check=True):
    env, cwd = venv
    cwd.mkdir(exist_ok=True)
    return sh(env / "bin" / "volseg", *args, cwd=cwd, check=check)


@pytest.mark.slow
def test_the_wheel_runs_outside_the_checkout(venv):
    env, cwd = venv
    cwd.mkdir(exist_ok=True)
    where = sh(env / "bin" / "python", "-c", "import volseg; print(volseg.__file__)", cwd=cwd)
    assert Path(where.stdout.strip()).is_relative_to(env), where.stdout
    from volseg.cli.main import version

    assert volseg(venv, "--version").stdout == f"volseg {version()}\n"
    assert "Usage: volseg" in volseg(venv, "-h").stdout
    assert "--data" in volseg(venv, "demo", "--help").stdout
    shown = volseg(venv, "config", "show", "lucchi-mito").stdout
    assert "experiment_name: lucchi-mito" in shown
    check = volseg(venv, "config", "check", "hydra-lv-finetune").stdout  # a _base_ from the wheel
    assert "/volseg/_data/tutorials/hydra-lv-finetune.yaml is valid" in check
    code = "from volseg.resources import configs_dir; print(configs_dir())"
    base = sh(env / "bin" / "python", "-c", code, cwd=cwd)
    assert Path(base.stdout.strip(), "base.yaml").is_file()
    assert Path(base.stdout.strip()).is_relative_to(env)


@pytest.mark.slow
def test_the_wheel_segments_with_a_shipped_model(venv, tmp_path):
    """``segment --model lucchi-mito`` from the wheel on 64 slices of the 5 nm Lucchi++ crop:
    the voxel size is asked for (the file records none), then the image is resampled to the
    model's 10 nm and the labels come back at 5 nm. The crop lies inside the volume the model
    was trained on, so the score checks the packaging and the resampling, not generalisation
    (the model card's held-out box does that)."""
    import json

    import h5py

    listed = volseg(venv, "models", "list")
    assert "lucchi-mito" in listed.stdout and "10 x 10 x 10" in listed.stdout
    crop = ROOT.parent / "shared" / "data" / "lucchi_pp_crops" / "train_crop.h5"
    if not crop.is_file():
        pytest.skip(f"{crop} is not on this machine")
    part = tmp_path / "part.h5"
    with h5py.File(crop, "r") as src, h5py.File(part, "w") as dst:
        dst["raw"] = src["raw"][:64]
        dst["instances"] = src["instances"][:64]
    out = tmp_path / "seg.zarr"
    args = ["segment", "--model", "lucchi-mito", "--image", f"{part}:raw", "--out", str(out)]
    refused = volseg(venv, *args, check=False)
    assert refused.returncode == 2 and "--voxel-size" in refused.stderr and not out.exists()
    done = volseg(venv, *args, "--voxel-size", "5,5,5", "--gt", f"{part}:instances")
    assert "resampled to the model's grid" in done.stdout
    metrics = json.loads((tmp_path / "seg.metrics.json").read_text())
    assert metrics["segmentation_foreground"]["iou"] > 0.8, metrics["segmentation_foreground"]
