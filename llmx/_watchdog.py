"""A watchdog thread for the sync client: closes a socket whose phase deadline passed.

A blocking read cannot be interrupted from the reading thread, and httpx fixes the socket
timeout of a response body when the body starts. So a sync stream registers its socket and its
:class:`~llmx._timing.Timer` here; one daemon thread for the process sleeps until the earliest
``due`` and shuts the socket down, which ends the blocked read at once. The reader then sees a
broken connection, finds ``fired`` set and raises the timeout instead.

Per chunk nothing is done here: ``due`` is re-read when it comes up, and an entry whose
deadline moved on is queued again. ``close()`` (before the response is released to the pool)
and the shutdown hold the same lock, so a socket is never shut after it was handed back.
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from typing import Any

from ._timing import Timer

__all__ = ["Watch", "watch"]


class Watch:
    """One watched socket."""

    __slots__ = ("_sock", "timer", "closed", "fired")

    def __init__(self, sock: Any, timer: Timer) -> None:
        self._sock: Any = sock
        self.timer = timer
        self.closed = False
        self.fired = False

    def refresh(self) -> None:
        """Call when ``timer.due`` moved earlier."""
        if not self.closed:
            _DOG.add(self)

    def close(self) -> None:
        """Stop watching; after this the socket is never touched."""
        with _DOG.lock:
            self.closed = True
            self._sock = None

    def _fire(self) -> None:  # with the lock held
        self.fired = self.closed = True
        sock, self._sock = self._sock, None
        try:
            # the plain socket method, also for an SSLSocket: shut the descriptor down
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except (OSError, TypeError, ValueError):
            pass


class _Watchdog:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._wake = threading.Condition(self.lock)
        self._heap: list[tuple[float, int, Watch]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._limit = 4096

    def add(self, item: Watch) -> None:
        with self.lock:
            heap = self._heap
            if len(heap) >= self._limit:  # drop entries of closed watches now and then
                heap[:] = [entry for entry in heap if not entry[2].closed]
                heapq.heapify(heap)
                self._limit = max(4096, 2 * len(heap))
            heapq.heappush(heap, (item.timer.due, next(self._order), item))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="llmx-watchdog", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is item:
                self._wake.notify()

    def _run(self) -> None:
        heap = self._heap
        with self.lock:
            while True:
                if not heap:
                    self._wake.wait()
                    continue
                due, _, item = heap[0]
                if item.closed:
                    heapq.heappop(heap)
                    continue
                now = time.monotonic()
                if due > now:
                    self._wake.wait(min(due - now, 3600.0))
                    continue
                heapq.heappop(heap)
                current = item.timer.due
                if current > now:  # the deadline moved on: queue it again
                    heapq.heappush(heap, (current, next(self._order), item))
                else:
                    item._fire()


_DOG = _Watchdog()


def watch(sock: Any, timer: Timer) -> Watch:
    """Shut ``sock`` down once ``timer.due`` has passed, unless closed before."""
    item = Watch(sock, timer)
    _DOG.add(item)
    return item
