"""Builders for roster test files: the demo street, edited cell by cell like a clerk would."""

from __future__ import annotations

import csv
import io
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo_street.csv"


def demo_table() -> list[list[str]]:
    """The demo file as rows of cells; index 0 is the header (spreadsheet row 1)."""
    return list(csv.reader(io.StringIO(DEMO.read_text(encoding="utf-8-sig"), newline="")))


def to_csv(table: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(table)
    return out.getvalue().encode(encoding)


def edit(table: list[list[str]], row: int, **cells: str) -> None:
    """Set cells of spreadsheet row `row` (header = 1) by their Chinese column name."""
    header = table[0]
    for name, value in cells.items():
        table[row - 1][header.index(name)] = value


def with_rows(*rows: dict[str, str]) -> list[list[str]]:
    """A file with the demo header and the given rows (unnamed columns left empty)."""
    header = demo_table()[0]
    return [header] + [[r.get(c, "") for c in header] for r in rows]


def grid_row(**over: str) -> dict[str, str]:
    """A level-3 grid row in 马岗社区 with its chief; override any column."""
    row = {
        "街道编号": "longgang", "街道名称": "龙岗街道",
        "社区编号": "magang", "社区名称": "马岗社区", "社区类型": "社区",
        "网格编号": "magang-l3-01", "网格名称": "马岗社区第01网格", "网格层级": "3", "上级网格编号": "magang-l2",
        "人员编号": "magang-l3-01-chief", "人员姓名": "网格长丙01", "人员角色": "网格长",
        "任职起始": "2025-01-01T00:00:00+08:00",
    }
    row.update(over)
    return row
