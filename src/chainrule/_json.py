"""Strict, bounded JSON reading for text that comes from outside: model files, the playground.

Python's ``json`` recurses once per nesting level (a few thousand ``[`` raise RecursionError),
accepts ``NaN`` and ``Infinity`` (not JSON), turns ``1e400`` into infinity, parses integers of
thousands of digits slowly and keeps the last of two equal keys silently. :func:`strict_loads`
refuses each of these with a :class:`JSONRefused` whose message completes a sentence about the
text ("... nests lists or objects more than 32 levels deep"); callers prefix what the text is.
"""

from __future__ import annotations

import json
import math

from ._checks import show


class JSONRefused(ValueError):
    """The text is not JSON, or is JSON this reader refuses; the message says which."""


def nesting_depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` in JSON text, outside strings; linear time."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def strict_loads(text: str, max_depth: int, max_int_digits: int | None = None) -> object:
    """``json.loads(text)`` refusing deep nesting, NaN/Infinity, floats beyond range, integers
    of more than ``max_int_digits`` digits and repeated keys; raises :class:`JSONRefused`."""
    if nesting_depth(text) > max_depth:  # before json recurses into it
        raise JSONRefused(f"nests lists or objects more than {max_depth} levels deep")

    def integer(literal: str) -> int:
        digits = len(literal.lstrip("-"))
        if max_int_digits is not None and digits > max_int_digits:
            raise JSONRefused(
                f"holds a whole number of {digits} digits; at most {max_int_digits} are allowed"
            )
        return int(literal)

    try:
        return json.loads(
            text,
            parse_constant=_no_constant,
            parse_int=integer,
            parse_float=_finite_float,
            object_pairs_hook=_unique_keys,
        )
    except JSONRefused:
        raise
    except (ValueError, RecursionError) as exc:  # JSONDecodeError says where
        raise JSONRefused(f"is not JSON ({exc})") from None


def _no_constant(name: str) -> float:
    raise JSONRefused(f"holds {name}, which is not a JSON number; write finite numbers")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):  # 1e400 would read as infinity
        raise JSONRefused(f"holds the number {show(literal)}, beyond float range")
    return value


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:  # json would keep the last silently; the writer meant one of them
            raise JSONRefused(f"repeats the key {show(key)} in one object")
        seen.add(key)
    return dict(pairs)
