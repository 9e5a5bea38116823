"""Blockwise prediction: one Dask task per block on a real LocalCluster, resumable."""

import dataclasses
import logging

import numpy as np
import pytest
import torch

from volseg.checkpoint import build_model_from_checkpoint
from volseg.errors import VolsegError
from volseg.infer import predict
from volseg.infer.blockwise_predict import (
    cluster_device,
    predict_region,
    run_blockwise,
)
from volseg.infer.output import done_array
from volseg.infer.plan import make_plan
from volseg.infer.predict import open_image
from volseg.infer.sliding import predict_array
from volseg.io import is_complete, open_volume
from volseg.io.write_zarr import set_complete

from .predict_fixtures import tiny_checkpoint, tiny_config, tiny_image, write_image


def _loads():
    from volseg.infer.blockwise_predict import LOADS

    return len(LOADS)


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    # Real worker processes (spawned), so the per-worker model cache is exercised.
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
        env={"OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    with Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("blockwise")
    cfg = tiny_config()
    ckpt = tiny_checkpoint(tmp / "model.pt", cfg)
    path = write_image(tmp / "image.zarr", tiny_image((20, 50, 70)))
    return cfg, ckpt, path


@pytest.mark.slow
def test_blockwise_equals_in_process_and_loads_the_model_once_per_worker(client, setup, tmp_path):
    cfg, ckpt, path = setup
    torch.set_num_threads(1)
    local = predict(cfg, ckpt, path, tmp_path / "local.zarr").numpy()
    maps = predict(cfg, ckpt, path, tmp_path / "dask.zarr", client=client, block_shape=(8, 16, 32))
    assert is_complete(tmp_path / "dask.zarr")
    assert np.abs(maps.numpy() - local).max() <= 1e-5
    assert (done_array(tmp_path / "dask.zarr", (3, 4, 3))[...] == 1).all()
    loads = client.run(_loads)
    assert sum(loads.values()) >= 1 and max(loads.values()) == 1  # 36 blocks, <= 1 load each


@pytest.mark.slow
def test_an_interrupted_run_resumes_only_the_missing_blocks(client, setup, tmp_path, caplog):
    cfg, ckpt, path = setup
    out = tmp_path / "pred.zarr"
    first = predict(cfg, ckpt, path, out, client=client, block_shape=(8, 32, 32)).numpy()
    # Simulate a crash: two blocks lost (data garbage, markers unset) and no completion flag.
    import zarr

    group = zarr.open_group(str(out), mode="r+")
    group["s0"][:, 8:16, 0:32, 32:64] = -7.0
    group["s0"][:, 16:20, 32:50, 64:70] = -7.0
    group["volseg_done"][1, 0, 1] = 0
    group["volseg_done"][2, 1, 2] = 0
    set_complete(out, "", False)
    with caplog.at_level(logging.INFO, logger="volseg.infer.predict"):
        again = predict(cfg, ckpt, path, out, client=client, block_shape=(8, 32, 32))
    assert "prediction blocks: 2 computed, 16 reused" in caplog.text
    assert again.attrs["blockwise_result"]["blocks_reused"] == 16
    np.testing.assert_array_equal(again.numpy(), first)
    assert is_complete(out)


@pytest.mark.slow
def test_resuming_with_other_settings_is_refused(client, setup, tmp_path):
    cfg, ckpt, path = setup
    out = tmp_path / "pred.zarr"
    predict(cfg, ckpt, path, out, client=client, block_shape=(8, 32, 32))
    set_complete(out, "", False)
    other = tiny_config("inference.sliding_window.overlap=0.25")
    with pytest.raises(VolsegError, match="started with overlap=0.5"):
        predict(other, ckpt, path, out, client=client, block_shape=(8, 32, 32))


@pytest.mark.parametrize("resolution", [None, [10, 10, 10], [10, 12, 8]])
def test_any_block_equals_the_same_part_of_a_whole_volume_run(tmp_path, resolution):
    extra = [] if resolution is None else [f"data.train_resolution={resolution}"]
    cfg = tiny_config(*extra)
    ckpt = tiny_checkpoint(tmp_path / "m.pt", cfg)
    image = tiny_image((13, 41, 37))
    volume, name = open_image(cfg, write_image(tmp_path / "i.zarr", image))
    model = build_model_from_checkpoint(ckpt)
    plan = make_plan(cfg, checkpoint=ckpt, ckpt_model=cfg.model, model=model, volume=volume,
                     image=name, device="cpu")  # fmt: skip
    full = tuple(slice(0, n) for n in image.shape)
    whole = predict_region(model, plan, volume, full)
    if resolution is None:  # the whole-volume region is MONAI-style sliding window itself
        from volseg.infer.plan import image_reader

        x = image_reader(plan, volume)(full)
        ref = predict_array(model, x, window=(8, 32, 32), overlap=0.5,
                            activations=["sigmoid", "sigmoid", "tanh"])  # fmt: skip
        assert np.abs(whole - ref).max() <= 1e-5
    regions = [(slice(0, 5), slice(3, 20), slice(30, 37)), (slice(7, 13), slice(40, 41), full[2])]
    for region in regions:
        part = predict_region(model, plan, volume, region)
        assert np.abs(part - whole[(slice(None), *region)]).max() <= 1e-5


def test_blocks_keep_monai_batch_sizes(tmp_path):
    from .test_sliding import BatchSized, monai

    cfg = tiny_config("inference.sliding_window.sw_batch_size=3",
                      "inference.sliding_window.overlap=0.25")  # fmt: skip
    ckpt = tiny_checkpoint(tmp_path / "m.pt", cfg)
    image = tiny_image((13, 41, 37))
    volume, name = open_image(cfg, write_image(tmp_path / "i.zarr", image))
    plan = make_plan(cfg, checkpoint=ckpt, ckpt_model=cfg.model, model=BatchSized(),
                     volume=volume, image=name, device="cpu")  # fmt: skip
    plan = dataclasses.replace(
        plan, settings=dataclasses.replace(plan.settings, activations=("sigmoid",) * 3)
    )
    from volseg.infer.plan import image_reader

    full = tuple(slice(0, n) for n in image.shape)
    x = image_reader(plan, volume)(full)
    ref = monai(BatchSized(), x, (8, 32, 32), sw_batch_size=3, overlap=0.25, mode="gaussian",
                padding_mode="reflect")  # fmt: skip
    assert plan.grid.size % 3  # MONAI's last batch is smaller
    for region in [
        (slice(0, 13), slice(30, 41), slice(20, 37)),
        (slice(5, 9), slice(0, 41), slice(0, 9)),
    ]:
        part = predict_region(BatchSized(), plan, volume, region)
        assert np.abs(part - ref[(slice(None), *region)]).max() <= 1e-6


class FakeClient:
    """Stands in for a distributed.Client: what workers see, and what gets submitted."""

    def __init__(self, cuda, resources):
        self.cuda, self.resources, self.mapped = cuda, resources, []

    def run(self, func):
        return {"tcp://w1": self.cuda, "tcp://w2": self.cuda}

    def scheduler_info(self):
        return {"workers": {w: {"resources": self.resources} for w in ("tcp://w1", "tcp://w2")}}

    def scatter(self, value, broadcast):
        return value

    def submit(self, func, *args, **kw):
        self.mapped.append(kw)
        return func(*args)

    def gather(self, futures):
        return futures


def test_gpu_workers_must_offer_a_gpu_resource():
    assert cluster_device(FakeClient(True, {}), 0) == "cpu"
    assert cluster_device(FakeClient(False, {}), -1) == "cpu"
    assert cluster_device(FakeClient(True, {"GPU": 1}), -1) == "cuda"
    with pytest.raises(VolsegError, match="no 'GPU' resource"):
        cluster_device(FakeClient(True, {}), -1)
    with pytest.raises(VolsegError, match="not every Dask worker sees a GPU"):
        cluster_device(FakeClient(False, {}), 1)


def test_inference_tasks_ask_for_a_gpu_when_on_cuda(tmp_path, monkeypatch):
    import dataclasses

    from volseg.infer import blockwise_predict as bp
    from volseg.infer.output import prepare_output

    cfg = tiny_config()
    ckpt = tiny_checkpoint(tmp_path / "m.pt", cfg)
    volume, name = open_image(cfg, write_image(tmp_path / "i.zarr", tiny_image((8, 32, 32))))
    model = build_model_from_checkpoint(ckpt)
    plan = make_plan(cfg, checkpoint=ckpt, ckpt_model=cfg.model, model=model, volume=volume,
                     image=name, device="cpu")  # fmt: skip
    out = tmp_path / "p.zarr"
    prepare_output(out, plan, chunks=(8, 32, 32), offset=(0, 0, 0), overwrite=False)
    fake = FakeClient(True, {"GPU": 1})
    run_blockwise(fake, plan, out, block_shape=(8, 32, 32))
    assert fake.mapped[0]["resources"] is None
    monkeypatch.setattr(bp, "predict_block", lambda *args: 0)  # no CUDA here: do not run
    on_gpu = dataclasses.replace(plan, settings=dataclasses.replace(plan.settings, device="cuda"))
    done_array(out, (1, 1, 1))[0, 0, 0] = 0
    assert run_blockwise(fake, on_gpu, out, block_shape=(8, 32, 32)) == (1, 0)
    assert fake.mapped[-1]["resources"] == {"GPU": 1}
    assert open_volume(out).attrs["blockwise_result"] == {
        "blocks": 1, "blocks_computed": 1, "blocks_reused": 0,
    }  # fmt: skip
    assert run_blockwise(fake, on_gpu, out, block_shape=(8, 32, 32)) == (0, 1)
    assert open_volume(out).shape == (3, 8, 32, 32)
