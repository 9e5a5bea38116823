"""``volseg test``: PyTorch Connectomics' test mode over test.data / decoding / evaluation."""

import json

import numpy as np
import pytest

from tests.infer.predict_fixtures import CC, command_files
from volseg.cli.main import main
from volseg.io import open_volume
from volseg.metrics.evaluate import evaluate_paths


def run(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main(["test", *args])
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


@pytest.fixture(name="files", scope="module")
def files_fixture(tmp_path_factory):
    root = tmp_path_factory.mktemp("test_cmd")
    return command_files(root, root / "run" / "checkpoints" / "best.pt")


@pytest.mark.slow
def test_segments_and_scores_every_test_volume(capsys, files):
    root, config, checkpoint, image = files
    data = f"test.data.test_image=[{image}]", f"test.data.test_label=[{root / 'gt.zarr'}]"
    metrics = "test.evaluation.metrics=[adapted_rand,match_instances,semantic]"
    code, out, err = run(capsys, config, CC, *data, metrics, "--checkpoint", checkpoint)
    assert code == 0, err
    test_dir = root / "run" / "test"  # RUN/test for RUN/checkpoints/best.pt
    doc = json.loads((test_dir / "test_metrics.json").read_text())
    (volume,) = doc["volumes"]
    assert volume["decoder"] == "cc" and volume["decoder_source"] == "config test.decoding[0]"
    labels = f"{test_dir / 'image.zarr'}:labels/segmentation"
    want = evaluate_paths(labels, str(root / "gt.zarr"),
                          metrics=("adapted_rand", "match_instances", "semantic"))  # fmt: skip
    got = volume["metrics"]
    assert got["adapted_rand_with_bg"] == pytest.approx(want["adapted_rand_with_bg"])
    assert got["matching"] == want["matching"] and "voi" not in got  # only what was asked
    assert got["instances"]["segmentation"] == len(np.unique(open_volume(labels).numpy())) - 1
    assert "segmentation foreground IoU" in out and "AP (MitoEM)" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ((), "test.data.test_image is empty"),
        (("test.data.test_image=[a.h5:raw, b.h5:raw]", "test.data.test_label=[a.h5:l]"),
         "`test.data.test_label` has 1 path(s) but `test.data.test_image` has 2"),
        (("test.data.test_image=[a.h5:raw]", "test.evaluation.metrics=[dice]"), "dice"),
    ],
)  # fmt: skip
def test_bad_test_sections_exit_2(capsys, files, extra, message):
    _, config, checkpoint, _ = files
    code, _, err = run(capsys, config, CC, *extra, "--checkpoint", checkpoint)
    assert code == 2 and message in err, err
    assert err.count("\n") == 1
