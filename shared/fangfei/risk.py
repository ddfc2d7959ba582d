"""Risk screening of a clue (风险筛查): explainable indicators → score → suggested 红/黄/绿.

The indicators are data (`fangfei/data/risk_indicators.yaml`, or the file named by
`FANGFEI_RISK_INDICATORS_FILE`) so an office can add the newest fraud vocabulary without a
release. Screening is deterministic and pure: the same clue and the same indicator file give
the same result, and every point of the score is explained by a hit that names the indicator,
the field and the matched text. The tag is a *suggestion*: a person decides the enterprise's
actual 红黄绿挂牌.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Mapping

import yaml

from .credit_code import InvalidCreditCode, parse

INDICATORS_ENV = "FANGFEI_RISK_INDICATORS_FILE"
SCREENED_FIELDS = ("subject_name", "title", "description", "address")
FIELD_LABELS = {"subject_name": "名称", "title": "标题", "description": "描述", "address": "地址", "credit_code": "信用代码"}
TAGS = {"red": "红", "yellow": "黄", "green": "绿"}
CHECKS = {"credit_code_invalid"}
EVIDENCE_MAX = 40


class IndicatorFileError(ValueError):
    """The indicator file is malformed; the message names the indicator."""


@dataclass(frozen=True)
class Indicator:
    id: str
    label: str
    weight: int
    fields: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()
    feature: str = ""
    check: str = ""


@dataclass(frozen=True)
class Hit:
    indicator: str
    label: str
    weight: int
    field: str
    evidence: str
    feature: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"indicator": self.indicator, "label": self.label, "weight": self.weight, "field": self.field,
                "evidence": self.evidence, "feature": self.feature}


@dataclass(frozen=True)
class Assessment:
    score: int
    tag: str  # red | yellow | green (suggested)
    hits: tuple[Hit, ...]
    features: tuple[str, ...]  # which of the four identifying features were seen
    version: str
    credit_code: str = ""  # normalised, only when valid
    credit_code_valid: bool | None = None  # None: no code given

    @property
    def tag_label(self) -> str:
        return TAGS[self.tag]

    def explanation(self) -> str:
        """One line a person can read: score, tag and why."""
        if not self.hits:
            return f"风险评分 {self.score}，建议{self.tag_label}牌：未命中任何指标"
        why = "；".join(f"{h.label}（{FIELD_LABELS.get(h.field, h.field)}：{h.evidence}，+{h.weight}）" for h in self.hits)
        return f"风险评分 {self.score}，建议{self.tag_label}牌：{why}"


@dataclass(frozen=True)
class IndicatorSet:
    indicators: tuple[Indicator, ...]
    red: int
    yellow: int
    version: str
    features: Mapping[str, str] = field(default_factory=dict)

    def tag_for(self, score: int) -> str:
        return "red" if score >= self.red else "yellow" if score >= self.yellow else "green"


def parse_indicators(data: Mapping[str, Any], source: str = "indicators") -> IndicatorSet:
    """Validate the YAML structure and compile the patterns (errors name the indicator)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("indicators"), list):
        raise IndicatorFileError(f"{source}: expected a mapping with an `indicators` list")
    features = dict(data.get("features") or {})
    seen: set[str] = set()
    out: list[Indicator] = []
    for raw in data["indicators"]:
        ident = str(raw.get("id", ""))
        where = f"{source}: indicator {ident or '?'}"
        if not re.match(r"^[a-z][a-z0-9_]{0,47}$", ident):
            raise IndicatorFileError(f"{where}: id must be lower_snake_case")
        if ident in seen:
            raise IndicatorFileError(f"{where}: duplicate id")
        seen.add(ident)
        unknown = set(raw) - {"id", "label", "weight", "fields", "keywords", "patterns", "feature", "check"}
        if unknown:
            raise IndicatorFileError(f"{where}: unknown keys {sorted(unknown)}")
        weight = raw.get("weight")
        if not isinstance(weight, int) or not 0 < weight <= 100:
            raise IndicatorFileError(f"{where}: weight must be a whole number 1–100")
        fields_ = tuple(raw.get("fields") or ())
        if set(fields_) - set(SCREENED_FIELDS):
            raise IndicatorFileError(f"{where}: fields must be among {', '.join(SCREENED_FIELDS)}")
        check = str(raw.get("check") or "")
        if check and check not in CHECKS:
            raise IndicatorFileError(f"{where}: unknown check {check!r}")
        feature = str(raw.get("feature") or "")
        if feature and feature not in features:
            raise IndicatorFileError(f"{where}: unknown feature {feature!r}")
        try:
            patterns = tuple(re.compile(p) for p in raw.get("patterns") or ())
        except re.error as exc:
            raise IndicatorFileError(f"{where}: bad pattern: {exc}") from exc
        keywords = tuple(str(k) for k in raw.get("keywords") or ())
        if not check and not (keywords or patterns):
            raise IndicatorFileError(f"{where}: needs keywords, patterns or a check")
        if not check and not fields_:
            raise IndicatorFileError(f"{where}: needs the fields to search")
        out.append(Indicator(ident, str(raw.get("label") or ident), weight, fields_, keywords, patterns, feature, check))
    thresholds = data.get("thresholds") or {}
    red, yellow = int(thresholds.get("red", 60)), int(thresholds.get("yellow", 25))
    if not 0 < yellow < red:
        raise IndicatorFileError(f"{source}: thresholds must satisfy 0 < yellow < red")
    return IndicatorSet(tuple(out), red, yellow, str(data.get("version", "")), features)


