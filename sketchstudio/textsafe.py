"""Text from files and models, made safe to print on a terminal.

Words, labels, card names, file names and a model's own error messages come from files other
people wrote. Printed as they are, an ANSI escape (ESC [ ...) can recolour or clear the terminal,
move the cursor to overwrite earlier lines, or set the window title; a newline can forge a second
line of output; a bidirectional override (U+202E) can show text in an order other than the bytes;
a lone surrogate (legal in JSON, "\\ud800") makes `print` itself raise. `printable` shows every such
character as a visible escape instead (as `repr` would), and leaves all other text alone, so
labels in any script and emoji print unchanged.

JSON output needs none of this: `json.dumps` (ensure_ascii) already escapes every one of them.
Commands call `printable` on such text; under the CLI, sys.stdout also passes everything through
`printable_lines` (stdout_guard), a safety net for any print site that was missed.
"""
from __future__ import annotations

import re

# Cc: C0 and C1 controls and DEL (ESC, CSI, newline, carriage return, bell, ...); lone surrogates;
# line and paragraph separators, which some terminals break on; and the bidirectional controls
# that reorder or isolate text on screen. Other format characters (zero-width joiners in emoji,
# soft hyphens) are harmless and stay. A regular expression, so long output is scanned in C.
_BEYOND_C0 = ("\x7f-\x9f\ud800-\udfff\u2028\u2029"
              "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069")
_UNSAFE_CHAR = re.compile(f"[\x00-\x1f{_BEYOND_C0}]")
_UNSAFE_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f{_BEYOND_C0}]")


def _escape(match: re.Match) -> str:
    char = match.group()
    code = ord(char)
    if code < 0x100:
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\x{code:02x}")
    return f"\\u{code:04x}"


def printable(text: object) -> str:
    """`text` (anything; str() of it) with control characters shown as escapes, on one line."""
    s = text if isinstance(text, str) else str(text)
    if s.isascii() and s.isprintable():
        return s   # the common case, checked in C
    return _UNSAFE_CHAR.sub(_escape, s)


def printable_lines(text: str) -> str:
    """Like `printable`, but newlines stay: for whole blocks of output (tables, JSON)."""
    return _UNSAFE_BUT_NEWLINE.sub(_escape, text)
