"""An affinity model end to end: fit two steps, then ``volseg segment`` decodes its maps
blockwise with the config's affinity decoder (channels and offsets from the config) and scores
them with VOI split and merge beside ARE."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.train.helpers import tiny_config
from tests.train.test_fit_affinity import AFFINITY
from volseg.cli.main import main
from volseg.io import open_volume
from volseg.train import fit


@pytest.mark.slow
@pytest.mark.parametrize("decoder", ["agglomerate", "mutex_watershed"])
def test_segment_decodes_affinities_blockwise_and_scores_voi(
    vesicle_zarr: Path, tmp_path: Path, capsys, decoder: str
) -> None:
    overrides = [*AFFINITY[:-4], f"test.decoding=[{{name: {decoder}}}]",
                 "optimization.max_epochs=1", "data.iter_num_per_epoch=2",
                 "system.training.batch_size=1"]  # fmt: skip
    cfg = tiny_config(vesicle_zarr, *overrides)
    assert dict(cfg.test.decoding[0].kwargs)["channels"] == [0, 1, 2]
    run = fit(cfg, run_root=tmp_path / "runs", progress=False)
    config = run / "config.yaml"
    out = tmp_path / "seg.zarr"
    with pytest.raises(SystemExit) as exc:
        main(["segment", str(config), "--checkpoint", str(run / "checkpoints" / "last.pt"),
              "--image", str(vesicle_zarr), "--gt", f"{vesicle_zarr}/labels/vesicles",
              "--out", str(out), "--block-shape", "16,32,32"])  # fmt: skip
    captured = capsys.readouterr()
    assert exc.value.code == 0, captured.err
    labels = open_volume(f"{out}/labels/segmentation")
    assert labels.shape == (32, 64, 64)
    metrics = json.loads((tmp_path / "seg.metrics.json").read_text())
    assert {"split", "merge"} <= set(metrics["voi"])
    assert "adapted_rand" in metrics["metrics"]
