"""Chinese labels of every HTTP input field, and Chinese wording of marshmallow's messages.

`fangfei.http.load` turns a `ValidationError` into a 400 through `explain()`: every bad field is
reported (nested ones too), each message in Chinese and prefixed with the field's label, e.g.
`{"found_at": ["发现时间：不是有效的时间"]}`. Details stay keyed by the field's name (as sent),
so scripts can act on them; `fields` lists the same errors flat, in the order of the schema, with
the dotted path and the label, for a screen to print.

Labels are looked up per schema first (a `name` is a person's 姓名 in one schema and a
campaign's 名称 in another), then by the dotted path (`reporter.phone`), then by the field name.
tests/unit/test_field_labels.py checks that every field of every HTTP schema has a label."""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from marshmallow import Schema, fields

from . import vocab

# -- labels -----------------------------------------------------------------------------------
LABELS: dict[str, str] = {
    "address": "地址", "advertiser": "发布主体", "agencies": "通报部门", "agency": "部门",
    "amount_yuan": "涉案金额（元）", "as_of": "统计截至日期", "assets": "涉案资产", "at": "查询时点",
    "audience_count": "受众人数", "business_kind": "业态", "business_scope": "经营范围",
    "campaign_id": "专项行动编号", "case_id": "案件编号", "case_name": "案件名称", "case_ref": "立案编号",
    "category": "线索类别", "channel": "发送渠道", "cleaned_on": "清理日期", "community_id": "社区",
    "community_ids": "参与社区", "completed_on": "完成日期", "content": "广告内容",
    "credit_code": "统一社会信用代码", "cross_province": "跨省", "cross_street": "跨街道",
    "deadline": "化解期限", "deadline_on": "整改期限", "decision": "会议决定", "demand": "诉求",
    "departments": "参会部门", "description": "情况描述", "disposal": "处置方式",
    "disposed_yuan": "已处置金额（元）", "drafted_on": "制定日期", "drilled_on": "演练日期",
    "due_at": "截止时间", "email": "电子邮箱", "event_types": "订阅的事件类型", "evidence": "佐证材料",
    "filed_on": "立案日期", "findings": "检查情况", "form": "形式", "format": "导出格式",
    "found_at": "发现时间", "found_on": "发现日期", "from": "开始日期", "grid_id": "网格",
    "handling": "办理情况", "held_on": "活动日期", "hours": "延长小时数", "id_number": "身份证号",
    "inspector": "检查人", "is_office": "是否领导小组办公室", "item": "“十个一”项目",
    "key_case": "重点案件", "key_petitioner": "重点上访人员", "kind": "类型", "lead_agency": "承办单位",
    "lead_department": "牵头部门", "lead_unit": "牵头单位", "leader_person_id": "包案领导",
    "level": "当前层级", "limit": "条数", "list": "名册", "location": "位置", "materials": "宣传材料",
    "measures": "措施", "medium": "载体", "mode": "订阅方式", "moved_in_on": "迁入日期",
    "moved_out_on": "迁出日期", "movement": "异动", "name": "名称", "occurred_on": "发生日期",
    "office_unit_id": "办公室所在单位", "open": "仅在办", "organizer": "组织单位", "outcome": "办结结果",
    "overdue": "仅超期", "page": "页码", "page_size": "每页条数", "participants": "涉及人数",
    "period_from": "起始日期", "period_to": "截止日期", "person_id": "人员", "personal_data": "接收个人信息",
    "petitioner_count": "人数", "phase_id": "阶段编号", "phases": "阶段", "phone": "电话",
    "platform_name": "平台/机构名称", "position": "领导小组职务", "premises": "经营场所", "problem": "存在问题",
    "progress": "进展情况", "provinces": "涉及省份", "public_warning": "预警提示", "quantity": "数量",
    "reason": "理由", "received_on": "受理日期", "recipient_id": "接收人", "record_id": "记录编号",
    "reference": "关联编号", "registered_capital_yuan": "注册资本（元）", "reported_on": "填报日期",
    "reporter": "举报人", "response": "处置情况", "responsible_person_id": "责任人", "result": "检查结果",
    "returned_yuan": "已清退金额（元）", "role": "角色", "scope": "适用范围", "sector": "行业",
    "sectors": "负责行业", "sectors_from": "职责起始", "seized_yuan": "查封冻结金额（元）",
    "source": "线索来源", "stabilization": "稳控措施", "stage": "阶段", "state": "发送状态",
    "status": "状态", "street_id": "街道", "street_ids": "街道", "subject_name": "涉及主体",
    "summary": "工作小结", "supervisor": "挂牌督办单位", "tag": "红黄绿挂牌", "target_date": "督办期限",
    "tax_scale": "纳税规模", "theme": "活动主题", "title": "名称", "to": "结束日期", "unit_id": "成员单位",
    "url": "推送地址", "valid_from": "生效时间", "valid_until": "截止时间", "venue": "地点",
    "visited_on": "检查日期", "waiting_on": "等待的部门", "working_days": "工作日数",
    # nested fields, by dotted path (list items have no index in the path)
    "reporter.name": "举报人姓名", "reporter.phone": "举报人电话", "reporter.id_number": "举报人身份证号",
    "phases.phase_id": "阶段编号", "phases.name": "阶段名称", "phases.due_at": "阶段截止时间",
    "materials.kind": "材料类型", "materials.quantity": "材料份数",
}

