"""What every `fangfei` command prints: one place for tables, JSON, progress and times.

- `table(rows, columns)` / `record(data, fields)`: rich tables with Chinese headers on stdout;
  instants are shown in Beijing time (2026-03-16 09:00), flags as 是/否, empty cells as —.
- `print_json(data)`: the service's answer unchanged (ISO 8601 with offset), for scripts (`--json`).
- `Meter`: a progress bar on stderr with count, rate and time left, computed here from successive
  updates (so it needs nothing from the service but a count and, when known, a total). When stderr
  is not a terminal it prints a plain line now and then instead (no control characters in logs).
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import deque
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Sequence, TextIO, Union

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from ..clock import SHANGHAI

_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")
EMPTY = "—"
TZ_NOTE = "时间均为北京时间"

Getter = Union[str, Callable[[Mapping[str, Any]], Any]]
Column = tuple[Getter, str]  # (key or function of the row, Chinese header)


# -- times -----------------------------------------------------------------------------------------
def is_instant(value: Any) -> bool:
    return isinstance(value, str) and bool(_INSTANT.match(value))


def local_time(value: Any, seconds: bool = False) -> str:
    """An instant (ISO text with offset or an aware datetime) as Beijing wall time, for people."""
    if value in (None, ""):
        return EMPTY
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if at.tzinfo is None:
        at = at.replace(tzinfo=SHANGHAI)
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def local_time_labelled(value: Any) -> str:
    """The same, saying which time it is: 2026-03-14 10:00（北京时间）."""
    text = local_time(value)
    return text if text == EMPTY else f"{text}（北京时间）"


def duration(seconds: float | None) -> str:
    """1小时02分、3分05秒、12秒."""
    if seconds is None:
        return "未知"
    s = max(0, int(round(seconds)))
    if s >= 3600:
        return f"{s // 3600}小时{s % 3600 // 60:02d}分"
    if s >= 60:
        return f"{s // 60}分{s % 60:02d}秒"
    return f"{s}秒"


# -- cells and tables ------------------------------------------------------------------------------
def cell(value: Any) -> str:
    """One value as a person reads it."""
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return "是" if value else "否"
    if is_instant(value):
        return local_time(value)
    if isinstance(value, (list, tuple)):
        return "、".join(cell(v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{k}：{cell(v)}" for k, v in value.items())
    return str(value)


def _get(row: Mapping[str, Any], getter: Getter) -> Any:
    return getter(row) if callable(getter) else row.get(getter)


def labelled(code: str, label_key: str | None = None, labels: Mapping[str, str] | None = None) -> Callable[[Mapping[str, Any]], str]:
    """A column showing `<code>_label` (or a label from `labels`) instead of the code."""
    key = label_key or f"{code}_label"

    def get(row: Mapping[str, Any]) -> str:
        value = row.get(code)
        return row.get(key) or (labels or {}).get(str(value), "") or cell(value)

    return get


def named(id_key: str, name_key: str) -> Callable[[Mapping[str, Any]], str]:
    """A column showing the name when the service gives one, else the id."""
    return lambda row: row.get(name_key) or cell(row.get(id_key))


def console(stream: TextIO | None = None) -> Console:
    # wide enough that a table piped into a file or a test is not squeezed into 80 columns
    out = stream or sys.stdout
    return Console(file=out, width=None if out.isatty() else 160, highlight=False, soft_wrap=False)


def table(rows: Iterable[Mapping[str, Any]], columns: Sequence[Column], *, title: str = "",
          caption: str | None = None, stream: TextIO | None = None, empty: str = "（无记录）") -> None:
    rows = list(rows)
    if not rows:
        print(f"{title}：{empty}" if title else empty, file=stream or sys.stdout)
        return
    t = Table(title=title or None, caption=caption, show_lines=False, header_style="bold")
    for _, header in columns:
        t.add_column(header, overflow="fold")
    for row in rows:
        t.add_row(*(cell(_get(row, getter)) for getter, _ in columns))
    console(stream).print(t)


def record(data: Mapping[str, Any], fields: Sequence[Column], *, title: str = "", stream: TextIO | None = None) -> None:
    """One object as a two-column table (项目 / 内容), skipping empty optional fields."""
    t = Table(title=title or None, show_header=True, header_style="bold")
    t.add_column("项目", no_wrap=True)
    t.add_column("内容", overflow="fold")
    for getter, header in fields:
        t.add_row(header, cell(_get(data, getter)))
    console(stream).print(t)


def print_json(data: Any, stream: TextIO | None = None) -> int:
    """The answer as the service gave it: stable and machine-readable."""
    print(json.dumps(data, ensure_ascii=False, indent=2), file=stream or sys.stdout)
    return 0


# -- progress --------------------------------------------------------------------------------------
def _count(n: float, unit: str) -> str:
    if unit == "B":
        for size, name in ((1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "KB")):
            if n >= size:
                return f"{n / size:.1f} {name}"
        return f"{int(n)} B"
    return f"{int(n):,} {unit}"


class Meter:
    """Progress of one long job: `update(done, total)` as often as you learn something.

    Rate and time left come from the updates of the last `window_s` seconds (the service may not
    report a rate). On a terminal: a rich progress bar on `stream` (stderr); elsewhere: a plain line
    every `interval_s` seconds and one at the end (a job done sooner prints none)."""

    def __init__(self, description: str, total: float | None = None, unit: str = "条", *,
                 stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic,
                 tty: bool | None = None, interval_s: float = 5.0, window_s: float = 30.0) -> None:
        self.description, self.total, self.unit = description, total, unit
        self.stream = stream or sys.stderr
        self.clock, self.interval_s, self.window_s = clock, interval_s, window_s
        self.tty = self.stream.isatty() if tty is None else tty
        self.done = 0.0
        self.samples: deque[tuple[float, float]] = deque()
        self._last_line: float | None = None
        self._last_text = ""
        self._started = clock()
        self._progress: Progress | None = None
        if self.tty:
            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[count]}"),
                TextColumn("{task.fields[rate]}"), TextColumn("{task.fields[eta]}"),
                console=Console(file=self.stream, force_terminal=True), get_time=clock, transient=False)
            self._progress.start()
            self._task = self._progress.add_task(description, total=total, **self._fields())

    # rate and time left, from the samples ----------------------------------------------------
    def rate(self) -> float | None:
        if len(self.samples) < 2:
            return None
        (t0, d0), (t1, d1) = self.samples[0], self.samples[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else None

    def eta(self) -> float | None:
        rate = self.rate()
        if not self.total or not rate or rate <= 0:
            return None
        return max(0.0, self.total - self.done) / rate

    def _fields(self) -> dict[str, str]:
        total = f" / {_count(self.total, self.unit)}" if self.total else ""
        rate = self.rate()
        rate_text = f"{_count(rate, self.unit)}/秒" if rate is not None else "速率计算中"
        eta = self.eta()
        if self.total and self.done >= self.total:
            eta_text = "即将完成"
        else:
            eta_text = f"预计还需 {duration(eta)}" if eta is not None else "剩余时间未知"
        return {"count": _count(self.done, self.unit) + total, "rate": rate_text, "eta": eta_text}

    def line(self) -> str:
        f = self._fields()
        percent = f" {100 * self.done / self.total:.0f}%" if self.total else ""
        return f"{self.description}：{f['count']}{percent}，{f['rate']}，{f['eta']}"

    def update(self, done: float, total: float | None = None, description: str | None = None) -> None:
        now = self.clock()
        if total:
            self.total = total
        if description:
            self.description = description
        if done < self.done:  # started again (a restarted service): earlier samples say nothing now
            self.samples.clear()
        self.done = done
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.window_s:
            self.samples.popleft()
        if self._progress is not None:
            self._progress.update(self._task, completed=done, total=self.total, description=self.description,
                                  **self._fields())
        elif now - (self._last_line if self._last_line is not None else self._started) >= self.interval_s:
            self._print_line()
            self._last_line = now

    def _print_line(self) -> None:
        text = self.line()
        if text != self._last_text:
            print(text, file=self.stream, flush=True)
            self._last_text = text

    def close(self, message: str = "") -> None:
        """Stop the bar (or print the last plain line), then `message` on its own line."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        elif self._last_line is not None:
            self._print_line()
        if message:
            print(message, file=self.stream, flush=True)

    def __enter__(self) -> "Meter":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def field_messages(error: Mapping[str, Any]) -> list[str] | None:
    """Each bad field's messages of a validation error (they carry the field's label already:
    `发现时间：不是有效的时间…`), or None when the error lists no `fields`."""
    listed = error.get("fields")
    if not isinstance(listed, list):
        return None
    return [str(m) for f in listed if isinstance(f, dict) for m in f.get("messages") or []]


def error_lines(error: Mapping[str, Any]) -> list[str]:
    """The lines under an error's message: its fields' messages, else each `details` entry as `key：value`."""
    listed = field_messages(error)
    if listed is not None:
        return listed
    details = error.get("details")
    return [f"{key}：{cell(value)}" for key, value in (details if isinstance(details, dict) else {}).items()]
