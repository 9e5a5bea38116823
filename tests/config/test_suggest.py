"""Did-you-mean hints."""

from __future__ import annotations

from volseg.config.suggest import close_match, suggest_key, suggest_value


def test_close_match() -> None:
    assert close_match("lrr", ["lr", "betas", "momentum"]) == "lr"
    assert close_match("qqq", ["lr", "betas"]) is None


def test_suggest_key_prefers_sibling_then_misplaced_then_lists() -> None:
    section = ["a", "a.lr", "a.b", "a.b.patience"]
    assert suggest_key("a.lrr", ["lr", "b"], section) == "; did you mean `a.lr`?"
    assert suggest_key("a.patiense", ["lr", "b"], section) == "; did you mean `a.b.patience`?"
    assert suggest_key("a.zzz", ["lr", "b"], section) == "; valid keys here: b, lr."


def test_suggest_value() -> None:
    assert suggest_value("warmupcosine", ["warmup_cosine", "cosine"]) == (
        "; did you mean 'warmup_cosine'?"
    )
    assert suggest_value("ADAMW", ["AdamW", "SGD"]) == "; did you mean 'AdamW'?"
    assert suggest_value(3, ["a"]) == "."
