"""``optimization.max_time``: seconds or ``[DD:]HH:MM:SS``, read as seconds; bad forms refused."""

from __future__ import annotations

import pytest

from volseg.config import loads
from volseg.config.duration import format_duration, parse_duration
from volseg.errors import VolsegError


def seconds(value):
    return parse_duration(value, key="optimization.max_time", where="f.yaml")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (90, 90.0),
        (0.5, 0.5),
        ("12:00:00", 12 * 3600.0),
        ("00:30:00", 1800.0),
        ("48:00:05", 48 * 3600.0 + 5),  # SLURM hours may pass 23
        ("01:02:03:04", 86400.0 + 2 * 3600 + 3 * 60 + 4),
        (" 0:00:01 ", 1.0),
    ],
)
def test_parses_seconds_and_colon_strings(value, expected) -> None:
    assert seconds(value) == expected


@pytest.mark.parametrize(
    "value",
    [0, -5, 0.0, float("nan"), float("inf"), True, [3600], "1:30", "1-00:00:00", "10:61:00",
     "10:00:60", "1:24:00:00", "00:00:00", "1.5:00:00", "an hour", "", "1:2:3:4:5"],
)  # fmt: skip
def test_refuses_other_forms_with_one_sentence(value) -> None:
    with pytest.raises(VolsegError) as exc:
        seconds(value)
    text = str(exc.value)
    assert text.startswith("f.yaml: `optimization.max_time` must be seconds (a number > 0) or")
    assert '"HH:MM:SS" or "DD:HH:MM:SS"' in text and text.endswith(f"got {value!r}.")


def test_format_duration() -> None:
    assert format_duration(0) == "0:00:00"
    assert format_duration(3725.4) == "1:02:05"
    assert format_duration(90061) == "1d 1:01:01"
    assert format_duration(-3) == "0:00:00"


def test_config_reads_max_time_as_seconds() -> None:
    assert loads("").optimization.max_time is None  # the default: no budget
    assert loads("optimization: {max_time: '11:50:00'}").optimization.max_time == 42600.0
    assert loads("", ["optimization.max_time=600"]).optimization.max_time == 600.0
    # Unquoted colon values are YAML 1.1 base-60 ints to PyYAML (1:00:00:00 = 216000); the
    # loader keeps them strings, so four fields mean days, as documented.
    assert loads("optimization:\n  max_time: 1:00:00:00\n").optimization.max_time == 86400.0
    assert loads("", ["optimization.max_time=1:00:00:00"]).optimization.max_time == 86400.0


def test_config_names_the_file_and_key() -> None:
    with pytest.raises(VolsegError, match=r"^run.yaml: `optimization.max_time` must be seconds"):
        loads("optimization: {max_time: '90 min'}", source="run.yaml")
    with pytest.raises(VolsegError, match="must be null or a number or a string, got True"):
        loads("optimization: {max_time: true}")
