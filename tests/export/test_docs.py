"""The README's citation falls back to the SOURCE.md beside the training image."""

from tests.export.fixtures import lucchi_config, make_run
from volseg.export.docs import _source_citation
from volseg.export.source import open_source


def test_source_md_citation_of_the_lucchi_crop(tmp_path):
    src = open_source(make_run(tmp_path / "run", lucchi_config()))
    text = _source_citation(src)
    assert text.startswith("- Lucchi A., Smith K., Achanta R.") and "Casser V." in text
    assert "## " not in text  # only that section
