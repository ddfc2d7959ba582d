"""The README's examples work when pasted, on any day: every `fangfei …` command in its shell
blocks is one the command line accepts, the token command runs for real against a key directory,
and the clue example reports a clue found now (a fixed date in the past would be late at once)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fangfei import cli
from fangfei.auth.config import AuthSettings
from fangfei.auth.keys import TokenKeys
from fangfei.auth.gate import Gate
from services.intake.schemas import ReportClueRequest

README = Path(__file__).resolve().parents[2] / "README.md"
# shell substitutions in the examples, with fixed stand-ins (the parser only checks their shape)
STAND_INS = {'"$(date +%F)"': "2026-03-16", '"$(date +%Y)-12-31"': "2026-12-31"}


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, flags=re.S)


def shell_lines(block: str) -> list[str]:
    joined = block.replace("\\\n", " ")
    return [line.split(" #")[0].strip() for line in joined.splitlines() if line.strip()]


def fangfei_commands(text: str) -> list[str]:
    """Each `fangfei …` command, also inside `$(…)`, without the path it is called by."""
    found = []
    for block in shell_blocks(text):
        for line in shell_lines(block):
            for sub in re.findall(r"\$\((?:\.venv/bin/)?(fangfei [^)]*)\)", line):
                found.append(sub)
            m = re.match(r"^(?:\.venv/bin/)?(fangfei .*)$", line)
            if m:
                found.append(m.group(1))
    return found


def argv_of(command: str) -> list[str]:
    for shell, value in STAND_INS.items():
        command = command.replace(shell, value)
    assert "$" not in command, f"unexpected shell expansion in the README: {command}"
    return shlex.split(command)[1:]


README_TEXT = README.read_text(encoding="utf-8")
COMMANDS = fangfei_commands(README_TEXT)


def test_the_readme_shows_fangfei_commands() -> None:
    assert len(COMMANDS) >= 10
    assert "fangfei token issue --role street_office --street longgang" in COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_every_fangfei_command_in_the_readme_parses(command: str) -> None:
    args = cli.build_parser().parse_args(argv_of(command))  # argparse exits (SystemExit) on anything wrong
    assert callable(args.func)


def test_the_readmes_token_command_issues_a_token_that_services_accept(tmp_path, monkeypatch, capsys) -> None:
    keys = str(tmp_path / "keys")
    assert cli.main(["keys", "init", "--keys-dir", keys]) == 0
    monkeypatch.setenv("FANGFEI_AUTH_KEYS_DIR", keys)  # what `make run` leaves in var/keys
    capsys.readouterr()
    for command in [c for c in COMMANDS if c.startswith("fangfei token issue")]:
        assert cli.main(argv_of(command)) == 0, command
        out = capsys.readouterr()
        token = out.out.strip()
        assert token.count(".") == 2 and token not in out.err
        assert "有效至" in out.err and "（北京时间）" in out.err
        principal = Gate(TokenKeys(keys), AuthSettings(keys_dir=keys)).authenticate({"Authorization": f"Bearer {token}"})
        assert principal.role in command


def test_a_grid_workers_token_still_needs_the_person(tmp_path, capsys) -> None:
    keys = str(tmp_path / "keys")
    cli.main(["keys", "init", "--keys-dir", keys])
    capsys.readouterr()
    code = cli.main(["token", "issue", "--role", "grid_staff", "--street", "longgang", "--community", "magang",
                     "--keys-dir", keys])
    out = capsys.readouterr()
    assert (code, out.out) == (2, "") and "须用 --person 指明本人" in out.err


def test_a_street_office_token_without_its_street_is_refused_in_chinese_naming_what_is_missing(tmp_path,
                                                                                              capsys) -> None:
    keys = str(tmp_path / "keys")
    cli.main(["keys", "init", "--keys-dir", keys])
    capsys.readouterr()
    code = cli.main(["token", "issue", "--role", "street_office", "--keys-dir", keys])
    out = capsys.readouterr()
    assert (code, out.out) == (2, "")
    assert out.err.startswith("无法签发令牌：") and "街道处非办" in out.err and "须给出 --street" in out.err


def _clue_body(text: str) -> dict:
    """The JSON a shell sends for the first `curl … /api/clues … -d '<body>'`, with its $(…) run by bash."""
    begin = text.index("-d '", text.index("/api/clues")) + 3
    data = text[begin:text.index("}'", begin) + 2]
    expanded = subprocess.run(["bash", "-c", f"printf %s {data}"], capture_output=True, text=True, check=True).stdout
    return json.loads(expanded)


def _assert_found_now(body: dict) -> None:
    loaded = ReportClueRequest().load(body)  # the intake API's own schema accepts it
    found = loaded["found_at"]
    assert found.tzinfo is not None
    assert abs(datetime.now(timezone.utc) - found) < timedelta(minutes=5)  # found now, not on a pasted date


def test_the_readmes_clue_example_is_found_when_it_is_pasted() -> None:
    _assert_found_now(_clue_body(README_TEXT))


def test_make_runs_printed_clue_example_is_found_when_it_is_pasted() -> None:
    urls = {name: f"http://127.0.0.1:{port}" for name, port in (
        ("intake", 8101), ("roster", 8102), ("escalation", 8103), ("ledger", 8104), ("notification", 8105),
        ("console", 8106))}
    text = cli.CURL_EXAMPLE.format(token="t", ttl_h=8, **urls)
    _assert_found_now(_clue_body(text))
