"""Fake run directories for the export tests: a tutorial config made tiny, a checkpoint written
by volseg's own writer, metrics, a sweep's thresholds.json and a model card; and ``offline``.

The export tests run offline: bioimageio reaches for the network only for URLs and GitHub user
names (none in these packages); :func:`block_network` proves it and keeps bioimageio's cache
in the test's temporary folder.
"""

from __future__ import annotations

import socket
from pathlib import Path

import torch
import yaml

from tests.infer.predict_fixtures import tiny_config, tiny_image
from volseg.checkpoint import save_checkpoint
from volseg.config import load, to_yaml
from volseg.io import write_volume
from volseg.models import build
from volseg.train import run_dir as rd
from volseg.train.logger import CsvLogger
from volseg.tune.settings import write_thresholds

REPO = Path(__file__).resolve().parents[2]
LUCCHI = REPO / "tutorials" / "lucchi-mito.yaml"
#: The Lucchi++ tutorial (2D monai_unet, zscore) with narrow filters and a 64 x 64 tile, on the
#: 5 nm crop (the four keys the tutorial's header names for it).
CROP = REPO.parent / "shared" / "data" / "lucchi_pp_crops" / "train_crop.h5"
LUCCHI_TINY = [
    "model.filters=[4,8,16,32]", "model.input_size=[1,64,64]",
    f"data.train_image=[{CROP}:raw]", f"data.train_label=[{CROP}:instances]",
    "data.voxel_size=[5,5,5]", "data.val_region=[132,165]",
]  # fmt: skip

CARD = {
    "name": "Tiny Lucchi mitochondria (test)",
    "description": "A narrow test network; its weights are random.",
    "version": "0.1.0",
    "license": "MIT",
    "authors": [{"name": "Test Author", "affiliation": "volseg tests"}],
    "tags": ["mitochondria"],
    "cite": [
        {
            "text": "Lucchi et al. 2012, IEEE Trans. Med. Imaging 31(2)",
            "doi": "10.1109/TMI.2011.2171705",
        }
    ],
    "documentation": "## Intended use\n\nTests only.",
}


def lucchi_config(*overrides: str):
    return load(LUCCHI, [*LUCCHI_TINY, *overrides])


def vesicle_config(image: str, *overrides: str):
    """The 3-output rsunet of the prediction tests (binary, boundary, distance: tanh)."""
    return tiny_config(f"data.train_image=[{image}]", *overrides)


def synthetic_image(path: Path, shape=(20, 50, 70)) -> str:
    write_volume(path, tiny_image(shape), voxel_size=(10.0, 5.0, 5.0))
    return str(path)


def make_run(root: Path, cfg, *, seed: int = 0, card: dict | None = None, best: bool = True,
             thresholds: bool = False, test_scores: bool = False) -> Path:  # fmt: skip
    """A run directory as ``volseg fit`` leaves it, with a non-trivial random network."""
    (root / rd.CHECKPOINTS).mkdir(parents=True)
    (root / rd.CONFIG).write_text(to_yaml(cfg))
    torch.manual_seed(seed)
    model = build(cfg.model)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    logger = CsvLogger(root / rd.METRICS)
    for epoch in (1, 2):
        logger.log({"train/epoch_loss": 1.0 / epoch, "train/epoch_seconds": 30.0,
                    "val_iou": 0.2 * epoch}, step=10 * epoch, epoch=epoch)  # fmt: skip
    name = rd.BEST if best else rd.LAST
    save_checkpoint(root / rd.CHECKPOINTS / name, model=model, model_cfg=cfg.model, config=cfg,
                    epoch=2, step=20, best_metric=0.4, extra={"best_epoch": 2})  # fmt: skip
    if thresholds:
        write_thresholds(root / rd.CHECKPOINTS, decoder="cc", params={"threshold": 0.6},
                         scores={"f1@0.5": 0.5}, metric="f1@0.5", metric_reason="test",
                         settings_tried=1, maps={"channels": cfg.model.out_channels})  # fmt: skip
    if test_scores:  # what ``volseg test`` leaves in RUN/test
        (root / "test").mkdir()
        (root / "test" / "test_metrics.json").write_text('{"volumes": []}\n')
    if card is not None:
        (root / "model_card.yaml").write_text(yaml.safe_dump(card))
    return root


def block_network(monkeypatch, cache_dir: Path) -> list:
    """Refuse and record every internet connection; give bioimageio a private cache. Returns
    the list of refused addresses (the ``offline`` fixtures assert it stays empty)."""
    tried: list[object] = []
    real_connect = socket.socket.connect

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            tried.append(address)
            raise OSError(f"the export tests are offline (connect to {address})")
        return real_connect(sock, address)

    def create_connection(address, *args, **kwargs):
        tried.append(address)
        raise OSError(f"the export tests are offline (connect to {address})")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    from bioimageio.spec import settings

    monkeypatch.setattr(settings, "cache_path", cache_dir)
    return tried
