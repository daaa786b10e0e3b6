"""Reading what a client sends: bounded strict JSON (see :mod:`chainrule._json`), and short
echoes of its values in error messages."""

from __future__ import annotations

import reprlib

from .._json import JSONRefused, strict_loads
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


def parse_json(data: bytes | str, what: str = "the request body") -> object:
    """Parse ``data`` as strict JSON of at most MAX_DEPTH levels; InputError says what is wrong."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{what} is not UTF-8 text; send JSON encoded as UTF-8") from None
    try:
        return strict_loads(data, MAX_DEPTH, MAX_INT_DIGITS)
    except JSONRefused as exc:
        raise InputError(f"{what} {exc}") from None
