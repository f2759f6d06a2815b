"""The work one BPMN expression or script may do: loop steps, seconds and the size of what it builds.

The sandbox (engine/runtime/sandbox.py) keeps expressions away from the system; this module keeps them
from exhausting it. Without it ``'x' * 10**9`` allocated a gigabyte, three nested comprehensions over
``range(999)`` ran for hours and ``'ab' * 999 * 999 * 999`` took the worker's memory: a process file
could hang a worker thread or the whole service.

Every evaluation gets a fresh ``Budget``. The compiled code reaches it through names the sandbox's
compiler inserts and a BPMN author cannot write (they start with ``_``): ``_getiter_`` counts each step
of every ``for`` loop and comprehension; ``_mul_``, ``_add_``, ``_pow_``, ``_lshift_`` and ``_mod_``
check the size of a result *before* Python builds it. Sizes add up over the evaluation (a loop building
many large strings is stopped as surely as one huge string), so the memory one evaluation can take is
bounded by ``MAX_UNITS`` items or characters plus its steps.

A violation raises ``BudgetExceeded`` (a ``SandboxViolation``): at deploy time when the expression is
constant (``static_value``), at run time as a failed step naming the element; the transaction rolls back
and nothing of the instance changes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from typing import Any


class SandboxViolation(Exception):
    """An expression tried something the sandbox does not allow."""


class BudgetExceeded(SandboxViolation):
    """An expression needed more steps, time or memory than one evaluation may take."""


# Loop steps (items of all for-loops and comprehensions together) one evaluation may take.
MAX_STEPS = 100_000
# Wall-clock seconds one evaluation may run (helper functions such as deadline() count too).
MAX_SECONDS = 2.0
# Items or characters all sequence-building operators of one evaluation may create together.
MAX_UNITS = 1_000_000
# Bits of an integer an arithmetic operator may produce (about 3,000 decimal digits).
MAX_INT_BITS = 10_000
# Widths and precisions in '%' formatting: '%0999999999d' % 1 would build a gigabyte.
MAX_FORMAT_WIDTH = 1_000

_SEQUENCES = (str, bytes, list, tuple)
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Budget:
    """What one evaluation has used so far; its methods are the guards the compiled code calls."""

    __slots__ = ("deadline", "steps", "units")

    def __init__(self, *, seconds: float = MAX_SECONDS) -> None:
        self.steps = 0
        self.units = 0
        self.deadline = time.monotonic() + seconds

    # ----------------------------------------------------------------- steps and time
    def tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise BudgetExceeded(f"the expression took more than {MAX_STEPS:,} loop steps")
        if time.monotonic() > self.deadline:
            raise BudgetExceeded(f"the expression ran longer than {MAX_SECONDS:g} seconds")

    def iterate(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """``_getiter_``: every item a loop or comprehension takes is one step."""
        self.tick()
        for item in iterable:
            self.tick()
            yield item

    # ----------------------------------------------------------------- sizes
    def _spend(self, units: int, what: str) -> None:
        self.units += max(units, 0)
        if self.units > MAX_UNITS:
            raise BudgetExceeded(f"{what} would build more than {MAX_UNITS:,} items or characters")

    def _int_bits(self, bits: int, what: str) -> None:
        if bits > MAX_INT_BITS:
            raise BudgetExceeded(f"{what} would produce an integer of more than {MAX_INT_BITS:,} bits")

    def mul(self, a: Any, b: Any) -> Any:
        if isinstance(a, _SEQUENCES) and _is_int(b):
            self._spend(len(a) * b, "'*'")
        elif isinstance(b, _SEQUENCES) and _is_int(a):
            self._spend(len(b) * a, "'*'")
        elif _is_int(a) and _is_int(b):
            self._int_bits(a.bit_length() + b.bit_length(), "'*'")
        return a * b

    def add(self, a: Any, b: Any) -> Any:
        if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
            self._spend(len(a) + len(b), "'+'")
        return a + b

    def pow(self, a: Any, b: Any) -> Any:
        if _is_int(a) and _is_int(b) and b > 0:
            self._int_bits(max(a.bit_length() - 1, 1) * b, "'**'")
        return a**b

    def lshift(self, a: Any, b: Any) -> Any:
        if _is_int(a) and _is_int(b):
            self._int_bits(a.bit_length() + b, "'<<'")
        return a << b

    def mod(self, a: Any, b: Any) -> Any:
        if isinstance(a, str):
            for width, precision in _PERCENT_SPEC.findall(a):
                for part in (width, precision):
                    if part == "*" or (part and int(part) > MAX_FORMAT_WIDTH):
                        raise BudgetExceeded(
                            f"'%' formatting with a width or precision above {MAX_FORMAT_WIDTH} is not allowed"
                        )
            self._spend(len(a), "'%'")
        return a % b

    def inplace(self, op: str, a: Any, b: Any) -> Any | None:
        """The guarded form of an augmented assignment, or None when ``op`` needs no guard."""
        guarded = {"*=": self.mul, "+=": self.add}.get(op)
        return guarded(a, b) if guarded is not None else None

    def guards(self) -> dict[str, Any]:
        """The names the compiled code calls (see sandbox ``_GuardingTransformer``)."""
        return {
            "_getiter_": self.iterate,
            "_mul_": self.mul,
            "_add_": self.add,
            "_pow_": self.pow,
            "_lshift_": self.lshift,
            "_mod_": self.mod,
        }


def check_format_spec(spec: str) -> None:
    """An f-string's format spec (``f"{x:>999999999}"``) may not ask for a huge width or precision."""
    for number in re.findall(r"\d+", spec):
        if int(number) > MAX_FORMAT_WIDTH:
            raise BudgetExceeded(f"a format width or precision above {MAX_FORMAT_WIDTH} is not allowed")
