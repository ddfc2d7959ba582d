"""Searching for personal data and tokens where they must never be (P2, P5): every record of every
topic, every document of a store, every log line, the metrics page.

A needle is searched in the forms it could take: as typed, UTF-8, JSON-escaped (`\\u6d4b…`, as an
`ensure_ascii` writer stores it) and, for numbers, with the separators people type."""

from __future__ import annotations

import json
import os
import time
from typing import Any, Iterable

from kafka import KafkaConsumer, TopicPartition

from ..bus.kafka import all_topics, partitions_of


def forms(needle: str) -> set[bytes]:
    out = {needle.encode("utf-8"), json.dumps(needle).strip('"').encode("ascii")}
    digits = "".join(ch for ch in needle if ch.isdigit())
    if len(digits) >= 7:  # a phone or ID number: also as bare digits …
        out.add(digits.encode())
    if len(digits) == 11:  # … and a mobile number grouped 3-4-4 the ways people write it
        for sep in ("-", " "):
            out.add(sep.join((digits[:3], digits[3:7], digits[7:])).encode())
    return {f for f in out if f}


def find(haystack: bytes, needles: Iterable[str]) -> list[str]:
    """The needles found in `haystack`, in any of their forms."""
    return sorted({n for n in needles for f in forms(n) if f in haystack})


def read_everything(bootstrap: str, timeout_s: float = 60.0) -> dict[str, list[bytes]]:
    """Every record (key and value) of every topic on the broker, from offset 0 to the end."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, allow_auto_create_topics=False,
                             fetch_max_wait_ms=100)
    try:
        topics = sorted(t for t in all_topics(consumer) if not t.startswith("__"))
        tps = [TopicPartition(t, p) for t in topics for p in sorted(partitions_of(consumer, t))]
        out: dict[str, list[bytes]] = {t: [] for t in topics}
        if not tps:
            return out
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=300).items():
                out[tp.topic].extend((r.key or b"") + b"\n" + (r.value or b"") for r in records)
            highs = {tp: consumer.highwater(tp) for tp in tps}
            if all(h is not None and consumer.position(tp, timeout_ms=5000) >= h for tp, h in highs.items()):
                return out
        raise TimeoutError("topics not read to the end in time")
    finally:
        consumer.close()


def read_files(folder: str, suffixes: tuple[str, ...] = ("",)) -> dict[str, bytes]:
    """Every file under `folder` whose name ends with one of `suffixes`, as bytes."""
    out: dict[str, bytes] = {}
    for root, _, files in os.walk(folder):
        for name in files:
            if name.endswith(suffixes):
                path = os.path.join(root, name)
                with open(path, "rb") as fh:
                    out[path] = fh.read()
    return out


def dump_database(db: Any) -> bytes:
    """Every document of every collection of a (pymongo-like) database, as JSON text."""
    docs = {name: list(db[name].find({})) for name in sorted(db.list_collection_names())}
    return json.dumps(docs, ensure_ascii=False, default=str).encode("utf-8")
