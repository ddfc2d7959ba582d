"""Realistic, reproducible event histories for the rebuild benchmarks, as the relays publish them.

Why generated here and not through the services: a million events through intake and escalation
would take the whole time budget before anything is measured. So the bench writes the same bytes
the relays would write (`encode_event` of a stamped, validated event: sorted keys, UTF-8 JSON,
keyed by stream id on `<service>.events`), and `check_sample` proves it by decoding a sample with
the platform's own `decode_event` and comparing it field for field.

One history is a sequence of clues across three streets; each clue gives one `clue.reported`
(intake) and, a moment later, one `case.opened` (escalation), routed mostly to a level-3 grid
chief, sometimes to level 2 or 1, and now and then to the district office (level 4, no
assignee, with a routing note) as a vacancy does. Names and ids are synthetic.

Every other event type the ledgers consume (case lifecycle, enterprise risk, obligations, the
record types of the ten ledgers…) is generated from its own registered schema (`from_schema`):
a value for each field that its validators accept, the clue's ids where a field names one
(`case_id`, `clue_id`, `community_id`, …), then the platform's `validate_payload` gives the
canonical payload. One clue then brings its report, its case and one more event, the consumed
types taken in turn, so every ledger folds its share and a ledger added later is covered without
touching this file. `GENERATORS` holds the hand-written, realistic generators; `from_schema`
refuses (LookupError) a type whose schema it cannot satisfy, naming it, so a ledger cannot be
benchmarked on events it never sees.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

from fangfei.clock import SHANGHAI, to_iso

# Three streets; the first is the demo street of the roster (its real community ids).
STREETS: dict[str, list[str]] = {
    "longgang": ["magang", "luogang", "hupo", "wanggang", "haizhou", "youfang", "xinzhan"],
    "pingdi": ["pingdi_c01", "pingdi_c02", "pingdi_c03", "pingdi_c04"],
    "henggang": ["henggang_c01", "henggang_c02", "henggang_c03", "henggang_c04", "henggang_c05"],
}
STREET_WEIGHTS = [5, 2, 3]

CATEGORIES = ["advertising", "suspicious_enterprise", "illegal_securities", "illegal_finance", "petition_risk"]
CATEGORY_WEIGHTS = [30, 25, 10, 30, 5]
SOURCES = ["grid_patrol", "hotline_12345", "police_110", "walk_in", "media", "department", "superior"]
SOURCE_WEIGHTS = [45, 25, 5, 10, 3, 7, 5]
TITLES = [
    "门店宣传保本高息理财", "小区内散发养老投资传单", "网络群组推销虚拟货币", "商铺招募会员承诺返利",
    "社区活动室举办投资讲座", "街头派发消费返现广告", "某公司以项目入股名义吸收资金", "电话推销原始股",
]
DESCRIPTIONS = [
    "网格员巡查发现某门店宣传年化18%保本理财产品，现场有老年人咨询。",
    "居民反映有人在小区门口发放传单，承诺每月固定分红。",
    "来电反映某微信群以高额回报为诱饵推销境外平台产品。",
    "商户称有人上门推销会员卡，充值即返利，疑似变相吸收资金。",
]
REGISTER_WINDOW = timedelta(hours=4)  # escalation/domain/deadlines.py: the same 4 calendar hours
HISTORY_START = datetime(2025, 1, 1, tzinfo=SHANGHAI)
HISTORY_SPAN = timedelta(days=365)

# Which service's topic carries each event type (topics are `<service>.events`); the others are
# asked of the ledger service itself (`producer_of`), which decides which topic it consumes.
PRODUCER: dict[str, str] = {"clue.reported": "intake", "case.opened": "escalation"}


def producer_of(event_type: str) -> str:
    if event_type in PRODUCER:
        return PRODUCER[event_type]
    from services.ledger import service as ledger_service  # the consumer decides where it reads

    source_of = getattr(ledger_service, "_source_of", None)
    if source_of is not None:
        return str(source_of(event_type))
    from fangfei.events.registry import REGISTRY

    module = REGISTRY._get(event_type).schemas[REGISTRY.latest_version(event_type)].__module__
    return module.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Record:
    """One message as a relay publishes it."""

    service: str  # producing service: the topic is `<prefix><service>.events`
    key: bytes  # stream id
    value: bytes  # encode_event(...)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _encode(envelope: dict[str, Any]) -> bytes:
    """Exactly `fangfei.events.registry.encode_event` (checked by `check_sample`)."""
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _clue(rng: random.Random, i: int, n_clues: int) -> dict[str, Any]:
    """The facts one clue is drawn from; both events of the clue are cut from it."""
    street = rng.choices(list(STREETS), STREET_WEIGHTS)[0]
    community = rng.choice(STREETS[street])
    # found times spread over a year in order, reported minutes to hours later (a patrol writes up)
    found = HISTORY_START + HISTORY_SPAN * (i / max(1, n_clues)) + timedelta(seconds=rng.randrange(600))
    found = found.replace(microsecond=0)
    reported = found + timedelta(minutes=rng.randrange(1, 180), milliseconds=rng.randrange(1000))
    r = rng.random()
    level = 3 if r < 0.9 else 2 if r < 0.95 else 1 if r < 0.97 else 4
    return {
        "i": i, "street": street, "community": community, "found": found, "reported": reported,
        "clue_id": uuid.UUID(int=rng.getrandbits(128)).hex, "level": level,
        "category": rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0],
        "source": rng.choices(SOURCES, SOURCE_WEIGHTS)[0],
        "title": rng.choice(TITLES), "description": rng.choice(DESCRIPTIONS),
        "with_subject": rng.random() < 0.6, "reporter": f"wg-{rng.randrange(1, 400):04d}",
        "clue_event_id": _uuid(rng), "case_event_id": _uuid(rng),
        "routed_after": timedelta(milliseconds=rng.randrange(20, 3000)),
    }


def clue_reported(c: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "clue_id": c["clue_id"],
        "community_id": c["community"],
        "category": c["category"],
        "source": c["source"],
        "title": c["title"],
        "description": c["description"],
        "subject_name": f"某某投资咨询有限公司{c['i'] % 997:03d}（虚构）" if c["with_subject"] else "",
        "credit_code": f"91000000MA{c['i'] % 10 ** 8:08d}" if c["with_subject"] else "",
        "address": f"示例路{c['i'] % 500 + 1}号" if c["with_subject"] else "",
        "found_at": c["found"].isoformat(),
        "reported_by": c["reporter"],
    }
    stream = f"clue-{c['clue_id']}"
    envelope = {
        "event_id": c["clue_event_id"], "type": "clue.reported", "schema_version": 1,
        "stream_id": stream, "stream_version": 1, "street_id": c["street"],
        "occurred_at": to_iso(c["reported"]), "recorded_at": to_iso(c["reported"]),
        "actor": c["reporter"], "correlation_id": c["clue_event_id"], "causation_id": "", "payload": payload,
    }
    return envelope


def case_opened(c: dict[str, Any]) -> dict[str, Any]:
    level, community = c["level"], c["community"]
    vacant = level == 4
    payload: dict[str, Any] = {
        "case_id": c["clue_id"],  # one case per clue: escalation uses the clue id
        "clue_id": c["clue_id"],
        "community_id": community,
        "grid_id": "" if vacant else {3: f"{community}-l3-01", 2: f"{community}-l2", 1: f"{c['street']}-l1"}[level],
        "level": level,
        "assignee_person_id": "" if vacant else {3: f"{community}-l3-01-chief", 2: f"{community}-l2-chief",
                                                  1: f"{c['street']}-l1-chief"}[level],
        "found_at": c["found"].isoformat(),
        "register_deadline": (c["found"] + REGISTER_WINDOW).isoformat(),
        "routing_note": "三级、二级、一级网格长均空缺，转区处非办" if vacant else "",
    }
    routed = c["reported"] + c["routed_after"]
    stream = f"case-{c['clue_id']}"
    envelope = {
        "event_id": c["case_event_id"], "type": "case.opened", "schema_version": 1,
        "stream_id": stream, "stream_version": 1, "street_id": c["street"],
        "occurred_at": to_iso(routed), "recorded_at": to_iso(routed),
        "actor": "system:escalation", "correlation_id": c["clue_event_id"], "causation_id": c["clue_event_id"],
        "payload": payload,
    }
    return envelope


# -- any other consumed type, from its schema -----------------------------------------------------
FILLER = "示例文字：网格排查发现的情况说明"


def _hints(c: dict[str, Any]) -> dict[str, Any]:
    """Values for fields that name something the clue already has, so events of one clue link up."""
    return {
        "case_id": c["clue_id"], "clue_id": c["clue_id"], "community_id": c["community"],
        "street_id": c["street"], "credit_code": f"91000000MA{c['i'] % 10 ** 8:08d}",
        "grid_id": f"{c['community']}-l3-01", "person_id": f"{c['community']}-l3-01-chief",
        "assignee_person_id": f"{c['community']}-l3-01-chief", "record_id": c["clue_id"][:24],
    }


def _accepts(field: Any, value: Any) -> bool:
    from marshmallow import ValidationError

    try:
        field.deserialize(value)
    except ValidationError:
        return False
    return True


def _value(name: str, field: Any, c: dict[str, Any], rng: random.Random) -> Any:
    from marshmallow import fields as mf
    from marshmallow import validate as mv

    hint = _hints(c).get(name)
    if hint is not None and _accepts(field, hint):
        return hint
    one_of = next((v for v in field.validators if isinstance(v, mv.OneOf)), None)
    if one_of is not None:
        return rng.choice(list(one_of.choices))
    at = c["reported"] + timedelta(hours=rng.randrange(1, 72))
    if isinstance(field, (mf.AwareDateTime, mf.DateTime)):
        return at.isoformat()
    if isinstance(field, mf.Date):
        return at.date().isoformat()
    if isinstance(field, mf.Boolean):
        return rng.random() < 0.3
    if isinstance(field, mf.Integer):
        rng_v = next((v for v in field.validators if isinstance(v, mv.Range)), None)
        lo = int(rng_v.min) if rng_v is not None and rng_v.min is not None else 0
        hi = int(rng_v.max) if rng_v is not None and rng_v.max is not None else lo + 1000
        return rng.randint(lo, min(hi, lo + 1000))
    if isinstance(field, mf.List):
        length = next((v for v in field.validators if isinstance(v, mv.Length)), None)
        count = max(1, (length.min or 1) if length is not None else 1)
        return [_value(name, field.inner, c, rng) for _ in range(count)]
    if isinstance(field, mf.Nested):
        return _payload(field.schema, c, rng)
    if isinstance(field, mf.String):
        timelike = name.endswith(("_at", "deadline", "_time")) or name in ("at", "deadline", "due")
        datelike = name.endswith(("_on", "_date")) or name in ("date", "month")
        candidates = [at.isoformat()] if timelike else [at.date().isoformat()] if datelike else []
        if "phone" in name:  # a syntactically valid, synthetic mainland mobile number (no real person's)
            candidates.append("1" + "3" + "9" + "0" * 4 + f"{c['i'] % 10_000:04d}")
        candidates += [f"{name.replace('_', '-')}-{c['i']:07d}", uuid.UUID(int=rng.getrandbits(128)).hex, FILLER]
        for candidate in candidates:
            if _accepts(field, candidate):
                return candidate
        length = next((v for v in field.validators if isinstance(v, mv.Length)), None)
        if length is not None:
            return (FILLER * 10)[: max(length.min or 1, min(length.max or 20, 20))]
    raise LookupError(f"no value for field {name} ({type(field).__name__})")


def _payload(schema: Any, c: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, field in schema.fields.items():
        if field.dump_only:
            continue
        if field.required or rng.random() < 0.5:
            out[field.data_key or name] = _value(name, field, c, rng)
    return out


def from_schema(event_type: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A generator for `event_type` cut from its registered schema (see the module docstring).
    A case.* event goes on the clue's case stream, after case.opened; any other on its own."""
    from fangfei.events.registry import REGISTRY

    version = REGISTRY.latest_version(event_type)
    schema = REGISTRY._get(event_type).schemas[version]()
    kind = event_type.split(".")[0].replace("_", "")

    def make(c: dict[str, Any]) -> dict[str, Any]:
        rng = random.Random(f"{event_type}:{c['i']}")
        errors: Any = None
        for _ in range(5):
            try:
                payload = REGISTRY.validate_payload(event_type, version, _payload(schema, c, rng))
                break
            except Exception as exc:  # EventError: try other values (cross-field rules), then refuse
                errors = getattr(exc, "messages", exc)
        else:
            raise LookupError(f"bench/dataset.py cannot generate a valid {event_type} from its schema ({errors}): "
                              "add a generator for it to GENERATORS")
        on_case = kind == "case"
        at = c["reported"] + c["routed_after"] + timedelta(minutes=5 + c["i"] % 600)
        return {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "type": event_type,
            "schema_version": version,
            "stream_id": f"case-{c['clue_id']}" if on_case else f"{kind}-{uuid.UUID(int=rng.getrandbits(128)).hex}",
            "stream_version": 2 if on_case else 1, "street_id": c["street"],
            "occurred_at": to_iso(at), "recorded_at": to_iso(at),
            "actor": "system:escalation" if on_case else c["reporter"],
            "correlation_id": c["clue_event_id"], "causation_id": c["case_event_id"] if on_case else "",
            "payload": payload,
        }

    return make


