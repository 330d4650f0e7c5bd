"""The embedded queue (`voicelab://`) under real concurrency: processes that publish, consume,
acknowledge and die, on real folders. No message is lost, none is delivered again once
acknowledged, and nothing a reader sees fails to decode."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection

from voicelab.jobs import embedded_queue

pytestmark = pytest.mark.integration

QUEUE = "race"
PRODUCERS, CONSUMERS, PER_PRODUCER = 4, 3, 600
HOARDED = 25


def connect(base: Path) -> Connection:
    return Connection(f"{embedded_queue.SCHEME}://", transport_options={
        **embedded_queue.folders(base), "polling_interval": 0.01})


def produce(base: str, producer: int, count: int) -> None:
    with connect(Path(base)) as conn:
        queue = conn.SimpleQueue(QUEUE)
        for n in range(count):
            queue.put({"id": f"{producer}-{n}"})
        queue.close()


def consume(base: str, out: str, stop: Any) -> None:
    """Acknowledge messages and append each id to `out` only after its ack."""
    with connect(Path(base)) as conn, open(out, "a", encoding="utf-8") as log:
        queue = conn.SimpleQueue(QUEUE)
        while not stop.is_set():
            try:
                message = queue.get(block=True, timeout=0.2)
            except queue.Empty:
                continue
            message.ack()
            log.write(message.payload["id"] + "\n")
            log.flush()
        queue.close()


def hoard_and_die(base: str, out: str) -> None:
    """Take messages without acknowledging them, say which, then die without cleaning up."""
    conn = connect(Path(base))
    queue = conn.SimpleQueue(QUEUE)
    taken = []
    while len(taken) < HOARDED:
        try:
            taken.append(queue.get(block=True, timeout=0.2).payload["id"])
        except queue.Empty:
            continue
    Path(out).write_text("\n".join(taken), "utf-8")
    os.kill(os.getpid(), signal.SIGKILL)


def read_ids(paths: list[Path]) -> list[str]:
    return [line for p in paths if p.exists() for line in p.read_text("utf-8").split()]


def test_many_producers_and_consumers_lose_nothing_and_repeat_nothing(tmp_path: Path) -> None:
    base = tmp_path / "jobs"
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    outs = [tmp_path / f"acked-{n}.txt" for n in range(CONSUMERS)]
    hoarded = tmp_path / "hoarded.txt"
    consumers = [ctx.Process(target=consume, args=(str(base), str(o), stop)) for o in outs]
    producers = [ctx.Process(target=produce, args=(str(base), n, PER_PRODUCER))
                 for n in range(PRODUCERS)]
    hoarder = ctx.Process(target=hoard_and_die, args=(str(base), str(hoarded)))
    everyone = [*producers, hoarder, *consumers]
    try:
        for process in (*producers, hoarder):
            process.start()
        hoarder.join(120)
        assert hoarder.exitcode == -signal.SIGKILL
        for process in consumers:
            process.start()
        for process in producers:
            process.join(240)
            assert process.exitcode == 0
        total = PRODUCERS * PER_PRODUCER
        deadline = time.monotonic() + 240
        while len(read_ids(outs)) < total and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # anything delivered twice would show up now
        stop.set()
        for process in consumers:
            process.join(60)
            assert process.exitcode == 0
    finally:
        for process in everyone:
            if process.is_alive():
                process.kill()
    acked = read_ids(outs)
    expected = {f"{p}-{n}" for p in range(PRODUCERS) for n in range(PER_PRODUCER)}
    assert len(set(acked)) == len(acked), "a message was delivered again after its ack"
    assert set(acked) == expected, f"{len(expected - set(acked))} message(s) lost"
    assert set(hoarded.read_text("utf-8").split()) <= set(acked)
    assert not list((base / "queue").glob("*.msg"))
    assert not (base / "bad").exists()
    assert not [p for p in (base / "taken").rglob("*") if p.suffix == ".msg"]


def test_an_unreadable_message_is_set_aside_and_the_consumer_goes_on(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    base = tmp_path / "jobs"
    with connect(base) as conn:
        queue = conn.SimpleQueue(QUEUE)
        queue.put({"id": "before"})
        folder = base / "queue"
        empty = folder / embedded_queue.message_name(QUEUE)
        empty.write_bytes(b"")  # what Kombu's own writer could leave visible for a moment
        garbage = folder / embedded_queue.message_name(QUEUE)
        garbage.write_bytes(b'{"body": "half a mess')
        queue.put({"id": "after"})
        got = []
        with caplog.at_level(logging.ERROR, logger=embedded_queue.__name__):
            for _ in range(2):
                message = queue.get(block=True, timeout=5)
                got.append(message.payload["id"])
                message.ack()
        queue.close()
    assert got == ["before", "after"]
    assert sorted(p.name for p in (base / "bad").iterdir()) == sorted([empty.name, garbage.name])
    assert len([r for r in caplog.records if "unreadable message" in r.message]) == 2


def test_a_writer_never_shows_a_partial_message(tmp_path: Path) -> None:
    """Every `*.msg` a reader can list is whole: writes land under a dot-name first."""
    base = tmp_path / "jobs"
    big = {"id": "x" * 2_000_000}
    with connect(base) as conn:
        queue = conn.SimpleQueue(QUEUE)
        ctx = multiprocessing.get_context("spawn")
        writer = ctx.Process(target=_put_many, args=(str(base), big, 20))
        writer.start()
        seen = 0
        while writer.is_alive() or seen < 20:
            for path in (base / "queue").glob("*.msg"):
                try:
                    data = path.read_bytes()
                except FileNotFoundError:
                    continue
                json.loads(data)  # raises if a reader could see a partial file
            try:
                queue.get(block=False).ack()
                seen += 1
            except queue.Empty:
                pass
        writer.join(30)
        queue.close()
    assert writer.exitcode == 0 and seen == 20


def _put_many(base: str, body: dict[str, Any], count: int) -> None:
    with connect(Path(base)) as conn:
        queue = conn.SimpleQueue(QUEUE)
        for _ in range(count):
            queue.put(body)
        queue.close()


def test_unacknowledged_messages_go_back_when_the_connection_closes(tmp_path: Path) -> None:
    base = tmp_path / "jobs"
    with connect(base) as conn:
        queue = conn.SimpleQueue(QUEUE)
        for n in range(3):
            queue.put({"id": n})
        first = queue.get(block=True, timeout=5)
        assert first.payload["id"] == 0
        assert len(list((base / "taken").rglob("*.msg"))) == 1
        queue.close()
    with connect(base) as conn:
        queue = conn.SimpleQueue(QUEUE)
        again = queue.get(block=True, timeout=5)
        assert again.payload["id"] == 0
        again.ack()
        queue.close()
    assert sorted(p.name for p in (base / "taken").iterdir()) == []


def test_stale_broadcasts_for_dead_mailboxes_are_dropped(tmp_path: Path) -> None:
    queue_dir, taken = tmp_path / "queue", tmp_path / "taken"
    queue_dir.mkdir()
    old = f"{time.time_ns() - 120 * 10**9:020d}_x.gone@host.celery.pidbox.msg"
    fresh = embedded_queue.message_name("alive@host.celery.pidbox")
    job = f"{time.time_ns() - 3600 * 10**9:020d}_y.celery.msg"
    for name in (old, fresh, job):
        (queue_dir / name).write_text("{}")
    embedded_queue.recover(queue_dir, taken)
    assert sorted(p.name for p in queue_dir.iterdir()) == sorted([fresh, job])


@pytest.mark.timeout(60)
def test_a_wait_for_a_message_ends_once_the_worker_is_told_to_stop(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Celery's solo-pool loop waits in drain_events before it looks at a warm shutdown; the
    wait ends within a poll once the flag is up (or this test times out at 60 s)."""
    from celery.worker import state

    with connect(tmp_path) as conn:
        conn.SimpleQueue(QUEUE).close()
        with pytest.raises(TimeoutError):  # nothing came in the short wait
            conn.drain_events(timeout=0.05)
        monkeypatch.setattr(state, "should_stop", 0)  # SIGTERM's warm shutdown: EX_OK
        with pytest.raises(TimeoutError):
            conn.drain_events(timeout=3600)
