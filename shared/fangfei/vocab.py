"""Domain vocabulary: the codes the platform stores and the Chinese labels users read.

Kept in one place so every screen, export and message uses the same words (docs/glossary.md)."""

from __future__ import annotations

# Clue categories, seed 000 §三 and seeds 003/004.
CLUE_CATEGORIES: dict[str, str] = {
    "advertising": "广告咨询信息",
    "suspicious_enterprise": "非法集资苗头企业",
    "illegal_securities": "非法经营证券业务",
    "illegal_finance": "非法金融活动",
    "petition_risk": "信访问题",
}

# How a clue reached the platform (seed 004: 12345 hotline, 110, in person; grid patrols, seed 000).
CLUE_SOURCES: dict[str, str] = {
    "grid_patrol": "网格巡查",
    "hotline_12345": "12345热线",
    "police_110": "110报警",
    "walk_in": "来访举报",
    "media": "媒体",
    "department": "部门移交",
    "superior": "上级交办",
}

GRID_LEVELS: dict[int, str] = {1: "一级网格", 2: "二级网格", 3: "三级网格"}

COMMUNITY_KINDS: dict[str, str] = {"community": "社区", "village": "村"}

PERSON_ROLES: dict[str, str] = {
    "grid_chief": "网格长",
    "grid_staff": "网格员",
    "liaison": "联络员",
    "volunteer": "志愿者",
    "community_secretary": "社区书记",
    "member_unit_contact": "成员单位联系人",
    "leader": "领导",
    "office_staff": "处非办工作人员",
}

CASE_STATUSES: dict[str, str] = {
    "reported": "已上报",
    "registered": "已登记",
    "escalated": "已上报上级",
    "closed": "已办结",
}

DELIVERY_CHANNELS: dict[str, str] = {"inbox": "站内消息"}
