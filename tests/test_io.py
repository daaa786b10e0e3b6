"""The model file: round trips, atomic writes, and refusal of anything that is not ours."""

import json
import os
import pickle
import struct

import pytest

import chainrule as cr
from chainrule import io


@pytest.fixture
def net():
    return cr.Network(
        [
            cr.Dense(3, 5, "leaky_relu", alpha=0.2),
            cr.Dense(5, 4, "tanh", bias=False),
            cr.Dense(4, 3, "softmax"),
        ],
        loss="cross_entropy",
        seed=7,
        l2=0.01,
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_is_bit_identical(tmp_path, net, dtype, rng):
    net = net.astype(dtype)
    net.metadata = {"labels": ["a", "b", "c"]}
    path = net.save(tmp_path / "model.crnet")
    loaded = cr.load(path)
    X = rng.normal(size=(20, 3))
    assert loaded.dtype == net.dtype
    assert loaded.predict(X).tobytes() == net.predict(X).tobytes()
    for a, b in zip(net.params, loaded.params):
        assert a.tobytes() == b.tobytes()
    assert loaded.config() == net.config()
    assert loaded.metadata == {"labels": ["a", "b", "c"]}
    assert loaded.layers[0].activation.alpha == 0.2
    assert loaded.layers[1].b is None


def test_rng_state_is_saved_so_training_continues_identically(tmp_path, net, rng):
    X, y = rng.normal(size=(30, 3)), rng.integers(0, 3, 30)
    net.fit(X, y, epochs=2, batch_size=8)
    net.save(tmp_path / "m.crnet")
    again = cr.load(tmp_path / "m.crnet")
    net.fit(X, y, epochs=2, batch_size=8)
    again.fit(X, y, epochs=2, batch_size=8)
    for a, b in zip(net.params, again.params):
        assert a.tobytes() == b.tobytes()


def test_pickle_renamed_to_model_extension_is_refused_and_never_run(tmp_path, net):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.crnet"
    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(cr.ModelFileError, match="pickle"):
        cr.load(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not a chainrule model"),
        (b"PK\x03\x04 zip", "zip"),
        (b"\x93NUMPY\x01\x00", "npy"),
        (b'{"format": "chainrule-model"}', "JSON"),
        (io.MAGIC + struct.pack("<IQ", 99, 2) + b"{}", "version 99"),
        (io.MAGIC + struct.pack("<IQ", 1, 10**12), "header length"),
        (io.MAGIC + struct.pack("<IQ", 1, 4) + b"\xff\xfe\xfd\xfc", "UTF-8"),
        (io.MAGIC + struct.pack("<IQ", 1, 5) + b"nope!", "not JSON"),
    ],
)
def test_malformed_files_give_model_file_errors(tmp_path, content, message):
    path = tmp_path / "bad.crnet"
    path.write_bytes(content)
    with pytest.raises(cr.ModelFileError, match=message):
        cr.load(path)


def _rewrite_header(path, edit):
    raw = path.read_bytes()
    _, version, n = struct.unpack_from("<8sIQ", raw)
    header = json.loads(raw[20 : 20 + n])
    edit(header)
    meta = {k: v for k, v in header.items() if k not in ("format", "arrays")}
    arrays = {}
    # Re-emit with the edited array table but the original data section.
    start = 20 + n + ((-(20 + n)) % 64)
    new = json.dumps(header).encode()
    pad = (-(20 + len(new))) % 64
    path.write_bytes(
        struct.pack("<8sIQ", io.MAGIC, version, len(new)) + new + b"\0" * pad + raw[start:]
    )
    return meta, arrays


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda h: h["arrays"][0].update(shape=[2**31, 2**31]), "size does not match"),
        (lambda h: h["arrays"][0].update(offset=10**9), "past the end"),
        (lambda h: h["arrays"][0].update(dtype="|O"), "dtype"),
        (lambda h: h["network"]["layers"][0].update(n_in=10**9), "wrong shape"),
        (lambda h: h["network"].update(loss="evil"), "loss"),
        (lambda h: h["network"]["layers"][0].update(activation="__import__"), "activation"),
        (lambda h: h.update(rng={"state": "x"}), "random-generator"),
        (lambda h: h.pop("network"), "no network"),
    ],
)
def test_crafted_headers_are_refused(tmp_path, net, edit, message):
    path = net.save(tmp_path / "m.crnet")
    _rewrite_header(path, edit)
    with pytest.raises(cr.ModelFileError, match=message):
        cr.load(path)


def test_deep_json_and_duplicate_keys_are_refused(tmp_path):
    for text, message in [
        (b"[" * 100000 + b"]" * 100000, "nests lists or objects more than 32 levels deep"),
        (b'{"format": "chainrule-model", "format": 1}', "repeats the key"),
    ]:
        path = tmp_path / "x.crnet"
        path.write_bytes(io.MAGIC + struct.pack("<IQ", 1, len(text)) + text)
        with pytest.raises(cr.ModelFileError, match=message):
            cr.load(path)


