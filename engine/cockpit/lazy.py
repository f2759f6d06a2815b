"""A sequence of figures decoded only as far as a page reads it (issue 16, the deadlines page at province scale).

Why: the deadlines snapshot holds up to 2000 tasks, and decoding all of them (the payload's JSON, then some
4,500 dataclasses) was four fifths of the page, which shows 20 groups of five tasks (a group's page: 50).
Keeping decoded snapshots per process cost memory, and a faster JSON parser gained too little: the work
itself had to go. So a ``LazyList`` in a snapshot's payload (engine/cockpit/snapshots.py) is its length and
its items' JSON as one string: the payload's ``json.loads`` only scans that string, ``len`` needs nothing
more, and the items are parsed and built when they are read. Parsing goes item by item from the front
(a preview's five tasks parse five), except that asking for every item parses the string at once (the
export); an item is built (its dataclass) only when it is read.

Computed live, a ``LazyList`` simply holds its list. Either way it compares equal to a list, a tuple or
another ``LazyList`` of equal items, so figure sets read back from a snapshot equal the live ones.

Not thread-safe while undecoded: a decoded snapshot belongs to the request that read it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")

_MISSING: Any = object()  # an item not built yet
_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace (snapshots write none; other writers may)


def _after_space(text: str, pos: int) -> int:
    found = _SPACE.match(text, pos)
    return found.end() if found else pos


class LazyList(Sequence[T], Generic[T]):
    """A read-only sequence whose items may still be JSON (see the module docstring)."""

    __slots__ = ("_build", "_items", "_length", "_pos", "_raw", "_text", "_unbuilt")

    def __init__(self, items: Iterable[T] = ()) -> None:
        self._items: list[T] | None = list(items)
        self._length = len(self._items)
        self._text: str | None = None  # the items' JSON array, while some item is not built yet
        self._build: Callable[[Any], T] | None = None
        self._raw: list[Any] = []  # the items parsed so far, in order
        self._pos = 0  # where in ``_text`` the next item starts
        self._unbuilt = 0

    @classmethod
    def from_json(cls, length: int, text: str, build: Callable[[Any], T]) -> LazyList[T]:
        """``length`` items held as ``text`` (a JSON array), each made by ``build`` from its JSON value
        when first read. Only the shape is checked here; the items are checked as they are parsed."""
        if not isinstance(length, int) or isinstance(length, bool) or length < 0:
            raise ValueError(f"a lazy list's length must be a count, not {length!r}")
        if not isinstance(text, str) or not text.startswith("["):
            raise ValueError("a lazy list's items must be a JSON array")
        made = cls()
        made._length, made._text, made._build, made._pos = length, text, build, 1
        made._items, made._unbuilt = None, length
        return made

    @property
    def decoded(self) -> bool:
        """Whether every item is built (always, for a list computed live)."""
        return self._unbuilt == 0

    def source(self) -> str | None:
        """The JSON the items were read from while none has been read yet (re-encoding then costs
        nothing); None once any item was built or for a list computed live."""
        return self._text if self._items is None else None

    # ----------------------------------------------------------------------- decoding
    def _parse_to(self, stop: int) -> None:
        """Parse the first ``stop`` items' JSON (not yet building them)."""
        raw, text = self._raw, self._text
        if len(raw) >= stop or text is None:
            return
        if not raw and stop >= self._length:  # everything wanted: one pass of the C parser
            every = json.loads(text)
            if not isinstance(every, list) or len(every) != self._length:
                raise ValueError(f"a lazy list of {self._length} items holds another number")
            self._raw = every
            return
        pos = self._pos
        while len(raw) < stop:
            value, pos = _DECODER.raw_decode(text, _after_space(text, pos))
            raw.append(value)
            pos = _after_space(text, pos)
            if text[pos : pos + 1] not in (",", "]"):
                raise ValueError(f"a lazy list's JSON is malformed at {pos}")
            pos += 1
        self._pos = pos

    def _item(self, index: int) -> T:
        items = self._items
        if items is None:
            items = self._items = [_MISSING] * self._length
        value = items[index]
        if value is _MISSING:
            self._parse_to(index + 1)
            assert self._build is not None
            value = items[index] = self._build(self._raw[index])
            self._unbuilt -= 1
            if not self._unbuilt:  # every item built: the JSON is no longer needed
                self._text, self._build, self._raw = None, None, []
        return value

    # ----------------------------------------------------------------------- the sequence
    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        """An item, or a slice as a plain list (of those items only: the rest stay undecoded)."""
        if isinstance(index, slice):
            wanted = range(*index.indices(self._length))
            if wanted and self._unbuilt:
                self._parse_to(max(wanted[0], wanted[-1]) + 1)
            return [self._item(i) for i in wanted]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("lazy list index out of range")
        return self._item(index)

    def __iter__(self) -> Iterator[T]:
        if self._unbuilt:
            self._parse_to(self._length)
        for i in range(self._length):
            yield self._item(i)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyList):
            if self._length != other._length:
                return False
            text = self.source()
            if text is not None and text == other.source():
                return True  # the same JSON read by the same type: equal without decoding
        elif not isinstance(other, list | tuple):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # mutable in its cache, and equal to lists: like a list

    def __reduce__(self) -> tuple[Any, ...]:
        """Copied and pickled as its items (``dataclasses.asdict`` deep-copies what is not a list)."""
        return (LazyList, (list(self),))

    def __repr__(self) -> str:
        return f"LazyList({list(self)!r})"
