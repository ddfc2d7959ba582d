"""`fangfei roster …` (fangfei.clients.roster_cli, wired into the `fangfei` command) against the
roster service over real HTTP, with real bearer tokens: what an office clerk types and reads at a
terminal. The token comes from $FANGFEI_TOKEN (a street office of 龙岗 here) or `--token`."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Iterator

import pytest

from fangfei import cli
from fangfei.clients import roster_cli
from services.roster.service import RosterService

from .helpers import DEMO, demo_table, edit, to_csv
from .test_service import MINT, make_service
from .wsgi import serving

CLERK = "longgang-office-07"


@pytest.fixture(autouse=True)
def office_token(monkeypatch: pytest.MonkeyPatch) -> str:
    token = MINT.token("street_office", street="longgang", person=CLERK)
    monkeypatch.setenv("FANGFEI_TOKEN", token)
    return token


@pytest.fixture
def service() -> RosterService:
    return make_service()


@pytest.fixture
def url(service: RosterService) -> Iterator[str]:
    with serving(service) as base:
        yield base


def run(capsys: pytest.CaptureFixture[str], url: str, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["roster", "--url", url, *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def demo(url: str, capsys: pytest.CaptureFixture[str]) -> str:
    code, out, _ = run(capsys, url, "import", str(DEMO))
    assert code == 0 and out.startswith("已导入 87 行：新记录 街道 1、社区 10、网格 21、人员 64")
    return url


def test_import_twice_says_nothing_new(demo: str, capsys) -> None:
    assert run(capsys, demo, "import", str(DEMO))[1] == "已导入 87 行：没有新记录（名册已是如此）\n"


def test_tree_shows_the_grid_units_and_group(demo: str, capsys) -> None:
    code, out, _ = run(capsys, demo, "tree", "longgang", "--at", "2026-03-14T10:00")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "龙岗街道（longgang）  时点 2026-03-14 10:00（北京时间）"
    assert lines[1] == "一级网格 龙岗街道一级网格 [longgang-l1] 网格长：街道网格长甲01"
    assert "  二级网格 马岗社区二级网格 [magang-l2] 网格长：社区网格长乙01；网格员：社区书记庚01；联络员：联络员丁01；社区书记：社区书记庚01" in lines
    units = next(i for i, line in enumerate(lines) if line.strip() == "成员单位")
    assert [c.strip() for c in lines[units + 2].split("┃")[1:-1]] == ["成员单位", "类型", "负责行业", "联系人", "领导小组办公室"]
    row = next(line for line in lines if "龙岗派出所" in line)
    assert [c.strip() for c in row.split("│")[1:-1]] == ["龙岗派出所", "派出所", "—", "联系人己05 139-0000-0056", "否"]
    assert any("领导小组：龙岗街道打击非法集资专项行动领导小组（办公室：公共服务办）" in line for line in lines)


def test_tree_shows_the_time_in_beijing_time_and_json_keeps_the_offset(demo: str, capsys) -> None:
    """The service answers `at` in UTC when none is asked (its clock: 2026-03-14 02:00 UTC)."""
    code, out, _ = run(capsys, demo, "tree", "longgang")
    assert code == 0 and out.splitlines()[0] == "龙岗街道（longgang）  时点 2026-03-14 10:00（北京时间）"
    assert "+00:00" not in out and "02:00" not in out.splitlines()[0]
    code, out, _ = run(capsys, demo, "tree", "longgang", "--json")
    assert code == 0 and json.loads(out)["at"] == "2026-03-14T02:00:00+00:00"


def test_who_is_responsible_by_place_and_sector_in_chinese(demo: str, capsys) -> None:
    code, out, _ = run(capsys, demo, "who-is-responsible", "longgang", "--community", "magang", "--sector", "房地产")
    assert code == 0
    assert out.splitlines() == [
        "按网格：三级网格 马岗社区第01网格 [magang-l3-01] → 网格长丙01（magang-l3-01-chief）",
        "按行业「房地产」：成员单位 城市管理办 → 联系人己02（longgang-csgl-contact）",
    ]
    _, out, _ = run(capsys, demo, "who-is-responsible", "longgang", "--sector", "consulting")
    assert out.splitlines()[1] == "  说明：行业「咨询服务」未指定负责的成员单位；转领导小组办公室（公共服务办）"


def test_assign_chief_from_a_date_routes_by_the_time_of_the_clue(demo: str, capsys) -> None:
    code, out, _ = run(capsys, demo, "assign-chief", "longgang", "magang-l3-01", "magang-l3-01-chief-b",
                       "--from", "2026-03-01", "--name", "网格长丙11")
    assert (code, out) == (0, "已记录：新记录 人员 1、网格长任命 1\n")
    _, before, _ = run(capsys, demo, "who-is-responsible", "longgang", "--community", "magang",
                       "--at", "2026-02-28T23:59:59")
    _, after, _ = run(capsys, demo, "who-is-responsible", "longgang", "--community", "magang", "--at", "2026-03-01")
    assert "网格长丙01" in before and "网格长丙11" in after
    code, out, _ = run(capsys, demo, "vacate", "longgang", "magang-l3-01", "--from", "2026-03-10")
    assert (code, out) == (0, "已记录：新记录 网格长空缺 1\n")
    _, out, _ = run(capsys, demo, "who-is-responsible", "longgang", "--community", "magang")
    assert out.splitlines() == ["按网格：二级网格 马岗社区二级网格 [magang-l2] → 社区网格长乙01（magang-l2-chief）",
                                "  说明：马岗社区第01网格（3级网格）网格长空缺"]


def test_register_a_unit_by_its_chinese_labels(demo: str, capsys) -> None:
    code, out, _ = run(capsys, demo, "register-unit", "longgang", "longgang-jrb", "--name", "金融办", "--kind", "其他单位",
                       "--sectors", "投融资、咨询服务", "--from", "2026-03-01")
    assert (code, out) == (0, "已记录：新记录 成员单位 1、负责行业 1\n")
    run(capsys, demo, "assign-role", "longgang", "jrb-01", "--role", "成员单位联系人", "--unit", "longgang-jrb",
        "--from", "2026-03-01", "--name", "联系人己99")
    _, out, _ = run(capsys, demo, "who-is-responsible", "longgang", "--sector", "投融资")
    assert out == "按行业「投融资」：成员单位 金融办 → 联系人己99（jrb-01）\n"
    code, out, _ = run(capsys, demo, "end-role", "longgang", "jrb-01", "--role", "成员单位联系人", "--unit", "longgang-jrb",
                       "--until", "2026-03-05")
    assert (code, out) == (0, "已记录：新记录 离任 1\n")
    code, out, _ = run(capsys, demo, "assign-sectors", "longgang", "longgang-jrb", "--sectors", "咨询服务",
                       "--from", "2026-03-06")
    assert code == 0
    code, out, _ = run(capsys, demo, "leading-group", "longgang", "--office-unit", "longgang-jrb")
    assert code == 0


def test_export_then_import_the_file_changes_nothing(demo: str, capsys, tmp_path: Path) -> None:
    for name, kind in (("名册.xlsx", "street"), ("网格员.csv", "网格员名单"), ("领导小组.xlsx", "领导小组名单")):
        target = tmp_path / name
        code, out, _ = run(capsys, demo, "export", str(target), "--street", "longgang", "--list", kind)
        assert code == 0 and out.startswith("已导出") and target.stat().st_size > 0
        code, out, _ = run(capsys, demo, "import", str(target), "--street", "longgang")
        assert (code, out.endswith("没有新记录（名册已是如此）\n")) == (0, True)
    assert (tmp_path / "网格员.csv").read_bytes().startswith("\ufeff序号".encode())


def test_a_refused_import_prints_every_row_and_exits_1(demo: str, capsys, tmp_path: Path) -> None:
    table = demo_table()
    edit(table, 3, 网格层级="4")
    edit(table, 5, 任职起始="2025-01-01")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(to_csv(table))
    code, out, err = run(capsys, demo, "import", str(bad))
    assert (code, out) == (1, "")
    assert err.splitlines() == ["名册有 2 行有误，未导入任何数据", "  第 3 行：网格层级「4」无效：应为 1、2 或 3",
                                "  第 5 行：任职起始「2025-01-01」无效：须为带时区的时间，如 2025-01-01T00:00:00+08:00"]


def test_refusals_and_an_unreachable_service_exit_nonzero(demo: str, capsys) -> None:
    code, _, err = run(capsys, demo, "assign-chief", "longgang", "nowhere", "p", "--from", "2026-03-01")
    assert (code, err) == (1, "未找到：网格 nowhere\n")
    code, _, err = run(capsys, demo, "who-is-responsible", "longgang")
    assert (code, err) == (1, "须给出 --community、--grid 或 --sector\n")
    code, _, err = run(capsys, "http://127.0.0.1:9", "tree", "longgang")
    assert code == 2 and err.startswith("无法连接名册服务 http://127.0.0.1:9")


def test_a_label_that_is_not_in_the_vocabulary_is_refused_before_asking(demo: str, capsys) -> None:
    with pytest.raises(SystemExit):
        roster_cli.main(["roster", "--url", demo, "register-unit", "longgang", "u", "--name", "银行", "--kind", "银行"])
    assert "单位类型「银行」无效" in capsys.readouterr().err


def test_json_output_is_the_service_answer(demo: str, capsys) -> None:
    code, out, _ = run(capsys, demo, "--json", "who-is-responsible", "longgang", "--grid", "magang-l2")
    assert code == 0
    assert json.loads(out)["grid"]["person_id"] == "magang-l2-chief"


# -- the token -------------------------------------------------------------------------------------
def test_changes_are_recorded_as_the_person_of_the_token(demo: str, service: RosterService, capsys) -> None:
    run(capsys, demo, "vacate", "longgang", "magang-l3-01", "--from", "2026-03-10")
    assert service.store.events.read_stream("grid-magang-l3-01")[-1].actor == CLERK
    assert {e.actor for e in service.store.events.read_stream("street-longgang")} == {CLERK}  # the import


def test_without_a_token_nothing_is_read_or_changed(url: str, service: RosterService, capsys,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FANGFEI_TOKEN")
    code, out, err = run(capsys, url, "import", str(DEMO))
    assert (code, out) == (1, "") and err.startswith("未登录")
    assert service.store.events.head_position() == 0
    assert run(capsys, url, "tree", "longgang")[0] == 1


def test_the_token_option_wins_over_the_environment(url: str, service: RosterService, capsys,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    grid_worker = MINT.token("grid_staff", street="longgang", community="magang")
    code, _, err = run(capsys, url, "--token", grid_worker, "import", str(DEMO))
    assert (code, err) == (1, "当前角色无权执行此操作\n")  # a grid worker keeps no roster
    assert service.store.events.head_position() == 0
    monkeypatch.setenv("FANGFEI_TOKEN", grid_worker)
    office = MINT.token("street_office", street="longgang", person=CLERK)
    assert run(capsys, url, "import", str(DEMO), "--token", office)[0] == 0
    assert run(capsys, url, "tree", "longgang")[0] == 0  # the grid worker reads their street's tree


def test_a_street_office_reaches_only_its_own_street(demo: str, service: RosterService, capsys,
                                                     tmp_path: Path) -> None:
    code, _, err = run(capsys, demo, "tree", "pingshan")
    assert (code, err) == (1, "未找到：街道\n")
    head = service.store.events.head_position()
    code, _, err = run(capsys, demo, "vacate", "pingshan", "ps-l3-01", "--from", "2026-03-10")
    assert (code, err) == (1, "无权变更其他街道的名册\n")
    table = demo_table()
    edit(table, 3, 街道编号="pingshan")
    other = tmp_path / "other.csv"
    other.write_bytes(to_csv(table))
    code, _, err = run(capsys, demo, "import", str(other))
    assert code == 1
    assert err.splitlines()[:2] == ["文件中有 1 行属于其他街道，无权导入，未导入任何数据",
                                    "  第 3 行：本行不属于本街道（longgang）：只能导入本街道的名册"]
    assert service.store.events.head_position() == head


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_an_import_shows_its_upload_on_a_terminal_and_nothing_extra_in_a_log(url: str, capsys, monkeypatch) -> None:
    terminal, captured = _Terminal(), sys.stderr
    monkeypatch.setattr(sys, "stderr", terminal)
    code = cli.main(["roster", "--url", url, "import", str(DEMO)])
    assert code == 0 and capsys.readouterr().out.startswith("已导入 87 行")
    shown = terminal.getvalue()
    assert "上传名册 demo_street.csv" in shown and "KB / " in shown and "━" in shown
    assert "已上传，名册服务校验并记录中" in shown
    monkeypatch.setattr(sys, "stderr", captured)
    code = cli.main(["roster", "--url", url, "import", str(DEMO)])  # stderr not a terminal, a quick job: no lines
    assert code == 0 and capsys.readouterr().err == ""
