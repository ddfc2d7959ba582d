"""What users read: the Chinese labels of the workflow's codes.

The codes themselves are the event contract (`fangfei.events.escalation`); a test keeps the two
in step. Kept here, not in the event module, so the domain imports no schema library."""

from __future__ import annotations

DISTRICT_LEVEL = 4  # the district office (区处非办), above the street's level-1 grid

LEVEL_LABELS: dict[int, str] = {3: "三级网格", 2: "二级网格", 1: "一级网格", DISTRICT_LEVEL: "区处非办"}

STATUS_LABELS: dict[str, str] = {
    "reported": "已上报",  # waiting to be registered within 4 hours
    "triage": "三级网格处置中",
    "level2_review": "二级网格研判中",
    "level1_review": "一级网格研判中",
    "district": "区处非办处置中",
    "joint_meeting": "联席会议研判中",
    "disposal": "处置中",
    "closed": "已办结",
}

ACTION_LABELS: dict[str, str] = {
    "register": "登记",
    "escalate": "稳控并上报",
    "bounce_back": "退回",
    "mark_abnormal": "标记异常并同时报告",
    "record_agency_response": "记录部门反馈",
    "convene_joint_meeting": "召开联席会议",
    "conclude_joint_meeting": "联席会议裁决",
    "decide_disposal": "作出处置决定",
    "complete_rectification": "整改完成",
    "close": "办结",
    "pause": "暂停计时",
    "resume": "恢复计时",
    "extend": "申请延期",
    "assign_leader": "领导包案",
    "list_supervision": "挂牌督办",
}

RULE_LABELS: dict[str, str] = {
    "registration": "4小时内登记录入",
    "triage": "三级网格处置",
    "level2_review": "二级网格每日研判",
    "level1_review": "一级网格每日研判",
    "district_review": "区处非办研判",
    "joint_meeting": "联席会议裁决",
    "rectification": "限期整改",
    "enterprise_plan": "一企一策期限",
}

AGENCY_LABELS: dict[str, str] = {
    "police_station": "派出所（公安）",
    "market_regulation": "市场监督管理所",
    "district_office": "处非办",
    "tax_office": "税务所",
    "public_service_office": "公共服务办",
    "urban_management_office": "城市管理办",
    "public_security_office": "公共安全办",
    "finance_office": "财政办",
    "other": "其他部门",
}

DISPOSAL_LABELS: dict[str, str] = {
    "interview": "约谈",
    "rectification_order": "责令限期整改",
    "pledge": "签订承诺书",
    "administrative": "行政处置（宣传引导、行政强制）",
    "transfer_police": "移送公安",
    "joint_review": "会商研判并预警提示",
}

OUTCOME_LABELS: dict[str, str] = {
    "resolved": "职权范围内已化解",
    "unfounded": "经核查不属实",
    "rectified": "已整改到位",
    "transferred": "已移送公安",
    "disposed": "已处置完毕",
    "merged": "并案处理",
}

OBLIGATION_KIND_LABELS: dict[str, str] = {
    "weekly": "周报（每周五12:00前）",
    "monthly": "月度进展（每月20日前）",
    "sweep": "集中清查情况汇总（每月15日、30日）",
    "campaign": "专项行动阶段报送",
}

OBLIGATION_STATUS_LABELS: dict[str, str] = {
    "open": "待报送",
    "on_time": "按时报送",
    "late": "逾期报送",
    "missed": "逾期未报",
}

RISK_TAG_LABELS: dict[str, str] = {"red": "红", "yellow": "黄", "green": "绿"}

BREACH_CONSEQUENCE_LABELS: dict[str, str] = {"escalated": "已自动上报上一级", "recorded": "已记录"}
