"""``volseg.models.build``: every accepted key changes the network; bad input is one sentence."""

from types import SimpleNamespace

import pytest
import torch
from omegaconf import OmegaConf

from volseg.errors import VolsegError
from volseg.models import ARCHITECTURES, USED_KEYS, VolsegNet, build, num_outputs
from volseg.models.registry import COMMON_KEYS

SMALL = {
    "rsunet": {"filters": [4, 8, 12]},
    "mednext": {},
    "monai_basic_unet3d": {"filters": [4, 4, 8, 8, 16, 4]},
    "attention_unet": {"filters": [4, 8, 16]},
    "monai_unet": {"filters": [4, 8, 16], "num_res_units": 1},
    "attention_resunet": {"filters": [4, 8, 16]},
}

# Two values per key; the network built with the second must differ from the first.
VARIANTS = {
    "architecture": None,  # the registry key itself
    "in_channels": (1, 2),
    "out_channels": (1, 3),
    "deep_supervision": (False, True),
    "deep_supervision_weights": None,  # a loss setting, checked in tests/losses
    "strides": ([[2, 2, 2], [2, 2, 2]], [[1, 2, 2], [2, 2, 2]]),
    "kernel_size": (3, [1, 3, 3]),
    "num_2d_levels": (0, 1),
    "norm": ("batch", "group"),
    "activation": ("relu", "elu"),
    "dropout": (0.0, 0.2),
    "spatial_dims": (3, 2),
    "mednext_size": ("S", "B"),
    "mednext_kernel_size": (3, 5),
    "num_res_units": (1, 2),
}
ARCH_VARIANTS = {
    ("rsunet", "filters"): ([4, 8, 12], [4, 8, 16]),
    ("monai_basic_unet3d", "filters"): ([4, 4, 8, 8, 16, 4], [4, 4, 8, 8, 16, 8]),
    ("attention_unet", "filters"): ([4, 8, 16], [4, 8, 12]),
    ("monai_unet", "filters"): ([4, 8, 16], [4, 8, 12]),
    ("attention_resunet", "filters"): ([4, 8, 16], [4, 8, 12]),
    ("rsunet", "upsample"): ("nontrainable", "deconv"),
    ("monai_basic_unet3d", "upsample"): ("nontrainable", "deconv"),
}


def cfg(arch, **kw):
    return {"architecture": arch, **SMALL[arch], **kw}


def signature(model):
    shapes = tuple((n, tuple(p.shape)) for n, p in model.named_parameters())
    return repr(model), shapes


def _cases():
    for arch in ARCHITECTURES:
        for key in sorted(USED_KEYS[arch] | COMMON_KEYS):
            if VARIANTS.get(key, ...) is None:
                continue
            yield arch, key


@pytest.mark.parametrize(("arch", "key"), list(_cases()))
def test_every_accepted_key_changes_the_network(arch, key):
    values = ARCH_VARIANTS.get((arch, key), VARIANTS.get(key))
    assert values is not None, f"no test values for {arch}.{key}: add them to VARIANTS"
    a, b = (build(cfg(arch, **{key: v})) for v in values)
    assert signature(a) != signature(b)


def test_unknown_architecture_lists_valid_ones():
    with pytest.raises(VolsegError, match="unknown model.architecture 'unet9'") as exc:
        build({"architecture": "unet9"})
    for name in ARCHITECTURES:
        assert name in str(exc.value)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_accepts_dict_namespace_and_dictconfig(arch):
    kw = cfg(arch, out_channels=2)
    models = [build(kw), build(SimpleNamespace(**kw)), build(OmegaConf.create(kw))]
    assert all(isinstance(m, VolsegNet) and m.out_channels == 2 for m in models)
    assert len({signature(m) for m in models}) == 1


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"filters": [4]}, "at least 2"),
        ({"filters": [4, 0]}, "positive integer"),
        ({"kernel_size": 4}, "odd"),
        ({"kernel_size": [3, 3]}, "list of 3 integers"),
        ({"strides": [2]}, "one down factor per level"),
        ({"num_2d_levels": 4}, "from 0 to 3"),
        ({"num_2d_levels": 1, "spatial_dims": 2}, "must be 0 for a 2D"),
        ({"norm": "layer"}, "choose one of: batch, group, instance"),
        ({"activation": "swish"}, "choose one of"),
        ({"dropout": 1.0}, r"\[0, 1\)"),
        ({"upsample": "pixelshuffle"}, "nontrainable, deconv"),
        ({"spatial_dims": 4}, "2 or 3"),
        ({"deep_supervision": "yes"}, "true or false"),
        ({"out_channels": 0}, "positive integer"),
        ({"strides": [[2, 2, 2], [2, 2, 2]], "spatial_dims": 2}, "z entry"),
    ],
)
def test_bad_rsunet_settings(kw, match):
    with pytest.raises(VolsegError, match=match):
        build(cfg("rsunet", **kw))


@pytest.mark.parametrize(
    ("arch", "kw", "match"),
    [
        ("monai_basic_unet3d", {"filters": [4, 4, 8, 8, 16]}, "6 entries"),
        ("monai_basic_unet3d", {"upsample": "trilinear"}, "deconv, pixelshuffle, nontrainable"),
        ("mednext", {"mednext_size": "XL"}, "S, B, M, L"),
        ("mednext", {"mednext_kernel_size": 4}, "odd"),
        ("monai_unet", {"num_res_units": -1}, ">= 0"),
        ("attention_unet", {"strides": [2, 2, 2]}, "2 entries"),
        ("attention_resunet", {"num_res_units": 0}, ">= 1 for attention_resunet"),
        ("attention_resunet", {"strides": [[2, 2], 2]}, "3 integers"),
    ],
)
def test_bad_monai_settings(arch, kw, match):
    with pytest.raises(VolsegError, match=match):
        build(cfg(arch, **kw))


def test_num_outputs_matches_levels():
    assert num_outputs(cfg("rsunet")) == 1
    assert num_outputs(cfg("rsunet", deep_supervision=True)) == 3
    assert num_outputs(cfg("monai_unet", deep_supervision=True)) == 3
    assert num_outputs(cfg("attention_unet", deep_supervision=True)) == 3
    assert num_outputs(cfg("attention_resunet", deep_supervision=True)) == 3
    assert num_outputs(cfg("monai_basic_unet3d", deep_supervision=True)) == 5
    assert num_outputs(cfg("mednext", deep_supervision=True)) == 5


def test_input_checks_are_one_sentence():
    model = build(cfg("rsunet", in_channels=2, strides=[[1, 2, 2], [2, 2, 2]]))
    with pytest.raises(VolsegError, match="in_channels=2 but the input has 1"):
        model(torch.zeros(1, 1, 4, 8, 8))
    with pytest.raises(VolsegError, match=r"divisible by the total down factor \(2, 4, 4\)"):
        model(torch.zeros(1, 2, 4, 8, 6))
    with pytest.raises(VolsegError, match=r"\(batch, channels, z, y, x\)"):
        model(torch.zeros(2, 4, 8, 8))
    assert model.eval()(torch.zeros(1, 2, 2, 4, 4)).shape == (1, 3, 2, 4, 4)
