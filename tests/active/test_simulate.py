"""``volseg active --simulate``: learning curves on a labelled synthetic volume."""

from __future__ import annotations

import csv
import importlib

import numpy as np
import pytest
import torch

from tests.train.helpers import make_volume, tiny_text

cli = importlib.import_module("volseg.cli.main")


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("simulate")
    volume = make_volume(tmp / "vesicles.zarr")  # 32 x 64 x 64; the last 8 slices validate
    path = tmp / "tiny.yaml"
    path.write_text(tiny_text(volume))
    return path


def run(argv, capsys):
    threads = torch.get_num_threads()
    try:
        with pytest.raises(SystemExit) as exc:
            cli.main(argv)
    finally:
        torch.set_num_threads(threads)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def simulate_args(config, out, *extra):
    return ["active", str(config), "--simulate", "--region", "8,32,32", "--steps", "2",
            "--start", "0.25", "--query", "0.25", "--out", str(out), *extra]  # fmt: skip


def test_learning_curves_for_each_strategy(config, tmp_path, capsys):
    from volseg.io import open_volume

    out = tmp_path / "sim"
    args = simulate_args(config, out, "--rounds", "1", "--strategies", "random,entropy,hybrid",
                         "--feature-layer", "net.encoders.1")  # fmt: skip
    code, stdout, err = run(args, capsys)
    assert code == 0, err
    assert stdout.strip() == str(out)
    rows = list(csv.DictReader((out / "curve.csv").open()))
    assert [(r["strategy"], r["round"]) for r in rows] == [
        (s, str(i)) for s in ("random", "entropy", "hybrid") for i in (0, 1)
    ]
    # 8 regions of 8 x 32 x 32 in the training region: 2 labelled, then 2 more
    assert [r["labelled_regions"] for r in rows] == ["2", "4"] * 3
    assert {float(r["labelled_fraction"]) for r in rows} == {0.25, 0.5}
    assert all(0.0 <= float(r[k]) <= 1.0 for r in rows for k in ("fg_iou", "instance_f1"))
    assert (out / "curve.png").stat().st_size > 0 and "| fg IoU |" in (out / "curve.md").read_text()
    masks = {p.name: np.asarray(open_volume(p).data[...]) for p in (out / "masks").iterdir()}
    assert all(np.array_equal(masks["random-0.zarr"], m) for k, m in masks.items() if "-0" in k)
    firsts = [masks[f"{s}-1.zarr"] for s in ("random", "entropy", "hybrid")]
    assert all((m >= masks["random-0.zarr"]).all() for m in firsts)  # labelled stays labelled
    assert not all(np.array_equal(firsts[0], m) for m in firsts[1:])


def test_a_pool_too_small_for_the_rounds_is_refused_before_anything_is_written(
    config, tmp_path, capsys
):
    out = tmp_path / "sim"
    code, _, err = run(simulate_args(config, out, "--rounds", "4"), capsys)
    assert code == 2 and "exceed the 8 regions" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_candidates_tile_every_training_piece_of_a_held_out_box():
    """A box held out leaves several training pieces: each is tiled, a piece too small for one
    region adds none, and no candidate reaches into the box."""
    from volseg.active.simulate import _candidates
    from volseg.data.split import Region

    pieces = [Region(0, (0, 40), (0, 64), (0, 64)), Region(0, (40, 64), (0, 64), (0, 24)),
              Region(0, (40, 64), (0, 64), (40, 44))]  # fmt: skip
    boxes = _candidates(pieces, (16, 32, 16))
    assert len(boxes) == 2 * 2 * 4 + 1 * 2 * 1
    assert all(b[0] >= 40 and b[5] <= 24 for b in boxes if b[1] > 40)
