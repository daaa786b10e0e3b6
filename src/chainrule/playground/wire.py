"""Reading what a client sends: bounded JSON, and short echoes of its values in error messages.

Python's ``json`` recurses once per nesting level (a few thousand ``[`` raise RecursionError),
accepts ``NaN`` and ``Infinity`` (not JSON), turns ``1e400`` into infinity, parses ints of
thousands of digits slowly and keeps the last of two equal keys. :func:`parse_json` refuses all
of these before or while parsing, with a message that says what to send instead.
"""

from __future__ import annotations

import json
import math
import reprlib

from ..errors import InputError

MAX_DEPTH = 8  # nesting levels: the page's deepest message ({"layers": [4, 2]}) has 2
MAX_INT_DIGITS = 20  # a whole number the playground uses has at most 10 digits

_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = _repr.maxlong = 40
_repr.maxlist = _repr.maxdict = 8
_repr.maxlevel = 3


def shown(value: object) -> str:
    """``repr(value)`` cut short, for echoing a client's value in an error message."""
    return _repr.repr(value)


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


def parse_json(data: bytes | str, what: str = "the request body") -> object:
    """Parse ``data`` as strict JSON of at most MAX_DEPTH levels; InputError says what is wrong."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{what} is not UTF-8 text; send JSON encoded as UTF-8") from None
    if nesting_depth(data) > MAX_DEPTH:
        raise InputError(
            f"{what} nests lists or objects more than {MAX_DEPTH} levels deep; "
            "the playground's messages are flat"
        )
    try:
        return json.loads(
            data,
            parse_constant=_no_constant,
            parse_int=_int,
            parse_float=_float,
            object_pairs_hook=_unique_keys,
        )
    except InputError as exc:
        raise InputError(f"{what} {exc}") from None
    except ValueError as exc:  # JSONDecodeError says where
        raise InputError(f"{what} is not valid JSON ({exc})") from None


def _no_constant(name: str) -> float:
    raise InputError(f"holds {name}, which is not a JSON number; send finite numbers")


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise InputError(
            f"holds a whole number of {len(text.lstrip('-'))} digits; "
            f"numbers here have at most {MAX_INT_DIGITS}"
        )
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InputError(f"holds the number {shown(text)}, beyond the range of a float")
    return value


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:  # json would keep the last silently; the sender meant one of them
            raise InputError(f"gives the key {shown(key)} twice in one object; give it once")
        seen.add(key)
    return dict(pairs)
