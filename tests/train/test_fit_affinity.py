"""An affinity model trains for two steps and its prediction maps record the offsets."""

from __future__ import annotations

from pathlib import Path

from tests.train.helpers import tiny_config
from volseg.checkpoint import load_checkpoint
from volseg.maps import channel_names, offsets_of
from volseg.train import fit

AFFINITY = [
    "data.label_transform.targets=[{name: affinity, kwargs: {offsets: nearest}}]",
    "model.out_channels=3",
    "model.multi_task_config=[[0, 3, affinity, [0, 1]]]",
    "model.loss_functions=[BCEWithLogitsLoss, DiceLoss]",
    "model.loss_weights=[1, 1]",
    "model.loss_kwargs=[]",
    "test.decoding=[{name: cc, kwargs: {threshold: 0.5, connectivity: 6}}]",
    "optimization.max_epochs=1",
    "data.iter_num_per_epoch=2",
    "system.training.batch_size=1",
]


def test_two_steps_then_maps_with_offsets(vesicle_zarr: Path, tmp_path: Path) -> None:
    from volseg.infer.predict import predict

    cfg = tiny_config(vesicle_zarr, *AFFINITY)
    run = fit(cfg, run_root=tmp_path / "runs", progress=False)
    last = load_checkpoint(run / "checkpoints" / "last.pt")
    assert last["step"] == 2
    out = tmp_path / "pred.zarr"
    maps = predict(cfg, run / "checkpoints" / "last.pt", str(vesicle_zarr), out)
    assert maps.shape == (3, 32, 64, 64)
    attrs = maps.attrs
    assert channel_names(attrs) == ["affinity"] * 3
    assert offsets_of(attrs) == [[-1, 0, 0], [0, -1, 0], [0, 0, -1]]
    assert attrs["volseg_maps"]["offsets_voxel_size"] == [30.0, 8.0, 8.0]


def test_an_affinity_model_refuses_an_image_it_would_resample(
    vesicle_zarr: Path, tmp_path: Path
) -> None:
    """Affinities are voxel pairs of the training grid: resampled maps would pair the wrong
    voxels, so predict refuses before writing anything."""
    import pytest

    from volseg.config import loads
    from volseg.errors import VolsegError
    from volseg.infer.predict import predict

    cfg = tiny_config(vesicle_zarr, *AFFINITY)
    run = fit(cfg, run_root=tmp_path / "runs", progress=False)
    plain = (run / "config.yaml").read_text()
    other = loads(plain + "\n", ["data.train_resolution=[30,16,16]"])
    out = tmp_path / "pred.zarr"
    with pytest.raises(VolsegError, match="affinities do not survive resampling"):
        predict(other, run / "checkpoints" / "last.pt", str(vesicle_zarr), out)
    assert not out.exists()