def load_indicators(path: str) -> IndicatorSet:
    with open(path, encoding="utf-8") as fh:
        return parse_indicators(yaml.safe_load(fh) or {}, path)


def default_indicators_path() -> str:
    return str(resources.files("fangfei").joinpath("data", "risk_indicators.yaml"))


@functools.lru_cache(maxsize=1)
def default_indicators() -> IndicatorSet:
    """The indicator set of this process (`FANGFEI_RISK_INDICATORS_FILE` or the shipped file)."""
    return load_indicators(os.environ.get(INDICATORS_ENV) or default_indicators_path())


def _snippet(text: str, start: int, end: int) -> str:
    """The match with a little context, clipped: enough to explain, not a copy of the clue."""
    left = max(0, start - 6)
    piece = text[left:end + 6]
    return piece[:EVIDENCE_MAX]


def _first_match(ind: Indicator, text: str) -> tuple[int, int] | None:
    best: tuple[int, int] | None = None
    for kw in ind.keywords:
        i = text.find(kw)
        if i >= 0 and (best is None or i < best[0]):
            best = (i, i + len(kw))
    for pat in ind.patterns:
        m = pat.search(text)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), m.end())
    return best


def screen(clue: Mapping[str, Any], indicators: IndicatorSet | None = None) -> Assessment:
    """Screen the text fields of a clue (`subject_name`, `title`, `description`, `address`,
    `credit_code`); unknown keys are ignored so a clue payload can be passed as is."""
    ind_set = indicators or default_indicators()
    raw_code = str(clue.get("credit_code") or "").strip()
    code, code_valid = "", None
    if raw_code:
        try:
            code, code_valid = parse(raw_code).code, True
        except InvalidCreditCode:
            code_valid = False
    hits: list[Hit] = []
    for ind in ind_set.indicators:
        if ind.check == "credit_code_invalid":
            if code_valid is False:
                hits.append(Hit(ind.id, ind.label, ind.weight, "credit_code", raw_code[:EVIDENCE_MAX], ind.feature))
            continue
        for fname in ind.fields:
            text = str(clue.get(fname) or "")
            found = _first_match(ind, text) if text else None
            if found is not None:
                hits.append(Hit(ind.id, ind.label, ind.weight, fname, _snippet(text, *found), ind.feature))
                break  # an indicator counts once
    score = min(100, sum(h.weight for h in hits))
    features = tuple(sorted({h.feature for h in hits if h.feature}))
    return Assessment(score, ind_set.tag_for(score), tuple(hits), features, ind_set.version, code, code_valid)
