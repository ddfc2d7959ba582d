"""The web console in a real browser (Debian's headless Chromium) against a real stack: a grid
worker reports a clue from a phone-sized screen → the level-3 chief sees it in their list,
registers it and escalates it → the community office sees the ledger row, exports it and opens its
十个一 progress; and a grid worker of another community cannot open the case. Every step is checked on the page and
photographed (screenshots under test-artifacts/console/, ignored by git)."""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Iterator

import pytest

from fangfei.cli import seed_demo
from fangfei.devstack.stack import Stack
from fangfei.testing.auth import TokenMinter
from fangfei.testing.kafka import wait_until

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
                       reason="needs Debian's chromium and chromium-driver (make tools installs them)"),
]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
DEADLINE_S = 60.0  # generous: events cross the broker between services (not a latency claim)
PHONE = (375, 812)
CHIEF = "magang-l3-01-chief"  # the demo street's level-3 chief of 马岗社区第01网格


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(str(tmp_path_factory.mktemp("stack")), extra_env={"FANGFEI_CONSUMER_SESSION_TIMEOUT_MS": "6000"})
    s.start(timeout_s=120)
    try:
        seed_demo(s.services["roster"].url, token=TokenMinter(s.keys_dir).token("district_office"))
        s.wait_quiet(60)  # escalation routes from its roster copy: let the demo roster reach it first
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path_factory.mktemp("downloads")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--lang=zh-CN",
                f"--window-size={PHONE[0]},{PHONE[1]}", "--disable-extensions", "--no-first-run"):
        opts.add_argument(arg)
    # headless windows are at least 500 px wide: emulate the phone's 375-px screen instead
    opts.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": PHONE[0], "height": PHONE[1],
                                                                       "pixelRatio": 2.0}})
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    # the driver path is given: Selenium Manager is never asked to find or download anything
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.downloads = downloads  # type: ignore[attr-defined]
    driver.set_page_load_timeout(60)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


# -- helpers ---------------------------------------------------------------------------------------
def shot(driver: object, name: str) -> None:
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))  # type: ignore[attr-defined]


def console(stack: Stack) -> str:
    return stack.services["console"].url


def press(element: object) -> None:
    """Activate a button or link from the keyboard (Enter), as someone without a mouse would;
    this also avoids tap coordinates, which the phone emulation scales."""
    from selenium.webdriver.common.keys import Keys

    element.send_keys(Keys.ENTER)  # type: ignore[attr-defined]


def sign_in(driver: object, stack: Stack, token: str) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()  # type: ignore[attr-defined]
    driver.get(console(stack) + "/login")  # type: ignore[attr-defined]
    field = driver.find_element(By.ID, "token")  # type: ignore[attr-defined]
    field.send_keys(token)
    press(driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))  # type: ignore[attr-defined]
    wait_until(lambda: "待办与超期" in driver.page_source, 20, "the home page after signing in")  # type: ignore[attr-defined]


