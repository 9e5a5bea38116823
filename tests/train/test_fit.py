"""``fit`` end to end on a tiny volume: run directory, checkpoints, exact resume, split reuse,
fine-tuning, and every bad-input path."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from tests.train.helpers import make_volume, tiny_config
from volseg.checkpoint import load_checkpoint
from volseg.errors import VolsegError
from volseg.train import TrainingStopped, fit
from volseg.train.logger import read_csv
from volseg.train.run_dir import run_dirs


def run(volume: Path, tmp: Path, *overrides: str, **kw) -> Path:
    return fit(tiny_config(volume, *overrides), run_root=tmp / "runs", progress=False, **kw)


@pytest.mark.slow
def test_run_directory_contents(vesicle_zarr: Path, tmp_path: Path) -> None:
    notes: list[str] = []
    out = run(
        vesicle_zarr,
        tmp_path,
        "optimization.ema.enabled=true",
        "monitor.logging.tensorboard=true",
        "monitor.logging.figures_every_n_epochs=2",
        "monitor.full_val_every_n_epochs=2",
        echo=notes.append,
    )
    assert out.parent == tmp_path / "runs" / "tiny" and len(out.name) == 15
    names = {p.name for p in out.iterdir()}
    assert {"config.yaml", "split.json", "metrics.csv", "checkpoints", "figures"} <= names
    assert any(n.startswith("events.out.tfevents") for n in names)
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["best.pt", "last.pt"]
    figs = sorted(p.name for p in (out / "figures").iterdir())
    assert figs == ["curves.png", "patch_epoch0002.png", "region_epoch0002.png"]
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["system"]["seed"] == 3 and config["data"]["patch_size"] == [8, 32, 32]
    rows = read_csv(out / "metrics.csv")
    assert [r["step"] for r in rows if "train/loss" in r] == [1, 2, 3, 4]
    epochs = [r for r in rows if "train/epoch_loss" in r]
    assert [(r["epoch"], r["step"]) for r in epochs] == [(1, 2), (2, 4)]
    assert "val/patch_loss" in epochs[0] and "val/are" not in epochs[0]
    assert {"val/are", "val/precision", "val/recall", "val/map_fg_iou"} <= set(epochs[1])
    last = load_checkpoint(out / "checkpoints" / "last.pt")
    assert (last["epoch"], last["step"]) == (2, 4)
    for key in ("optimizer_state", "ema_state", "loss_state", "scheduler_state"):
        assert last[key] is not None, key
    assert {"seed", "rng", "early_stop", "monitor"} <= set(last["extra"])
    assert last["config"]["model"]["filters"] == [4, 8]
    best = load_checkpoint(out / "checkpoints" / "best.pt")
    assert best["best_metric"] == min(r["val/patch_loss"] for r in epochs)
    assert notes[-1].startswith("finished after epoch 2, step 4")
    assert (out.parent / "latest").resolve() == out.resolve()
    assert "finished after epoch 2" in (out / "train.log").read_text()


@pytest.fixture(scope="module")
def two_epochs(vesicle_zarr: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-epoch run with learnable (uncertainty) loss weights."""
    return run(vesicle_zarr, tmp_path_factory.mktemp("a"), "model.loss_balancing=uncertainty")


def test_resume_continues_exactly(vesicle_zarr: Path, tmp_path: Path, two_epochs: Path) -> None:
    first = run(
        vesicle_zarr, tmp_path, "model.loss_balancing=uncertainty", "optimization.max_epochs=1"
    )
    again = fit(
        tiny_config(vesicle_zarr, "model.loss_balancing=uncertainty"), resume=first, progress=False
    )
    assert again == first
    a = load_checkpoint(two_epochs / "checkpoints" / "last.pt")
    b = load_checkpoint(first / "checkpoints" / "last.pt")
    assert (b["epoch"], b["step"]) == (2, 4)
    for key, value in a["model_state"].items():
        assert torch.equal(value, b["model_state"][key]), key
    log_vars = a["loss_state"]["balancing.log_vars"]
    assert torch.equal(log_vars, b["loss_state"]["balancing.log_vars"])
    assert log_vars.abs().min() > 0  # the uncertainty weights were optimised
    rows_a, rows_b = read_csv(two_epochs / "metrics.csv"), read_csv(first / "metrics.csv")
    assert [r["step"] for r in rows_b] == [r["step"] for r in rows_a]
    assert rows_b[-1]["val/patch_loss"] == pytest.approx(rows_a[-1]["val/patch_loss"], rel=1e-6)
    assert (first / "config.1.yaml").is_file()  # max_epochs changed: the old config is kept
    assert "resumed from" in (first / "train.log").read_text()


