"""The command line on hostile data files and failing disks ("Hardening, round two").

Each case is one a fuzzing campaign found: a data file that gave a traceback, hung, or tried a
75 GiB allocation; an output that failed after training and left files behind; a message that
said NaN for an overflow or showed ``np.int64(1)``. Every one must now be one ``error:`` line,
exit 1, no traceback, no warning, and leave the folder as it was.
"""

from __future__ import annotations

import datetime
import decimal
import errno
import io
import shutil
import subprocess
import sys
import time
import zipfile

import numpy as np
import pandas as pd
import pytest

import chainrule as cr
from chainrule import cli, files, workflow


def run_cli(*args) -> tuple[int, str]:
    """``chainrule ARGS`` in this process: (exit code, stderr)."""
    import contextlib

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            code = cli.main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, err.getvalue()


def run_subprocess(*args, cwd, timeout=60) -> tuple[int, str, float]:
    """``chainrule ARGS`` in a fresh interpreter, for cases that hung or exhausted memory."""
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "chainrule.cli", *map(str, args)],
            capture_output=True,
            text=True,
            cwd=cwd,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"chainrule {' '.join(map(str, args))} ran over {timeout} s")
    return done.returncode, done.stderr, time.perf_counter() - start


def one_error(code: int, err: str, *words: str) -> None:
    lines = err.strip().splitlines()
    assert code == 1, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err and "Warning" not in err, err
    for word in words:
        assert word in lines[0], lines[0]


def listing(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def rows(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "t": (X[:, 0] > 0).astype(int)})


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows().to_csv(tmp_path / "good.csv", index=False)
    return tmp_path


def train(*extra, data="good.csv", target="t"):
    return run_cli("train", data, "--target", target, "--epochs", "2", "--hidden", "4", *extra)


# ------------------------------------------------------------------ .npy and .npz


def npy_with_header(path, header: dict, data: bytes = b"\0" * 64) -> None:
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        f.write(data)


def test_corrupt_npz_is_one_line(here):
    np.savez(here / "good.npz", X=rows()[["a", "b"]].to_numpy(), y=rows()["t"].to_numpy())
    (here / "bad.npz").write_bytes((here / "good.npz").read_bytes()[:100])
    one_error(*train(data="bad.npz", target="y"), "'bad.npz' is not a readable .npz")


def test_npz_asking_for_an_unknown_zip_version_is_one_line(here):
    """zipfile raises NotImplementedError for it (the fuzzer found it by flipping a byte)."""
    np.savez(here / "v.npz", X=np.zeros((4, 2)))
    blob = bytearray((here / "v.npz").read_bytes())
    central = blob.index(b"PK\x01\x02")
    blob[central + 6] = 165  # "version needed to extract": 16.5
    (here / "v.npz").write_bytes(bytes(blob))
    one_error(*train(data="v.npz", target="y"), "not a readable .npz", "zip file version 16.5")


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_huge_declared_shape_is_refused_before_any_allocation(here, suffix):
    """A 192-byte file declaring 100,000 × 100,000 float64: numpy allocated 74.5 GiB."""
    header = {"descr": "<f8", "fortran_order": False, "shape": (100_000, 100_000)}
    npy_with_header(here / "huge.npy", header)
    if suffix == ".npz":
        with zipfile.ZipFile(here / "huge.npz", "w") as z:
            z.write(here / "huge.npy", "X.npy")
    code, err, seconds = run_subprocess(
        "train", f"huge{suffix}", "--target", "0", "--epochs", "1", cwd=here
    )
    one_error(code, err, "declares shape (100000, 100000)", "holds 64 bytes")
    assert seconds < 20


