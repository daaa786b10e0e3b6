"""Reading what a client sends: strict JSON of bounded depth (see :mod:`chainrule._json`)."""

from __future__ import annotations

from .._json import JSONRefused, strict_loads
from ..errors import InputError

MAX_DEPTH = 8  # nesting levels: the page's deepest message ({"layers": [4, 2]}) has 2
MAX_INT_DIGITS = 20  # a whole number the playground uses has at most 10 digits


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
