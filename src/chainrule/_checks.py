"""Input validation shared by the public entry points.

Each helper raises a :class:`~chainrule.errors.ChainruleError` subclass whose message names the
argument, the problem and the fix, so callers can validate at the boundary in one line. Each rule
is written once, here; numpy scalars and 0-d arrays count as the numbers they hold.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from decimal import Decimal

import numpy as np

from .errors import ConfigError, InputError

FLOAT_DTYPES = {"float32": np.float32, "float64": np.float64}

# Bounds that any realistic network or run stays far inside; they are checked before anything
# is allocated, so an absurd size is a clear error rather than a MemoryError (or a swap storm).
MAX_UNITS = 2**24
"""Inputs or units of one layer (16,777,216)."""
MAX_PARAMS = 2**28
"""Parameters of one network (268,435,456: 1 GiB of float32 weights, several times that to
train, and far beyond what NumPy trains in useful time)."""
MAX_COUNT = 2**31 - 1
"""Epochs, batch sizes, patience and other counts."""
MAX_SAMPLES = 2**24
"""Samples a dataset generator makes (16,777,216: 256 MiB of float64 features)."""
SEED_LIMIT = 2**63
"""Seeds are integers in [0, SEED_LIMIT): what a model file and NumPy's int64 both hold."""


# ------------------------------------------------------------------ showing values
def show(value: object, limit: int = 60) -> str:
    """``value`` as a short plain literal for a message: numpy scalars as the Python numbers
    they hold (``3``, not ``np.int64(3)``), long reprs cut."""
    if isinstance(value, (np.generic, np.ndarray)) and np.ndim(value) == 0:
        value = value.item()
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"<an integer of {value.bit_length()} bits>"  # str() of 10**5000 refuses
    try:
        text = repr(value)
    except Exception:  # a foreign object whose repr fails still gets a message
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def largest(dtype: object) -> str:
    """The largest finite value of a float dtype, as in ``3.4e38``."""
    return f"{float(np.finfo(dtype).max):.1e}".replace("e+", "e")


# ------------------------------------------------------------------ scalars
def _scalar(value: object) -> object:
    """Unwrap a numpy scalar or 0-d array into the Python value it holds."""
    if isinstance(value, (np.generic, np.ndarray)) and np.ndim(value) == 0:
        return value.item()
    return value


def _real(value: object, name: str) -> float:
    """A real number as a float; bools, complex numbers, text and huge ints refused."""
    value = _scalar(value)
    if isinstance(value, Decimal) and not value.is_snan():  # a number, if not a numbers.Real
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        kind = type(value).__name__
        if isinstance(value, numbers.Complex) and not isinstance(value, bool):
            kind = "complex, and only real numbers are accepted"
        raise ConfigError(f"{name}={show(value)} must be a real number, got {kind}")
    try:
        return float(value)
    except OverflowError:
        raise ConfigError(
            f"{name}={show(value)} is too large for a float (max 1.8e308); pass a smaller number"
        ) from None


def within(value: float, low: float, high: float, open_low: bool, open_high: bool) -> bool:
    """Whether ``value`` is finite and inside the interval (open or closed at each end)."""
    above = value > low if open_low else value >= low
    below = value < high if open_high else value <= high
    return math.isfinite(value) and above and below


def interval(low: float, high: float, open_low: bool, open_high: bool) -> str:
    """The interval in words for a message: ``in [0, 1)``, ``>= 0`` or ``any``."""
    if math.isinf(high):
        return "any" if math.isinf(low) else f"{'>' if open_low else '>='} {low:g}"
    return f"in {'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"


def number(
    value: object,
    name: str,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    open_low: bool = False,
    open_high: bool = False,
) -> float:
    """Check that ``value`` is a finite real number in the range given; return it as a float."""
    result = _real(value, name)
    if not within(result, low, high, open_low, open_high):
        span = interval(low, high, open_low, open_high)
        raise ConfigError(f"{name}={show(result)} must be finite and {span}")
    return result


def positive_number(value: object, name: str, *, allow_zero: bool = False) -> float:
    """Check that ``value`` is a finite real number > 0 (or >= 0 with ``allow_zero``)."""
    return number(value, name, low=0.0, open_low=not allow_zero)


def fraction(value: object, name: str, *, low: float = 0.0, high: float = 1.0) -> float:
    """Check ``low <= value < high``."""
    return number(value, name, low=low, high=high, open_high=True)


