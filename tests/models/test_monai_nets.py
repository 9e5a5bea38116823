"""MONAI networks: the same parameters as plain MONAI, plus one 1x1 head per tap."""

from monai.networks.nets import AttentionUnet, BasicUNet, MedNeXtS, UNet

from volseg.models import build
from volseg.models.summary import count_parameters


def head_count(widths, cout):
    return sum(w * cout + cout for w in widths)


def test_monai_parameter_counts_are_monai_plus_heads():
    basic = [4, 4, 8, 8, 16, 4]
    one = {"out_channels": 1}  # the references below have one output channel
    model = build(
        {"architecture": "monai_basic_unet3d", "filters": basic, "deep_supervision": True, **one}
    )
    ref = BasicUNet(3, 1, 1, features=basic, norm="batch", act="relu", upsample="nontrainable")
    assert count_parameters(model)[0] == count_parameters(ref)[0] + head_count(basic[1:5], 1)

    model = build(
        {"architecture": "attention_unet", "filters": [4, 8, 16], "deep_supervision": True, **one}
    )
    ref = AttentionUnet(3, 1, 1, channels=[4, 8, 16], strides=[2, 2])
    assert count_parameters(model)[0] == count_parameters(ref)[0] + head_count([8, 16], 1)

    cfg = {"architecture": "monai_unet", "filters": [4, 8, 16], "num_res_units": 2, **one}
    ref = UNet(
        3, 1, 1, channels=[4, 8, 16], strides=[2, 2], num_res_units=2, norm="batch", act="relu"
    )
    assert count_parameters(build(cfg))[0] == count_parameters(ref)[0]

    ref = MedNeXtS(spatial_dims=3, in_channels=1, out_channels=1, kernel_size=3)
    assert (
        count_parameters(build({"architecture": "mednext", **one}))[0] == count_parameters(ref)[0]
    )
