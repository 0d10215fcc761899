"""Sans-IO newline-delimited JSON line splitter (Ollama's native streaming format).

Lines end in LF; a CR before the LF is dropped, blank lines are skipped, and each line is decoded
as UTF-8 (invalid bytes become U+FFFD) only once it is complete, so any chunking of the same bytes
gives the same lines. Parsing the JSON is left to the caller.
"""

from __future__ import annotations

from typing import NoReturn

from ._errors import StreamError

__all__ = ["NDJSONDecoder"]

_BLANK = b" \t\r"  # JSON whitespace other than LF


class NDJSONDecoder:
    """Incremental NDJSON splitter: ``feed()`` bytes, get complete non-blank lines back."""

    __slots__ = ("_buf", "_max_line")

    def __init__(self, *, max_line_bytes: int = 4 * 1024 * 1024) -> None:
        self._max_line = max_line_bytes
        self._buf = bytearray()  # the incomplete last line

    def feed(self, chunk: bytes) -> list[str]:
        """Return the complete non-blank lines ended by this chunk, without line endings."""
        buf = self._buf
        if b"\n" not in chunk:
            buf += chunk
            if len(buf) > self._max_line:
                self._too_long(len(buf))
            return []
        if buf:
            buf += chunk
            chunk = bytes(buf)
            buf.clear()
        lines = chunk.split(b"\n")
        tail = lines.pop()
        if len(chunk) > self._max_line:
            longest = max(len(tail), *map(len, lines))
            if longest > self._max_line:
                self._too_long(longest)
        if tail:
            buf += tail
        return [_decode(line) for line in lines if line.strip(_BLANK)]

    def close(self) -> list[str]:
        """End of stream: return the last line if it lacked its newline and is not blank."""
        tail = bytes(self._buf)
        self._buf.clear()
        return [_decode(tail)] if tail.strip(_BLANK) else []

    def _too_long(self, size: int) -> NoReturn:
        raise StreamError(
            f"NDJSON line exceeded max_line_bytes={self._max_line} (reached {size} bytes "
            "without a newline)"
        )


def _decode(line: bytes) -> str:
    if line.endswith(b"\r"):
        line = line[:-1]
    return line.decode("utf-8", "replace")
