"""Findings of an adversarial pass: each bad input is one sentence on stderr, exit 2, and
nothing is written (or replaced)."""

import pytest

from tests.decode.oracle import ball_labels, oracle_maps
from volseg.cli.main import main
from volseg.io import write_volume
from volseg.maps import describe


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def one_sentence(code, err, *needles):
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err


@pytest.fixture
def case(tmp_path):
    gt = ball_labels()
    maps = oracle_maps(gt)
    pred = tmp_path / "run" / "predictions.zarr"
    write_volume(pred, maps, voxel_size=(30, 8, 8), kind="maps", attrs=describe(["b", "c", "d"]))
    return tmp_path, pred, gt


# A: --set without --config


def test_decode_set_without_config_is_refused(case, capsys):
    tmp, pred, _ = case
    out = tmp / "labels.zarr"
    code, _, err = run(
        ["decode", str(pred), "--out", str(out), "--decoder", "cc", "--set", "bogus.key=1"],
        capsys,
    )
    one_sentence(code, err, "--set needs --config")
    assert not out.exists()
