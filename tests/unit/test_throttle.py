"""The adaptive concurrency bound and the retry delays."""

from __future__ import annotations

import threading
import time

from voicelab.jobs.throttle import AdaptiveLimiter, retry_delay


def test_limiter_never_exceeds_its_limit() -> None:
    limiter = AdaptiveLimiter(3)
    inside, peak, lock = [0], [0], threading.Lock()

    def work() -> None:
        with limiter.slot():
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            time.sleep(0.01)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 3 and limiter.peak == 3 and limiter.in_flight == 0


def test_limiter_shrinks_on_refusal_and_grows_back() -> None:
    limiter = AdaptiveLimiter(4, grow_after=2)
    with limiter.slot(), limiter.slot(), limiter.slot():
        limiter.on_concurrency_limit()
    assert limiter.limit == 2
    for _ in range(4):
        limiter.on_success()
    assert limiter.limit == 4
    for _ in range(10):
        limiter.on_success()
    assert limiter.limit == 4
    limiter.on_concurrency_limit()
    assert limiter.limit == 1


def test_retry_delay() -> None:
    assert 2.0 <= retry_delay(1, 2.0) <= 2.05
    assert retry_delay(1, 100.0, cap=5) <= 5.05
    assert all(0 <= retry_delay(3, None) <= 2.0 for _ in range(50))
    assert all(0.02 <= retry_delay(2, None, concurrency=True) <= 0.2 for _ in range(50))
    assert max(retry_delay(12, None, cap=3) for _ in range(200)) <= 3