def positive_int(
    value: object, name: str, *, allow_none: bool = False, high: int = MAX_COUNT
) -> int | None:
    """Check that ``value`` is an integer in [1, high] (or None when allowed)."""
    value = _scalar(value)
    if value is None and allow_none:
        return None
    hint = " or None" if allow_none else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(
            f"{name}={show(value)} must be a positive integer{hint}, got {type(value).__name__}"
        )
    if not 1 <= value <= high:
        raise ConfigError(f"{name}={show(value)} must be a positive integer{hint} at most {high:,}")
    return int(value)


def count(value: object, name: str) -> int:
    """Check that ``value`` is a whole number in [0, MAX_COUNT] (bools refused)."""
    value = _scalar(value)
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or not 0 <= value <= MAX_COUNT
    ):
        raise ConfigError(f"{name}={show(value)} must be a whole number from 0 to {MAX_COUNT:,}")
    return int(value)


def seed(value: object, name: str = "seed") -> int | None:
    """Check a random seed: None, or an integer in [0, 2**63) (bools refused)."""
    value = _scalar(value)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or not 0 <= value < SEED_LIMIT
    ):
        raise ConfigError(
            f"{name}={show(value)} must be None or an integer in [0, 2**63); pass e.g. {name}=0"
        )
    return int(value)


def flag(value: object, name: str) -> bool:
    """Check a True/False switch (numpy bools count)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ConfigError(f"{name}={show(value)} must be True or False")


def choice(value: object, name: str, options: Iterable[str]) -> str:
    """Check that ``value`` is one of ``options`` (case-insensitive, '-' same as '_')."""
    options = list(options)
    value = _scalar(value)  # np.str_ is a str
    if isinstance(value, str):
        key = value.strip().lower().replace("-", "_")
        if key in options:
            return key
    raise ConfigError(f"{name}={show(value)} is not known; choose one of: {', '.join(options)}")


def as_dtype(dtype: object, name: str = "dtype") -> np.dtype:
    """Return the NumPy float dtype for ``dtype`` ("float32"/"float64" or the NumPy type)."""
    try:
        resolved = np.dtype(dtype)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError, RecursionError):
        resolved = None
    if resolved is None or resolved.name not in FLOAT_DTYPES:
        raise ConfigError(
            f"{name}={show(_scalar(dtype))} is not supported; use 'float32' (the default) or "
            "'float64'"
        )
    return resolved


def units(value: object, name: str) -> int:
    """Check a layer size: an integer in [1, MAX_UNITS]."""
    return positive_int(value, name, high=MAX_UNITS)


def param_count(count: int, what: str) -> int:
    """Check a parameter total against MAX_PARAMS, before anything is allocated."""
    if count > MAX_PARAMS:
        raise ConfigError(
            f"{what} has {count:,} parameters; chainrule builds at most {MAX_PARAMS:,} "
            "parameters (1 GiB of float32 weights); use fewer or smaller layers"
        )
    return count


# ------------------------------------------------------------------ arrays
def _as_array(data: object, name: str, error: type[Exception]) -> np.ndarray:
    if isinstance(data, np.ndarray):
        return data
    try:
        return np.asarray(data)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # ragged lists, …
        raise error(
            f"{name} cannot be read as an array ({exc}); pass a rectangular array of numbers"
        ) from None


def numeric_array(
    data: object,
    name: str,
    error: type[Exception] = InputError,
    fix: str = "convert or encode it to numeric values",
) -> np.ndarray:
    """``data`` as an array of real numbers (bool, integer or float dtype), never complex.

    Object arrays of numbers (ints and Decimals, say) become float64; ``fix`` ends the message
    for data that is not numbers at all.
    """
    array = _as_array(data, name, error)
    if array.dtype.kind == "O":  # e.g. a list mixing ints and Decimals: numbers in disguise
        try:
            array = array.astype(np.float64)
        except OverflowError:
            raise error(
                f"{name} holds integers too large for float64 (max {largest(np.float64)}); "
                "rescale them"
            ) from None
        except (TypeError, ValueError):
            pass
    if array.dtype.kind == "c":
        raise error(
            f"{name} has dtype {array.dtype}: complex numbers are not accepted, and the "
            f"imaginary part is never dropped silently; pass real values ({name}.real if the "
            "imaginary parts are zero)"
        )
    if array.dtype.kind not in "biuf":
        raise error(f"{name} has dtype {array.dtype}, not numbers; {fix}")
    return array


def _where(index: Iterable[int]) -> str:
    return ", ".join(str(int(i)) for i in index)


def finite_check(array: np.ndarray, name: str, error: type[Exception] = InputError) -> None:
    """Raise if ``array`` holds NaN or infinity, naming the first offending position."""
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))[0]
        kind = "NaN" if np.isnan(array[tuple(bad)]) else "infinity"
        raise error(
            f"{name} contains {kind} at index ({_where(bad)}); remove or impute non-finite "
            "values first"
        )


def cast(
    array: np.ndarray,
    name: str,
    dtype: object,
    fix: str = "standardise (rescale) them or use dtype='float64'",
) -> np.ndarray:
    """``array`` (finite) as a C-contiguous array of ``dtype``, refusing values beyond its range.

    Only a narrowing float cast (float64 to float32) can overflow, so only then is the result
    checked again.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        result = np.ascontiguousarray(array, dtype=dtype)
    narrowing = array.dtype.kind == "f" and array.dtype.itemsize > result.dtype.itemsize
    if narrowing and not np.isfinite(result).all():
        bad = tuple(np.argwhere(~np.isfinite(result))[0])
        target = result.dtype.name
        where = f"[{_where(bad)}]" if bad else ""
        at = f"{name}{where} = {float(array[bad]):.3g}"
        raise InputError(
            f"{name} holds values too large for {target} (max {largest(target)}): {at} is "
            f"beyond the range of {target}; {fix}"
        )
    return result


