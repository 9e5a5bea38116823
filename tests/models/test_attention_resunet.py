"""attention_resunet: residual-unit stages from MONAI, an attention gate on every skip."""

import importlib

import pytest
import torch
from monai.networks.blocks import ResidualUnit

from volseg.models import build
from volseg.models.attention_resunet import AttentionGate, AttentionResUNet
from volseg.models.summary import count_parameters

cli = importlib.import_module("volseg.cli.main")


def net(**kw):
    return build({"architecture": "attention_resunet", "filters": [4, 8, 16], **kw})


@pytest.mark.parametrize(
    ("kw", "shape"),
    [
        ({}, (1, 1, 16, 32, 32)),
        ({"spatial_dims": 2}, (2, 1, 3, 32, 32)),
        ({"spatial_dims": 2, "strides": [[1, 2, 2], [1, 4, 2]]}, (1, 1, 2, 32, 16)),
        (
            {"filters": [4, 8, 8, 16], "strides": [[1, 2, 2], [1, 2, 2], [2, 2, 2]]},
            (1, 1, 4, 32, 32),
        ),
        ({"kernel_size": [1, 3, 3], "strides": [[1, 2, 2], 2]}, (1, 2, 4, 16, 16)),
    ],
)
def test_output_shape(kw, shape):
    model = net(in_channels=shape[1], out_channels=2, **kw).eval()
    with torch.no_grad():
        out = model(torch.randn(shape))
    assert out.shape == (shape[0], 2, *shape[2:])


def test_anisotropic_strides_pool_only_where_asked():
    model = net(filters=[4, 8, 16], strides=[[1, 2, 2], [2, 2, 2]]).net
    assert model.encoder[1].conv.unit0.conv.stride == (1, 2, 2)
    assert model.encoder[2].conv.unit0.conv.stride == (2, 2, 2)
    assert model.up[0].conv.stride == model.up[0].conv.kernel_size == (1, 2, 2)
    assert model.up[1].conv.stride == (2, 2, 2)


@pytest.mark.parametrize("units", [1, 3])
def test_stages_are_monai_residual_units_with_the_configured_subunits(units):
    model = net(num_res_units=units, filters=[4, 8, 16, 16]).net
    assert isinstance(model, AttentionResUNet)
    blocks = [m for m in model.modules() if isinstance(m, ResidualUnit)]
    assert len(blocks) == 4 + 3  # four encoder stages (the last is the bottom), three decoder
    assert all(len(b.conv) == units for b in blocks)
    # the skip path is there: zeroing the conv path leaves a residual unit non-zero
    unit = model.decoder[0]
    for p in unit.conv.parameters():
        torch.nn.init.zeros_(p)
    x = torch.randn(1, 8, 4, 4, 4)
    assert unit(x).abs().sum() > 0


def test_every_skip_is_gated():
    model = net(filters=[4, 8, 16, 16]).net
    gates = [m for m in model.modules() if isinstance(m, AttentionGate)]
    assert len(gates) == len(model.decoder) == 3
    # each gate is used: its output depends on its own psi weights
    x = torch.randn(1, 1, 8, 16, 16)
    model.train()
    model(x).sum().backward()
    assert all(g.psi.conv.weight.grad.abs().sum() > 0 for g in gates)


@pytest.mark.parametrize("dims", [2, 3])
def test_gradient_reaches_every_parameter(dims):
    model = net(spatial_dims=dims, norm="group", dropout=0.1).train()
    model(torch.randn(1, 1, 8, 16, 16)).square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert missing == []


def test_parameters_grow_with_num_res_units():
    counts = [count_parameters(net(num_res_units=u))[0] for u in (1, 2, 3)]
    assert counts[0] < counts[1] < counts[2]


def test_model_summary_cli(tmp_path, capsys):
    path = tmp_path / "m.yaml"
    path.write_text(
        "model:\n  architecture: attention_resunet\n  filters: [4, 8]\n"
        "  strides: [[1, 2, 2]]\n  input_size: [8, 32, 32]\n"
    )
    with pytest.raises(SystemExit) as exc:
        cli.main(["model", "summary", str(path), "--shape", "8,32,32"])
    out, err = capsys.readouterr()
    assert exc.value.code == 0, err
    total = count_parameters(
        build({"architecture": "attention_resunet", "filters": [4, 8], "strides": [[1, 2, 2]]})
    )[0]
    assert f"parameters: {total:,}" in out
    assert "attention_resunet" in out and "AttentionResUNet" in out
