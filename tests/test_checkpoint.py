"""Checkpoints: round trip, atomic writes, weights_only loading, external weights."""

import pickle
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from volseg import losses
from volseg.checkpoint import (
    build_model_from_checkpoint,
    load_checkpoint,
    load_external_weights,
    save_checkpoint,
)
from volseg.errors import VolsegError
from volseg.models import build

MODEL = {
    "architecture": "rsunet",
    "filters": [4, 8],
    "out_channels": 2,
    "loss_functions": ["BCEWithLogitsLoss", "MSELoss"],
    "loss_balancing": "uncertainty",
    "multi_task_config": [[0, 1, "binary", [0]], [1, 2, "instance_edt", [1]]],
}


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
    torch.manual_seed(0)


def trained_parts():
    model = build(MODEL)
    loss = losses.build(MODEL)
    opt = torch.optim.AdamW(list(model.parameters()) + list(loss.parameters()), lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    x = torch.randn(2, 1, 4, 8, 8)
    y = torch.cat([(x > 0).float(), torch.tanh(x)], dim=1)
    total, _ = loss(model(x), y)
    total.backward()
    opt.step()
    sched.step()
    return model, loss, opt, sched


def save(path, model, **kw):
    config = OmegaConf.create({"experiment_name": "t", "model": MODEL})
    return save_checkpoint(
        path, model=model, model_cfg=OmegaConf.create(MODEL), config=config, epoch=3, step=42, **kw
    )


def test_round_trip(tmp_path):
    model, loss, opt, sched = trained_parts()
    ema = torch.optim.swa_utils.AveragedModel(model)
    scaler = torch.amp.GradScaler("cpu", init_scale=128.0)
    path = save(
        tmp_path / "ckpt" / "last.pt", model, optimizer=opt, scheduler=sched, ema=ema,
        scaler=scaler, loss_module=loss, best_metric=0.75, extra={"split": [1, 2]},
    )  # fmt: skip
    ckpt = load_checkpoint(path)
    assert (ckpt["epoch"], ckpt["step"], ckpt["best_metric"]) == (3, 42, 0.75)
    assert ckpt["model_cfg"] == MODEL and ckpt["config"]["model"]["filters"] == [4, 8]
    assert ckpt["extra"] == {"split": [1, 2]}
    rebuilt = build_model_from_checkpoint(path)
    assert not rebuilt.training
    for (k, a), (k2, b) in zip(
        model.state_dict().items(), rebuilt.state_dict().items(), strict=True
    ):
        assert k == k2 and torch.equal(a, b)
    opt2 = torch.optim.AdamW(list(rebuilt.parameters()) + list(loss.parameters()), lr=1.0)
    opt2.load_state_dict(ckpt["optimizer_state"])
    assert opt2.param_groups[0]["lr"] == pytest.approx(5e-3)
    loss2 = losses.build(MODEL)
    loss2.load_state_dict(ckpt["loss_state"])
    assert torch.equal(loss2.balancing.log_vars, loss.balancing.log_vars)
    assert ckpt["scaler_state"]["scale"] == 128.0 and "n_averaged" in ckpt["ema_state"]
    assert ckpt["scheduler_state"]["last_epoch"] == 1


def test_loads_with_weights_only(tmp_path):
    model, *_ = trained_parts()
    path = save(tmp_path / "a.pt", model)
    raw = torch.load(path, weights_only=True)  # would raise on any pickled object
    assert isinstance(raw["config_yaml"], str) and isinstance(raw["model_cfg"], dict)


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    model, *_ = trained_parts()
    path = save(tmp_path / "best.pt", model)
    before = path.read_bytes()

    def broken_save(obj, dest, *a, **k):
        Path(dest).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save(path, build(MODEL))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt"]


def test_not_a_checkpoint(tmp_path):
    bad = tmp_path / "x.pt"
    torch.save({"weights": torch.zeros(1)}, bad)
    with pytest.raises(VolsegError, match="not a volseg checkpoint"):
        load_checkpoint(bad)
    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps(object()))
    with pytest.raises(VolsegError, match="cannot read checkpoint"):
        load_checkpoint(evil)
    with pytest.raises(VolsegError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")


@pytest.mark.parametrize("prefix", ["module.", "model."])
def test_external_weights_strip_prefix(tmp_path, prefix):
    source, *_ = trained_parts()
    state = {prefix + k: v for k, v in source.state_dict().items()}
    if prefix == "model.":  # a Lightning-style checkpoint with other modules beside the model
        state["loss.balancing.log_vars"] = torch.zeros(2)
    path = tmp_path / "ext.ckpt"
    torch.save({"state_dict": state, "epoch": 1}, path)
    target = build(MODEL)
    # "module." (DataParallel) carried by every key is stripped without being asked
    report = load_external_weights(target, path, prefix=None if prefix == "module." else prefix)
    assert report.skipped == (["loss.balancing.log_vars"] if prefix == "model." else [])
    assert report.prefix == prefix and report.missing == [] and report.unexpected == []
    assert len(report.loaded) == len(source.state_dict())
    for k, v in source.state_dict().items():
        assert torch.equal(target.state_dict()[k], v)


def test_external_weights_partial_and_strict(tmp_path):
    source = build({**MODEL, "out_channels": 2})
    state = {k: v for k, v in source.state_dict().items() if not k.startswith("net.heads")}
    path = tmp_path / "body.pt"
    torch.save(state, path)
    report = load_external_weights(build(MODEL), path)
    assert report.missing and all(k.startswith("net.heads") for k in report.missing)
    assert "missing" in str(report)
    with pytest.raises(VolsegError, match="do not match the model exactly"):
        load_external_weights(build(MODEL), path, strict=True)


def test_shape_mismatch_names_keys_and_shapes(tmp_path):
    path = save(tmp_path / "w.pt", build({**MODEL, "filters": [4, 12]}))
    with pytest.raises(VolsegError, match=r"\(12, 4, 3, 3, 3\) vs model \(8, 4, 3, 3, 3\)"):
        load_external_weights(build(MODEL), path)
    ckpt = torch.load(path, weights_only=True)
    ckpt["model_cfg"]["filters"] = [4, 8]
    torch.save(ckpt, path)
    with pytest.raises(VolsegError, match="do not fit the model"):
        build_model_from_checkpoint(path)


def test_nothing_matches(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"encoder.weight": torch.zeros(3)}, path)
    with pytest.raises(VolsegError, match="no weights in .* match the model"):
        load_external_weights(build(MODEL), path)


