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

import contextlib
import json
import os
import signal
import struct
import tempfile
import threading
from pathlib import Path

import numpy as np

from .errors import ChainruleError, ModelFileError

MAGIC = b"\x89CRNET\r\n"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<8sIQ")
_ALIGN = 64
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_JSON_DEPTH = 32
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
    with _signals_deferred():
        _write_atomically(path, [prefix, header, b"\0" * pad, *blobs])
    return path


@contextlib.contextmanager
def _signals_deferred():
    """Hold SIGINT/SIGTERM until the block ends, so a Ctrl-C cannot strand a temporary file.

    A signal that arrives meanwhile is re-delivered (KeyboardInterrupt raised) as soon as the
    file is in place. Python runs signal handlers in the main thread only, so elsewhere the
    block runs as it is (its except-clause still removes the temporary file).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {
        sig: signal.signal(sig, lambda signum, frame: caught.append(signum)) for sig in held
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for sig in caught[:1]:
        handler = previous[sig]
        if callable(handler):
            handler(sig, None)
        elif handler == signal.SIG_DFL:
            os.kill(os.getpid(), sig)


def _write_atomically(path: Path, parts: list[bytes]) -> None:
    parent = path.parent
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ModelFileError(f"path={str(path)!r} cannot be written: {exc.strerror}") from None
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes it private; a model file is not
        with os.fdopen(fd, "wb") as f:
            for part in parts:
                f.write(part)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:  # includes KeyboardInterrupt: never leave a half-written file
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ModelFileError(f"path={str(path)!r} cannot be written: {exc.strerror}") from None
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _as_path(path: object, name: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise ModelFileError(f"{name}={path!r} must be a file path (str or pathlib.Path)")
    return Path(path)


def _reject_duplicates(pairs: list[tuple[str, object]]) -> dict:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ModelFileError(f"the model header repeats the key {dup!r}; the file is corrupt")
    return dict(pairs)


def _depth_ok(text: str) -> bool:
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return False
        elif ch in "]}":
            depth -= 1
    return True


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
        if not _depth_ok(text):
            raise ModelFileError(f"{str(path)!r} is corrupt: its header nests too deeply")
        try:
            header = json.loads(text, object_pairs_hook=_reject_duplicates)
        except ModelFileError:
            raise
        except (ValueError, RecursionError) as exc:
            raise ModelFileError(
                f"{str(path)!r} is corrupt: its header is not JSON ({exc})"
            ) from None
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
        or not all(type(d) is int and 0 <= d <= 2**31 for d in shape)
    ):
        raise ModelFileError(bad + f"array {name!r} has an invalid shape")
    for value in (offset, nbytes):
        if type(value) is not int or value < 0:
            raise ModelFileError(bad + f"array {name!r} has an invalid offset or size")
    itemsize = np.dtype(code).itemsize
    if int(np.prod(shape, dtype=object)) * itemsize != nbytes:
        raise ModelFileError(bad + f"array {name!r}: its size does not match its shape")
    if offset + nbytes > data_size:
        raise ModelFileError(bad + f"array {name!r} lies past the end of the file (truncated?)")
    f.seek(start + offset)
    data = f.read(nbytes)
    if len(data) != nbytes:
        raise ModelFileError(bad + f"array {name!r} is truncated")
    array = np.frombuffer(data, dtype=code).reshape(shape).astype(_DTYPES[code])
    return name, array


# ---------------------------------------------------------------------- networks


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
        "metadata": getattr(net, "metadata", {}),
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
    from .layers import Dense
    from .network import Network

    header, arrays = read_model_file(path)
    bad = f"{str(path)!r} is corrupt: "
    config = header.get("network")
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ModelFileError(bad + "it has no network description")
    try:
        layers = []
        for i, spec in enumerate(config["layers"]):
            if not isinstance(spec, dict):
                raise ModelFileError(bad + "a layer description is not an object")
            # Check the declared size against the stored array before allocating anything.
            stored = arrays.get(f"layers.{i}.W")
            if stored is None or list(stored.shape) != [spec["n_in"], spec["n_out"]]:
                raise ModelFileError(bad + f"layer {i} W is missing or has the wrong shape")
            kwargs = {"alpha": spec["alpha"]} if "alpha" in spec else {}
            layers.append(
                Dense(
                    spec["n_in"],
                    spec["n_out"],
                    _str(spec["activation"]),
                    bias=_bool(spec["bias"]),
                    init="zeros",
                    **kwargs,
                )
            )
        net = Network(
            layers,
            loss=_str(config["loss"]),
            dtype=_str(config["dtype"]),
            l1=config.get("l1", 0.0),
            l2=config.get("l2", 0.0),
        )
        net.seed = config.get("seed") if type(config.get("seed")) is int else None
    except ModelFileError:
        raise
    except ChainruleError as exc:
        raise ModelFileError(bad + f"its network description is invalid ({exc})") from None
    except (KeyError, TypeError) as exc:
        raise ModelFileError(bad + f"its network description lacks {exc}") from None
    for i, layer in enumerate(net.layers):
        for key in ("W", "b"):
            target = getattr(layer, key)
            if target is None:
                continue
            array = arrays.pop(f"layers.{i}.{key}", None)
            if array is None or array.shape != target.shape:
                raise ModelFileError(bad + f"layer {i} {key} is missing or has the wrong shape")
            target[...] = array
            if not np.isfinite(target).all():
                raise ModelFileError(bad + f"layer {i} {key} holds NaN or infinity")
    _restore_rng(net, header.get("rng"), bad)
    metadata = header.get("metadata", {})
    net.metadata = metadata if isinstance(metadata, dict) else {}
    return net, arrays, header


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise ModelFileError(f"expected a string in the network description, got {value!r}")
    return value


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ModelFileError(f"expected true/false in the network description, got {value!r}")
    return value


def _restore_rng(net, rng: object, bad: str) -> None:
    if rng is None:
        return
    try:
        state = {
            "bit_generator": "PCG64",
            "state": {"state": int(rng["state"]), "inc": int(rng["inc"])},
            "has_uint32": int(rng["has_uint32"]),
            "uinteger": int(rng["uinteger"]),
        }
        if not (0 <= state["state"]["state"] < 2**128 and 0 <= state["state"]["inc"] < 2**128):
            raise ValueError("out of range")
        net.rng.bit_generator.state = state
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(bad + f"its random-generator state is invalid ({exc})") from None
