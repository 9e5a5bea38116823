"""Model cards: optional, strict, one sentence per mistake."""

import pytest
import yaml

from tests.export.fixtures import CARD
from volseg.errors import VolsegError
from volseg.export.card import CARD_NAME, find_card, read_card


def write(tmp_path, content):
    path = tmp_path / "card.yaml"
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return path


def test_full_card_reads(tmp_path):
    card = read_card(write(tmp_path, CARD))
    assert card.name == CARD["name"] and card.license == "MIT" and card.version == "0.1.0"
    assert card.cite[0]["doi"] == "10.1109/TMI.2011.2171705"
    assert card.authors == [{"name": "Test Author", "affiliation": "volseg tests"}]


def test_run_card_is_found_and_given_card_wins(tmp_path):
    assert find_card(tmp_path, None).path is None  # no card: nothing required
    (tmp_path / CARD_NAME).write_text("name: From the run\n")
    assert find_card(tmp_path, None).name == "From the run"
    assert find_card(tmp_path, write(tmp_path, {"name": "Given"})).name == "Given"


@pytest.mark.parametrize(("content", "message"), [
    ({"licence": "MIT"}, "unknown model card key `licence`; valid keys: name"),
    ({"cite": [{"text": "no link"}]}, "`cite[0]` needs a `text` and a `doi` or `url`"),
    ({"authors": [{"name": "A", "mail": "x"}]}, "unknown key `authors[0].mail`"),
    ({"tags": "mito"}, "`tags` must be a list of strings"),
    ({"name": ["a"]}, "`name` must be text"),
    ("- a list", "must be a mapping of keys to values"),
    ("name: [unclosed", "is not valid YAML"),
])  # fmt: skip
def test_bad_cards_are_one_sentence(tmp_path, content, message):
    with pytest.raises(VolsegError, match=message.replace("[", r"\[").replace("]", r"\]")):
        read_card(write(tmp_path, content))


def test_missing_card(tmp_path):
    with pytest.raises(VolsegError, match="model card .* does not exist"):
        find_card(None, tmp_path / "nope.yaml")
