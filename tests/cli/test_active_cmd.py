"""``volseg active``: a ranking as JSON and napari shapes; random follows its seed; bad input is
one sentence, exit 2, nothing written."""

import importlib
import json

import numpy as np
import pytest

from tests.infer.predict_fixtures import CONFIG, tiny_checkpoint, tiny_config, tiny_image
from volseg.io import write_volume

cli = importlib.import_module("volseg.cli.main")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("active_cmd")
    (tmp / "cfg.yaml").write_text(CONFIG)
    ckpt = tiny_checkpoint(tmp / "model.pt", tiny_config())
    write_volume(tmp / "pool.h5:raw", tiny_image((16, 64, 64)), voxel_size=(10, 5, 5))
    return tmp, str(tmp / "cfg.yaml"), str(ckpt), str(tmp / "pool.h5:raw")


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def active(files, out, *extra):
    tmp, cfg, ckpt, pool = files
    return ["active", cfg, "--checkpoint", ckpt, "--pool", pool, "--region", "8,32,32",
            "--out", str(out), *extra]  # fmt: skip


def test_ranking_json_and_napari_shapes(files, tmp_path, capsys):
    from napari.components import ViewerModel
    from napari_builtins.io import csv_to_layer_data

    from volseg.napari.active import ranking_layer

    out = tmp_path / "ranked.json"
    code, stdout, err = run(active(files, out, "--strategy", "entropy", "--budget", "5"), capsys)
    assert code == 0, err
    assert stdout.strip() == str(out)
    ranking = json.loads(out.read_text())
    assert [r["rank"] for r in ranking] == [1, 2, 3, 4, 5]
    assert set(ranking[0]) == {"rank", "z0", "z1", "y0", "y1", "x0", "x1", "score", "strategy"}
    assert all(r["z1"] - r["z0"] == 8 and r["y1"] - r["y0"] == 32 for r in ranking)
    csv_data, _, kind = csv_to_layer_data(str(tmp_path / "ranked.shapes.csv"))
    assert kind == "shapes" and len(csv_data) == 5
    data, kwargs, kind = ranking_layer(out)
    viewer = ViewerModel()
    layer = viewer.add_shapes(data, **kwargs)
    assert layer.nshapes == 5 and set(layer.shape_type) == {"rectangle"}
    assert list(layer.features["rank"]) == [1, 2, 3, 4, 5]
    r0 = ranking[0]
    assert np.array_equal(csv_data[0], data[0])
    assert data[0][0].tolist() == [(r0["z0"] + r0["z1"] - 1) // 2, r0["y0"], r0["x0"]]


def test_random_is_reproducible_from_its_seed(files, tmp_path, capsys):
    texts = []
    for i, seed in enumerate(["7", "7", "8"]):
        out = tmp_path / f"r{i}.json"
        code, _, err = run(active(files, out, "--strategy", "random", "--seed", seed), capsys)
        assert code == 0, err
        texts.append(out.read_text())
    assert texts[0] == texts[1]
    assert texts[0] != texts[2]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--region", "32,32,32"], "smaller than one region"),
        (["--strategy", "diversity", "--feature-layer", "net.encoder.1"], "is not a layer"),
        (["--strategy", "hybrid"], "needs --feature-layer"),
        (["--strategy", "uncertainty"], "--strategy must be one of"),
    ],
)
def test_bad_input_is_one_sentence_exit_2_nothing_written(files, tmp_path, capsys, extra, message):
    out = tmp_path / "ranked.json"
    code, stdout, err = run(active(files, out, *extra), capsys)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []


def test_an_existing_ranking_needs_overwrite(files, tmp_path, capsys):
    out = tmp_path / "ranked.json"
    out.write_text("mine")
    code, _, err = run(active(files, out, "--strategy", "random"), capsys)
    assert code == 2 and "--overwrite" in err and out.read_text() == "mine"
    code, _, err = run(active(files, out, "--strategy", "random", "--overwrite"), capsys)
    assert code == 0 and json.loads(out.read_text())[0]["strategy"] == "random"
