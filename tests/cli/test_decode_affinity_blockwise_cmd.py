"""``volseg decode MAPS --decoder agglomerate --block-shape ...`` on maps whose record holds the
affinity offsets: the CLI fills channels and offsets from the maps and stitches blockwise."""

import numpy as np
import pytest

from tests.infer.affinity_cases import OFFSETS, noisy_affinities, write_affinity_maps
from volseg.cli.main import main
from volseg.decode import decode
from volseg.io import is_complete, open_volume
from volseg.metrics import adapted_rand


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def boxes() -> np.ndarray:
    """Four touching boxes in a 24 x 32 x 32 volume."""
    labels = np.zeros((24, 32, 32), dtype=np.uint32)
    labels[:, :16, :16], labels[:, :16, 16:] = 1, 2
    labels[:, 16:, :20], labels[:, 16:, 20:] = 3, 4
    return labels


@pytest.mark.parametrize("decoder", ["agglomerate", "mutex_watershed", "affinity_cc"])
def test_blockwise_affinity_decode_from_the_cli(tmp_path, capsys, decoder):
    affs = noisy_affinities(boxes(), noise=0.05, seed=3)
    maps = write_affinity_maps(tmp_path / "pred.zarr", affs, chunks=8)
    out = tmp_path / "x.zarr"
    args = ["decode", maps, "--decoder", decoder, "--block-shape", "12,16,16", "--halo", "9,9,9",
            "--min-instance-size", "20", "--out", str(out)]  # fmt: skip
    code, stdout, stderr = run(args, capsys)
    assert code == 0, stderr
    assert "'offsets': [[-1, 0, 0]" in stdout and "instances" in stdout
    assert is_complete(out)
    seg = np.asarray(open_volume(out).data[:])
    params = {"offsets": OFFSETS, "min_instance_size": 20}
    if decoder == "affinity_cc":
        params["threshold"] = 0.5
    whole = decode(affs, decoder, params)
    assert adapted_rand(seg, whole)[0] <= 0.01
    assert seg.max() >= 4


def test_blockwise_decode_refuses_offsets_longer_than_the_blocks(tmp_path, capsys):
    affs = noisy_affinities(boxes(), seed=3)
    maps = write_affinity_maps(tmp_path / "pred.zarr", affs, chunks=4)
    args = ["decode", maps, "--decoder", "mutex_watershed", "--block-shape", "4,8,8",
            "--halo", "4,4,4", "--out", str(tmp_path / "x.zarr")]  # fmt: skip
    code, _, stderr = run(args, capsys)
    assert code != 0 and "longest offset" in stderr