# Where one name means different things in different schemas: (schema class name, field) → label.
SCHEMA_LABELS: dict[tuple[str, str], str] = {
    ("ReportClueRequest", "title"): "线索标题",
    ("ScreenRequest", "title"): "线索标题",
    ("SupervisionVisitRequest", "subject_name"): "检查对象",
    ("AssignChiefRequest", "name"): "姓名", ("RoleRequest", "name"): "姓名",
    ("ReporterIdentityRequest", "name"): "举报人姓名", ("ReporterIdentityRequest", "phone"): "举报人电话",
    ("ReporterIdentityRequest", "id_number"): "举报人身份证号",
    ("RoleRequest", "title"): "单位及职务",
    ("CampaignRequest", "name"): "专项行动名称", ("PhaseRequest", "name"): "阶段名称",
    ("EnterpriseRequest", "name"): "企业名称", ("EnterpriseProfileRequest", "name"): "企业名称",
    ("EnterpriseProfileRequest", "address"): "经营地址", ("EnterpriseRequest", "address"): "经营地址",
    ("RegisterUnitRequest", "name"): "单位名称", ("RegisterUnitRequest", "kind"): "单位类型",
    ("GroupRequest", "name"): "领导小组名称", ("SubscriptionBody", "name"): "订阅名称",
    ("SubscriptionBody", "agency"): "订阅单位", ("SubscriptionsQuery", "agency"): "订阅单位",
    ("AgencyResponseRequest", "agency"): "答复部门", ("AgencyResponseRequest", "response"): "答复内容",
    ("ObligationQuery", "kind"): "报送类型", ("EmergencyIncidentRequest", "kind"): "事件类型",
    ("EmergencyPlanRequest", "title"): "预案名称", ("EmergencyIncidentRequest", "title"): "事件名称",
    ("RoleRequest", "valid_from"): "任职起始", ("RoleRequest", "valid_until"): "任职截止",
    ("EndRoleRequest", "valid_until"): "任职截止", ("AssignChiefRequest", "valid_from"): "任职起始",
    ("PlanRequest", "measures"): "一企一策措施", ("PlanRequest", "responsible_person_id"): "化解责任人",
    ("PlanRequest", "leader_person_id"): "主管领导", ("PetitionRequest", "responsible_person_id"): "稳控责任人",
    ("PetitionRequest", "form"): "信访形式", ("PublicityActivityRequest", "form"): "宣传形式",
    ("InternetFinanceItemRequest", "measures"): "整治措施", ("SupervisionVisitRequest", "measures"): "处理措施",
    ("CaseProgressRequest", "participants"): "集资参与人数", ("TagRequest", "reason"): "挂牌理由",
    ("CaseListQuery", "status"): "案件状态", ("InternetFinanceItemRequest", "status"): "整治状态",
    ("AdCleanupRequest", "status"): "处理状态", ("PetitionRequest", "status"): "办理状态",
    ("EmergencyIncidentRequest", "status"): "处置状态", ("AssetDisposalRequest", "stage"): "处置阶段",
    ("CaseProgressRequest", "stage"): "司法阶段", ("EmergencyIncidentRequest", "response"): "处置情况",
    ("ClueVerificationQuery", "status"): "核查状态", ("PublicityActivityRequest", "organizer"): "组织单位",
}

# Coded choices people read by their labels in "须为以下之一", by field name.
CHOICE_LABELS: dict[str, Mapping[str, str]] = {
    "category": vocab.CLUE_CATEGORIES, "source": vocab.CLUE_SOURCES, "sector": vocab.INDUSTRY_SECTORS,
    "sectors": vocab.INDUSTRY_SECTORS, "outcome": vocab.CASE_OUTCOMES, "disposal": vocab.DISPOSALS,
    "agency": vocab.AGENCIES, "agencies": vocab.AGENCIES, "departments": vocab.AGENCIES,
    "lead_department": vocab.AGENCIES, "waiting_on": vocab.AGENCIES, "tag": vocab.RISK_TAGS,
}
SCHEMA_CHOICE_LABELS: dict[tuple[str, str], Mapping[str, str]] = {
    ("RegisterUnitRequest", "kind"): vocab.MEMBER_UNIT_KINDS,
    ("RoleRequest", "position"): vocab.LEADING_GROUP_POSITIONS,
    ("EndRoleRequest", "position"): vocab.LEADING_GROUP_POSITIONS,
}


