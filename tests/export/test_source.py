"""What an export reads: a run directory's best checkpoint, or a checkpoint and its run."""

import pytest

from tests.export.fixtures import lucchi_config, make_run
from volseg.errors import VolsegError
from volseg.export.source import locate, open_source


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("source") / "run", lucchi_config(), thresholds=True)


def test_run_directory_exports_its_best_checkpoint(run):
    src = open_source(run)
    assert src.checkpoint == run / "checkpoints" / "best.pt" and src.run_dir == run
    assert src.thresholds == run / "checkpoints" / "thresholds.json"
    assert [r["epoch"] for r in src.metrics] == [1.0, 2.0]
    assert src.cfg.experiment_name == "lucchi-mito"
    assert src.model_cfg["architecture"] == "monai_unet" and src.ckpt["epoch"] == 2


def test_checkpoint_inside_a_run_brings_the_run(run, tmp_path):
    assert locate(run / "checkpoints" / "best.pt") == (run / "checkpoints" / "best.pt", run)
    loose = tmp_path / "model.pt"
    loose.write_bytes((run / "checkpoints" / "best.pt").read_bytes())
    src = open_source(loose)
    assert src.run_dir is None and src.thresholds is None and src.metrics == []


def test_run_without_best_checkpoint_is_refused(tmp_path):
    run = make_run(tmp_path / "run", lucchi_config(), best=False)
    with pytest.raises(VolsegError, match=r"has no checkpoints/best.pt \(training keeps one"):
        locate(run)


def test_missing_source_and_foreign_file(tmp_path):
    with pytest.raises(VolsegError, match="does not exist .expected a run directory"):
        locate(tmp_path / "nothing")
    (tmp_path / "notes.pt").write_text("not a checkpoint")
    with pytest.raises(VolsegError, match="cannot read checkpoint"):
        open_source(tmp_path / "notes.pt")