def test_zip_directory_that_lies_about_a_member_size(here):
    """The header's 2 GiB shape fits the size the zip directory declares, not the data."""
    header = {"descr": "<f8", "fortran_order": False, "shape": (16384, 16384)}
    npy_with_header(here / "x.npy", header)
    with zipfile.ZipFile(here / "lie.npz", "w", zipfile.ZIP_STORED) as z:
        z.write(here / "x.npy", "X.npy")
    blob = bytearray((here / "lie.npz").read_bytes())
    central = blob.index(b"PK\x01\x02")
    blob[central + 24 : central + 28] = (2**31 + 4096).to_bytes(4, "little")
    (here / "lie.npz").write_bytes(bytes(blob))
    code, err, seconds = run_subprocess("train", "lie.npz", "--target", "y", cwd=here)
    one_error(code, err, "'lie.npz': X declares 2,147,487,744 bytes")
    assert seconds < 20


def test_big_endian_npy_is_read(here):
    frame = rows()
    np.save(here / "be.npy", frame.to_numpy().astype(">f8"))
    code, err = train("--out", "be.crnet", data="be.npy", target="2")
    assert code == 0, err
    assert cr.load(here / "be.crnet").metadata["features"] == ["0", "1"]


@pytest.mark.parametrize(
    ("array", "words"),
    [
        (np.zeros((4, 2), "V8"), "structured or raw records"),
        (np.zeros((4, 2), complex), "complex numbers"),
        (np.array([["a", "b"]] * 4), "text"),
        (np.zeros((4, 2), "M8[D]"), "dates"),
        (np.zeros((4, 2), np.longdouble), "not read"),
    ],
    ids=["V8", "complex", "text", "dates", "longdouble"],
)
def test_npy_dtypes_outside_the_allow_list_are_refused(here, array, words):
    np.save(here / "odd.npy", array)
    one_error(*train(data="odd.npy", target="1"), "'odd.npy' has dtype", words)


def test_object_npz_is_refused_unpickled(here):
    np.savez(here / "obj.npz", X=np.zeros((4, 2)), y=np.array([1, "a", None, 2.0], dtype=object))
    one_error(*train(data="obj.npz", target="y"), "y has dtype |O", "never unpickled")


def test_garbage_npy_header(here):
    """A header tokenize cannot finish raised tokenize.TokenError through the CLI."""
    with open(here / "garbage.npy", "wb") as f:
        text = b"{'descr': '<f8', 'fortran_order': False, 'shape': (3,'  \n"
        f.write(b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text)
    one_error(*train(data="garbage.npy", target="0"), "no valid .npy header")


def test_text_labels_in_npz_are_labels(here):
    frame = rows()
    labels = np.where(frame["t"] == 1, "up", "down")
    np.savez(here / "labels.npz", X=frame[["a", "b"]].to_numpy(), y=labels)
    code, err = train("--out", "l.crnet", data="labels.npz", target="y")
    assert code == 0, err
    assert cr.load(here / "l.crnet").metadata["classes"] == ["down", "up"]


# ------------------------------------------------------------------ column types


def parquet(path, **columns) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table(columns), path)


FOUR = [1.0, 2.0, 3.0, 4.0]
TYPED = {
    "list target": ({"t": [[1], [2], [1], [2]]}, "target column 't' holds lists or structs"),
    "struct target": ({"t": [{"x": 1}, {"x": 2}] * 2}, "target column 't' holds lists or structs"),
    "list feature": ({"f": [[1], [2]] * 2}, "feature column 'f' holds lists or structs"),
    "date feature": (
        {"f": [datetime.date(2020, 1, d) for d in (1, 2, 3, 4)]},
        "feature column 'f' holds dates",
    ),
    "timestamp feature": (
        {"f": [datetime.datetime(2020, 1, d) for d in (1, 2, 3, 4)]},
        "feature column 'f' holds dates and times",
    ),
    "decimal feature": ({"f": [decimal.Decimal("1.5")] * 4}, "feature column 'f' holds decimals"),
    "bytes feature": ({"f": [b"a", b"b"] * 2}, "feature column 'f' holds bytes"),
    "date target": (
        {"t": [datetime.date(2020, 1, 1 + d % 2) for d in range(4)]},
        "target column 't' holds dates",
    ),
    "decimal target": ({"t": [decimal.Decimal(d % 2) for d in range(4)]}, "'t' holds decimals"),
    "bytes target": ({"t": [b"x", b"y"] * 2}, "target column 't' holds bytes"),
}