def choice_labels(name: str, schemas: Iterable[str] = ()) -> Mapping[str, str]:
    for schema_name in schemas:
        if (schema_name, name) in SCHEMA_CHOICE_LABELS:
            return SCHEMA_CHOICE_LABELS[(schema_name, name)]
    return CHOICE_LABELS.get(name, {})


def label_of(name: str, schemas: Iterable[str] = (), path: str = "") -> str:
    """The Chinese label of field `name` (as sent) in a schema whose class (or a base) is one of
    `schemas`; `path` is its dotted path from the body's top. Unknown fields keep their name."""
    for schema_name in schemas:
        if (schema_name, name) in SCHEMA_LABELS:
            return SCHEMA_LABELS[(schema_name, name)]
    return LABELS.get(path) or LABELS.get(name) or name


# -- messages -------------------------------------------------------------------------------------
_OPS = {"greater than": "大于", "greater than or equal to": "不小于", "less than": "小于",
        "less than or equal to": "不大于"}
_TEMPORAL = {"datetime": "时间（例如 2026-03-14T09:30:00+08:00）", "aware datetime": "带时区的时间（例如 2026-03-14T09:30:00+08:00）",
             "naive datetime": "不带时区的时间", "date": "日期（YYYY-MM-DD）", "time": "时刻"}

# (English as marshmallow or fangfei.events.fields words it, Chinese); {x} are the values.
_MESSAGES: list[tuple[str, str]] = [
    ("Missing data for required field.", "必填"),
    ("Field may not be null.", "不能为空"),
    ("Invalid value.", "取值无效"),
    ("Invalid type.", "类型不正确，须为对象"),
    ("Invalid input type.", "类型不正确，须为对象"),
    ("Unknown field.", "未知字段，不予接受"),
    ("Not a valid list.", "须为列表"),
    ("Not a valid tuple.", "须为列表"),
    ("Not a valid string.", "须为文本"),
    ("Not a valid utf-8 string.", "须为 UTF-8 文本"),
    ("Not a valid UUID.", "须为 UUID"),
    ("Not a valid number.", "须为数字"),
    ("Number too large.", "数字过大"),
    ("Not a valid integer.", "须为整数"),
    ("Special numeric values (nan or infinity) are not permitted.", "须为有限的数字"),
    ("Not a valid boolean.", "须为 true 或 false"),
    ("Not a valid period of time.", "须为时长"),
    ("Not a valid mapping type.", "须为对象"),
    ("Not a valid URL.", "须为有效的网址"),
    ("Not a valid email address.", "须为有效的电子邮箱地址"),
    ("Not a valid {obj}.", "不是有效的{obj}"),
    ('"{input}" cannot be formatted as a {obj}.', "不是有效的{obj}"),
    ("Length must be between {min} and {max}.", "长度须为 {min}–{max} {unit}"),
    ("Length must be {equal}.", "长度须为 {equal} {unit}"),
    ("Longer than maximum length {max}.", "长度不能超过 {max} {unit}"),
    ("Shorter than minimum length {min}.", "长度不能少于 {min} {unit}"),
    ("Must be {min_op} {min} and {max_op} {max}.", "须{min_op} {min} 且{max_op} {max}"),
    ("Must be {op} {n}.", "须{op} {n}"),
    ("Must be equal to {other}.", "须等于 {other}"),
    ("String does not match expected pattern.", "格式不正确"),
    ("Invalid input.", "取值无效"),
    ("Must be one of: {choices}.", "须为以下之一：{choices}"),
    ("must be one of: {choices}", "须为以下之一：{choices}"),
    ("One or more of the choices you made was not in: {choices}.", "含有不可选的值，可选：{choices}"),
    ("not a valid identifier", "须为 1–64 位字母、数字或 _ . : -（以字母或数字开头）"),
]


_OP_RX = "|".join(sorted(map(re.escape, _OPS), key=len, reverse=True))
_GROUPS = {"op": _OP_RX, "min_op": _OP_RX, "max_op": _OP_RX, "min": r"\S+", "max": r"\S+", "n": r"\S+",
           "equal": r"\S+"}


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    rx = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>{_GROUPS.get(p, '.+?')})" for i, p in enumerate(parts))
    return re.compile(f"^{rx}$", re.S)


