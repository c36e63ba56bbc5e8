"""The HTTP API on real parts: a real ``reportedly serve`` process on 127.0.0.1, a real corpus
database, real HTTP (httpx). One in-process test covers the 500 path, which no real input reaches."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import FIXTURES
from reportedly.corpus import query
from reportedly.corpus import stories as story_model
from reportedly.corpus.store import Store
from reportedly.interfaces import server_cli
from reportedly.interfaces.server import DEFAULT_MAX_BODY, DEFAULT_TIMEOUT_S, create_app
from reportedly.model import Report
from serve_helpers import HASHED_STORIES, Server, build_corpus, build_story_corpus

MAX_BODY = 200_000


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_corpus(tmp_path_factory.mktemp("server-corpus"))


@pytest.fixture(scope="module")
def server(corpus_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("server-log") / "server.log"
    srv = Server(log, "--db", str(corpus_db), "--max-body", str(MAX_BODY), env=HASHED_STORIES)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=120) as c:
        yield c


def error_of(r: httpx.Response, status: int) -> str:
    """The response is the JSON error shape, and nothing else, with the expected status."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["error"] and isinstance(body["error"], str) and body["error"]
    assert "Traceback" not in r.text
    return str(body["error"])


def test_healthz(client: httpx.Client) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    health = r.json()
    assert health["status"] == "ok" and health["corpus"] is True
    assert health["pipeline"].startswith("en_core_web")


