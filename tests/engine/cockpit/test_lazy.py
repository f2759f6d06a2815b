"""The lazily decoded sequence of engine/cockpit/lazy.py: a list computed live, or JSON read from a
snapshot and decoded only as far as it is read, equal to its items either way."""

from __future__ import annotations

import copy
import json
from unittest import mock

import pytest

from engine.cockpit import lazy
from engine.cockpit.lazy import LazyList


def _counting(values: list[dict[str, int]]) -> tuple[LazyList[tuple[str, int]], list[int]]:
    """A LazyList read from ``values``' JSON, with the list of the values each build was given."""
    built: list[int] = []

    def build(raw: dict[str, int]) -> tuple[str, int]:
        built.append(raw["n"])
        return ("item", raw["n"])

    return LazyList.from_json(len(values), json.dumps(values), build), built


def test_a_live_list_behaves_as_its_items():
    items = LazyList([3, 1, 2])
    assert len(items) == 3 and items[0] == 3 and items[-1] == 2 and items[1:] == [1, 2]
    assert list(items) == [3, 1, 2] and list(reversed(items)) == [2, 1, 3] and 1 in items
    assert items == [3, 1, 2] and items == (3, 1, 2) and items != [3, 1]
    assert [3, 1, 2] == items  # noqa: SIM300 - the reflected comparison (list.__eq__ gives way to ours)
    assert items != [3, 1, 4] and items != "312" and items == LazyList([3, 1, 2])
    assert items.decoded and items.source() is None
    assert not LazyList() and LazyList() == [] and bool(items)
    with pytest.raises(IndexError):
        items[3]
    with pytest.raises(TypeError):
        hash(items)


def test_nothing_is_parsed_nor_built_until_an_item_is_read():
    values = [{"n": n} for n in range(10)]
    with mock.patch.object(lazy.json, "loads", wraps=json.loads) as loads:
        items, built = _counting(values)
        assert len(items) == 10 and bool(items) and not items.decoded
        assert loads.call_count == 0 and built == [] and items._raw == []
        assert items[:2] == [("item", 0), ("item", 1)]
        assert built == [0, 1] and len(items._raw) == 2 and loads.call_count == 0  # parsed item by item
        assert items[5] == ("item", 5) and built == [0, 1, 5] and len(items._raw) == 6
        assert items[-1] == ("item", 9) and items[1] == ("item", 1) and built == [0, 1, 5, 9]  # built once
    assert list(items) == [("item", n) for n in range(10)] and built == [0, 1, 5, 9, 2, 3, 4, 6, 7, 8]
    assert items.decoded and items._text is None  # the JSON is dropped once every item is built


def test_reading_everything_parses_the_string_at_once():
    with mock.patch.object(lazy.json, "loads", wraps=json.loads) as loads:
        items, built = _counting([{"n": n} for n in range(4)])
        assert [n for _, n in items] == [0, 1, 2, 3] and loads.call_count == 1 and built == [0, 1, 2, 3]
    again, _ = _counting([{"n": n} for n in range(4)])
    assert again[::-1] == [("item", n) for n in (3, 2, 1, 0)] and again[2:1] == [] and again[10:] == []


def test_equality_with_lists_tuples_and_other_lazy_lists():
    values = [{"n": n} for n in range(3)]
    a, built_a = _counting(values)
    b, built_b = _counting(values)
    assert a == b and built_a == built_b == []  # the same JSON: equal without decoding
    assert a == [("item", 0), ("item", 1), ("item", 2)] and a == tuple(a) and a == LazyList(list(a))
    c, _ = _counting([{"n": 0}, {"n": 1}, {"n": 7}])
    assert a != c and a != list(a)[:2]
    empty, _ = _counting([])
    assert not empty and empty == [] and list(empty) == []


def test_copies_and_pickles_are_the_items():
    items, _ = _counting([{"n": 1}, {"n": 2}])
    copied = copy.deepcopy(items)
    assert isinstance(copied, LazyList) and copied.decoded and copied == items
    assert repr(LazyList([1])) == "LazyList([1])"


def test_a_malformed_lazy_list_is_refused_clearly():
    with pytest.raises(ValueError, match="count"):
        LazyList.from_json(-1, "[]", int)
    with pytest.raises(ValueError, match="count"):
        LazyList.from_json(True, "[]", int)
    with pytest.raises(ValueError, match="JSON array"):
        LazyList.from_json(1, '{"n":1}', int)
    with pytest.raises(ValueError, match="another number"):
        list(LazyList.from_json(3, "[1,2]", int))
    with pytest.raises(ValueError):
        LazyList.from_json(3, "[1,2]", int)[2]  # fewer items than said: found when read
    with pytest.raises(ValueError, match="malformed"):
        LazyList.from_json(2, "[1;2]", int)[0]