_COMPILED = [(_compile(en), zh) for en, zh in _MESSAGES]


def _choices(text: str, labels: Mapping[str, str]) -> str:
    codes = [c.strip() for c in text.split(",")]
    return "、".join(f"{labels[c]}（{c}）" if c in labels else c for c in codes)


def chinese(message: str, is_list: bool = False, name: str = "", schemas: Iterable[str] = ()) -> str:
    """marshmallow's English message in Chinese (`name`: the field, for its choices' labels, in a
    schema named in `schemas`); a message that is Chinese already is kept."""
    for rx, zh in _COMPILED:
        m = rx.match(message)
        if not m:
            continue
        values = dict(m.groupdict())
        if "obj" in values:
            values["obj"] = _TEMPORAL.get(values["obj"], values["obj"])
        for k in ("op", "min_op", "max_op"):
            if k in values:
                values[k] = _OPS.get(values[k], values[k])
        if "choices" in values:
            values["choices"] = _choices(values["choices"], choice_labels(name, schemas))
        values["unit"] = "项" if is_list else "个字符"
        return zh.format(**values)
    return message


# -- the error of a whole body --------------------------------------------------------------------
def _field_of(schema: Schema | None, key: str) -> fields.Field | None:
    if schema is None:
        return None
    for name, f in schema.fields.items():
        if (f.data_key or name) == key:
            return f
    return None


def _nested_schema(f: fields.Field | None) -> Schema | None:
    if isinstance(f, fields.Nested):
        return f.schema  # type: ignore[no-any-return]
    return None


def _schema_names(schema: Schema | None) -> list[str]:
    return [c.__name__ for c in type(schema).__mro__] if schema is not None else []


def explain(messages: Mapping[str, Any], schema: Schema | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """marshmallow's `messages_dict` → (details keyed like the body, a flat list of every error).

    Each message is `标签：中文说明`; nested schemas and list items keep their shape in details
    (list positions as keys); the flat list names each with its dotted path and label."""
    flat: list[dict[str, Any]] = []
    details = _walk(messages, schema, "", "", flat)
    return details, flat


def _walk(messages: Mapping[Any, Any], schema: Schema | None, path: str, label_path: str,
          flat: list[dict[str, Any]], item: str = "") -> dict[Any, Any]:
    """`item`: the label of the list item these fields belong to (阶段第 2 项), if any."""
    out: dict[Any, Any] = {}
    for key, value in messages.items():
        key_s = str(key)
        f = _field_of(schema, key_s)
        field_path = f"{label_path}.{key_s}" if label_path else key_s
        where = f"{path}.{key_s}" if path else key_s
        names = _schema_names(schema)
        if key_s == "_schema":
            label = item
        else:
            label = label_of(key_s, names, field_path)
            label = f"{item}的{label}" if item else label
        if isinstance(value, Mapping):
            inner = f.inner if isinstance(f, fields.List) else None  # type: ignore[union-attr]
            if inner is not None:  # list items: {index: messages}
                items: dict[Any, Any] = {}
                for index, msgs in value.items():
                    item_where = f"{where}[{index}]"
                    item_label = f"{label}第 {int(index) + 1} 项" if str(index).isdigit() else label
                    nested = _nested_schema(inner)
                    if isinstance(msgs, Mapping) and nested is not None:
                        items[index] = _walk(msgs, nested, item_where, field_path, flat, item_label)
                    else:
                        items[index] = _leaf(msgs, item_label, inner, item_where, flat, names)
                out[key] = items
            else:
                out[key] = _walk(value, _nested_schema(f), where, field_path, flat)
        else:
            out[key] = _leaf(value, label, f, where, flat, names)
    return out


def _leaf(value: Any, label: str, f: fields.Field | None, where: str, flat: list[dict[str, Any]],
          schemas: Iterable[str] = ()) -> list[str]:
    msgs = value if isinstance(value, list) else [value]
    is_list = isinstance(f, fields.List)
    name = re.sub(r"\[\d+\]$", "", where).rsplit(".", 1)[-1]
    said = []
    for m in msgs:
        text = chinese(str(m), is_list, name, schemas)
        said.append(f"{label}：{text}" if label else text)
    flat.append({"field": where, "label": label, "messages": said})
    return said


def summary(flat: list[dict[str, Any]]) -> str:
    """输入校验未通过：发现时间、线索类别 2 项有误"""
    labels: list[str] = []
    for e in flat:
        name = e["label"] or "请求"
        if name not in labels:
            labels.append(name)
    return f"输入校验未通过：{'、'.join(labels)} {len(flat)} 项有误"
