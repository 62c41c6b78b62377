"""Pages of rendered rows joined once: a page served again with the very same row objects is not joined again.

A page of 1,000 instances is 900 KB of rows; joining them is the largest part of serving it. Each
instance's rendered JSON is cached on its record until its state changes (a new bytes object
then), so a page whose rows are all the same objects as a page joined before has the same bytes.
The check is by identity, row by row (the cache holds the rows, so no id can be reused meanwhile).
"""

from __future__ import annotations

import operator
import threading
from collections import OrderedDict
from collections.abc import Sequence

#: Joined pages kept, in bytes (the 10,000-instance benchmark serves 10 pages of 900 KB).
MAX_BYTES = 16 * 1024 * 1024

_Key = tuple[int, int, int]


class JoinedRows:
    """``b",".join(rows)``, remembered for the most recently served pages (least recently used dropped first)."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self._pages: OrderedDict[_Key, tuple[tuple[bytes, ...], bytes]] = OrderedDict()
        self._size = 0
        self._max_bytes = max_bytes
        self._lock = threading.Lock()

    def join(self, rows: Sequence[bytes]) -> bytes:
        """The rows joined with commas: the remembered bytes when every row is the very object joined last time."""
        if len(rows) < 2:
            return b",".join(rows)
        key = (len(rows), id(rows[0]), id(rows[-1]))
        with self._lock:
            found = self._pages.get(key)
            if found is not None and all(map(operator.is_, found[0], rows)):
                self._pages.move_to_end(key)
                return found[1]
        joined = b",".join(rows)
        with self._lock:
            replaced = self._pages.pop(key, None)
            if replaced is not None:
                self._size -= len(replaced[1])
            self._pages[key] = (tuple(rows), joined)
            self._size += len(joined)
            while self._size > self._max_bytes and self._pages:
                _, (_, dropped) = self._pages.popitem(last=False)
                self._size -= len(dropped)
        return joined

    def __len__(self) -> int:
        return len(self._pages)


#: The process's pages (shared by every emulator in it: rows of different emulators are different objects).
PAGES = JoinedRows()
