"""The built site in a real browser: headless Chromium driven by Selenium.

The example questions are built from the seed CSL-JSON corpus in ../shared with
``SITE_URL=http://127.0.0.1:<port>/repo/`` and served under the ``/repo/`` sub-path on
loopback, as GitHub Pages serves a project site. The test opens the index and a synthesis
page, sorts the claims table by clicking a header, follows a claim permalink, searches for a
word of a claim with Material's search box, and checks that the browser logged no console
error and the server answered no request with 4xx/5xx. Screenshots are saved to a folder
whose path is printed (``LITSYNTH_SCREENSHOTS`` chooses it; default: a pytest temp folder).

Needs the Debian packages ``chromium`` and ``chromium-driver`` (never a downloaded browser:
the binary and driver paths are passed explicitly and Selenium Manager is kept offline).
Without them the test is skipped, except under ``CI=true``, where it fails.
"""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import re
import shutil
import socket
import threading
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import PROJECT_ROOT, shared_path, copy_example_questions
from generator import pipeline

CHROMIUM = os.environ.get("LITSYNTH_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("LITSYNTH_CHROMEDRIVER", "/usr/bin/chromedriver")
PREFIX = "/repo"
WAIT = 30  # seconds a wait may take before the step counts as failed (not a timing assertion)


def _require_browser():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not (Path(p).is_file() and os.access(p, os.X_OK))]
    if importlib.util.find_spec("selenium") is None:
        missing.append("the selenium package")
    if missing:
        message = (f"browser test needs {', '.join(missing)} (apt-get install chromium chromium-driver; "
                   f"pip install selenium)")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves ``directory`` under ``/repo/`` only and records every response status."""

    statuses: list[tuple[int, str]]

    def translate_path(self, path):
        clean = path.split("?", 1)[0].split("#", 1)[0]
        if clean != PREFIX and not clean.startswith(PREFIX + "/"):
            return os.path.join(self.directory, "\0outside-the-sub-path")  # never exists: 404
        return super().translate_path(clean[len(PREFIX):] or "/")

    def log_request(self, code="-", size="-"):
        self.statuses.append((int(code) if str(code).isdigit() else 0, self.path))

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``(base URL, statuses, project root)`` of the example site served under /repo/."""
    _require_browser()
    # The whole corpus, as the README's build uses: the site a newcomer gets.
    libraries = [shared_path("corpus", "arxiv-cscl-2025-2026.jsonl.gz"), shared_path("corpus", "seed-topic.csl.json")]
    root = tmp_path_factory.mktemp("browser-site")
    shutil.copy(PROJECT_ROOT / "mkdocs.yml", root / "mkdocs.yml")
    copy_example_questions(root / "content" / "questions")
    with socket.socket() as probe:  # the port must be known before the build (it is in site_url)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}{PREFIX}/"
    mp = pytest.MonkeyPatch()
    mp.setenv("SITE_URL", base)
    try:
        report = pipeline.build(pipeline.Options(root=root, libraries=libraries, offline=True,
                                                 now="2026-11-30T00:00:00+00:00"))
    finally:
        mp.undo()
    assert not report.failed
    statuses: list[tuple[int, str]] = []
    handler = type("Handler", (_Handler,), {"statuses": statuses})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), partial(handler, directory=str(root / "site")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base, statuses, root
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def driver(served, tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    mp = pytest.MonkeyPatch()
    mp.setenv("SE_OFFLINE", "true")  # Selenium Manager must never try to download anything
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1300,1000", f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield browser
    finally:
        browser.quit()
        mp.undo()


@pytest.fixture(scope="module")
def shots(tmp_path_factory, pytestconfig):
    folder = Path(os.environ.get("LITSYNTH_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    capman = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capman.global_and_fixture_disabled():
        print(f"\nbrowser screenshots: {folder}")
    return folder


def _severe(logs: list[dict]) -> list[str]:
    return [entry["message"] for entry in logs if entry.get("level") == "SEVERE"]


def _most_varied_page(root: Path) -> str:
    """The slug whose claims come from the most distinct sources (sorting must show
    something); chosen from the built claim sets, so the test follows their results."""
    def distinct(path: Path) -> int:
        claims = json.loads(path.read_text())["claims"]
        return len({c["record_id"] for c in claims})
    return max(sorted((root / "site" / "questions").glob("*.json")), key=distinct).stem


def _column(browser, table: str, index: int) -> list[str]:
    return browser.execute_script(
        f"return Array.from(document.querySelectorAll('{table} tbody tr'))"
        f".map(function (r) {{ var c = r.cells[{index}]; return c.getAttribute('data-sort') || c.textContent.trim(); }});")


def _in_order(browser, values: list[str], direction: int) -> bool:
    """True when ``values`` are in ``direction`` order (1 ascending, -1 descending) by the
    comparison tablesort.js documents: numeric where both are numbers, else the browser's
    localeCompare (numeric, base sensitivity)."""
    return browser.execute_script(
        "var v = arguments[0], d = arguments[1];"
        "function num(t) { return t !== '' && isFinite(Number(t)); }"
        "for (var i = 1; i < v.length; i++) {"
        "  var c = num(v[i - 1]) && num(v[i]) ? Number(v[i - 1]) - Number(v[i])"
        "        : v[i - 1].localeCompare(v[i], undefined, {numeric: true, sensitivity: 'base'});"
        "  if (c * d > 0) { return false; } }"
        "return true;", values, direction)


def test_site_in_headless_chromium(served, driver, shots, pytestconfig):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    base, statuses, root = served
    wait = WebDriverWait(driver, WAIT)
    logs: list[dict] = []
    saved: list[Path] = []

    def shot(name: str) -> None:
        path = shots / f"{len(saved) + 1:02d}-{name}.png"
        driver.save_screenshot(str(path))
        saved.append(path)

    # 1. The index under /repo/: the table of syntheses, made sortable by our script.
    driver.get(base)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "table.ls-index tbody tr")))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "table.ls-index th button.ls-sort")))
    rows = driver.find_elements(By.CSS_SELECTOR, "table.ls-index tbody tr")
    assert len(rows) == 3
    # The Claims column sorts as numbers (145 before 97 as text would not).
    counts = [int(x) for x in _column(driver, "table.ls-index", 3)]
    claims_header = driver.find_elements(By.CSS_SELECTOR, "table.ls-index thead th")[3]
    assert claims_header.text.startswith("Claims") and len(set(counts)) == 3
    claims_header.find_element(By.CSS_SELECTOR, "button").click()
    assert [int(x) for x in _column(driver, "table.ls-index", 3)] == sorted(counts)
    claims_header.find_element(By.CSS_SELECTOR, "button").click()
    assert [int(x) for x in _column(driver, "table.ls-index", 3)] == sorted(counts, reverse=True)
    shot("index")
    logs += driver.get_log("browser")

    # 2. A synthesis page, reached through the index's relative link.
    slug = _most_varied_page(served[2])
    driver.find_element(By.CSS_SELECTOR, f'table.ls-index a[href="questions/{slug}/"]').click()
    wait.until(ec.url_to_be(base + f"questions/{slug}/"))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".ls-claims th button.ls-sort")))
    assert driver.find_element(By.CSS_SELECTOR, "svg.ls-prisma").is_displayed()
    assert driver.find_element(By.CSS_SELECTOR, "svg.ls-bar").is_displayed()
    shot("synthesis-top")

    # 3. Click the Source header: rows re-sorted ascending, a second click descending. (Not
    #    Confidence: on the example site every claim is uncorroborated, so none has one.)
    before = _column(driver, ".ls-claims", 3)
    assert len(set(before)) >= 2 and not _in_order(driver, before, 1)
    header = driver.find_elements(By.CSS_SELECTOR, ".ls-claims thead th")[3]
    assert header.text.startswith("Source")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", header)
    header.find_element(By.CSS_SELECTOR, "button").click()
    ascending = _column(driver, ".ls-claims", 3)
    assert sorted(ascending) == sorted(before) and _in_order(driver, ascending, 1)
    assert header.get_attribute("aria-sort") == "ascending"
    shot("claims-sorted-by-source")
    header.find_element(By.CSS_SELECTOR, "button").click()
    descending = _column(driver, ".ls-claims", 3)
    assert sorted(descending) == sorted(before) and _in_order(driver, descending, -1)
    assert header.get_attribute("aria-sort") == "descending"

    # 4. Follow a claim permalink: the claim is the :target and is on screen.
    link = driver.find_element(By.CSS_SELECTOR, ".ls-claims tbody tr a.ls-claim-link")
    claim_id = link.get_attribute("href").rsplit("#", 1)[1]
    claim_text = link.text
    assert re.fullmatch(r"c-[0-9a-f]+", claim_id)
    driver.get(base + f"questions/{slug}/#" + claim_id)
    wait.until(lambda d: d.execute_script("var t = document.querySelector(':target'); return t && t.id;") == claim_id)
    target = driver.find_element(By.ID, claim_id)
    assert target.text == claim_text
    in_view = driver.execute_script(
        "var r = arguments[0].getBoundingClientRect();"
        "return r.top >= 0 && r.bottom <= window.innerHeight;", target)
    assert in_view
    shot("claim-permalink")
    logs += driver.get_log("browser")

    # 5. Search for a word of that claim with Material's search box: the rarest word of the
    #    claim on this page, so that finding it means the claim itself was indexed. Every
    #    claim is its own search section (an <h3> with the claim id), so a result links to it.
    counts = driver.execute_script(
        "var text = document.querySelector('article.md-content__inner').innerText.toLowerCase();"
        "return arguments[0].map(function (w) { return text.split(w.toLowerCase()).length - 1; });",
        candidates := sorted(set(re.findall(r"[A-Za-z]{5,}", claim_text))))
    assert candidates, claim_text
    word = min(zip(counts, candidates))[1]
    box = driver.find_element(By.CSS_SELECTOR, "input.md-search__input")
    box.click()
    box.send_keys(word)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".md-search-result__item")))
    def result_targets(d) -> set[tuple[str, str]]:
        # Result links carry ?h=<words> for Material's highlighting; compare path and fragment.
        parts = [urlsplit(a.get_attribute("href")) for a in d.find_elements(By.CSS_SELECTOR, "a.md-search-result__link")]
        return {(u.path, u.fragment) for u in parts}

    wait.until(lambda d: (PREFIX + f"/questions/{slug}/", claim_id) in result_targets(d))
    shot("search")
    box.send_keys(Keys.ESCAPE)

    # 6. The dark palette: Material's toggle cycles system → light → dark.
    driver.get(base + f"questions/{slug}/#verdicts")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".ls-claims th button.ls-sort")))
    for _ in range(3):
        if driver.execute_script("return document.body.getAttribute('data-md-color-scheme')") == "slate":
            break
        wait.until(ec.element_to_be_clickable(
            (By.CSS_SELECTOR, "form[data-md-component=palette] label:not([hidden])"))).click()
    assert driver.execute_script("return document.body.getAttribute('data-md-color-scheme')") == "slate"
    shot("dark-palette")
    logs += driver.get_log("browser")

    capman = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capman.global_and_fixture_disabled():
        print("browser screenshots:\n" + "\n".join(f"  {p}" for p in saved))
    assert not _severe(logs), _severe(logs)
    failed = [(code, path) for code, path in statuses if code >= 400 or code == 0]
    assert not failed, failed
    assert any(path.startswith(PREFIX + "/search/search_index.json") for _, path in statuses)
    assert any(path.startswith(PREFIX + "/assets/litsynth/tablesort.js") for _, path in statuses)
