"""The model file: one file of JSON metadata plus raw little-endian arrays. Never pickle.

Layout::

    MAGIC (8 bytes)  b"\\x89CRNET\\r\\n"  (PNG-style: catches text-mode corruption)
    version          uint32 little-endian
    header_len       uint64 little-endian
    header           UTF-8 JSON, header_len bytes
    padding          zeros up to a multiple of 64 bytes
    data             the arrays, each at header["arrays"][i]["offset"] from the data start

Loading reads only what the header declares, checks every field's type and bound before use,
and builds the network from its description, so a crafted file can fail but never run code.
Writing goes to a temporary file in the same folder, then ``os.replace``: a crash mid-write
leaves the old file intact.
"""

from __future__ import annotations

import json
import math
import os
import struct
from pathlib import Path
from typing import NoReturn

import numpy as np

from . import files
from ._checks import interval, show, within
from ._json import JSONRefused, strict_loads
from .errors import ChainruleError, ModelFileError

MAGIC = b"\x89CRNET\r\n"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<8sIQ")
_ALIGN = 64
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_JSON_DEPTH = 32
MAX_DIM = 2**31  # the largest array dimension (and layer width) a file may declare
# The most elements of a stored array, zero dimensions left out: a shape like
# [2**31, 2**31, 0] holds no data but would overflow NumPy's size arithmetic.
MAX_ELEMENTS = 2**40
_DTYPES = {"<f4": np.float32, "<f8": np.float64, "<i8": np.int64}


def _header_bytes(header: dict) -> bytes:
    return json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")


