"""Card values the spec refuses fail before any work, one sentence naming the card key."""

import re

import pytest
import yaml

from tests.export.fixtures import CARD
from volseg.errors import VolsegError
from volseg.export.card import read_card
from volseg.export.validate import check_card

pytest.importorskip("bioimageio.spec")


def write(tmp_path, content):
    path = tmp_path / "card.yaml"
    path.write_text(yaml.safe_dump(content))
    return path


@pytest.mark.parametrize(("content", "message"), [
    ({"license": "nope"}, "`license`: must be an SPDX license identifier, e.g. MIT"),
    ({"version": "x.y"}, "`version`: Invalid version: 'x.y'."),
    ({"cite": [{"text": "t", "doi": "nodoi"}]}, "`cite[0]`: doi: String should match pattern"),
    ({"authors": [{"name": "a/b"}]}, "`authors[0]`: name: "),
])  # fmt: skip
def test_values_the_spec_refuses_are_caught_before_any_work(tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(VolsegError, match=re.escape(f"model card {path}: {message}")):
        check_card(read_card(path))
    check_card(read_card(write(tmp_path, CARD)))  # the full card passes
