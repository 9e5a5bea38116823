"""``volseg compare``: trains two configs on one split, prints the folder; runs on different
splits are one sentence, exit 2, and no output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.compare.helpers import write_configs
from tests.train.helpers import make_volume
from volseg.cli.main import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.mark.slow
def test_compare_trains_then_refuses_other_splits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configs = write_configs(make_volume(tmp_path / "v.zarr"), tmp_path)
    runs = tmp_path / "runs"
    argv = ["compare", *map(str, configs), "--out", str(tmp_path / "cmp"), "--steps", "4"]
    code, out, err = run([*argv, "--runs", str(runs), "--no-progress"], capsys)
    assert code == 0, err
    assert out.strip() == str(tmp_path / "cmp")
    assert "| tiny_rsunet | rsunet |" in err and "| tiny_attention | attention_unet |" in err
    run_dirs = [next((runs / name).glob("2*")) for name in ("tiny_rsunet", "tiny_attention")]

    other = Path(shutil.copytree(run_dirs[1], tmp_path / "moved" / run_dirs[1].name))
    split = json.loads((other / "split.json").read_text())
    split["val"] = split["val"][:0]
    (other / "split.json").write_text(json.dumps(split))
    refused = tmp_path / "refused"
    code, out, err = run(["compare", str(run_dirs[0]), str(other), "--out", str(refused)], capsys)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("volseg: error: runs ")
    assert "different splits (their validation regions are" in lines[0]
    assert not refused.exists()

    argv = ["compare", str(run_dirs[0]), "--out", str(refused), "--metric", "iou"]
    code, _, err = run(argv, capsys)
    assert code == 2 and "--metric 'iou' is not a logged value" in err
