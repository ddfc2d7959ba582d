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

# -- roster: member units, industry sectors, the leading group (issue 3) -------------------------

# Member units (成员单位) of a street's leading group, seed 003 §二 and seed 004 附件1.
MEMBER_UNIT_KINDS: dict[str, str] = {
    "public_service_office": "公共服务办",
    "urban_management_office": "城市管理办",
    "public_security_office": "公共安全办",
    "market_regulation": "市场监督管理所",
    "police_station": "派出所",
    "tax_office": "税务所",
    "property_company": "物业公司",
    "party_government_office": "党政办",
    "finance_office": "财政办",
    "economy_trade_office": "经贸办",
    "comprehensive_governance_office": "综治办",
    "social_affairs_office": "社事办",
    "petition_office": "信访办",
    "justice_office": "司法所",
    "other": "其他单位",
}

# Industry sectors (行业) a member unit can be responsible for. The first twelve are the sectors
# named in seed 003 (§三 duties and §四(一) focus industries); the rest are the newer fields of
# seed 004 §二(一), which seed 003 assigns to nobody (they route to the leading-group office).
INDUSTRY_SECTORS: dict[str, str] = {
    "investment_financing": "投融资",
    "equity_investment": "股权投资",
    "consulting": "咨询服务",
    "elderly_care": "养老",
    "culture_tourism": "文化旅游",
    "agriculture_forestry": "农林水产",
    "e_commerce": "电子商务",
    "commerce": "商贸流通",
    "real_estate": "房地产",
    "education_training": "教育培训",
    "medical_beauty_health": "医疗美容健康",
    "advertising": "广告",
    "private_lending": "民间投融资中介",
    "wealth_management": "第三方财富管理",
    "private_fund": "私募基金",
    "equity_crowdfunding": "股权众筹",
    "virtual_currency": "虚拟货币与区块链",
    "film_investment": "影视投资",
    "debt_relief": "解债服务",
}

# Positions in a street's leading group (领导小组, seed 003 §二, seed 004 附件1), in list order.
LEADING_GROUP_POSITIONS: dict[str, str] = {
    "head": "组长",
    "deputy_head": "副组长",
    "member": "组员",
    "office_director": "办公室主任",
    "office_staff": "办公室工作人员",
}

# Who a clue of an industry sector goes to (fangfei.roster_view.RosterView.route_sector).
SECTOR_ROUTE_TARGETS: dict[str, str] = {
    "member_unit": "成员单位",
    "leading_group_office": "领导小组办公室",
    "district_office": "区处非办",
}

# The lists a roster office keeps and exchanges as spreadsheets (seed 004 附件1、2, and the grid tree).
ROSTER_LISTS: dict[str, str] = {
    "street": "街道名册",
    "grid_staff": "网格员名单",
    "leading_group": "领导小组名单",
}

# -- escalation: the case workflow, SLA rules, report obligations (issue 4) ---------------------
# The codes are escalation's event contract (fangfei.events.escalation); a test keeps the two in step.
# Here so the service, the console, the CLI and the ledger all say the same words.

DISTRICT_LEVEL = 4  # the district office (区处非办), above the street's level-1 grid

CASE_LEVELS: dict[int, str] = {3: "三级网格", 2: "二级网格", 1: "一级网格", DISTRICT_LEVEL: "区处非办"}

WORKFLOW_STATUSES: dict[str, str] = {
    "reported": "已上报",  # waiting to be registered within 4 hours
    "triage": "三级网格处置中",
    "level2_review": "二级网格研判中",
    "level1_review": "一级网格研判中",
    "district": "区处非办处置中",
    "joint_meeting": "联席会议研判中",
    "disposal": "处置中",
    "closed": "已办结",
}

CASE_ACTIONS: dict[str, str] = {
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

SLA_RULES: dict[str, str] = {
    "registration": "4小时内登记录入",
    "triage": "三级网格处置",
    "level2_review": "二级网格每日研判",
    "level1_review": "一级网格每日研判",
    "district_review": "区处非办研判",
    "joint_meeting": "联席会议裁决",
    "rectification": "限期整改",
    "enterprise_plan": "一企一策期限",
}

AGENCIES: dict[str, str] = {
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

DISPOSALS: dict[str, str] = {
    "interview": "约谈",
    "rectification_order": "责令限期整改",
    "pledge": "签订承诺书",
    "administrative": "行政处置（宣传引导、行政强制）",
    "transfer_police": "移送公安",
    "joint_review": "会商研判并预警提示",
}

CASE_OUTCOMES: dict[str, str] = {
    "resolved": "职权范围内已化解",
    "unfounded": "经核查不属实",
    "rectified": "已整改到位",
    "transferred": "已移送公安",
    "disposed": "已处置完毕",
    "merged": "并案处理",
}

OBLIGATION_KINDS: dict[str, str] = {
    "weekly": "周报（每周五12:00前）",
    "monthly": "月度进展（每月20日前）",
    "sweep": "集中清查情况汇总（每月15日、30日）",
    "campaign": "专项行动阶段报送",
}

OBLIGATION_STATUSES: dict[str, str] = {
    "open": "待报送",
    "on_time": "按时报送",
    "late": "逾期报送",
    "missed": "逾期未报",
}

RISK_TAGS: dict[str, str] = {"red": "红", "yellow": "黄", "green": "绿"}

BREACH_CONSEQUENCES: dict[str, str] = {"escalated": "已自动上报上一级", "recorded": "已记录"}
