"""Target channel counts and names per channel (``volseg/channels.py``)."""

from __future__ import annotations

from volseg.channels import per_channel_names, target_channels


def test_an_affinity_target_names_one_channel_per_offset() -> None:
    targets = [{"name": "affinity", "kwargs": {"offsets": "isotropic-9"}}, {"name": "binary"}]
    assert per_channel_names(targets) == ["affinity"] * 9 + ["binary"]
    assert target_channels("affinity", {"offsets": [[-40, 0, 0]], "unit": "nm"}) == 1
    assert target_channels("instance_edt", {}) == 1