def features(X: object, name: str, n_features: int | None, dtype: np.dtype) -> np.ndarray:
    """Validate a 2-D feature matrix and return it as a C-contiguous array of ``dtype``.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
    n_features : expected number of columns, or None to accept any.
    """
    array = numeric_array(X, name)
    if array.ndim != 2:
        fix = "use X.reshape(1, -1) for one sample" if array.ndim == 1 else "pass a 2-D array"
        raise InputError(
            f"{name} must be 2-D (n_samples, n_features), got shape {array.shape}; {fix}"
        )
    if array.shape[0] == 0:
        raise InputError(f"{name} is empty (0 samples); pass at least one row")
    if n_features is not None and array.shape[1] != n_features:
        raise InputError(
            f"{name} has {array.shape[1]} features but the network expects {n_features}; "
            "pass the same columns the network was built for"
        )
    finite_check(array, name)
    return cast(array, name, dtype, "standardise (rescale) the features or use dtype='float64'")


def same_length(X: np.ndarray, Y: np.ndarray, x_name: str = "X", y_name: str = "Y") -> None:
    if len(X) != len(Y):
        raise InputError(
            f"{x_name} has {len(X)} samples but {y_name} has {len(Y)}; they must have one row each"
        )


def weight_total(weights: np.ndarray, name: str = "sample_weight", where: str = "") -> float:
    """The float64 sum of non-negative weights, checked to be positive, finite and large
    enough that ``n / sum`` (the normalisation to mean 1) is finite too."""
    with np.errstate(over="ignore"):
        total = float(np.sum(weights, dtype=np.float64))
    if math.isinf(total):
        raise InputError(
            f"{name} sums to more than float64 can hold (max {largest(np.float64)}); divide the "
            "weights by a common factor (only their ratios matter)"
        )
    if total <= 0:
        raise InputError(
            f"{name} must be >= 0 with a positive sum{where}; give some samples a weight > 0"
        )
    if not math.isfinite(len(weights) / total):
        raise InputError(
            f"{name} sums to {total:.3g}, too small to normalise; multiply the weights by a "
            "common factor (only their ratios matter)"
        )
    return total


def sample_weights(sample_weight: object, n: int, dtype: np.dtype) -> np.ndarray | None:
    """Validate per-sample weights (n,) >= 0 with a positive sum; return them normalised to
    mean 1 in ``dtype`` (so a weighted loss is a weighted mean), or None when not given."""
    if sample_weight is None:
        return None
    w = numeric_array(sample_weight, "sample_weight")
    if w.shape != (n,):
        raise InputError(f"sample_weight must be {n} numbers, one per sample; got shape {w.shape}")
    finite_check(w, "sample_weight")
    if (w < 0).any():
        first = int(np.flatnonzero(w < 0)[0])
        raise InputError(
            f"sample_weight must be >= 0 with a positive sum; sample_weight[{first}] = "
            f"{show(w[first])}"
        )
    w = w.astype(np.float64)
    return (w * (n / weight_total(w))).astype(dtype)


def overflow(what: str, dtype: object, fix: str) -> InputError:
    """The error for a computation on finite inputs whose result overflowed ``dtype``."""
    name = np.dtype(dtype).name
    return InputError(
        f"{what} overflowed {name} (max {largest(name)}): the numbers grew too large to "
        f"represent; {fix}"
    )


def computed_finite(array: np.ndarray, what: str, dtype: object, fix: str) -> None:
    """Raise :func:`overflow` if a result computed from finite inputs is not finite."""
    if not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(np.atleast_1d(array)))[0]
        at = f" (first at row {int(bad[0])})" if np.ndim(array) == 2 else ""
        raise overflow(f"{what}{at}", dtype, fix)
