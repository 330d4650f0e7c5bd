"""One ElevenLabs concurrency budget shared by every worker, through Redis.

ElevenLabs limits requests in flight per account, so workers on several machines must share
one count. `RedisSlots` is a counting semaphore in a Redis sorted set keyed by a hash of the API
key: each holder is a member scored by its lease expiry. A live holder renews its leases every
third of a lease, so a request may take as long as it needs, while a worker that dies
mid-request frees its slots within one lease (kept no longer than the time after which its job
is re-run elsewhere, so the resumed job finds the slots free). Acquiring is one Lua script,
hence atomic. A local AdaptiveLimiter sits in front of it, so a job still backs off on 429s.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from voicelab.config import Settings
from voicelab.jobs.throttle import AdaptiveLimiter

log = logging.getLogger(__name__)

LEASE_S = 15.0

_ACQUIRE = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[4])
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3])) + 60)
  return 1
end
return 0
"""


def budget_key(api_key: str) -> str:
    """The Redis key of an account's budget: a hash, never the key itself."""
    return "voicelab:elevenlabs:inflight:" + hashlib.sha256(api_key.encode()).hexdigest()[:24]


class RedisSlots:
    """At most `limit` requests in flight across every process sharing `key`."""

    def __init__(self, client: redis.Redis, key: str, limit: int, *,
                 local: AdaptiveLimiter | None = None, poll_s: float = 0.01,
                 lease_s: float = LEASE_S) -> None:
        self.client, self.key, self.limit_total = client, key, limit
        self.local = local or AdaptiveLimiter(limit)
        self.maximum = self.local.maximum
        self.poll_s, self.lease_s = poll_s, lease_s
        self._acquire = client.register_script(_ACQUIRE)
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self._renewer: threading.Thread | None = None

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the account's slots: the local bound first, then the shared one."""
        with self.local.slot():
            token = uuid.uuid4().hex
            while not self._acquire(keys=[self.key],
                                    args=[time.time(), self.limit_total, self.lease_s, token]):
                time.sleep(self.poll_s)
            with self._lock:
                self._held.add(token)
                if self._renewer is None:
                    self._renewer = threading.Thread(target=self._renew, daemon=True,
                                                     name="voicelab-budget-lease")
                    self._renewer.start()
            try:
                yield
            finally:
                with self._lock:
                    self._held.discard(token)
                self.client.zrem(self.key, token)

    def _renew(self) -> None:
        """Push the expiry of every lease this process holds; runs while the process lives."""
        while True:
            time.sleep(self.lease_s / 3)
            with self._lock:
                tokens = list(self._held)
            if not tokens:
                continue
            try:
                expiry = time.time() + self.lease_s
                self.client.zadd(self.key, dict.fromkeys(tokens, expiry), xx=True)
                self.client.expire(self.key, math.ceil(self.lease_s) + 60)
            except redis.RedisError as exc:
                log.warning("could not renew ElevenLabs budget leases: %s", exc)

    def on_concurrency_limit(self) -> None:
        self.local.on_concurrency_limit()

    def on_success(self) -> None:
        self.local.on_success()


def shared_slots(settings: Settings, lease_s: float = LEASE_S) -> RedisSlots | AdaptiveLimiter:
    """The shared budget when the broker is Redis and a key is set, else the local bound.

    `lease_s` should not exceed the time after which a dead worker's job is re-run.
    """
    url = settings.celery_broker_url or ""
    if not settings.elevenlabs_api_key or not url.startswith(("redis://", "rediss://")):
        return AdaptiveLimiter(settings.concurrency)
    client = redis.Redis.from_url(url)
    return RedisSlots(client, budget_key(settings.elevenlabs_api_key), settings.concurrency,
                      lease_s=lease_s)