@pytest.mark.parametrize("case", list(TYPED))
def test_unsupported_column_types_are_named_before_training(here, case):
    columns, words = TYPED[case]
    columns = {"a": FOUR, **columns}
    columns.setdefault("t", [0, 1, 0, 1])
    parquet(here / "typed.parquet", **columns)
    one_error(*train(data="typed.parquet"), words)
    assert listing(here) == ["good.csv", "typed.parquet"]  # not even a checkpoint


def test_complex_dataframe_column_is_refused(tmp_path):
    frame = rows()
    frame["z"] = frame["a"] + 1j
    with pytest.raises(cr.InputError, match="feature column 'z' holds complex numbers"):
        workflow.train_file(frame, "t", None, workflow.TrainSettings(epochs=1), tmp_path / "m")


# ------------------------------------------------------------------ CSV


def test_a_50_mb_line_of_commas_is_refused_at_once(here):
    """pandas' Python parser spent minutes and 5 GB on it (50 million fields)."""
    with open(here / "commas.csv", "w") as f:
        f.write("a,b\n" + "," * 50_000_000 + "\n")
    code, err, seconds = run_subprocess("train", "commas.csv", "--target", "b", cwd=here)
    one_error(code, err, "line 2 is longer than 1,048,576 bytes")
    assert seconds < 20


def test_quotes_in_the_header_do_not_hang_the_sniffer(here):
    """csv.Sniffer is superlinear in quotes: 200 KB of '",' took minutes."""
    (here / "quotes.csv").write_text('",' * 100_000 + "\n1,2\n")
    code, err, seconds = run_subprocess("train", "quotes.csv", "--target", "t", cwd=here)
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert seconds < 20


def test_duplicate_and_too_many_columns_are_refused_before_parsing(here):
    """pandas renames 20,000 columns called 'a' in quadratic time (100,000: two minutes)."""
    (here / "dups.csv").write_text(",".join(["a"] * 20_000) + ",t\n" + "1," * 20_000 + "0\n")
    one_error(*train(data="dups.csv"), "column name 'a' appears 20000 times")
    (here / "wide.csv").write_text(",".join(f"c{i}" for i in range(100_001)) + "\n")
    one_error(*train(data="wide.csv"), "has 100,001 columns; at most 100,000")


# ------------------------------------------------------------------ numbers and labels


@pytest.mark.parametrize("big", ["1e300", "1.7e308"])
def test_huge_features_are_an_overflow_named_before_training(here, big):
    (here / "big.csv").write_text(f"a,b,t\n{big},1,0\n-{big},2,1\n{big},3,0\n-{big},4,1\n")
    code, err = train(data="big.csv")
    one_error(code, err, "feature column 'a' has values too large", big.replace("e", "e+"))
    assert "NaN" not in err
    assert listing(here) == ["big.csv", "good.csv"]


def test_infinite_class_label_is_refused_before_training(here):
    (here / "inf.csv").write_text("a,b,t\n1,1,0\n2,2,1\n3,3,inf\n4,4,0\n")
    one_error(*train(data="inf.csv"), "target column 't' holds inf in row 3")
    assert listing(here) == ["good.csv", "inf.csv"]


def test_infinite_regression_target_is_called_a_target(here):
    (here / "inf.csv").write_text("a,b,t\n1,1,0.5\n2,2,inf\n3,3,0.7\n4,4,1.2\n")
    one_error(*train("--task", "regress", data="inf.csv"), "target column 't' has a missing")


@pytest.mark.parametrize("big", ["1e20", "1e300"])
def test_regression_targets_too_large_for_the_network_are_named(here, big):
    """They 'diverged' (blaming the learning rate) or overflowed an unnamed 'Y'."""
    (here / "big.csv").write_text("a,b,t\n" + "".join(f"{i},{i},{i}{big[1:]}\n" for i in (1, 2, 3)))
    one_error(*train("--task", "regress", data="big.csv"), "target column 't' has values too large")
    assert listing(here) == ["big.csv", "good.csv"]


