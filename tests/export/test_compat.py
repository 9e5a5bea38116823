"""The run-time fix for bioimageio.spec under pydantic >= 2.14."""

import pytest

from volseg.export import _compat

pytest.importorskip("bioimageio.spec")


def test_guard_forwards_only_valid_index_keys():
    calls = []

    def handler(value, index_key=None):
        calls.append(index_key)
        return value

    guard = _compat.IndexKeyGuard(handler)
    assert guard("v", 3) == "v" and guard("v", "key") == "v" and guard("v", object()) == "v"
    assert calls == [3, "key", None]


def test_patch_is_idempotent_and_makes_weights_serialisable(tmp_path):
    from bioimageio.spec import ValidationContext
    from bioimageio.spec.model import v0_5 as spec

    first, second = _compat.patch_bioimageio(), _compat.patch_bioimageio()
    assert first == second == _compat.pydantic_refuses_info()
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"0")
    with ValidationContext(perform_io_checks=False):
        entry = spec.TorchscriptWeightsDescr(source=weights, pytorch_version="2.0")
        assert entry.model_dump(mode="json")["source"] == str(weights)
