"""Per-token rate limiting (OWASP API4): a token bucket per token id, per service process.

Per process, not cluster-wide: with N replicas a token gets up to N times the rate, which is still
bounded and needs no shared state; a reverse proxy in front of the district deployment is the place
for a global or per-address limit."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable


class RateLimiter:
    def __init__(self, burst: float, per_s: float, max_tokens: int = 10000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.per_s = per_s
        self._max = max_tokens
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (level, at)

    def take(self, key: str) -> float:
        """Spend one request of `key`; 0.0 if allowed, else the seconds until the next is allowed."""
        now = self._clock()
        with self._lock:
            level, at = self._buckets.pop(key, (self.burst, now))
            level = min(self.burst, level + (now - at) * self.per_s)
            if level >= 1.0:
                self._buckets[key] = (level - 1.0, now)
                wait = 0.0
            else:
                self._buckets[key] = (level, now)
                wait = (1.0 - level) / self.per_s
            while len(self._buckets) > self._max:  # forget the least recently seen tokens first
                self._buckets.popitem(last=False)
            return wait