def text_of(driver: object) -> str:
    """The page's main text; "" while a navigation replaces the page under us."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By

    try:
        return str(driver.find_element(By.TAG_NAME, "main").text)  # type: ignore[attr-defined]
    except WebDriverException:  # no such / stale element, or "node does not belong to the document"
        return ""


def shows(driver: object, words: str, what: str, timeout_s: float = 20) -> str:
    """Wait until the page says `words`; on a timeout the error shows what the page said instead."""
    last = {"text": ""}

    def check() -> bool:
        last["text"] = text_of(driver)
        return words in last["text"]
    try:
        wait_until(check, timeout_s, what)
    except TimeoutError as exc:
        (ARTIFACTS / "failure.html").write_text(driver.page_source, encoding="utf-8")  # type: ignore[attr-defined]
        raise AssertionError(f"{what}: the page never said {words!r}; it said: {last['text'][:300]} … {last['text'][-700:]}") from exc
    return last["text"]


def fits_phone(driver: object) -> bool:
    """Nothing wider than the 375-px screen: no sideways scrolling of the page itself."""
    inner, scroll = driver.execute_script(  # type: ignore[attr-defined]
        "return [window.innerWidth, document.documentElement.scrollWidth]")
    return int(inner) == PHONE[0] and int(scroll) <= PHONE[0]


def reload_until(driver: object, url: str, condition: object, what: str) -> object:
    def attempt() -> object:
        driver.get(url)  # type: ignore[attr-defined]
        return condition()  # type: ignore[operator]
    return wait_until(attempt, DEADLINE_S, what)


# -- the acceptance flow ---------------------------------------------------------------------------
def test_report_escalate_and_export_through_the_console(stack: Stack, browser: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    d = browser
    mint = TokenMinter(stack.keys_dir)

    # 1. a grid worker of 马岗社区 reports a clue on a phone-sized screen, seeing the risk as they type
    sign_in(d, stack, mint.token("grid_staff", community="magang", person="magang-secretary"))
    d.get(console(stack) + "/clues/new")  # type: ignore[attr-defined]
    form = d.find_element(By.ID, "clue-form")  # type: ignore[attr-defined]
    for field in form.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), select, textarea"):
        fid = field.get_attribute("id")
        assert d.find_elements(By.CSS_SELECTOR, f"label[for='{fid}']"), f"field {fid} has no label"  # type: ignore[attr-defined]
    Select(d.find_element(By.ID, "category")).select_by_visible_text("非法金融活动")  # type: ignore[attr-defined]
    d.find_element(By.ID, "title").send_keys("门店宣传保本高息理财")  # type: ignore[attr-defined]
    d.find_element(By.ID, "description").send_keys("网格员巡查发现某门店宣传保本保息、年化18%的理财产品，承诺稳赚不赔")  # type: ignore[attr-defined]
    risk = wait_until(lambda: "风险分" in d.find_element(By.ID, "risk").text and d.find_element(By.ID, "risk").text,  # type: ignore[attr-defined]
                      30, "the risk indicators shown while typing")
    assert re.search(r"风险分 [1-9]\d* 分", risk), risk
    assert fits_phone(d)
    shot(d, "1-grid-worker-reports")
    press(d.find_element(By.CSS_SELECTOR, "#clue-form button[type=submit]"))  # type: ignore[attr-defined]
    sent = wait_until(lambda: re.search(r"线索已上报，编号 (\S+?)。", text_of(d)), 20, "the confirmation")
    clue_id = sent.group(1)
    shot(d, "2-clue-sent")

    # 2. the level-3 chief sees it in their list, marked as theirs
    sign_in(d, stack, mint.token("grid_staff", community="magang", person=CHIEF))
    reload_until(d, console(stack) + "/", lambda: d.find_elements(By.LINK_TEXT, clue_id), "the case in the chief's list")  # type: ignore[attr-defined]
    row = d.find_element(By.XPATH, f"//tr[td/a[text()='{clue_id}']]")  # type: ignore[attr-defined]
    assert "我负责" in row.text and "已上报" in row.text, row.text
    assert fits_phone(d)
    shot(d, "3-chief-list")

    # 3. … opens the case, registers it and escalates it with the stabilization measures
    press(d.find_element(By.LINK_TEXT, clue_id))  # type: ignore[attr-defined]
    assert "门店宣传保本高息理财" in text_of(d)
    press(d.find_element(By.CSS_SELECTOR, "#action-register button"))  # type: ignore[attr-defined]
    shows(d, "已完成：登记", "the registration")
    assert "三级网格处置中" in d.find_element(By.ID, "case-status").text  # type: ignore[attr-defined]
    d.find_element(By.ID, "stabilization-escalate").send_keys("已约谈门店负责人，暂停宣传")  # type: ignore[attr-defined]
    d.find_element(By.ID, "reason-escalate").send_keys("涉嫌承诺保本高息，超出网格处置权限")  # type: ignore[attr-defined]
    press(d.find_element(By.CSS_SELECTOR, "#action-escalate button"))  # type: ignore[attr-defined]
    shows(d, "已完成：稳控并上报", "the escalation")
    assert "二级网格研判中" in d.find_element(By.ID, "case-status").text  # type: ignore[attr-defined]
    timeline = d.find_element(By.ID, "timeline").text  # type: ignore[attr-defined]
    assert "登记" in timeline and "稳控并上报" in timeline and "超出网格处置权限" in timeline, timeline
    assert fits_phone(d)
    shot(d, "4-case-escalated")

    # 4. the community office sees the ledger row and exports it
    sign_in(d, stack, mint.token("community_office", community="magang", person="magang-office-01"))
    ledger = console(stack) + "/ledgers/clue-verification"
    reload_until(d, ledger, lambda: clue_id in text_of(d), "the ledger row")
    assert "非法集资举报线索核查台账" in text_of(d)
    shot(d, "5-ledger-row")
    press(d.find_element(By.ID, "export-csv"))  # type: ignore[attr-defined]
    downloads: Path = d.downloads  # type: ignore[attr-defined]
    exported = wait_until(lambda: [p for p in downloads.glob("*.csv") if p.stat().st_size > 0], 30, "the CSV download")
    rows = list(csv.reader(io.StringIO(exported[0].read_text(encoding="utf-8-sig"))))
    assert rows[0][0] == "线索编号" and "核查状态" in rows[0], rows[0]
    assert any(r[0] == clue_id for r in rows[1:]), rows

    # 5. … and its 十个一 progress: its own community only, every field labelled, on the phone's width
    d.get(console(stack) + "/ten-ones")  # type: ignore[attr-defined]
    card = shows(d, "完成进度", "the 十个一 page")
    assert d.find_elements(By.ID, "ten-ones-magang") and "luogang" not in card, card  # type: ignore[attr-defined]
    assert re.search(r"已完成 \d+ / 10 项", card), card
    assert d.find_elements(By.ID, "export-xlsx")  # type: ignore[attr-defined]
    assert fits_phone(d)
    shot(d, "6-ten-ones")


def test_a_grid_worker_cannot_open_another_communitys_case(stack: Stack, browser: object) -> None:
    from selenium.webdriver.common.by import By

    d = browser
    mint = TokenMinter(stack.keys_dir)
    sign_in(d, stack, mint.token("grid_staff", community="magang", person="magang-secretary"))
    d.get(console(stack) + "/clues/new")  # type: ignore[attr-defined]
    d.find_element(By.ID, "category").send_keys("广告")  # type: ignore[attr-defined]
    d.find_element(By.ID, "title").send_keys("马岗社区内部线索标题")  # type: ignore[attr-defined]
    d.find_element(By.ID, "description").send_keys("仅马岗社区可见的描述")  # type: ignore[attr-defined]
    press(d.find_element(By.CSS_SELECTOR, "#clue-form button[type=submit]"))  # type: ignore[attr-defined]
    clue_id = wait_until(lambda: re.search(r"线索已上报，编号 (\S+?)。", text_of(d)), 20, "the confirmation").group(1)

    sign_in(d, stack, mint.token("grid_staff", community="luogang", person="luogang-l3-01-chief"))
    d.get(console(stack) + f"/cases/{clue_id}")  # type: ignore[attr-defined]
    page = text_of(d)
    shot(d, "7-other-community-refused")
    assert "无权查看" in page, page
    assert "马岗社区内部线索标题" not in d.page_source and "仅马岗社区可见的描述" not in d.page_source  # type: ignore[attr-defined]
    assert not d.find_elements(By.ID, "timeline")  # type: ignore[attr-defined]
