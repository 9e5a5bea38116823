"""``volseg selftrain``: bad input is one sentence, exit 2, and nothing written."""

from __future__ import annotations

import pytest

from tests.selftrain.helpers import write_inputs
from tests.train.helpers import make_volume
from volseg.cli.main import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def one_error(code: int, out: str, err: str) -> str:
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("volseg: error: ")
    return lines[0]


def test_unlabelled_volume_of_another_voxel_size(tmp_path, capsys) -> None:
    import numpy as np

    from volseg.io import open_volume, write_volume

    config, unlabelled = write_inputs(tmp_path)
    other = tmp_path / "other.zarr"
    write_volume(other, np.asarray(open_volume(unlabelled).data[...]), voxel_size=(30, 4, 4))
    out = tmp_path / "out"
    argv = ["selftrain", str(config), "--unlabelled", str(unlabelled), "--unlabelled", str(other)]
    line = one_error(*run([*argv, "--out", str(out)], capsys))
    assert f"--unlabelled {other} has voxel size [30.0, 4.0, 4.0] nm" in line
    assert "[30.0, 8.0, 8.0] nm" in line
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "labelled.zarr", "other.zarr", "selftrain.yaml", "unlabelled.zarr",
    ]  # fmt: skip


def test_t_lo_not_below_t_hi(tmp_path, capsys) -> None:
    config, unlabelled = write_inputs(tmp_path)
    out = tmp_path / "out"
    argv = ["selftrain", str(config), "selftrain.t_lo=[0.05,0.6]", "selftrain.t_hi=[0.95,0.6]",
            "--unlabelled", str(unlabelled), "--out", str(out)]  # fmt: skip
    line = one_error(*run(argv, capsys))
    assert "`selftrain.t_lo` 0.6 must be below `selftrain.t_hi` 0.6 (their last values)" in line
    assert not out.exists()


def test_existing_out_that_is_not_a_selftraining(tmp_path, capsys) -> None:
    config, unlabelled = write_inputs(tmp_path)
    out = make_volume(tmp_path / "keep.zarr")
    argv = ["selftrain", str(config), "--unlabelled", str(unlabelled), "--out", str(out)]
    assert "already exists; use --overwrite" in one_error(*run(argv, capsys))
    line = one_error(*run([*argv, "--overwrite"], capsys))
    assert "is not an earlier self-training" in line and out.is_dir()


def test_help_lists_the_command(capsys) -> None:
    code, out, _ = run(["--help"], capsys)
    assert code == 0 and "selftrain" in out
