"""Risk screening (fangfei.risk): explainable, data-driven, deterministic."""

from __future__ import annotations

import pytest

from fangfei.risk import IndicatorFileError, default_indicators, load_indicators, parse_indicators, screen


def test_a_clean_clue_is_green_with_nothing_to_explain() -> None:
    a = screen({"title": "小区消防通道堵塞", "description": "楼道堆放杂物"})
    assert (a.score, a.tag, a.hits) == (0, "green", ())
    assert a.explanation() == "风险评分 0，建议绿牌：未命中任何指标"


def test_each_point_of_the_score_is_explained_by_a_hit() -> None:
    a = screen({"subject_name": "某某资产管理有限公司", "title": "门店推介养老公寓床位",
                "description": "业务员在公园发传单，承诺年化 12% 保本，拉新返利；注册地与经营地不一致。"})
    by_id = {h.indicator: h for h in a.hits}
    assert set(by_id) == {"name_finance_words", "promised_returns", "public_solicitation", "legal_form_disguise",
                          "ponzi_signs", "address_mismatch"}
    assert a.score == min(100, sum(h.weight for h in a.hits)) and a.tag == "red"
    assert by_id["name_finance_words"].field == "subject_name" and "资产管理" in by_id["name_finance_words"].evidence
    assert "年化 12%" in by_id["promised_returns"].evidence
    assert set(a.features) == {"returns", "public", "disguise"}  # three of the four identifying features
    assert "承诺高收益" in a.explanation() and "+25" in a.explanation()


def test_an_indicator_counts_once_however_often_it_matches() -> None:
    a = screen({"description": "保本保息，稳赚不赔，无风险，高回报"})
    assert [h.indicator for h in a.hits] == ["promised_returns"] and a.score == 25 and a.tag == "yellow"


def test_newer_fields_of_seed_004_are_recognised() -> None:
    a = screen({"title": "数字藏品元宇宙项目", "description": "解债服务"})
    assert "new_fields" in [h.indicator for h in a.hits]


def test_credit_code_validity_is_part_of_the_screening() -> None:
    assert screen({"credit_code": "91350100M000100Y43"}).credit_code == "91350100M000100Y43"
    bad = screen({"credit_code": "91350100M000100Y44"})
    assert (bad.credit_code, bad.credit_code_valid) == ("", False)
    assert [h.indicator for h in bad.hits] == ["credit_code_invalid"]
    assert screen({}).credit_code_valid is None


def test_an_office_can_use_its_own_indicator_file(tmp_path) -> None:
    path = tmp_path / "ours.yaml"
    path.write_text(
        "version: ours-1\nthresholds: {red: 30, yellow: 10}\nindicators:\n"
        "  - {id: pig_butchering, label: 杀猪盘话术, weight: 30, fields: [description], keywords: [带你赚钱]}\n",
        encoding="utf-8")
    ours = load_indicators(str(path))
    a = screen({"description": "网友说带你赚钱"}, ours)
    assert (a.score, a.tag, a.version) == (30, "red", "ours-1")


@pytest.mark.parametrize("indicator, message", [
    ({"id": "Bad Id", "weight": 5, "fields": ["title"], "keywords": ["x"]}, "lower_snake_case"),
    ({"id": "a", "weight": 0, "fields": ["title"], "keywords": ["x"]}, "weight"),
    ({"id": "a", "weight": 5, "fields": ["phone"], "keywords": ["x"]}, "fields"),
    ({"id": "a", "weight": 5, "fields": ["title"], "patterns": ["("]}, "bad pattern"),
    ({"id": "a", "weight": 5, "fields": ["title"]}, "keywords"),
    ({"id": "a", "weight": 5, "fields": ["title"], "keywords": ["x"], "colour": "red"}, "unknown keys"),
])
def test_a_broken_indicator_file_is_refused_naming_the_indicator(indicator: dict, message: str) -> None:
    with pytest.raises(IndicatorFileError) as err:
        parse_indicators({"indicators": [indicator]}, "ours.yaml")
    assert message in str(err.value)


def test_the_shipped_file_covers_the_four_identifying_features() -> None:
    ind = default_indicators()
    assert {i.feature for i in ind.indicators if i.feature} == {"unapproved", "public", "returns", "disguise"}
    assert len({i.id for i in ind.indicators}) == len(ind.indicators)
