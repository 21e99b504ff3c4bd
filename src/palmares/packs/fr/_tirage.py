"""Deterministic draws for the generated tasks, the same on every platform and Python version.

Python's ``random`` only promises a stable ``random()`` for a given seed; ``randrange``,
``choice`` and ``shuffle`` may change between versions, and then a campaign's items would
change with the server's Python. Here every draw comes from SHA-256 in counter mode over a key
(generator, version, seed, item number, attempt), and integers are drawn by rejection, without
modulo bias. Each item has its own stream: the first 50 items of ``n: 200`` are the items of
``n: 50``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

_SPAN = 1 << 64


class Tirage:
    """A stream of draws keyed by ``key``: the same key always gives the same draws."""

    def __init__(self, *key: object) -> None:
        self._key = "\x1f".join(str(k) for k in key).encode("utf-8")
        self._block = 0
        self._pool = b""

    def _u64(self) -> int:
        if len(self._pool) < 8:
            block = self._key + b"\x1e" + str(self._block).encode("ascii")
            self._pool += hashlib.sha256(block).digest()
            self._block += 1
        value, self._pool = int.from_bytes(self._pool[:8], "big"), self._pool[8:]
        return value

    def entier(self, low: int, high: int) -> int:
        """An integer in ``[low, high]`` (both included), uniformly."""
        if high < low:
            raise ValueError(f"empty range [{low}, {high}]")
        span = high - low + 1
        limit = _SPAN - _SPAN % span
        while True:
            value = self._u64()
            if value < limit:
                return low + value % span

    def choix(self, options: Sequence[T]) -> T:
        """One element of ``options``, uniformly."""
        return options[self.entier(0, len(options) - 1)]

    def deux(self, options: Sequence[T]) -> tuple[T, T]:
        """Two different elements of ``options`` (by position), in random order."""
        i = self.entier(0, len(options) - 1)
        j = self.entier(0, len(options) - 2)
        return options[i], options[j + (j >= i)]
