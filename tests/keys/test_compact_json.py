"""compact_json: orjson's speed, json.dumps's answer (the vc+jwt payload bytes)."""

from __future__ import annotations

import datetime as dt
import enum
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contexts.errors import InputError
from keys.compact_json import compact_json

# Every JSON value but floats, with awkward strings (controls, U+2028, astral, quotes, "null").
_TEXT = st.text(st.characters(exclude_categories=("Cs",))) | st.sampled_from(
    ["null", '"', "\\", "\x00\x1f\x7f", "\u2028\u2029", "Zoë 🎓", "</script>"]
)
_SCALARS = st.none() | st.booleans() | st.integers() | _TEXT
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_TEXT, inner, max_size=5),
    max_leaves=40,
)


def _stdlib(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@settings(max_examples=400, deadline=None)
@given(_JSON)
def test_same_bytes_as_the_standard_library(value: object) -> None:
    assert compact_json(value) == _stdlib(value)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=8))
def test_floats_read_back_the_same(values: list[float]) -> None:
    assert json.loads(compact_json({"x": values})) == {"x": values}


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_refused_not_written_as_null(bad: float) -> None:
    with pytest.raises(InputError):
        compact_json({"score": [1, bad]})


def test_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(InputError):
        compact_json({"name": "broken \ud800"})


def test_a_circular_value_is_refused() -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(InputError):
        compact_json({"x": loop})


class _Colour(enum.StrEnum):
    RED = "red"


@pytest.mark.parametrize(
    "value",
    [
        {"big": 2**80, "small": -(2**70)},  # past orjson's 64 bits
        {1: "int key", None: "null key", 2.5: "float key"},  # json.dumps writes them as strings
        {"colour": _Colour.RED, "list": [_Colour.RED]},  # a str subclass
        {"null": None, "nested": {"none": None}},  # a real null, not a NaN
    ],
)
def test_what_orjson_cannot_write_exactly_is_written_by_json(value: object) -> None:
    assert compact_json(value) == _stdlib(value)


def test_values_json_cannot_write_stay_refused() -> None:
    with pytest.raises(TypeError):
        compact_json({"when": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)})
