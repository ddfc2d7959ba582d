"""A replay's records as (offset, value) pairs, parsed from Kafka's v2 record batches here
(docs/adr/0021-replay-parses-record-values.md).

Why: a replay needs each record's offset and value, nothing else, but kafka-python parses every
field of every record in pure Python (seven varints, a `DefaultRecord`, then a 13-field
`ConsumerRecord` with its key, headers and sizes): ~9.6 us of CPU per record on the bench's data,
a third of a replay reader's work. This parser leaves to kafka-python everything that is not per
record (fetching, the batch header, its CRC-32C check, decompression, control batches) and walks
each batch's records itself, decoding only the lengths it must skip: ~4.8 us per record.

It plugs in as the consumer's `PartitionRecords` (the per-partition record iterator kafka-python's
fetcher builds for each fetch response), on one consumer instance only: the live consumers keep
kafka-python's records (they need keys and headers). kafka-python is pinned (pyproject.toml);
`tests/test_record_values.py` holds this parser to kafka-python's own, batch by batch.

Records from a `read_committed` consumer, or in the old (v0/v1) message formats, take
kafka-python's own path and are only reduced to pairs.
"""

from __future__ import annotations

from typing import Any, Iterator

from kafka import KafkaConsumer
from kafka.consumer.fetcher import Fetcher
from kafka.errors import CorruptRecordError
from kafka.protocol.consumer import IsolationLevel
from kafka.record.util import decode_varint


def _values_v2(batch: Any) -> Iterator[tuple[int, bytes | None]]:
    """The (offset, value) of each record of a v2 batch (already CRC-checked by the caller).

    A record is: length, attributes, timestamp delta, offset delta, key length, key, value
    length, value, headers (all lengths zigzag varints). The length says where the record ends,
    so the headers are skipped whole; every varint that fits one byte (nearly all of them) is
    decoded inline."""
    batch._maybe_uncompress()
    data = bytes(batch._buffer)  # one copy per batch: each value is then one slice of it
    pos = batch._pos
    base = batch.base_offset
    for _ in range(batch._num_records):
        b = data[pos]
        if b < 0x80:
            length = (b >> 1) ^ -(b & 1)
            pos += 1
        else:
            length, pos = decode_varint(data, pos)
        end = pos + length
        pos += 1  # attributes: unused
        if data[pos] < 0x80:  # timestamp delta: unused
            pos += 1
        else:
            _, pos = decode_varint(data, pos)
        b = data[pos]
        if b < 0x80:
            delta = (b >> 1) ^ -(b & 1)
            pos += 1
        else:
            delta, pos = decode_varint(data, pos)
        b = data[pos]
        if b < 0x80:
            key_len = (b >> 1) ^ -(b & 1)
            pos += 1
        else:
            key_len, pos = decode_varint(data, pos)
        if key_len > 0:
            pos += key_len
        value_len, pos = decode_varint(data, pos)
        if value_len >= 0:
            value: bytes | None = data[pos:pos + value_len]
            pos += value_len
        else:
            value = None
        if pos >= end or value_len < -1 or key_len < -1:  # the header count, at least, follows
            raise CorruptRecordError(f"record at offset {base + delta} overruns its length {length}")
        pos = end
        yield base + delta, value
    if pos != len(data):
        raise CorruptRecordError(f"{len(data) - pos} unconsumed bytes after all records of a batch")


class ValueRecords(Fetcher.PartitionRecords):  # type: ignore[misc,name-defined]
    """kafka-python's `PartitionRecords` yielding (offset, value) pairs instead of ConsumerRecords."""

    def _maybe_skip_record(self, record: tuple[int, Any]) -> bool:
        return record[0] < self.fetch_offset  # a batch may begin before the offset asked for

    def _unpack_records(self, tp: Any, records: Any, key_deserializer: Any,
                        value_deserializer: Any) -> Iterator[tuple[int, Any]]:
        if self.isolation_level != IsolationLevel.READ_UNCOMMITTED or value_deserializer is not None:
            for record in super()._unpack_records(tp, records, key_deserializer, value_deserializer):
                yield record.offset, record.value  # aborted transactions to filter: kafka-python's path
            return
        batch = records.next_batch()
        last = None
        while batch is not None:
            last = batch
            if self.check_crcs and not batch.validate_crc():
                raise CorruptRecordError(f"record batch for partition {tp} at offset {batch.base_offset} "
                                         "failed its CRC check")
            if batch.magic == 2:
                if batch.is_control_batch:  # a transaction marker: not a record of the log
                    self.next_fetch_offset = batch.next_offset
                else:
                    for pair in _values_v2(batch):
                        self.next_fetch_offset = pair[0] + 1
                        yield pair
                    self.records_read += batch.records_count
                    # kafka-python moves a partition to the back of its next fetch request only once
                    # bytes were read from it: without this count, a broker that fills a response
                    # from the first partitions asked (Tansu) served one partition after another
                    self.bytes_read += batch.size_in_bytes
            else:  # the v0/v1 formats
                for record in batch:
                    if self.check_crcs and not record.validate_crc():
                        raise CorruptRecordError(f"record for partition {tp} at offset {record.offset} "
                                                 "failed its CRC check")
                    self.next_fetch_offset = record.offset + 1
                    self.bytes_read += record.size_in_bytes
                    yield record.offset, record.value
            batch = records.next_batch()
        # as kafka-python does: a v2 batch keeps its last offset even if compaction removed the record
        if last is not None and last.magic == 2:
            self.next_fetch_offset = last.next_offset
        self.drain()


def read_values(consumer: KafkaConsumer) -> None:
    """Make `consumer.poll` return (offset, value) pairs instead of ConsumerRecords."""
    consumer._fetcher.PartitionRecords = ValueRecords


__all__ = ["ValueRecords", "read_values"]