def test_messages_show_plain_numbers(here):
    (here / "one.csv").write_text("a,b,t\n1,1,7\n2,2,7\n")
    one_error(*train(data="one.csv"), "holds one class only (7)")


def test_predict_names_a_value_too_far_out_for_the_model(here):
    assert train("--out", "m.crnet")[0] == 0
    (here / "far.csv").write_text("a,b\n1,2\n1e200,0\n")
    one_error(*run_cli("predict", "m.crnet", "far.csv"), "feature column 'a' row 2 holds 1e+200")


@pytest.mark.parametrize("hidden", ["1e400", "nan", "8,inf"])
def test_hidden_sizes_that_are_not_numbers_of_units(here, hidden):
    one_error(*train("--hidden", hidden), f"--hidden='{hidden}' must be positive integers")


@pytest.mark.parametrize("name", ["[bold]t", ":smile:", "a\nb"])
def test_a_message_is_printed_as_written(here, name):
    """Brackets were read as rich markup (and dropped), :codes: as emoji."""
    one_error(*train(target=name), f"target column {name!r} is not in the data")


# ------------------------------------------------------------------ outputs


def test_plot_folder_that_cannot_be_created_fails_before_training(here):
    (here / "blocker").write_text("a file where a folder should be")
    before = listing(here)
    code, err = train("--plot", "blocker/figs")
    one_error(code, err, "--plot 'blocker/figs'", "cannot be created")
    assert listing(here) == before


def test_created_plot_folder_is_removed_when_the_run_fails(here):
    (here / "bad.csv").write_text("a,b,t\n1,x,0\n2,3,1\n")
    one_error(*train("--plot", "figs/deep", data="bad.csv"), "not numeric")
    assert listing(here) == ["bad.csv", "good.csv"]


def test_an_output_that_is_a_folder_fails_before_training_and_keeps_the_old_files(here):
    assert train()[0] == 0
    (here / "model.monitor.png").mkdir()  # where --monitor would draw its figure
    before = {p.name: p.read_bytes() for p in here.iterdir() if p.is_file()}
    one_error(*train("--monitor", "--seed", "3"), "'model.monitor.png' is a folder")
    assert {p.name: p.read_bytes() for p in here.iterdir() if p.is_file()} == before


@pytest.mark.parametrize("option", ["--out", "--checkpoint"])
def test_an_output_over_the_data_file_is_refused(here, option):
    before = (here / "good.csv").read_bytes()
    one_error(*train(option, "good.csv"), "is the data file itself")
    assert (here / "good.csv").read_bytes() == before
    assert listing(here) == ["good.csv"]


def test_stale_temporaries_of_a_killed_run_are_removed(here):
    stale = [".model.crnet.ckpt.abcd_123.tmp", ".model.crnet.x1y2z3w4.tmp"]
    kept = [".model.crnet.ckpt.tmp", "model.crnet.ckpt.abcd1234.tmp", ".other.abcd1234.tmp"]
    for name in stale + kept:
        (here / name).write_bytes(b"half a checkpoint")
    code, err = train()
    assert code == 0, err
    names = set(listing(here))
    assert not names & set(stale) and set(kept) <= names


class DiskFull:
    """files.write_atomically failing as on a full disk from its ``n``-th call on."""

    def __init__(self, monkeypatch, n: int):
        self.calls, self.n, self.real = 0, n, files.write_atomically
        monkeypatch.setattr(files, "write_atomically", self)

    def __call__(self, path, parts, error):
        self.calls += 1
        if self.calls >= self.n:
            raise error(f"path={str(path)!r} cannot be written: No space left")
        return self.real(path, parts, error)


def test_disk_full_at_the_history_leaves_what_was_there_before(here, monkeypatch):
    assert train("--epochs", "1")[0] == 0  # an earlier run's model, history and checkpoint
    before = {p.name: p.read_bytes() for p in here.iterdir()}
    disk = DiskFull(monkeypatch, n=5)  # 2 checkpoints, the final one, the model: then history
    one_error(*train("--seed", "1"), "model.history.csv", "No space left")
    assert disk.calls == 5
    assert {p.name: p.read_bytes() for p in here.iterdir()} == before