def write_model_file(path: str | os.PathLike, meta: dict, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``meta`` (JSON-ready) and named ``arrays`` to ``path`` atomically."""
    path = _as_path(path, "path")
    entries, blobs, offset = [], [], 0
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        code = array.dtype.newbyteorder("<").str
        if code not in _DTYPES:
            raise ModelFileError(f"array {name!r} has dtype {array.dtype}, which files cannot hold")
        data = array.astype(code, copy=False).tobytes()
        entries.append(
            {
                "name": name,
                "dtype": code,
                "shape": list(array.shape),
                "offset": offset,
                "nbytes": len(data),
            }
        )
        pad = (-len(data)) % _ALIGN
        blobs.append(data + b"\0" * pad)
        offset += len(data) + pad
    if blobs:  # no padding after the last array: the file ends where its data ends
        blobs[-1] = blobs[-1][: entries[-1]["nbytes"]]
    try:
        header = _header_bytes({"format": "chainrule-model", **meta, "arrays": entries})
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"model metadata cannot be written as JSON: {exc}") from None
    prefix = _PREFIX.pack(MAGIC, FORMAT_VERSION, len(header))
    pad = (-(len(prefix) + len(header))) % _ALIGN
    parent = path.parent
    if not parent.is_dir():
        raise ModelFileError(
            f"path={str(path)!r}: folder {str(parent)!r} does not exist; create it first"
        )
    files.write_atomically(path, [prefix, header, b"\0" * pad, *blobs], ModelFileError)
    return path


def _as_path(path: object, name: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise ModelFileError(f"{name}={path!r} must be a file path (str or pathlib.Path)")
    return Path(path)


def _what_is_it(head: bytes) -> str:
    if head[:1] == b"\x80" or head[:2] in (b"(d", b"(l", b"}q", b"]q"):
        return "it looks like a Python pickle, which chainrule never loads (it can run code)"
    if head[:2] == b"PK":
        return "it looks like a zip or .npz archive"
    if head[:6] == b"\x93NUMPY":
        return "it looks like a .npy array"
    if head[:4] == b"PAR1":
        return "it looks like a Parquet file"
    if head[:1] in (b"{", b"["):
        return "it looks like a JSON text file"
    return "its first bytes are not a chainrule model header"


def read_model_file(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and validate a model file; returns (header without "arrays", arrays by name)."""
    path = _as_path(path, "path")
    try:
        f = open(path, "rb")  # noqa: SIM115 (closed by the with-block below)
    except FileNotFoundError:
        raise ModelFileError(f"model file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise ModelFileError(f"model file {str(path)!r} is a folder, not a file") from None
    except OSError as exc:
        raise ModelFileError(f"model file {str(path)!r} cannot be read: {exc.strerror}") from None
    with f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(_PREFIX.size)
        if len(head) < _PREFIX.size or head[:8] != MAGIC:
            raise ModelFileError(
                f"{str(path)!r} is not a chainrule model file: {_what_is_it(head)}; "
                "save models with net.save() and load them with cr.load()"
            )
        _, version, header_len = _PREFIX.unpack(head)
        if version > FORMAT_VERSION or version < 1:
            raise ModelFileError(
                f"{str(path)!r} has model format version {version}; this chainrule reads "
                f"version {FORMAT_VERSION} (upgrade chainrule to read newer files)"
            )
        if header_len > MAX_HEADER_BYTES or _PREFIX.size + header_len > size:
            raise ModelFileError(f"{str(path)!r} is truncated or corrupt: bad header length")
        raw = f.read(header_len)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ModelFileError(f"{str(path)!r} is corrupt: its header is not UTF-8") from None
        try:
            header = strict_loads(text, MAX_JSON_DEPTH)
        except JSONRefused as exc:
            raise ModelFileError(f"{str(path)!r} is corrupt: its header {exc}") from None
        if not isinstance(header, dict) or header.get("format") != "chainrule-model":
            raise ModelFileError(f"{str(path)!r} is corrupt: the header is not a model description")
        start = _PREFIX.size + header_len
        start += (-start) % _ALIGN
        data_size = size - start
        arrays = {}
        entries = header.pop("arrays", None)
        if not isinstance(entries, list):
            raise ModelFileError(f"{str(path)!r} is corrupt: the header lists no arrays")
        end = 0
        for entry in entries:
            name, array = _read_array(f, entry, start, data_size, path)
            if name in arrays:
                raise ModelFileError(f"{str(path)!r} is corrupt: array {name!r} appears twice")
            arrays[name] = array
            end = max(end, entry["offset"] + entry["nbytes"])
        if end != max(data_size, 0):
            raise ModelFileError(
                f"{str(path)!r} is corrupt: its size does not match its header (truncated?)"
            )
    return header, arrays


def _read_array(f, entry: object, start: int, data_size: int, path: Path):
    bad = f"{str(path)!r} is corrupt: "
    if not isinstance(entry, dict):
        raise ModelFileError(bad + "an array entry is not an object")
    name, code, shape = entry.get("name"), entry.get("dtype"), entry.get("shape")
    offset, nbytes = entry.get("offset"), entry.get("nbytes")
    if not isinstance(name, str) or code not in _DTYPES:
        raise ModelFileError(bad + f"array entry {name!r} has an unknown name or dtype {code!r}")
    if (
        not isinstance(shape, list)
        or len(shape) > 4
        or not all(type(d) is int and 0 <= d <= MAX_DIM for d in shape)
    ):
        raise ModelFileError(bad + f"array {name!r} has an invalid shape {show(shape)}")
    for value in (offset, nbytes):
        if type(value) is not int or value < 0:
            raise ModelFileError(bad + f"array {name!r} has an invalid offset or size")
    itemsize = np.dtype(code).itemsize
    if math.prod(shape) * itemsize != nbytes:
        raise ModelFileError(bad + f"array {name!r}: its size does not match its shape")
    if math.prod(d for d in shape if d) > MAX_ELEMENTS:  # before NumPy sees the shape
        raise ModelFileError(bad + f"array {name!r} has an invalid shape {show(shape)}")
    if offset + nbytes > data_size:
        raise ModelFileError(bad + f"array {name!r} lies past the end of the file (truncated?)")
    f.seek(start + offset)
    data = f.read(nbytes)
    if len(data) != nbytes:
        raise ModelFileError(bad + f"array {name!r} is truncated")
    array = np.frombuffer(data, dtype=code).reshape(shape).astype(_DTYPES[code])
    return name, array


# ---------------------------------------------------------------------- header fields


def _plain(bound: int) -> str:
    """A bound as a reader takes it in: 2**63 - 1 rather than 9223372036854775807."""
    for power, offset in ((bound, ""), (bound + 1, " - 1")):
        if power >= 2**32 and power & (power - 1) == 0:
            return f"2**{power.bit_length() - 1}{offset}"
    return str(bound)


class Fields:
    """Checks of the values of a model file's JSON header. Every refusal is a ModelFileError
    that names the field, says what is wrong and ends with ``fix``.

    JSON needs care: ``true`` is an int to Python, integers have no size limit (10**400 has no
    float), and Python's parser reads ``NaN``, ``Infinity`` and ``1e400`` (infinity).
    """

    def __init__(self, where: str, fix: str) -> None:
        self.where, self.fix = where, fix  # e.g. "'m.crnet' is corrupt: field"

    def fail(self, name: str, problem: str) -> NoReturn:
        raise ModelFileError(f"{self.where} {name!r} {problem}; {self.fix}")

    def mapping(self, value: object, name: str, required: tuple = (), optional: tuple = ()) -> dict:
        """An object with all the ``required`` keys and no key outside ``optional``."""
        if not isinstance(value, dict):
            self.fail(name, f"is {show(value)}, not an object")
        for key in required:
            if key not in value:
                self.fail(name, f"lacks the key {key!r}")
        for key in value:
            if key not in required and key not in optional:
                known = ", ".join(map(repr, (*required, *optional))) or "none"
                self.fail(name, f"has the unknown key {show(key)} (known keys: {known})")
        return value

    def integer(self, value: object, name: str, low: int, high: int, why: str = "") -> int:
        """A JSON integer (not ``true``/``false``, not 2.0) in [low, high]."""
        if type(value) is not int or not low <= value <= high:
            why = f" ({why})" if why else ""
            self.fail(
                name,
                f"is {show(value)}; it must be a whole number from {_plain(low)} to "
                f"{_plain(high)}{why}",
            )
        return value

    def number(
        self,
        value: object,
        name: str,
        low: float = -math.inf,
        high: float = math.inf,
        *,
        open_low: bool = False,
        open_high: bool = False,
    ) -> float:
        """A finite JSON number (integer or float, not a boolean) within the bounds."""
        if type(value) in (int, float):
            try:
                number = float(value)
            except OverflowError:  # an integer beyond any float
                number = math.inf
            if within(number, low, high, open_low, open_high):
                return number
        bounds = interval(low, high, open_low, open_high)
        bounds = "" if bounds == "any" else f" {bounds}"
        self.fail(name, f"is {show(value)}; it must be a finite number{bounds}")

    def numbers(self, value: object, name: str, lengths: tuple[int, ...], **bounds) -> list:
        """A list of ``lengths[i]`` numbers for some i, each checked by :meth:`number`."""
        if not isinstance(value, list) or len(value) not in lengths:
            want = " or ".join(map(str, sorted(set(lengths))))
            got = f"{len(value)} values" if isinstance(value, list) else show(value)
            self.fail(name, f"holds {got}; it must be a list of {want} numbers")
        return [self.number(v, f"{name}[{i}]", **bounds) for i, v in enumerate(value)]

    def string(self, value: object, name: str, choices: tuple[str, ...] | None = None) -> str:
        """A string, one of ``choices`` when given."""
        if not isinstance(value, str) or (choices is not None and value not in choices):
            one_of = f"one of {', '.join(map(repr, choices))}" if choices else "a string"
            self.fail(name, f"is {show(value)}; it must be {one_of}")
        return value

    def boolean(self, value: object, name: str) -> bool:
        if not isinstance(value, bool):
            self.fail(name, f"is {show(value)}; it must be true or false")
        return value

    def array(self, value: np.ndarray, name: str, like: np.ndarray, what: str) -> np.ndarray:
        """An array of exactly ``like``'s shape and dtype, finite."""
        if value.shape != like.shape or value.dtype != like.dtype:
            self.fail(
                name,
                f"is an array of shape {value.shape} and dtype {value.dtype}; it must have "
                f"shape {like.shape} and dtype {like.dtype}, like {what}",
            )
        if not np.isfinite(value).all():
            self.fail(name, "is an array that holds NaN or infinity")
        return value


# ---------------------------------------------------------------------- networks

_FIX = "the file is damaged or was edited: save the network again with net.save()"
_HEADER_KEYS = ("format", "format_version", "network", "rng", "metadata", "checkpoint")
_NETWORK_KEYS = ("layers", "loss", "dtype", "seed", "l1", "l2")
_RNG_KEYS = ("state", "inc", "has_uint32", "uinteger")


def save(
    net,
    path: str | os.PathLike,
    *,
    extra_arrays: dict | None = None,
    checkpoint: dict | None = None,
) -> Path:
    """Write ``net`` (architecture, weights, rng state, ``net.metadata``) to ``path`` atomically.

    ``extra_arrays`` and ``checkpoint`` (JSON-ready training state) are stored alongside.
    """
    metadata = getattr(net, "metadata", {})
    if not isinstance(metadata, dict):  # refused now rather than by cr.load later
        raise ModelFileError(
            f"net.metadata is {type(metadata).__name__}; it must be a dict of JSON values"
        )
    arrays = {}
    for i, layer in enumerate(net.layers):
        arrays[f"layers.{i}.W"] = layer.W
        if layer.b is not None:
            arrays[f"layers.{i}.b"] = layer.b
    arrays.update(extra_arrays or {})
    state = net.rng.bit_generator.state
    meta = {
        "format_version": FORMAT_VERSION,
        "network": net.config(),
        "rng": {
            "state": str(state["state"]["state"]),
            "inc": str(state["state"]["inc"]),
            "has_uint32": state["has_uint32"],
            "uinteger": state["uinteger"],
        },
        "metadata": metadata,
    }
    if checkpoint is not None:
        meta["checkpoint"] = checkpoint
    return write_model_file(path, meta, arrays)


def load(path: str | os.PathLike):
    """Read a network saved by :meth:`Network.save`. Raises ModelFileError on any bad file."""
    net, _, _ = load_with_arrays(path)
    return net


def load_with_arrays(path: str | os.PathLike):
    """Like :func:`load`, also returning the arrays that are not layer weights and the header
    (for checkpoints): ``(net, arrays, header)``."""
    header, arrays = read_model_file(path)
    bad = f"{str(path)!r} is corrupt: "
    config = header.get("network")
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ModelFileError(bad + "it has no network description")
    fields = Fields(bad + "field", _FIX)
    fields.mapping(header, "header", ("format", "format_version", "network"), _HEADER_KEYS)
    fields.integer(header["format_version"], "format_version", 1, FORMAT_VERSION)
    metadata = header.get("metadata", {})
    if not isinstance(metadata, dict):
        fields.fail("metadata", f"is {show(metadata)}, not an object")
    net = _network(fields, config, arrays, bad)
    for i, layer in enumerate(net.layers):
        for key in ("W", "b"):
            target = getattr(layer, key)
            if target is None:
                continue
            array = arrays.pop(f"layers.{i}.{key}", None)
            if array is None or array.shape != target.shape or array.dtype != target.dtype:
                raise ModelFileError(
                    bad + f"layer {i} {key} is missing or has the wrong shape or dtype"
                )
            if not np.isfinite(array).all():
                raise ModelFileError(bad + f"layer {i} {key} holds NaN or infinity")
            target[...] = array
    if header.get("rng") is not None:
        _restore_rng(net, header["rng"], Fields(bad + "random-generator field", _FIX))
    net.metadata = metadata
    return net, arrays, header


def _network(fields: Fields, config: dict, arrays: dict, bad: str):
    """Build the network a header describes, every field checked before it is used."""
    from .network import Network

    fields.mapping(config, "network", ("layers", "loss", "dtype"), _NETWORK_KEYS)
    if not config["layers"]:
        fields.fail("network.layers", "is empty; a network has at least one layer")
    layers = [_layer(fields, i, spec, arrays, bad) for i, spec in enumerate(config["layers"])]
    seed = config.get("seed")
    seed = None if seed is None else fields.integer(seed, "network.seed", 0, 2**128 - 1)
    try:
        net = Network(
            layers,
            loss=fields.string(config["loss"], "network.loss"),
            dtype=fields.string(config["dtype"], "network.dtype", ("float32", "float64")),
            l1=fields.number(config.get("l1", 0.0), "network.l1", 0.0),
            l2=fields.number(config.get("l2", 0.0), "network.l2", 0.0),
        )
    except ModelFileError:
        raise
    except ChainruleError as exc:  # a loss unknown or unfit for the output, sizes that differ
        raise ModelFileError(bad + f"its network description is invalid ({exc})") from None
    net.seed = seed  # kept for config(); the generator's state comes from "rng"
    return net


def _layer(fields: Fields, i: int, spec: object, arrays: dict, bad: str):
    """One Dense layer; its sizes are checked against the stored W before anything is built."""
    from .activations import ACTIVATIONS
    from .layers import Dense

    name = f"network.layers[{i}]"
    fields.mapping(spec, name, ("n_in", "n_out", "activation", "bias"), ("alpha",))
    n_in = fields.integer(spec["n_in"], f"{name}.n_in", 1, MAX_DIM)
    n_out = fields.integer(spec["n_out"], f"{name}.n_out", 1, MAX_DIM)
    activation = fields.string(spec["activation"], f"{name}.activation", ACTIVATIONS)
    bias = fields.boolean(spec["bias"], f"{name}.bias")
    kwargs = {}
    if activation == "leaky_relu":
        alpha = spec.get("alpha")
        kwargs["alpha"] = fields.number(alpha, f"{name}.alpha", 0, 1, open_low=True, open_high=True)
    elif "alpha" in spec:
        fields.fail(f"{name}.alpha", "is set, but only a leaky_relu layer has one")
    stored = arrays.get(f"layers.{i}.W")
    if stored is None or stored.shape != (n_in, n_out):
        raise ModelFileError(bad + f"layer {i} W is missing or has the wrong shape")
    try:
        return Dense(n_in, n_out, activation, bias=bias, init="zeros", **kwargs)
    except ChainruleError as exc:
        raise ModelFileError(bad + f"its network description is invalid ({exc})") from None


def _decimal(fields: Fields, value: object, name: str) -> int:
    """A 128-bit unsigned integer written as decimal digits (JSON numbers stop at 2**53)."""
    if not (isinstance(value, str) and 0 < len(value) <= 39 and value.isascii()):
        fields.fail(name, f"is {show(value)}; it must be a decimal number in a string")
    if not value.isdigit() or int(value) >= 2**128:
        fields.fail(name, f"is {show(value)}; it must be a decimal number below 2**128")
    return int(value)


def _restore_rng(net, rng: object, fields: Fields) -> None:
    fields.mapping(rng, "rng", _RNG_KEYS)
    net.rng.bit_generator.state = {
        "bit_generator": "PCG64",
        "state": {
            "state": _decimal(fields, rng["state"], "rng.state"),
            "inc": _decimal(fields, rng["inc"], "rng.inc"),
        },
        # PCG64 keeps one spare 32-bit draw: a flag and the value (a C uint32).
        "has_uint32": fields.integer(rng["has_uint32"], "rng.has_uint32", 0, 1),
        "uinteger": fields.integer(rng["uinteger"], "rng.uinteger", 0, 2**32 - 1),
    }
