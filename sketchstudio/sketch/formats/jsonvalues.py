"""Strict JSON for sketch files: no NaN/Infinity, numbers checked, clear messages for the user.

Python's `json` accepts `NaN` and `Infinity` and `np.array` turns strings and booleans into numbers
without complaint; sketch files are user input, so every value is checked for what it claims to be.
"""
from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np


class BadValue(ValueError):
    """A JSON value that is not what the format expects; `line` when the parser knows it."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def _reject_constant(name: str) -> Any:
    raise BadValue(f"invalid JSON: {name} is not a number")


def loads(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise BadValue(f"invalid JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
    except RecursionError:
        raise BadValue("invalid JSON: nested too deeply") from None
    except BadValue:
        raise
    except ValueError as exc:
        # Python refuses integers of more than 4,300 digits (a guard against quadratic int
        # parsing, sys.get_int_max_str_digits); its message suggests changing that limit.
        if "digits" in str(exc):
            raise BadValue("invalid JSON: an integer has more than the "
                           f"{sys.get_int_max_str_digits():,} digits Python reads") from None
        raise BadValue(f"invalid JSON: {exc}") from None


def dumps(value: Any, ascii_only: bool = False) -> str:
    """Compact JSON; `ascii_only` escapes all but printable ASCII (for embedding in XML)."""
    try:
        text = json.dumps(value, ensure_ascii=ascii_only, allow_nan=False, separators=(",", ":"))
        text.encode("utf-8")   # lone surrogates in strings cannot be written to a UTF-8 file
    except (TypeError, ValueError) as exc:
        raise BadValue(f"cannot be written as JSON: {exc}") from None
    return text


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    names: dict[type[object], str] = {str: "a string", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def numbers(value: Any, what: str) -> np.ndarray:
    """A JSON list of numbers as a float64 array; anything else is a BadValue naming `what`."""
    if not isinstance(value, list):
        raise BadValue(f"{what} should be a list of numbers, got {describe(value)}")
    for item in value:
        if type(item) is not int and type(item) is not float:
            raise BadValue(f"{what} should hold numbers, got {describe(item)}")
    try:
        array = np.array(value, dtype=np.float64)
    except OverflowError:
        raise BadValue(f"{what} holds a number too large to use") from None
    if not np.isfinite(array).all():
        raise BadValue(f"{what} holds a number that is not finite")
    return array


def plain_numbers(values: np.ndarray) -> list[Any]:
    """Numbers for writing: integral values as JSON integers (as Quick, Draw! writes them)."""
    # numpy types tolist() as Any; on an array it is a (nested) list of Python numbers.
    plain: list[Any]
    if np.all(np.abs(values) < 2 ** 53) and np.array_equal(values, np.round(values)):
        plain = values.astype(np.int64).tolist()
    else:
        plain = values.tolist()
    return plain


def json_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadValue(f"{what} should be an object, got {describe(value)}")
    return value