# Event type → how to cut its envelope from a clue's facts. A ledger consuming a new type adds it here.
GENERATORS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "clue.reported": clue_reported,
    "case.opened": case_opened,
}


def consumed_types() -> list[str]:
    """The event types the ledgers fold (their rebuild reads exactly these)."""
    from services.ledger.ledgers import PROJECTORS

    return sorted(PROJECTORS)


def topics_for(types: list[str], prefix: str = "") -> list[str]:
    return sorted({f"{prefix}{producer_of(t)}.events" for t in types})


def _payload_defaults(envelope: dict[str, Any]) -> dict[str, Any]:
    """The optional payload fields the generator leaves out, with the values the schema fills in:
    the catalogue grows optional fields over time, and a published event always carries them."""
    from fangfei.events.registry import REGISTRY

    canonical = REGISTRY.validate_payload(envelope["type"], envelope["schema_version"], envelope["payload"])
    return {k: v for k, v in canonical.items() if k not in envelope["payload"]}


def history(n_events: int, seed: int = 20260314) -> Iterator[Record]:
    """Exactly `n_events` records. Each clue brings its `clue.reported`, its `case.opened` and, when
    the ledgers consume more types, one event of the next of them in turn (a clue's report first).
    Same seed, same bytes."""
    types = consumed_types()
    core = [t for t in GENERATORS if t in types]
    others = [t for t in types if t not in core]
    makers = {t: GENERATORS.get(t) or from_schema(t) for t in types}
    per_clue = len(core) + (1 if others else 0)
    rng = random.Random(seed)
    n_clues = max(1, -(-n_events // per_clue))
    defaults: dict[str, dict[str, Any]] = {}
    sent = 0
    for i in range(n_clues):
        c = _clue(rng, i, n_clues)
        for event_type in core + ([others[i % len(others)]] if others else []):
            if sent == n_events:
                return
            envelope = makers[event_type](c)
            if event_type not in defaults:
                defaults[event_type] = _payload_defaults(envelope)
            if defaults[event_type]:
                envelope["payload"] = {**defaults[event_type], **envelope["payload"]}
            yield Record(producer_of(event_type), envelope["stream_id"].encode(), _encode(envelope))
            sent += 1


def check_sample(records: list[Record]) -> None:
    """Each sampled record decodes with the platform's own decoder to exactly what was encoded,
    so the bench folds the same events the services would publish (raises AssertionError)."""
    from fangfei.events.registry import decode_event, encode_event

    for rec in records:
        event = decode_event(rec.value)
        again = encode_event(event)
        if again != rec.value:
            raise AssertionError(f"generated {event.type} is not in canonical form:\n{rec.value!r}\n{again!r}")
        if rec.key != event.stream_id.encode():
            raise AssertionError(f"key {rec.key!r} is not the stream id {event.stream_id}")
