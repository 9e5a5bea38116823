"""A stand-in shipped model (the tiny prediction-test network) in a zoo folder of its own."""

import json
import shutil

import pytest

from tests.infer.predict_fixtures import CONFIG, tiny_checkpoint, tiny_config


@pytest.fixture(name="zoo_root")
def zoo_root_fixture(tmp_path_factory, monkeypatch):
    from volseg import zoo

    root = tmp_path_factory.mktemp("zoo")
    model = root / "tiny"
    (model / "checkpoints").mkdir(parents=True)
    (model / "config.yaml").write_text(
        CONFIG + "test:\n  decoding: [{name: cc, kwargs: {threshold: 0.5, connectivity: 6}}]\n"
    )
    tiny_checkpoint(model / "checkpoints" / "best.pt", tiny_config())
    card = {"name": "tiny", "task": "test stand-in", "dims": 3, "voxel_size_nm": [10, 5, 5],
            "held_out": {"scores": {"fg_iou": 0.5}}}  # fmt: skip
    (model / "card.json").write_text(json.dumps(card))
    half = root / "incomplete"  # no weights: not a model
    half.mkdir()
    shutil.copy(model / "config.yaml", half / "config.yaml")
    monkeypatch.setattr(zoo, "ROOT", root)
    return root
