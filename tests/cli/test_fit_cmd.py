"""``volseg fit``: run directory on stdout, resume, split option, one-sentence errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.train.helpers import make_volume, tiny_text
from volseg.cli.main import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_fit_resume_and_split(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    volume = make_volume(tmp_path / "v.zarr")
    config = tmp_path / "tiny.yaml"
    config.write_text(tiny_text(volume))
    runs = str(tmp_path / "runs")
    code, out, err = run(
        ["fit", str(config), "optimization.max_epochs=1", "--runs", runs, "--no-progress"], capsys
    )
    assert code == 0, err
    run_dir = Path(out.strip())
    assert run_dir.parent == tmp_path / "runs" / "tiny"
    assert (run_dir / "checkpoints" / "last.pt").is_file()
    assert "finished after epoch 1, step 2" in err
    code, out, err = run(["fit", str(config), "--resume", str(run_dir), "--no-progress"], capsys)
    assert code == 0, err
    assert out.strip() == str(run_dir) and "resumed from" in err
    code, out, err = run(
        [
            "fit",
            str(config),
            "optimization.optimizer.lr=0.01",
            "--split",
            str(run_dir / "split.json"),
            "optimization.max_epochs=1",
            "--runs",
            runs,
            "--no-progress",
        ],
        capsys,
    )
    assert code == 0, err
    other = Path(out.strip())
    assert other != run_dir
    assert (other / "split.json").read_text() == (run_dir / "split.json").read_text()


def test_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    volume = make_volume(tmp_path / "v.zarr", shape=(24, 48, 48))
    config = tmp_path / "tiny.yaml"
    config.write_text(tiny_text(volume))
    code, out, err = run(["fit", str(config), "optimization.precision=16-mixed"], capsys)
    assert code == 2 and out == ""
    assert err == (
        "volseg: error: `optimization.precision` '16-mixed' needs a GPU, but training runs on "
        "the CPU; set optimization.precision='32'.\n"
    )
    code, _, err = run(["fit", str(config), "--resume", str(tmp_path), "--split", "x.json"], capsys)
    assert code == 2 and "takes no --split or --init-from" in err
    code, _, err = run(["fit", str(config), "--resume", str(tmp_path / "none")], capsys)
    assert code == 2 and "is not a run directory" in err
    code, _, err = run(["fit", str(config), "--split", str(tmp_path / "none.json")], capsys)
    assert code == 2 and "cannot read split file" in err and "Traceback" not in err
