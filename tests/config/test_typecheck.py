"""Per-value checks: types, ranges, choices, lengths, unknown keys, path lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from volseg.config.fields import spec
from volseg.config.typecheck import check_section, convert, describe
from volseg.errors import VolsegError


@dataclass
class Inner:
    lr: float = spec(0.1, lo=0.0, lo_open=True)
    name: str = spec("a", choices=("alpha", "beta"))


@dataclass
class Outer:
    size: list[int] = spec(factory=lambda: [1, 2, 3], length=3, lo=1)
    maybe: int | None = spec(None, lo=0)
    flag: bool = False
    paths: list[str] = spec(factory=list, path="many")
    inner: Inner = field(default_factory=Inner)
    free: Any = None


def test_describe_words() -> None:
    assert describe(list[int], {"length": 3}) == "a list of 3 ints"
    assert describe(int | None) == "null or an int"
    assert describe(list[float | None]) == "a list of nulls or numbers"
    assert describe(bool) == "true or false"


def test_convert_accepts_and_converts() -> None:
    assert convert(3, float, {}, "k", "f.yaml") == 3.0
    assert isinstance(convert(3, float, {}, "k", "f.yaml"), float)
    assert convert([1, 2, 3], list[int], {"length": 3}, "k", "f.yaml") == [1, 2, 3]
    assert convert(None, int | None, {}, "k", "f.yaml") is None
    assert convert(32, str, {"choices": ("32", "bf16-mixed")}, "k", "f.yaml") == "32"


@pytest.mark.parametrize(
    ("value", "hint", "rules", "message"),
    [
        ("abc", list[int], {"length": 3}, "f.yaml: `k` must be a list of 3 ints, got 'abc'."),
        ([1, 2], list[int], {"length": 3}, "f.yaml: `k` must be a list of 3 ints, got [1, 2]."),
        (True, int, {}, "f.yaml: `k` must be an int, got True."),
        (1.5, int, {}, "f.yaml: `k` must be an int, got 1.5."),
        (1, bool, {}, "f.yaml: `k` must be true or false, got 1."),
        ("1", float, {}, "f.yaml: `k` must be a number, got '1'."),
        (None, int, {}, "f.yaml: `k` must be an int, got null."),
        (1.5, float, {"lo": 0.0, "hi": 1.0}, "f.yaml: `k` must be between 0 and 1, got 1.5."),
        (1.0, float, {"lo": 0.0, "hi": 1.0, "hi_open": True}, "must be in [0, 1), got 1.0."),
        (0.0, float, {"lo": 0.0, "lo_open": True}, "f.yaml: `k` must be > 0, got 0.0."),
        ([1, 0], list[int], {"lo": 1}, "f.yaml: `k[1]` must be >= 1, got 0."),
        ("Adamw", str, {"choices": ("AdamW", "SGD")}, "got 'Adamw'; did you mean 'AdamW'?"),
        ("zzz", str, {"choices": ("AdamW", "SGD")}, "must be one of AdamW, SGD, got 'zzz'."),
        ([], list[int], {"min_length": 1}, "`k` must have at least 1 entry, got []."),
    ],
)
def test_convert_rejects(value: Any, hint: Any, rules: dict, message: str) -> None:
    with pytest.raises(VolsegError) as info:
        convert(value, hint, rules, "k", "f.yaml")
    assert str(info.value).endswith(message)


def test_check_section_returns_only_present_keys() -> None:
    out = check_section({"size": [4, 5, 6], "inner": {"lr": 1}}, Outer, "", "f.yaml")
    assert out == {"size": [4, 5, 6], "inner": {"lr": 1.0}}


def test_check_section_path_list_accepts_one_string_or_null() -> None:
    assert check_section({"paths": "a.h5"}, Outer, "", "f")["paths"] == ["a.h5"]
    assert check_section({"paths": None}, Outer, "", "f")["paths"] == []


def test_check_section_unknown_key_suggests_sibling() -> None:
    with pytest.raises(VolsegError, match=r"unknown key `inner.lrr`; did you mean `inner.lr`\?"):
        check_section({"inner": {"lrr": 1}}, Outer, "", "f.yaml")


def test_check_section_unknown_key_lists_valid_keys_when_nothing_is_close() -> None:
    with pytest.raises(VolsegError, match=r"unknown key `inner.zzzz`; valid keys here: lr, name\."):
        check_section({"inner": {"zzzz": 1}}, Outer, "", "f.yaml")


def test_check_section_needs_mapping() -> None:
    with pytest.raises(VolsegError, match=r"`inner` must be a mapping of keys, got 3\."):
        check_section({"inner": 3}, Outer, "", "f.yaml")