def test_truncated_file_is_refused(tmp_path, net):
    path = net.save(tmp_path / "m.crnet")
    raw = path.read_bytes()
    for cut in (10, 30, len(raw) - 1):
        path.write_bytes(raw[:cut])
        with pytest.raises(cr.ModelFileError):
            cr.load(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(cr.ModelFileError, match="does not exist"):
        cr.load(tmp_path / "nothing.crnet")
    with pytest.raises(cr.ModelFileError, match="folder"):
        cr.load(tmp_path)


def test_failed_save_keeps_the_old_file(tmp_path, net, monkeypatch):
    path = net.save(tmp_path / "m.crnet")
    before = path.read_bytes()
    net.layers[0].W += 1

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(cr.ModelFileError, match="No space left"):
        net.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.crnet"]  # no temp file left behind


def test_save_into_missing_folder_names_the_path(tmp_path, net):
    with pytest.raises(cr.ModelFileError, match="does not exist"):
        net.save(tmp_path / "no" / "such" / "m.crnet")


def test_save_path_must_be_a_path(net):
    with pytest.raises(cr.ModelFileError, match="path"):
        net.save(42)


def test_saved_file_has_ordinary_permissions(tmp_path, net):
    old = os.umask(0o022)
    try:
        path = net.save(tmp_path / "m.crnet")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def _layer(i, **changes):
    return lambda h: h["network"]["layers"][i].update(changes)


def _entry(**entry):
    return lambda h: h["arrays"].append({"offset": 0, "nbytes": 0, "dtype": "<f4", **entry})


def _as_float64(h):
    h["arrays"][0].update(dtype="<f8", nbytes=h["arrays"][0]["nbytes"] * 2)


# Each was an OverflowError, TypeError or ValueError, or was silently accepted.
@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda h: h["rng"].update(uinteger=-1), "'rng.uinteger'"),
        (lambda h: h["rng"].update(uinteger=2**64), "'rng.uinteger'"),
        (lambda h: h["rng"].update(has_uint32=2), "'rng.has_uint32'"),
        (lambda h: h["rng"].update(has_uint32=True), "'rng.has_uint32'"),
        (lambda h: h["rng"].update(state=" 1_2"), "'rng.state'"),
        (lambda h: h["rng"].update(inc=str(2**128)), "'rng.inc'"),
        (lambda h: h["rng"].update(extra=1), "'rng'"),
        (lambda h: h["network"].update(l1=10**400), "'network.l1'"),
        (lambda h: h["network"].update(l1=-1), "'network.l1'"),
        (lambda h: h["network"].update(l2=True), "'network.l2'"),
        (lambda h: h["network"].update(seed="x"), "'network.seed'"),
        (lambda h: h["network"].update(seed=-1), "'network.seed'"),
        (lambda h: h["network"].update(dtype="float16"), "'network.dtype'"),
        (lambda h: h["network"].update(layers=[]), "'network.layers'"),
        (lambda h: h["network"].update(optimizer="adam"), "'network'"),
        (_layer(0, alpha="x"), r"'network.layers\[0\].alpha'"),
        (_layer(0, alpha=10**400), r"'network.layers\[0\].alpha'"),
        (_layer(0, alpha=1.5), r"'network.layers\[0\].alpha'"),
        (_layer(1, alpha=0.5), r"'network.layers\[1\].alpha'"),
        (_layer(0, n_in=True), r"'network.layers\[0\].n_in'"),
        (_layer(0, n_in=3.0), r"'network.layers\[0\].n_in'"),
        (_layer(0, n_out=2**40), r"'network.layers\[0\].n_out'"),
        (_layer(1, bias=1), r"'network.layers\[1\].bias'"),
        (_layer(2, activation="Softmax"), r"'network.layers\[2\].activation'"),
        (_entry(name="z", shape=[2**31, 2**31, 0]), "invalid shape"),
        (_as_float64, "wrong shape or dtype"),
        (lambda h: h.update(metadata=[1, 2]), "'metadata'"),
        (lambda h: h.update(format_version=99), "'format_version'"),
        (lambda h: h.update(format_version=True), "'format_version'"),
        (lambda h: h.pop("format_version"), "'format_version'"),
        (lambda h: h.update(pickle="cos\nsystem"), "unknown key 'pickle'"),
    ],
)
def test_header_fields_are_checked(tmp_path, net, edit, message):
    path = net.save(tmp_path / "m.crnet")
    _rewrite_header(path, edit)
    with pytest.raises(cr.ModelFileError, match=message):
        cr.load(path)


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "NaN", "Infinity"])
def test_non_finite_json_numbers_are_refused(tmp_path, net, literal):
    """Python's JSON parser reads these (as inf or nan); JSON itself has no such numbers."""
    path = net.save(tmp_path / "m.crnet")
    raw = path.read_bytes()
    n = struct.unpack_from("<Q", raw, 12)[0]
    text = raw[20 : 20 + n].decode().replace('"l1":0.0', f'"l1":{literal}')
    assert literal in text
    start = 20 + n + (-(20 + n)) % 64
    new = text.encode()
    pad = (-(20 + len(new))) % 64
    path.write_bytes(raw[:12] + struct.pack("<Q", len(new)) + new + b"\0" * pad + raw[start:])
    with pytest.raises(
        cr.ModelFileError, match="its header holds .*(not a JSON number|beyond float range)"
    ):
        cr.load(path)


def test_metadata_that_is_not_a_dict_is_refused_when_saving(tmp_path, net):
    net.metadata = ["labels"]
    with pytest.raises(cr.ModelFileError, match="net.metadata"):
        net.save(tmp_path / "m.crnet")