def test_resume_refuses_another_model(vesicle_zarr: Path, two_epochs: Path) -> None:
    cfg = tiny_config(vesicle_zarr, "model.filters=[4,16]")
    with pytest.raises(
        VolsegError, match=r"changes the model \(model.filters: \[4, 8\] -> \[4, 16\]"
    ):
        fit(cfg, resume=two_epochs, progress=False)
    before = (two_epochs / "metrics.csv").read_text()
    cfg = tiny_config(vesicle_zarr, "model.loss_balancing=uncertainty")
    assert fit(cfg, resume=two_epochs, progress=False) == two_epochs  # already finished
    assert (two_epochs / "metrics.csv").read_text() == before


def test_split_reuse_and_fine_tuning(vesicle_zarr: Path, tmp_path: Path, two_epochs: Path) -> None:
    notes: list[str] = []
    out = run(
        vesicle_zarr,
        tmp_path,
        "model.deep_supervision=true",
        "model.deep_supervision_weights=[1.0,0.5]",
        "optimization.max_epochs=1",
        "data.val_region=0.5",
        init_from=two_epochs / "checkpoints" / "best.pt",
        split=two_epochs / "split.json",
        echo=notes.append,
    )
    assert (out / "split.json").read_text() == (two_epochs / "split.json").read_text()
    report = next(n for n in notes if n.startswith("initial weights from"))
    # Deep supervision adds a head the pre-trained network did not have: reported, not fatal.
    assert "loaded 72 tensors; 7 missing (net.heads.1." in report and "unexpected" not in report
    assert report in (out / "train.log").read_text()


def test_nan_loss_stops_and_keeps_last_good_checkpoint(
    vesicle_zarr: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import volseg.models

    real = volseg.models.build
    calls = {"n": 0}

    def poisoned(model_cfg):
        net = real(model_cfg)

        def hook(module, args, out):
            if module.training:
                calls["n"] += 1
                if calls["n"] == 3:  # the first step of epoch 2
                    return out * float("nan")
            return None

        net.register_forward_hook(hook)
        return net

    monkeypatch.setattr(volseg.models, "build", poisoned)
    with pytest.raises(
        TrainingStopped,
        match=r"loss became nan at epoch 2, step 3; training stopped and the last good checkpoint",
    ):
        run(vesicle_zarr, tmp_path)
    (out,) = run_dirs(tmp_path / "runs" / "tiny")
    last = load_checkpoint(out / "checkpoints" / "last.pt")
    assert (last["epoch"], last["step"]) == (1, 2)
    assert all(
        torch.isfinite(v).all() for v in last["model_state"].values() if v.is_floating_point()
    )


def test_out_of_memory_names_the_settings(
    vesicle_zarr: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import volseg.models

    real = volseg.models.build

    def hungry(model_cfg):
        net = real(model_cfg)

        def hook(module, args):
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

        net.register_forward_pre_hook(hook)
        return net

    monkeypatch.setattr(volseg.models, "build", hungry)
    with pytest.raises(
        VolsegError,
        match=r"out of memory during training \(batch size 2, patch "
        r"\[8, 32, 32\], filters \[4, 8\]\); lower system.training.batch_size",
    ):
        run(vesicle_zarr, tmp_path)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["optimization.precision=16-mixed"], r"'16-mixed' needs a GPU"),
        (
            ["model.input_size=[40,32,32]", "inference.sliding_window.window_size=[40,32,32]"],
            r"larger than the training region|no z-range is left",
        ),
        (
            ["monitor.checkpoint.monitor=val_iou", "monitor.checkpoint.mode=max"],
            r"full_val_every_n_epochs` is 0",
        ),
        (
            ["data.val_region=null", "data.val_image=[]", "monitor.checkpoint.monitor=val_dice"],
            r"is better when larger but its mode is 'min'",
        ),
    ],
)
def test_bad_config_fails_before_writing(
    vesicle_zarr: Path, tmp_path: Path, overrides: list[str], message: str
) -> None:
    with pytest.raises(VolsegError, match=message):
        run(vesicle_zarr, tmp_path, *overrides)
    assert not (tmp_path / "runs").exists()


def test_bad_data_fails_before_writing(tmp_path: Path) -> None:
    empty = make_volume(tmp_path / "empty.zarr", empty=True)
    with pytest.raises(VolsegError, match="have no foreground"):
        run(empty, tmp_path)
    full = make_volume(tmp_path / "full.zarr")
    masked = tmp_path / "masked.h5"
    import h5py
    import numpy as np

    with h5py.File(masked, "w") as f:
        f["mask"] = np.zeros((32, 64, 64), np.uint8)
    with pytest.raises(VolsegError, match="marks every voxel .* as invalid"):
        run(full, tmp_path, f"data.train_mask=[{masked}:mask]")
    assert not (tmp_path / "runs").exists()
