"""The shared ElevenLabs concurrency budget against a real redis-server."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis

from tests.redis_server import RedisServer
from voicelab.config import Settings
from voicelab.jobs.budget import RedisSlots, budget_key, shared_slots
from voicelab.jobs.throttle import AdaptiveLimiter

pytestmark = pytest.mark.integration

KEY = "sk-budget-s3cret-0123456789abcdef"
REPO = Path(__file__).resolve().parents[2]
HOLDER = """
import sys, time, redis
from voicelab.jobs.budget import RedisSlots
budget = RedisSlots(redis.Redis.from_url(sys.argv[1]), sys.argv[2], 1, lease_s=0.5)
with budget.slot():
    print("HELD", flush=True)
    time.sleep(60)
"""


def test_holders_in_several_clients_never_exceed_the_shared_limit(
        redis_server: RedisServer) -> None:
    key = budget_key(KEY)
    budgets = [RedisSlots(redis.Redis.from_url(redis_server.url), key, 3) for _ in range(3)]
    holding, peak, lock = [0], [0], threading.Lock()

    def work(budget: RedisSlots) -> None:
        for _ in range(10):
            with budget.slot():
                with lock:
                    holding[0] += 1
                    peak[0] = max(peak[0], holding[0])
                time.sleep(0.005)
                with lock:
                    holding[0] -= 1

    threads = [threading.Thread(target=work, args=(b,)) for b in budgets for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert peak[0] == 3, "nine threads in three clients share three slots"
    assert redis.Redis.from_url(redis_server.url).zcard(key) == 0, "every slot was given back"


def test_a_holder_that_was_killed_frees_its_slot_when_its_lease_runs_out(
        redis_server: RedisServer) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, redis_server.url, budget_key(KEY)],
        cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "HELD"
        budget = RedisSlots(redis.Redis.from_url(redis_server.url), budget_key(KEY), 1,
                            lease_s=0.5)
        entered = threading.Event()

        def take() -> None:
            with budget.slot():
                entered.set()

        thread = threading.Thread(target=take, daemon=True)
        thread.start()
        assert not entered.wait(1.0), "the live holder renews its lease"
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        assert entered.wait(10), "the dead holder's lease ran out and the slot was taken"
        thread.join(10)
    finally:
        holder.kill()
        holder.wait(10)


def test_the_budget_key_hides_the_api_key_and_is_shared_only_over_redis(
        redis_server: RedisServer, tmp_path: Path) -> None:
    assert KEY not in budget_key(KEY) and budget_key(KEY) == budget_key(KEY)
    assert budget_key(KEY) != budget_key(KEY + "x")
    shared = shared_slots(Settings(audio_root=tmp_path, elevenlabs_api_key=KEY, concurrency=5,
                                   celery_broker_url=redis_server.url))
    assert isinstance(shared, RedisSlots) and shared.limit_total == 5
    local = shared_slots(Settings(audio_root=tmp_path, elevenlabs_api_key=KEY, concurrency=5))
    assert isinstance(local, AdaptiveLimiter) and local.maximum == 5


def test_a_live_holder_keeps_its_slot_beyond_one_lease(redis_server: RedisServer) -> None:
    slow = RedisSlots(redis.Redis.from_url(redis_server.url), budget_key(KEY), 1, lease_s=0.3)
    other = RedisSlots(redis.Redis.from_url(redis_server.url), budget_key(KEY), 1, lease_s=0.3)
    release, entered = threading.Event(), threading.Event()

    def hold() -> None:
        with slow.slot():
            release.wait(10)

    def take() -> None:
        with other.slot():
            entered.set()

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.05)
    taker = threading.Thread(target=take)
    taker.start()
    assert not entered.wait(1.2), "the lease was renewed four times over while held"
    release.set()
    assert entered.wait(10)
    holder.join(10)
    taker.join(10)
