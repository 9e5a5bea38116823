"""``make_loader``: batches, epochs through persistent workers, same items for any worker count."""

import numpy as np
import torch

from tests.data.pipeline_common import config, make_volume, write_h5
from volseg.data.dataset import PatchDataset
from volseg.data.loader import EpochSampler, make_loader
from volseg.data.split import make_split


def setup(tmp_path, workers):
    raw, labels, mask = make_volume((24, 32, 32), boxes=6)
    write_h5(tmp_path / "a.h5", raw, labels, mask)
    over = [
        f"system.training.num_workers={workers}",
        "system.training.batch_size=3",
        "data.iter_num_per_epoch=5",
        "data.augmentation.preset=all",
    ]
    cfg = config(tmp_path, ["a.h5"], overrides=over)
    split = make_split(cfg)
    return cfg, split


def epochs(loader, dataset, n):
    out = []
    for e in range(n):
        dataset.set_epoch(e)
        out.append([b for b in loader])
    return out


def test_epoch_sampler_reads_the_epoch_when_iteration_starts():
    class Data:
        epoch = 0

        def __len__(self):
            return 3

    data = Data()
    sampler = EpochSampler(data)
    it = iter(sampler)
    data.epoch = 5
    assert list(it) == [(0, 0), (0, 1), (0, 2)] and len(sampler) == 3
    assert list(sampler) == [(5, 0), (5, 1), (5, 2)]


def test_single_process_batches(tmp_path):
    cfg, split = setup(tmp_path, 0)
    ds = PatchDataset(cfg, split, seed=1)
    loader = make_loader(ds, cfg, train=True, seed=1)
    assert loader.num_workers == 0 and loader.pin_memory == torch.cuda.is_available()
    batches = [b for b in loader]
    assert [b["image"].shape[0] for b in batches] == [3, 2]
    assert batches[0]["image"].shape == (3, 1, 4, 16, 16)
    assert batches[0]["targets"].shape == (3, 3, 4, 16, 16)
    assert batches[1]["index"].tolist() == [3, 4]
    val = make_loader(PatchDataset(cfg, split, train=False), cfg, train=False, seed=1)
    assert sum(b["image"].shape[0] for b in val) == len(val.dataset)


def test_workers_give_the_same_items_and_follow_epochs(tmp_path):
    cfg, split = setup(tmp_path, 2)
    ds = PatchDataset(cfg, split, seed=7)
    loader = make_loader(ds, cfg, train=True, seed=7)
    assert loader.num_workers == 2 and loader.persistent_workers
    got = epochs(loader, ds, 2)
    reference = PatchDataset(cfg, split, seed=7)
    for e, batches in enumerate(got):
        images = torch.cat([b["image"] for b in batches])
        expected = torch.stack([reference[(e, i)]["image"] for i in range(5)])
        assert torch.equal(images, expected), f"epoch {e}"
    assert not torch.equal(got[0][0]["image"], got[1][0]["image"])
    assert np.all(torch.cat([b["index"] for b in got[1]]).numpy() == np.arange(5))
