from importlib.metadata import entry_points

import npe2
from typer.testing import CliRunner

from volseg.napari import MANIFEST

COMMANDS = {
    "volseg.get_reader",
    "volseg.write_labels",
    "volseg.sample_vesicles",
    "volseg.sample_lucchi",
    "volseg.redecode_widget",
    "volseg.segment_widget",
}


def test_manifest_is_registered_through_the_entry_point():
    found = {ep.name: ep.value for ep in entry_points(group="napari.manifest")}
    assert found.get("volseg") == "volseg.napari:napari.yaml"
    manifest = npe2.PluginManifest.from_distribution("volseg")
    assert manifest.name == "volseg"
    assert {c.id for c in manifest.contributions.commands} == COMMANDS


def test_manifest_validates_with_its_imports():
    manifest = npe2.PluginManifest.from_file(MANIFEST)
    manifest.validate_imports()  # raises a ValidationError listing any unimportable name
    reader = manifest.contributions.readers[0]
    assert reader.accepts_directories and reader.filename_patterns == ["*.zarr"]
    writer = manifest.contributions.writers[0]
    assert writer.layer_types == ["labels"]
    assert set(writer.filename_extensions) == {".zarr", ".tif", ".tiff"}
    assert {s.key for s in manifest.contributions.sample_data} == {"vesicles", "lucchi"}


def test_npe2_validate_command_accepts_the_plugin():
    from npe2.cli import app

    result = CliRunner().invoke(app, ["validate", "volseg", "--imports"])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_plugin_manager_routes_paths_and_layers_to_volseg(volseg_pm, tmp_path):
    (tmp_path / "x.zarr").mkdir()
    readers = {r.command for r in volseg_pm.iter_compatible_readers([str(tmp_path / "x.zarr")])}
    assert readers == {"volseg.get_reader"}
    assert not list(volseg_pm.iter_compatible_readers([str(tmp_path / "a.tif")]))
    writers = {w.command for w in volseg_pm.iter_compatible_writers(["labels"])}
    assert writers == {"volseg.write_labels"}
    assert not list(volseg_pm.iter_compatible_writers(["image"]))
