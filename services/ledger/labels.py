"""Chinese words of the ledgers: titles, column headers, statuses.

Codes are stored, labels are looked up when a row is shown, so changing a word never needs a
rebuild. Where fangfei.vocab already names a thing, that word is used, so every screen agrees."""

from __future__ import annotations

from fangfei.vocab import CASE_STATUSES, CLUE_CATEGORIES, CLUE_SOURCES, GRID_LEVELS

CLUE_VERIFICATION_TITLE = "非法集资举报线索核查台账"

# Where a clue stands in the verification ledger. Each status has a rank that only grows (the row
# keeps the highest rank it has seen), so a late-arriving earlier event never moves a row back.
# Ranks are spaced so statuses of later issues (registered, escalated, closed) fit in between
# without renumbering stored rows.
CLUE_STATUS_RANKS: dict[str, int] = {
    "reported": 10,
    "routed": 20,
}
CLUE_STATUS_LABELS: dict[str, str] = {
    "reported": CASE_STATUSES["reported"],  # 已上报
    "routed": "已分派",
}

# Who a case was routed to: levels 1-3 are grids, level 4 is the district office.
LEVEL_LABELS: dict[int, str] = {**GRID_LEVELS, 4: "区处非办"}

CATEGORY_LABELS = CLUE_CATEGORIES
SOURCE_LABELS = CLUE_SOURCES

CLUE_VERIFICATION_COLUMNS: list[tuple[str, str]] = [
    ("clue_id", "线索编号"),
    ("street_id", "街道"),
    ("community_id", "社区"),
    ("category_label", "线索类别"),
    ("source_label", "线索来源"),
    ("title", "线索标题"),
    ("subject_name", "涉及主体"),
    ("credit_code", "统一社会信用代码"),
    ("address", "地址"),
    ("found_at", "发现时间"),
    ("reported_at", "上报时间"),
    ("case_id", "案件编号"),
    ("level_label", "分派层级"),
    ("assignee_person_id", "责任网格长"),
    ("register_deadline", "登记时限"),
    ("routing_note", "分派说明"),
    ("routed_at", "分派时间"),
    ("status_label", "核查状态"),
]

# What a cell shows for an id the roster never named (names.py): never the id itself. The same
# words as the console's (services/console/names.py), so screen and paper agree.
NAME_PLACEHOLDERS: dict[str, str] = {
    "street": "（街道名称未知）",
    "community": "（社区名称未知）",
    "grid": "（网格名称未知）",
    "person": "（人员姓名未知）",
    "unit": "（单位名称未知）",
}
TOTAL = "合计"  # a statistics table's total row stands where a community would


def event_type_label(event_type: str) -> str:
    """An event type as people read it: the Chinese words of its catalogue description
    (`case.registered` → 已登记); the code itself only for a type the catalogue does not know."""
    from fangfei.events.registry import REGISTRY

    described = {t.name: t.description for t in REGISTRY.types()}.get(event_type, "")
    return described.split(" ", 1)[0] if described else event_type

# HTTP messages a user reads.
MISSING_STREET = "请指定街道（street_id）"
UNKNOWN_STATUS = "未知的核查状态"
UNKNOWN_LEDGER = "台账"
ROW = "台账记录"
