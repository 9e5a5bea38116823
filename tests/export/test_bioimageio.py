"""``export_bioimageio``: packages that bioimageio.core loads, validates and whose test passes
with both weight formats, offline."""

import zipfile

import pytest
import yaml

from tests.export.fixtures import (
    CARD,
    block_network,
    lucchi_config,
    make_run,
    synthetic_image,
    vesicle_config,
)
from volseg.export import export_model

bioimageio_core = pytest.importorskip("bioimageio.core")
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")

FORMATS = ("pytorch_state_dict", "torchscript")


@pytest.fixture
def offline(monkeypatch, tmp_path):
    tried = block_network(monkeypatch, tmp_path / "bioimageio-cache")
    yield tried
    assert not tried, f"a test reached for the network: {tried}"


def rdf_of(path):
    with zipfile.ZipFile(path) as zf:
        return (
            set(zf.namelist()),
            yaml.safe_load(zf.read("rdf.yaml")),
            zf.read("README.md").decode(),
        )


def check_with_bioimageio(path):
    """Load and validate the package, then run its test for each weight format."""
    from bioimageio.spec import InvalidDescr
    from bioimageio.spec.model.v0_5 import ModelDescr

    descr = bioimageio_core.load_description(path)
    assert not isinstance(descr, InvalidDescr), descr.validation_summary.format()
    assert isinstance(descr, ModelDescr)
    for fmt in FORMATS:
        summary = bioimageio_core.test_model(path, weight_format=fmt, devices=["cpu"])
        assert summary.status == "passed", summary.format()
    return descr


def test_lucchi_tutorial_model_passes_bioimageio(tmp_path, offline):
    """The Lucchi++ tutorial's 2D U-Net (made narrow), test input cut from the real crop."""
    run = make_run(tmp_path / "run", lucchi_config(), card=CARD, thresholds=True, test_scores=True)
    out = export_model(run, tmp_path / "lucchi.zip", fmt="bioimageio")
    check_with_bioimageio(out)
    names, rdf, readme = rdf_of(out)
    assert {"weights.pt", "weights_torchscript.pt", "volseg_network.py", "environment.yaml",
            "test_input.npy", "test_output.npy", "cover.png", "README.md", "config.yaml",
            "thresholds.json", "test_metrics.json"} <= names  # fmt: skip
    (raw,) = rdf["inputs"]
    assert [a.get("id", a["type"]) for a in raw["axes"]] == ["batch", "channel", "y", "x"]
    assert raw["axes"][2]["size"] == {"min": 16, "step": 8}  # 3 poolings of 2
    assert raw["axes"][2]["scale"] == 10.0 and raw["axes"][2]["unit"] == "nanometer"
    steps = [s["id"] for s in raw["preprocessing"] if s["id"] != "ensure_dtype"]
    assert steps == ["zero_mean_unit_variance"]  # the tutorial's zscore, no clipping
    assert [s["id"] for s in rdf["outputs"][0]["postprocessing"]][0] == "sigmoid"
    assert rdf["cite"][0]["doi"] == "10.1109/TMI.2011.2171705" and rdf["license"] == "MIT"
    assert rdf["weights"]["pytorch_state_dict"]["architecture"]["kwargs"]["activations"] == []
    assert "## Validation" in readme and "Lucchi et al. 2012" in readme
    assert "## Intended use" in readme and "thresholds.json" in readme
    assert "`volseg test` scores" in readme


def test_distance_maps_with_clipped_zscore_pass_bioimageio(tmp_path, offline):
    """A 3D rsunet with a tanh distance channel (applied inside the network) and zscore with
    percentile clipping, no model card: still valid, its test passes."""
    image = synthetic_image(tmp_path / "vesicles.zarr")
    run = make_run(tmp_path / "run", vesicle_config(image))
    out = export_model(run, tmp_path / "vesicles.zip", fmt="bioimageio")
    check_with_bioimageio(out)
    _, rdf, readme = rdf_of(out)
    (raw,) = rdf["inputs"]
    assert [a.get("id", a["type"]) for a in raw["axes"]] == ["batch", "channel", "z", "y", "x"]
    steps = [s["id"] for s in raw["preprocessing"] if s["id"] != "ensure_dtype"]
    assert steps == ["clip", "zero_mean_unit_variance"]
    out_axes = rdf["outputs"][0]["axes"]
    assert out_axes[1]["channel_names"] == ["binary", "instance_boundary", "instance_edt"]
    assert [s["id"] for s in rdf["outputs"][0]["postprocessing"]] == ["ensure_dtype"]
    kwargs = rdf["weights"]["pytorch_state_dict"]["architecture"]["kwargs"]
    assert kwargs["activations"] == ["sigmoid", "sigmoid", "tanh"]
    assert "mean and std of the clipped intensities" in readme
    assert "No citation was given" in readme


def test_offline_guard_refuses_connections(offline):
    import socket

    with pytest.raises(OSError, match="offline"):
        socket.create_connection(("example.org", 80), timeout=1)
    assert offline == [("example.org", 80)]
    offline.clear()


@pytest.mark.slow
def test_the_shipped_model_exports_and_passes_its_test(tmp_path, offline):
    """``volseg export lucchi-mito``: the shipped model as a BioImage Model Zoo package, with
    its card's citations and licence, validated and tested by bioimageio.core."""
    from pathlib import Path

    from volseg import zoo

    crop = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "lucchi_pp_crops"
    if not (crop / "train_crop.h5").is_file():
        pytest.skip(f"{crop} is not on this machine")
    out = export_model(
        zoo.run_dir("lucchi-mito"), tmp_path / "lucchi-mito.zip", fmt="bioimageio",
        image=f"{crop / 'train_crop.h5'}:raw", say=lambda _: None,
    )  # fmt: skip
    names, rdf, readme = rdf_of(out)
    assert rdf["license"] == "CC-BY-NC-4.0"
    assert {c["doi"] for c in rdf["cite"]} >= {"10.1109/TMI.2011.2171705"}
    assert "research and test use only" in readme
    check_with_bioimageio(out)
