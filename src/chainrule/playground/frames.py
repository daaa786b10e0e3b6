"""The binary frame format sent over the WebSocket.

A frame is ``[uint32 n][n bytes of UTF-8 JSON][zero padding to a multiple of 8][arrays]``,
little-endian. The JSON holds the scalars (epoch, losses, accuracy, …) and, under ``"blobs"``,
one ``[name, dtype, offset, count]`` entry per array, the offset counted from the start of the
array section. Every offset is a multiple of 8, so the page wraps each array in a typed-array
view without copying.
"""

from __future__ import annotations

import json
import struct

import numpy as np

_TYPES = {np.dtype(np.uint8): "u8", np.dtype(np.float32): "f32"}
_NUMPY = {"u8": np.uint8, "f32": np.float32}


def encode_frame(header: dict, blobs: dict[str, np.ndarray]) -> bytes:
    """Pack ``header`` (JSON-ready, no NaN) and ``blobs`` (uint8 or float32) into one message."""
    arrays = [(name, np.ascontiguousarray(a).ravel()) for name, a in blobs.items()]
    entries, offset = [], 0
    for name, a in arrays:
        entries.append([name, _TYPES[a.dtype], offset, int(a.size)])
        offset = _align(offset + a.nbytes)
    body = json.dumps(dict(header, blobs=entries), separators=(",", ":"), allow_nan=False)
    body = body.encode()
    base = _align(4 + len(body))
    out = bytearray(base + offset)
    struct.pack_into("<I", out, 0, len(body))
    out[4 : 4 + len(body)] = body
    for (_, _, at, _), (_, a) in zip(entries, arrays):
        out[base + at : base + at + a.nbytes] = a.tobytes()
    return bytes(out)


def decode_frame(message: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """The inverse of :func:`encode_frame` (used by the tests and the benchmark)."""
    (n,) = struct.unpack_from("<I", message, 0)
    header = json.loads(message[4 : 4 + n].decode())
    base = _align(4 + n)
    blobs = {
        name: np.frombuffer(message, _NUMPY[kind], count, base + offset)
        for name, kind, offset, count in header["blobs"]
    }
    return header, blobs


def _align(n: int) -> int:
    return (n + 7) // 8 * 8
