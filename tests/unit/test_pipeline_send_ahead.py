"""For sinks that wait on I/O, the pipeline sends one batch from a background thread while it
reads the next, and still acknowledges every unit only after its records are settled, in order,
on the caller's thread. Sinks that only compute are called directly."""

from __future__ import annotations

import threading

import pytest

from connector.errors import SinkError
from connector.pipeline import Pipeline, RecordProcessor
from connector.sinks.base import Batch, DeadLetter, Delivery
from connector.sources.base import WorkUnit
from tests.unit._support import FLOW_KEY, V2_HEADER, MemoryDlq, gz, unit, v2_line


def _flow_unit(n: int, lines: int) -> WorkUnit:
    body = "\n".join([V2_HEADER, *(v2_line(sport=1024 + i, dport=n) for i in range(lines))])
    return unit(gz(body), FLOW_KEY.replace("1a2b3c4d", f"{n:08x}"))


class GatedSink:
    """Holds each send until the test lets it go, and records what the pipeline did meanwhile."""

    waits_on_io = True  # like every network or file sink

    def __init__(self, events: list[str], fail_on: int | None = None) -> None:
        self.events = events
        self.sent: list[int] = []
        self.threads: set[str] = set()
        self.release = threading.Semaphore(0)
        self.started = threading.Semaphore(0)
        self.fail_on = fail_on

    def send(self, batch: Batch) -> Delivery:
        self.threads.add(threading.current_thread().name)
        number = len(self.sent) + 1
        self.events.append(f"send {number} started")
        self.started.release()
        if not self.release.acquire(timeout=10):
            raise AssertionError(f"send {number} was never let go: the caller did not read on while it was held")
        self.sent.append(len(batch))
        if number == self.fail_on:
            raise SinkError(f"batch {number} refused")
        # The last record of every batch is refused: dead letters must still be written in order.
        letter = DeadLetter(record=batch.docs[-1], reason=f"refused in batch {number}", origin=batch.origins[-1])
        self.events.append(f"send {number} done")
        return Delivery(delivered=len(batch) - 1, dead_lettered=[letter])

    def close(self) -> None:
        pass


class ReleasingUnits:
    """Yields units; reads each next one while the previous send is held, then lets that send finish."""

    def __init__(self, units: list[WorkUnit], sink: GatedSink, events: list[str]) -> None:
        self.units, self.sink, self.events = units, sink, events

    def __iter__(self):  # type: ignore[no-untyped-def]
        for n, item in enumerate(self.units, 1):
            if n > 1:
                assert self.sink.started.acquire(timeout=10)  # send n-1 is in flight, held
            self.events.append(f"read unit {n}")
            if n > 1:
                self.sink.release.release()
            yield item
        assert self.sink.started.acquire(timeout=10)
        self.sink.release.release()


def test_next_batch_is_read_while_the_previous_one_is_sent_and_acks_follow_delivery(
    processor: RecordProcessor,
) -> None:
    events: list[str] = []
    sink = GatedSink(events)
    dlq = MemoryDlq()
    acked: list[str] = []

    def settled(u: WorkUnit) -> None:
        assert threading.current_thread() is threading.main_thread()
        acked.append(u.origin)
        events.append(f"ack {u.origin[-12:-7]}")

    units = [_flow_unit(n, 10) for n in range(1, 5)]
    pipeline = Pipeline(processor, sink, dlq, batch_docs=10, on_settled=settled)  # type: ignore[arg-type]
    for _ in range(4):
        sink.release.release()  # the sends themselves are not what this test holds back
    summary = pipeline.run(units)

    assert sink.sent == [10, 10, 10, 10]
    assert sink.threads == {"sink-send_0"}  # never the caller's thread
    assert acked == [u.origin for u in units]
    assert (summary.written, summary.dead_lettered) == (36, 4)
    assert [d.reason for d in dlq.letters] == [f"refused in batch {n}" for n in (1, 2, 3, 4)]
    # A unit is acknowledged only after the send that carried its records has finished.
    for n in range(1, 5):
        assert events.index(f"send {n} done") < events.index(f"ack {units[n - 1].origin[-12:-7]}")


def test_reading_overlaps_the_send_in_flight(processor: RecordProcessor) -> None:
    events: list[str] = []
    sink = GatedSink(events)
    units = [_flow_unit(n, 10) for n in range(1, 4)]
    Pipeline(processor, sink, MemoryDlq(), batch_docs=10).run(ReleasingUnits(units, sink, events))  # type: ignore[arg-type]
    # Unit 2 was read while batch 1 was still being sent (the sink was held until then).
    assert events.index("send 1 started") < events.index("read unit 2") < events.index("send 1 done")
    assert sink.sent == [10, 10, 10]


def test_a_failed_send_acknowledges_nothing_from_that_batch_on(processor: RecordProcessor) -> None:
    events: list[str] = []
    sink = GatedSink(events, fail_on=2)
    for _ in range(5):
        sink.release.release()
    acked: list[WorkUnit] = []
    units = [_flow_unit(n, 10) for n in range(1, 5)]
    pipeline = Pipeline(processor, sink, MemoryDlq(), batch_docs=10, on_settled=acked.append)  # type: ignore[arg-type]
    with pytest.raises(SinkError, match="batch 2 refused"):
        pipeline.run(units)
    assert acked == units[:1]
    assert pipeline.summary.written == 9
    assert len(sink.sent) == 2  # nothing was sent after the failure surfaced


def test_flush_returns_with_everything_settled(processor: RecordProcessor) -> None:
    events: list[str] = []
    sink = GatedSink(events)
    for _ in range(3):
        sink.release.release()
    acked: list[WorkUnit] = []
    pipeline = Pipeline(processor, sink, MemoryDlq(), batch_docs=7, on_settled=acked.append)  # type: ignore[arg-type]
    first, second = _flow_unit(1, 10), _flow_unit(2, 4)
    pipeline.process_unit(first)  # a full batch goes out at once, the rest waits for the next
    pipeline.process_unit(second)
    assert acked == []
    pipeline.flush()
    assert acked == [first, second]
    assert len(sink.sent) == 2 and sum(sink.sent) == 14
    assert pipeline.summary.written == 12  # one refused per batch
    pipeline.close()


def test_a_sink_that_only_computes_is_called_on_the_callers_thread(processor: RecordProcessor) -> None:
    class Counting:
        def __init__(self) -> None:
            self.threads: set[str] = set()

        def send(self, batch: Batch) -> Delivery:
            self.threads.add(threading.current_thread().name)
            return Delivery(delivered=len(batch))

        def close(self) -> None:
            pass

    sink = Counting()
    acked: list[WorkUnit] = []
    units = [_flow_unit(n, 10) for n in range(1, 4)]
    summary = Pipeline(processor, sink, MemoryDlq(), batch_docs=10, on_settled=acked.append).run(units)  # type: ignore[arg-type]
    assert sink.threads == {threading.current_thread().name}
    assert acked == units and summary.written == 30
