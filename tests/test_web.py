"""The web pages end to end: Debian's Chromium (headless, driven by Playwright) against a real
``reportedly serve`` on 127.0.0.1. Each page is saved as a screenshot in artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from conftest import FIXTURES
from serve_helpers import HASHED_STORIES, SCREENSHOTS, Server, build_corpus, build_story_corpus

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("web")
    srv = Server(folder / "server.log", "--db", str(build_corpus(folder)), env=HASHED_STORIES)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def story_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("web-stories")
    srv = Server(folder / "server.log", "--db", str(build_story_corpus(folder)), env=HASHED_STORIES)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    yield pg
    context.close()


def shot(page: Page, name: str) -> None:
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def texts(page: Page, selector: str) -> list[str]:
    return page.locator(selector).all_inner_texts()


def entry(page: Page, source: str, cue: str) -> dict[str, str]:
    """The side-panel entry for the attribution to ``source`` with cue ``cue``."""
    for li in page.locator("li.att").all():
        if li.locator(".name").inner_text() == source and li.locator(".cue-text").inner_text() == f"“{cue}”":
            return {
                "id": li.get_attribute("data-att") or "",
                "tag": li.locator(".tag").inner_text(),
                "kind": li.locator(".kind").inner_text(),
                "certainty": li.locator(".certainty").inner_text(),
                "chain": li.locator(".chain").inner_text(),
            }
    raise AssertionError(f"no side-panel entry for {source} / {cue}")


def test_paste_the_sample_article(server: Server, page: Page, sample_text: str) -> None:
    page.goto(server.url + "/")
    shot(page, "01-analyse-form")
    page.fill("#text", sample_text)
    page.fill("#outlet", "Slate")
    page.click("#analyze-button")
    page.wait_for_selector("#article-text")

    sources = texts(page, "#article-text .hl.source")
    assert {"ABC News", "the Washington Post", "these people", "Trump"} <= set(sources)
    assert "the two people close to the White House who requested anonymity to speak candidly" in sources
    assert {"according to", "From", "believes", "made clear", "said"} <= set(texts(page, "#article-text .hl.cue"))
    assert {"Reportedly", "reportedly", "apparently", "unclear", "Probably"} <= set(texts(page, "#article-text .hl.hedge"))
    opinion = "".join(texts(page, "#article-text .hl.opinion"))
    assert "Hold me?" in opinion and "Which is a bad thing." in opinion

    abc = entry(page, "ABC News", "according to")
    assert abc == {**abc, "tag": "outlet", "kind": "according-to", "chain": "Slate ← ABC News"}
    assert abc["certainty"] == "probable via apparently"
    abc_content = "".join(texts(page, f'#article-text .hl.content[data-att="{abc["id"]}"]'))
    assert abc_content.startswith("Trump’s anger at his attorney general’s recusal apparently continues")
    assert abc_content.endswith("to go after Sessions in private meetings")
    wapo = entry(page, "The Washington Post", "From")
    assert (wapo["tag"], wapo["kind"], wapo["chain"]) == ("outlet", "direct", "Slate ← The Washington Post")
    assert wapo["certainty"].startswith("unknown")
    pair = entry(page, "people close to the White House", "according to")
    assert pair["tag"] == "anonymous, count 2: people close to the White House"
    assert pair["chain"] == "Slate ← The Washington Post ← people close to the White House"
    trump = entry(page, "Trump", "made clear")
    assert trump["chain"] == "Slate ← The Washington Post ← people close to the White House ← Trump"
    assert trump["kind"] == "indirect" and trump["certainty"] == "certain"
    # WaPo's block content shows as said by the Post where nothing nested claims it
    wapo_content = "".join(texts(page, f'#article-text .hl.content[data-att="{wapo["id"]}"]'))
    assert wapo_content.startswith("It is unclear when Sessions offered to resign, and Trump refused the offer.")

    # five layers, five different colours
    colours = page.eval_on_selector_all(
        "#legend .hl", "els => els.map(e => [e.classList[1], getComputedStyle(e).backgroundColor])"
    )
    assert [c[0] for c in colours] == ["source", "cue", "content", "hedge", "opinion"]
    assert len({c[1] for c in colours}) == 5

    # hovering a content span says who said it: title attribute, and the page's tooltip
    content = page.locator(f'#article-text .hl.content[data-att="{abc["id"]}"]').first
    assert "Said by ABC News" in (content.get_attribute("title") or "")
    assert content.get_attribute("data-who") == "ABC News"
    content.hover()
    tip = page.locator("#tip")
    tip.wait_for(state="visible")
    assert "Said by ABC News" in tip.inner_text() and "Slate ← ABC News" in tip.inner_text()
    assert "linked" in (page.locator(f'li.att[data-att="{abc["id"]}"]').get_attribute("class") or "")
    shot(page, "02-analysed-sample")

    # the events: who did what to whom, and who says so
    events = page.locator("#events")
    events.scroll_into_view_if_needed()
    rows = [
        dict(zip(["group", "actor", "action", "target", "cameo", "certainty", "support"], r, strict=True))
        for r in page.eval_on_selector_all("#events tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))")
    ]
    offer = next(r for r in rows if r["action"].startswith("offer resignation"))
    assert (offer["actor"], offer["target"]) == ("Jeff Sessions", "Trump")
    assert offer["cameo"] == "03 express intent to cooperate" and offer["support"] == "Slate itself"
    relayed = [r for r in rows if "The Washington Post ← people close to the White House" in r["support"]]
    assert relayed and relayed[0]["action"].startswith("make suggestion")
    # later mentions of the offer ("offered his resignation", "made the suggestion") are marked as the same event
    assert f"same as #{offer['group']}" in offer["action"]
    assert relayed[0]["group"] == offer["group"] and f"same as #{offer['group']}" in relayed[0]["action"]
    assert page.locator("#events tr.repeat").count() >= 2
    events.screenshot(path=str(SCREENSHOTS / "10-events.png"))


def test_upload_an_html_file(server: Server, page: Page) -> None:
    page.goto(server.url + "/")
    page.set_input_files("#file", str(FIXTURES / "article.html"))
    page.click("#analyze-button")
    page.wait_for_selector("#article-text")
    assert page.inner_text("#article-title") == "Sessions offered to resign, officials say"
    assert "The Daily Ledger" in page.inner_text(".article-head .meta")
    assert "article.html" in page.inner_text(".article-head .meta")
    assert page.locator("li.att").count() > 0
    shot(page, "03-uploaded-html")


def test_bad_input_shows_the_error_on_the_form(server: Server, page: Page) -> None:
    page.goto(server.url + "/")
    page.fill("#text", "Le gouvernement a annoncé mardi une nouvelle réforme des retraites, selon les ministres du pays.")
    with page.expect_response(lambda r: r.url.endswith("/analyze")) as response:
        page.click("#analyze-button")
    assert response.value.status == 422
    assert "does not look like English" in page.inner_text("#form-error")
    assert page.input_value("#text").startswith("Le gouvernement")  # kept for correcting
    shot(page, "04-input-error")


def test_corpus_view_renders_the_profile_chart(server: Server, page: Page) -> None:
    profile = httpx.get(server.url + "/api/profile", timeout=60).json()
    page.goto(server.url + "/corpus")
    chart = page.locator("#profile-chart")
    chart.wait_for(state="visible")
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    bars = page.eval_on_selector_all(
        "#profile-chart rect.bar",
        "els => els.map(e => [e.dataset.outlet, e.dataset.measure, e.getBoundingClientRect().width])",
    )
    measures = ["anonymous_share", "hedged_share", "opinion_share", "attributions_per_1000_words"]
    assert len(bars) == 4 * len(profile)
    for row in profile:
        for m in measures:
            (width,) = [w for o, k, w in bars if o == row["outlet"] and k == m]
            assert (width > 0) == (row[m] > 0), (row["outlet"], m)
    table = texts(page, "#profile-table tbody tr td:first-child")
    assert table == [r["outlet"] for r in profile]
    shot(page, "05-corpus")


def test_entity_page_search_and_stored_article(server: Server, page: Page) -> None:
    page.goto(server.url + "/corpus")
    page.fill("#entity-form input[name=name]", "Sessions")
    page.click("#entity-form button")
    page.click("#entities a:text-is('Jeff Sessions')")
    page.wait_for_selector("#entity-name")
    assert page.inner_text("#entity-name").startswith("Jeff Sessions")
    dates = page.eval_on_selector_all("#timeline-chart rect.bar", "els => els.map(e => e.dataset.date)")
    assert dates == ["2017-06-06", "2017-06-07", "2017-06-08"]
    by_source = texts(page, "#by-source tbody td:first-child")
    assert any(s.startswith("ABC News") for s in by_source)
    assert any(s.startswith("people close to the White House") and "anonymous" in s for s in by_source)
    assert page.locator("#claims-about tbody tr").count() >= 10
    assert texts(page, "#claims-by tbody td:last-child") == ["that he would stay"]
    shot(page, "06-entity")

    page.goto(server.url + "/corpus/search?q=" + "resign*")
    assert page.inner_text("#hit-count").split()[0] != "0"
    assert all("resign" in t.lower() for t in texts(page, "table.claims tbody td:last-child"))
    shot(page, "07-search")

    page.goto(server.url + "/corpus/articles?outlet=Slate")
    assert page.locator("#articles tbody tr").count() == 2
    shot(page, "08-articles")
    page.click("#articles a:text-is('Jeff Sessions Reportedly Offered to Resign Amidst Growing Discord with Trump')")
    page.wait_for_selector("#article-text")
    assert "ABC News" in texts(page, "#article-text .hl.source")
    assert entry(page, "ABC News", "according to")["chain"] == "Slate ← ABC News"
    assert any(a.startswith("offer resignation") for a in texts(page, "#events td.action"))
    shot(page, "09-stored-article")


def test_events_page(server: Server, page: Page) -> None:
    page.goto(server.url + "/corpus")
    page.click("header.top a:text-is('Events')")
    page.fill("#actor", "Jeff Sessions")
    page.click("#events-form button")
    page.wait_for_url("**/events?actor=*")
    actors = set(texts(page, "#events tbody td:nth-child(3)"))
    assert "Jeff Sessions" in actors and actors <= {"Jeff Sessions", "Sessions"}  # the name as each article gives it
    assert "offer resignation" in texts(page, "#events tbody td.action")
    shot(page, "13-corpus-events")


def test_story_and_provenance_pages(story_server: Server, page: Page) -> None:
    page.goto(story_server.url + "/corpus")
    page.click("header.top a:text-is('Stories')")  # the first look places the newly ingested articles
    page.wait_for_selector("#stories")
    counts = page.eval_on_selector_all("#stories tbody tr", "rows => rows.map(r => [r.cells[2].innerText, r.cells[3].innerText])")
    assert counts == [["3", "3"], ["1", "1"]]
    page.locator("#stories tbody tr").first.locator("td:first-child a").click()
    page.wait_for_selector("#story-articles")
    articles = page.eval_on_selector_all(
        "#story-articles tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))"
    )
    assert articles == [
        ["2024-03-04", "The Albany Herald", "Cuomo to close Tappan Zee Bridge for repairs"],
        ["2024-03-05", "Metro Times", "Tappan Zee Bridge closure announced"],
        ["2024-03-07", "City Wire", "Commuters brace for Tappan Zee closure"],
    ]
    assert texts(page, "#story-citations li") == ["Metro Times → The Albany Herald"]
    claim = page.locator("#travelling-claims tbody tr", has_text="Governor Andrew Cuomo will close")
    shot(page, "11-story")

    claim.locator("a:text-is('provenance →')").click()
    page.wait_for_selector("#reports")
    reports = page.eval_on_selector_all("#reports tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))")
    assert [r[1:3] for r in reports] == [
        ["The Albany Herald", "reported first"],
        ["Metro Times", "relayed"],
        ["City Wire", "relayed"],
    ]
    assert texts(page, "#citations li") == ["Metro Times → The Albany Herald"]
    graph = page.locator("#provenance-graph")
    graph.scroll_into_view_if_needed()
    page.wait_for_function("document.getElementById('provenance-graph').complete")
    assert graph.evaluate("img => img.naturalWidth") > 0
    shot(page, "12-provenance")
    missing = page.goto(story_server.url + "/claims/999999/provenance")
    assert missing is not None and missing.status == 404 and "no claim with id 999999" in page.inner_text("main")
