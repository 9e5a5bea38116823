"""The maps output: chunks that tile the blocks, completion markers, resume checks."""

import pytest

from volseg.errors import VolsegError
from volseg.infer.output import block_counts, output_chunks
from volseg.infer.plan import PredictionPlan
from volseg.infer.rescale import make_rescale


def plan_for(shape, voxel=(8.0, 8.0, 8.0)):
    rescale = make_rescale(shape, voxel, None)
    return PredictionPlan(
        checkpoint="m.pt", image="i.zarr", voxel_size=voxel, normalize="none", stats={},
        settings=None, grid=None, rescale=rescale, channels=("binary",), dtype="float32",
        in_channels=1,
    )  # fmt: skip


def test_default_chunks_tile_the_blocks():
    plan = plan_for((100, 300, 300))
    assert output_chunks(plan, None, (64, 256, 256)) == (64, 64, 64)
    assert output_chunks(plan, None, (48, 100, 256)) == (48, 100, 64)  # 64 does not divide


def test_chosen_chunks_must_divide_the_blocks():
    plan = plan_for((100, 300, 300))
    assert output_chunks(plan, [32, 128, 128], (64, 256, 256)) == (32, 128, 128)
    with pytest.raises(VolsegError, match="must divide the block shape"):
        output_chunks(plan, [48, 128, 128], (64, 256, 256))
    assert output_chunks(plan_for((10, 20, 30)), [48, 128, 128], (64, 256, 256)) == (10, 20, 30)


def test_block_counts():
    assert block_counts((100, 300, 300), (64, 256, 256)) == (2, 2, 2)
    assert block_counts((64, 256, 256), (64, 256, 256)) == (1, 1, 1)