def test_openapi_describes_every_endpoint(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path, method in [
        ("/api/analyze", "post"),
        ("/api/articles", "get"),
        ("/api/articles/{article_id}", "get"),
        ("/api/entities/{entity_id}/claims", "get"),
        ("/api/profile", "get"),
        ("/api/stories", "get"),
        ("/api/claims/{claim_id}/provenance", "get"),
        ("/api/events", "get"),
        ("/healthz", "get"),
    ]:
        assert method in paths[path], path
    body = paths["/api/analyze"]["post"]["requestBody"]["content"]
    assert {"application/json", "text/plain", "text/html", "multipart/form-data"} <= set(body)
    assert "Report" in spec["components"]["schemas"]
    page = client.get("/api-docs")
    assert page.status_code == 200 and "/api/entities/{entity_id}/claims" in page.text


def test_analyze_json_gives_the_same_report_as_the_library(client: httpx.Client, sample_text: str, sample_report: Report) -> None:
    r = client.post("/api/analyze", json={"text": sample_text, "outlet": "Slate"})
    assert r.status_code == 200, r.text
    report = Report.model_validate_json(r.text)
    assert report == sample_report
    (abc,) = [a for a in report.attributions if (s := report.source(a.source_id)) and s.name == "ABC News"]
    assert report.chain(abc) == ["Slate", "ABC News"]


def test_analyze_raw_html_body_and_form_upload(client: httpx.Client) -> None:
    html = (FIXTURES / "article.html").read_bytes()
    raw = client.post("/api/analyze", content=html, headers={"content-type": "text/html"}, params={"outlet": "Ledger"})
    assert raw.status_code == 200, raw.text
    report = Report.model_validate_json(raw.text)
    assert report.article.meta.title == "Sessions offered to resign, officials say"
    assert report.article.meta.outlet == "Ledger" and report.article.meta.source_format == "html"
    form = client.post("/api/analyze", files={"file": ("article.html", html, "text/html")}, data={"outlet": "Ledger"})
    assert form.status_code == 200, form.text
    assert Report.model_validate_json(form.text) == report
    text = client.post("/api/analyze", content=b"Officials said the bridge would reopen.", headers={"content-type": "text/plain"})
    assert [a.cue.text for a in Report.model_validate_json(text.text).attributions] == ["said"]


def test_bad_input_is_a_422_with_a_clear_message(client: httpx.Client) -> None:
    def post(content: bytes, ctype: str = "application/json") -> httpx.Response:
        return client.post("/api/analyze", content=content, headers={"content-type": ctype})

    assert error_of(post(b'{"text": "unterminated'), 422).startswith("invalid JSON: ")
    assert "JSON object" in error_of(post(b'["a list"]'), 422)
    assert "one of them" in error_of(post(b'{"text": "a", "html": "b"}'), 422)
    assert "one of them" in error_of(post(b'{"outlet": "Slate"}'), 422)
    assert "txt: Extra inputs are not permitted" in error_of(post(b'{"txt": "a"}'), 422)
    assert "text: Input should be a valid string" in error_of(post(b'{"text": 42}'), 422)
    assert "empty input" in error_of(post(b'{"text": "   "}'), 422)
    french = (FIXTURES / "french.txt").read_text(encoding="utf-8")
    assert "does not look like English" in error_of(client.post("/api/analyze", json={"text": french}), 422)
    assert "binary" in error_of(post(b"GIF89a\x00\x01\x02\x00", "text/plain"), 422)
    assert "not valid UTF-8" in error_of(post("Officials said the café was shut.".encode("cp1252"), "text/plain"), 422)
    assert "unsupported content type" in error_of(post(b"\x89PNG", "image/png"), 415)
    assert "entity_id" in error_of(client.get("/api/entities/not-a-number/claims"), 422)
    assert "date_from" in error_of(client.get("/api/articles", params={"date_from": "June 6"}), 422)


def test_oversize_body_is_413_whether_declared_or_streamed(client: httpx.Client) -> None:
    declared = client.post("/api/analyze", content=b"a" * (MAX_BODY + 1), headers={"content-type": "text/plain"})
    assert f"{MAX_BODY:,}-byte limit" in error_of(declared, 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams in
        for _ in range(50):
            yield b"word " * 2_000

    streamed = client.post("/api/analyze", content=chunks(), headers={"content-type": "text/plain"})
    assert "content-length" not in streamed.request.headers
    error_of(streamed, 413)
    upload = client.post("/api/analyze", files={"file": ("big.txt", b"b" * (MAX_BODY * 2), "text/plain")})
    error_of(upload, 413)
    page = client.post("/analyze", files={"file": ("big.txt", b"b" * (MAX_BODY * 2), "text/plain")})  # the web form
    assert page.status_code == 413 and page.headers["content-type"].startswith("text/html") and "byte limit" in page.text
    assert client.get("/healthz").status_code == 200  # the server and the connection carry on


def test_articles_paged_and_filtered(client: httpx.Client, corpus_db: Path) -> None:
    everything = client.get("/api/articles", params={"per_page": 200}).json()
    assert everything["total"] == 7 and len(everything["items"]) == 7
    ids = [a["id"] for a in everything["items"]]
    pages = [client.get("/api/articles", params={"per_page": 3, "page": p}).json() for p in (1, 2, 3)]
    assert [p["pages"] for p in pages] == [3, 3, 3]
    assert [a["id"] for p in pages for a in p["items"]] == ids  # pages partition the listing, in order
    assert client.get("/api/articles", params={"per_page": 3, "page": 9}).json()["items"] == []
    slate = client.get("/api/articles", params={"outlet": "Slate"}).json()
    assert slate["total"] == 2 and {a["outlet"] for a in slate["items"]} == {"Slate"}
    wapo = client.get("/api/articles", params={"outlet": "washingtonpost.com"}).json()
    assert [a["title"] for a in wapo["items"]] == ["Sessions says he will stay"]
    june = client.get("/api/articles", params={"date_from": "2017-06-07", "date_to": "2017-06-08"}).json()
    assert sorted(a["date"] for a in june["items"]) == ["2017-06-07", "2017-06-08"]
    by_name = client.get("/api/articles", params={"entity": "Jeff Sessions"}).json()
    assert by_name["total"] == 3
    with Store(corpus_db) as store:
        (jeff,) = [r["id"] for r in query.find_entities(store, "Jeff Sessions")]
    by_id = client.get("/api/articles", params={"entity": str(jeff)}).json()
    assert by_id == by_name
    assert client.get("/api/articles", params={"entity": "Nobody Atall"}).json()["total"] == 0
    error_of(client.get("/api/articles", params={"per_page": 0}), 422)


def test_article_by_id_and_unknown_ids(client: httpx.Client, corpus_db: Path) -> None:
    first = client.get("/api/articles", params={"outlet": "Slate", "date_from": "2017-06-06", "date_to": "2017-06-06"})
    (item,) = first.json()["items"]
    r = client.get(f"/api/articles/{item['id']}")
    assert r.status_code == 200
    with Store(corpus_db) as store:
        assert Report.model_validate_json(r.text) == store.report(item["id"])
    assert "no article with id 'ffffffffffffffff'" in error_of(client.get("/api/articles/ffffffffffffffff"), 404)
    assert "no entity with id 99999" in error_of(client.get("/api/entities/99999/claims"), 404)
    assert "no entity" in error_of(client.get("/api/entities/99999"), 404)
    assert "/api/nowhere" in error_of(client.get("/api/nowhere"), 404)
    assert "method not allowed" in error_of(client.delete("/api/profile"), 405)
    page = client.get("/corpus/articles/ffffffffffffffff")  # the web pages answer with a page, same status
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "no article with id" in page.text and "Traceback" not in page.text


def test_entity_claims_about_and_by(client: httpx.Client, corpus_db: Path) -> None:
    found = client.get("/api/entities", params={"name": "Sessions"}).json()
    jeff = next(e for e in found if e["name"] == "Jeff Sessions")
    assert jeff["kind"] == "person" and jeff["articles"] == 3
    about = client.get(f"/api/entities/{jeff['id']}/claims").json()
    assert about["entity"]["name"] == "Jeff Sessions" and about["role"] == "about"
    with Store(corpus_db) as store:
        expected = query.claims_about(store, "Jeff Sessions")
    assert [c["claim"] for c in about["claims"]] == [c["claim"] for c in expected]
    sources = {c["source"] for c in about["claims"]}
    assert {"ABC News", "The Washington Post", "people close to the White House"} <= sources
    dates = [c["date"] for c in about["claims"]]
    assert dates == sorted(dates)  # over time
    by = client.get(f"/api/entities/{jeff['id']}/claims", params={"role": "by"}).json()
    assert [c["claim"] for c in by["claims"]] == ["that he would stay"]
    page = client.get(f"/api/entities/{jeff['id']}/claims", params={"limit": 2, "offset": 1}).json()
    assert page["claims"] == about["claims"][1:3]
    assert "role" in error_of(client.get(f"/api/entities/{jeff['id']}/claims", params={"role": "near"}), 422)
    detail = client.get(f"/api/entities/{jeff['id']}").json()
    assert [d["date"] for d in detail["timeline"]] == ["2017-06-06", "2017-06-07", "2017-06-08"]
    assert sum(s["claims"] for s in detail["sources"]) == len(about["claims"])


def test_profile_and_search(client: httpx.Client, corpus_db: Path) -> None:
    with Store(corpus_db) as store:
        expected = query.profile(store)
        hits = query.search(store, "resign*")
    assert client.get("/api/profile").json() == expected
    assert {r["outlet"] for r in expected} >= {"Slate", "The Daily Ledger", "The Washington Post"}
    got = client.get("/api/search", params={"q": "resign*"}).json()
    assert [h["claim"] for h in got] == [h["claim"] for h in hits] and got


def test_stories_provenance_and_events(client: httpx.Client, corpus_db: Path) -> None:
    # build_corpus only ingests: the first look at the stories places all seven articles
    listed = client.get("/api/stories")
    assert listed.status_code == 200, listed.text
    rows = listed.json()
    assert sum(r["articles"] for r in rows) == 7
    with Store(corpus_db) as store:
        assert story_model.assign_stories(store) == 0  # the server wrote them down
        assert rows == story_model.stories(store)
        hits = query.search(store, "resign*")
    biggest = client.get(f"/api/stories/{rows[0]['story']}").json()
    assert len(biggest["items"]) == rows[0]["articles"]
    assert "no story with id 999999" in error_of(client.get("/api/stories/999999"), 404)

    claim_id = hits[0]["claim_id"]
    prov = client.get(f"/api/claims/{claim_id}/provenance").json()
    with Store(corpus_db) as store:
        expected = story_model.provenance(store, claim_id)
    assert prov["claim"] == expected["claim"]
    assert [(r["claim"], r["outlet"], r["first"]) for r in prov["reports"]] == [
        (r["claim"], r["outlet"], bool(r["first"])) for r in expected["reports"]
    ]
    assert prov["reports"][0]["first"] is True
    assert prov["citations"] == expected["citations"]
    assert "no claim with id 999999" in error_of(client.get("/api/claims/999999/provenance"), 404)
    error_of(client.get("/api/claims/abc/provenance"), 422)

    events = client.get("/api/events", params={"actor": "Jeff Sessions"}).json()
    with Store(corpus_db) as store:
        assert [e["action"] for e in events] == [e["action"] for e in query.events(store, "Jeff Sessions")]
    offer = next(e for e in events if e["action"] == "offer resignation")
    assert (offer["actor"], offer["target"], offer["cameo"], offer["cameo_label"]) == (
        "Jeff Sessions",
        "Trump",
        "03",
        "express intent to cooperate",
    )
    assert len(client.get("/api/events").json()) > len(events)
    assert client.get("/api/events", params={"actor": "Nobody Atall"}).json() == []


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """No corpus, and a time limit no analysis can meet."""
    srv = Server(tmp_path_factory.mktemp("strict") / "server.log", "--timeout", "0.001")
    yield srv
    srv.stop()


def test_analysis_past_the_time_limit_is_504(strict_server: Server, sample_text: str) -> None:
    with httpx.Client(base_url=strict_server.url, timeout=60) as c:
        assert "0.001-second limit" in error_of(c.post("/api/analyze", json={"text": sample_text}), 504)
        assert c.get("/healthz").json()["corpus"] is False
        corpus_paths = ["/api/articles", "/api/profile", "/api/entities/1/claims", "/api/articles/abc"]
        for path in [*corpus_paths, "/api/stories", "/api/events", "/api/claims/1/provenance"]:
            assert "no corpus database" in error_of(c.get(path), 404)
        page = c.get("/corpus")
        assert page.status_code == 200 and "No corpus database" in page.text


def test_a_database_that_cannot_be_written_shows_stories_as_they_are(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Placing new articles writes; on a read-only database the pages show what is there (here:
    nothing placed yet) instead of failing. Root ignores file modes, so the write failure is staged."""
    db = build_story_corpus(tmp_path)

    def refuse(store: Store) -> int:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(story_model, "assign_stories", refuse)
    app = create_app(db, max_body=1_000, timeout_s=5)
    with Store(db) as store:
        claim_id = int(store.query("SELECT min(rowid) FROM claims")[0][0])

    async def call() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            paths = ["/api/stories", f"/api/claims/{claim_id}/provenance", "/stories", f"/claims/{claim_id}/provenance"]
            return [await c.get(p) for p in paths]

    stories, prov, page, prov_page = asyncio.run(call())
    assert stories.status_code == 200 and stories.json() == []
    assert prov.status_code == 200, prov.text
    assert [(r["claim"], r["first"]) for r in prov.json()["reports"]] == [(claim_id, True)]  # the claim alone
    assert prov.json()["citations"] == []
    assert page.status_code == 200 and "No stories yet" in page.text
    assert prov_page.status_code == 200 and "reported first" in prov_page.text


def test_unexpected_errors_are_json_500_without_traceback() -> None:
    app = create_app(None, max_body=1_000, timeout_s=5)

    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("secret internals at /srv/app.py line 12")

    async def call() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            boom = await c.get("/api/boom")
            big = await c.post("/api/analyze", content=b"x" * 1_001, headers={"content-type": "text/plain"})
            return boom, big

    boom_r, big_r = asyncio.run(call())
    assert error_of(boom_r, 500) == "internal error (RuntimeError)"
    assert "secret" not in boom_r.text
    error_of(big_r, 413)


def test_serve_refuses_a_missing_database(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "reportedly", "serve", "--db", str(tmp_path / "nope.sqlite"), "--port", "9"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert "no such corpus database" in out.stderr and "Traceback" not in out.stderr


def test_cli_defaults_match_the_server() -> None:
    assert (server_cli.DEFAULT_MAX_BODY, server_cli.DEFAULT_TIMEOUT_S) == (DEFAULT_MAX_BODY, DEFAULT_TIMEOUT_S)