def test_disk_full_at_a_checkpoint_leaves_no_checkpoint(here, monkeypatch):
    DiskFull(monkeypatch, n=2)  # epoch 1's checkpoint is written, epoch 2's is not
    one_error(*train(), "model.crnet.ckpt", "No space left")
    assert listing(here) == ["good.csv"]


def test_resumed_checkpoint_is_kept_when_the_run_fails(here, monkeypatch):
    assert train("--checkpoint", "run.ckpt")[0] == 0
    saved = (here / "run.ckpt").read_bytes()
    DiskFull(monkeypatch, n=3)
    code, err = train("--epochs", "4", "--checkpoint", "run.ckpt", "--resume", "run.ckpt")
    one_error(code, err, "No space left")
    assert (here / "run.ckpt").read_bytes() == saved


def test_os_errors_are_one_line(here, monkeypatch):
    def fails(*args, **kwargs):
        raise NotADirectoryError(errno.ENOTDIR, "Not a directory", "out/x.json.tmp")

    import chainrule.benchmark

    monkeypatch.setattr(chainrule.benchmark, "run_all", fails)
    one_error(*run_cli("bench", "--json", "out/x.json"), "'out/x.json.tmp': Not a directory")


def mount_tmpfs(folder, options: str):
    """Mount a tmpfs on ``folder`` (needs root); skips the test visibly where it cannot."""
    folder.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command: this test needs a tmpfs")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()})")


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MiB disk."""
    mount_tmpfs(tmp_path / "disk", "size=4m")
    yield tmp_path / "disk"
    subprocess.run(["umount", str(tmp_path / "disk")], check=True)


@pytest.fixture
def read_only(tmp_path):
    """A read-only disk (root ignores file permissions, not a read-only mount)."""
    mount_tmpfs(tmp_path / "ro", "ro,size=1m")
    yield tmp_path / "ro"
    subprocess.run(["umount", str(tmp_path / "ro")], check=True)


def test_a_read_only_folder_fails_before_training(read_only, here):
    code, err = train("--out", read_only / "m.crnet")
    one_error(code, err, f"--out '{read_only}/m.crnet'", "Read-only file system")
    assert listing(here) == ["good.csv", "ro"]


def test_a_real_full_disk_leaves_nothing(small_disk, tmp_path):
    """Checkpoints of about 2.5 MB on a 4 MiB disk: the first fits, replacing it does not
    (old and new must coexist until the rename). The first checkpoint used to stay."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(40, 50)), columns=[f"x{i}" for i in range(50)])
    frame["t"] = rng.integers(0, 2, 40)
    frame.to_csv(tmp_path / "wide.csv", index=False)
    code, err, _ = run_subprocess(
        "train", tmp_path / "wide.csv", "--target", "t", "--epochs", "2", "--hidden", "4000",
        "--out", small_disk / "m.crnet", cwd=tmp_path,
    )  # fmt: skip
    one_error(code, err, "No space left on device")
    assert listing(small_disk) == []


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_line_length_scan_counts_lines_across_blocks(tmp_path, monkeypatch, ending):
    """The scan reads 4 MiB blocks: a long line across a block boundary, and a last line
    without a line break, are both found, with their line numbers."""
    from chainrule import data

    monkeypatch.setattr(data, "MAX_LINE_BYTES", 100)
    short = "1,2" + ending
    before = (4 * 2**20 - 50) // len(short)  # the long line starts 50 bytes before a boundary
    path = tmp_path / "t.csv"
    path.write_bytes((short * before + "x" * 99 + ending + "x" * 101 + ending).encode())
    with pytest.raises(cr.InputError, match=f"line {before + 2} is longer than 100 bytes"):
        data._check_line_lengths(path)
    path.write_bytes((short * 3 + "x" * 100).encode())
    data._check_line_lengths(path)  # exactly the limit: read
    path.write_bytes((short * 3 + "x" * 101).encode())
    with pytest.raises(cr.InputError, match="line 4 is longer"):
        data._check_line_lengths(path)