def test_empty_file_says_so(tmp_path):
    """Issue 14 row 12: an empty last.pt gave "cannot read checkpoint ...: ."."""
    path = tmp_path / "last.pt"
    path.write_bytes(b"")
    with pytest.raises(VolsegError, match=r"last\.pt: the file is empty"):
        load_checkpoint(path)


def test_crafted_pickle_is_refused_without_advising_weights_only_false(tmp_path):
    import os

    class Payload:
        def __reduce__(self):
            return (os.system, ("true",))

    path = tmp_path / "evil.pt"
    torch.save({"x": Payload()}, path)
    with pytest.raises(VolsegError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert "posix.system" in message and "never loads" in message
    assert "weights_only" not in message and "\n" not in message


@pytest.mark.parametrize("validated", [True, False])
def test_inference_and_fine_tuning_use_the_weights_that_were_scored(tmp_path, validated):
    """best.pt is chosen by the EMA's validation score: predict and fine-tuning get the EMA
    weights when training validated them, the trained weights otherwise."""
    from volseg.train.ema import make_ema, update_ema

    model, *_ = trained_parts()
    ema_cfg = {"enabled": True, "decay": 0.5, "warmup": False, "use_for_validation": validated}
    ema = make_ema(model, OmegaConf.create(ema_cfg))
    update_ema(ema, model)  # the first update copies
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)  # the raw weights move on; the average stays half-way
    update_ema(ema, model)
    config = OmegaConf.create({"model": MODEL, "optimization": {"ema": ema_cfg}})
    path = save_checkpoint(
        tmp_path / "best.pt", model=model, model_cfg=OmegaConf.create(MODEL), config=config,
        ema=ema, epoch=1, step=1,
    )  # fmt: skip
    want = ema.module if validated else model
    rebuilt = build_model_from_checkpoint(path)
    fresh = build(MODEL)
    load_external_weights(fresh, path, strict=True)
    for net in (rebuilt, fresh):
        for (name, a), b in zip(net.state_dict().items(), want.state_dict().values(), strict=True):
            assert torch.equal(a, b), name
    assert not torch.equal(
        next(iter(ema.module.state_dict().values())), next(iter(model.state_dict().values()))
    )
