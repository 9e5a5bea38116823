"""``volseg profile-data``: prints rates, shapes and the foreground share; bad config exits 2."""

import pytest

from tests.data.pipeline_common import make_volume, write_h5
from volseg.cli.main import main

CONFIG = """
model: {architecture: rsunet, filters: [8, 16], input_size: [4, 16, 16]}
system: {training: {num_workers: 1, batch_size: 2}}
data:
  train_image: a.h5:raw
  train_label: a.h5:labels
  voxel_size: [8, 8, 8]
  foreground_probability: 1.0
  iter_num_per_epoch: 16
  augmentation: {preset: all}
"""


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


@pytest.fixture
def cfg(tmp_path):
    raw, labels, _ = make_volume((24, 32, 32), boxes=6)
    write_h5(tmp_path / "a.h5", raw, labels)
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG)
    return path


def test_prints_rates_shapes_and_foreground(cfg, capsys):
    code, out, err = run(["profile-data", str(cfg), "--patches", "6"], capsys)
    assert code == 0, err
    assert "patch: image (1, 4, 16, 16), targets (3, 4, 16, 16)" in out
    assert "single process:" in out and "patches/s (6 patches)" in out
    assert "1 worker(s), batch 2:" in out and "patches/s (6 patches)" in out.split("worker(s)")[1]
    assert "foreground: 6/6 patches (100 %)" in out
    assert "augmentation: affine, cutout, elastic" in out


def test_overrides_and_no_foreground_target(cfg, capsys):
    argv = [
        "profile-data",
        str(cfg),
        "system.training.num_workers=0",
        "data.label_transform.targets=[{name: instance_boundary}]",
        "model.out_channels=1",
        "model.multi_task_config=[]",
        "model.loss_functions=[DiceLoss]",
        "model.loss_weights=[1.0]",
        "model.loss_kwargs=[]",
        "--patches",
        "2",
    ]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert "worker" not in out and "targets (1, 4, 16, 16)" in out
    assert "foreground: unknown" in out


def test_bad_config_exits_2(cfg, tmp_path, capsys):
    code, _, err = run(["profile-data", str(cfg), "data.patch_sise=[4,16,16]"], capsys)
    assert code == 2 and "patch_sise" in err
    raw, labels, _ = make_volume((24, 32, 32))
    write_h5(tmp_path / "a.h5", raw, labels * 0)
    code, _, err = run(["profile-data", str(cfg)], capsys)
    assert code == 2 and "have no foreground" in err and "a.h5:labels" in err
    code, _, err = run(["profile-data", str(tmp_path / "missing.yaml")], capsys)
    assert code == 2 and "does not exist" in err
