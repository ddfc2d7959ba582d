"""The replay's own record parser (`record_values.py`) gives exactly the offsets and values
kafka-python gives, on record batches kafka-python's own builder wrote: every size of key, value
and timestamp (one- and multi-byte varints), headers, null keys and values, compressed batches,
a fetch that begins inside a batch, and the offset the next fetch starts from."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings, strategies as st
from kafka import TopicPartition
from kafka.consumer.fetcher import Fetcher
from kafka.errors import CorruptRecordError
from kafka.record import MemoryRecords
from kafka.record.memory_records import MemoryRecordsBuilder

from services.ledger.record_values import ValueRecords

TP = TopicPartition("intake.events", 0)
CODECS = [0, 1]  # none, gzip (what the platform's producers may use without extra libraries)

BLOBS = st.one_of(st.none(), st.binary(max_size=40), st.binary(min_size=60, max_size=300),
                  st.just(b"x" * 20_000))
HEADERS = st.lists(st.tuples(st.sampled_from(["type", "event_id", "来源"]), st.one_of(st.none(), st.binary(max_size=80))),
                   max_size=3)
RECORDS = st.lists(st.tuples(st.integers(min_value=0, max_value=2**40), BLOBS, BLOBS, HEADERS), min_size=1, max_size=12)


def _log(batches: list[tuple[int, list[Any]]]) -> bytes:
    """Batches as a broker's fetch response holds them, one after the other from offset 0."""
    out = b""
    offset = 0
    for codec, records in batches:
        builder = MemoryRecordsBuilder(magic=2, compression_type=codec, batch_size=1 << 24, offset=offset)
        for timestamp, key, value, headers in records:
            builder.append(timestamp=timestamp, key=key, value=value, headers=headers)
            offset += 1
        builder.close()
        out += bytes(builder.buffer())
    return out


def _read(cls: type, data: bytes, fetch_offset: int = 0, check_crcs: bool = True) -> tuple[list[Any], int]:
    part = cls(fetch_offset, TP, MemoryRecords(data), check_crcs=check_crcs)
    got = part.take()
    # kafka-python rotates a partition to the back of its next fetch only if bytes were read from it:
    # without the count, Tansu served one partition after another (record_values.py)
    assert part.bytes_read > 0
    return got, part.next_fetch_offset


def _kafka_python(data: bytes, fetch_offset: int = 0) -> tuple[list[tuple[int, Any]], int]:
    records, next_offset = _read(Fetcher.PartitionRecords, data, fetch_offset)
    return [(r.offset, r.value) for r in records], next_offset


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(CODECS), RECORDS), min_size=1, max_size=4), st.data())
def test_offsets_and_values_are_kafka_pythons(batches: list[tuple[int, list[Any]]], data: st.DataObject) -> None:
    log = _log(batches)
    total = sum(len(records) for _, records in batches)
    start = data.draw(st.integers(min_value=0, max_value=total - 1), label="fetch offset")
    expected = _kafka_python(log, start)
    assert _read(ValueRecords, log, start) == expected
    assert [offset for offset, _ in expected[0]] == list(range(start, total))  # the reference itself


def test_a_batch_whose_bytes_changed_is_refused() -> None:
    log = bytearray(_log([(0, [(1, b"k", b'{"a": 1}', [])] * 3)]))
    log[-5] ^= 0xFF
    with pytest.raises(CorruptRecordError):
        _read(ValueRecords, bytes(log))


def test_a_record_that_overruns_its_length_is_refused_even_without_crc_checks() -> None:
    log = bytearray(_log([(0, [(1, None, b"v" * 10, [])])]))
    # the record's length (first byte after the 61-byte batch header) shortened by 8 bytes
    length = log[61]
    assert length < 0x80, "a one-byte zigzag varint"
    log[61] = length - 16
    with pytest.raises(CorruptRecordError):
        _read(ValueRecords, bytes(log), check_crcs=False)


def test_read_committed_consumers_keep_kafka_pythons_path() -> None:
    from kafka.protocol.consumer import IsolationLevel

    log = _log([(0, [(1, b"k", b"one", []), (2, b"k", None, [("type", b"x")])])])
    part = ValueRecords(0, TP, MemoryRecords(log), isolation_level=IsolationLevel.READ_COMMITTED)
    assert part.take() == [(0, b"one"), (1, None)]
