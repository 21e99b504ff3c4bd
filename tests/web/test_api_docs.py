"""``/docs`` and ``/redoc`` load their scripts from a CDN: off unless the ``api_docs`` setting
turns them on (issue #13); ``/openapi.json`` is always served, under the site's CSP."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from palmares.web import Settings, create_app
from palmares.web.app import CSP


def _client(tmp_path: Path, api_docs: bool = False) -> TestClient:
    db, artifacts = f"sqlite:///{tmp_path / 'p.db'}", str(tmp_path / "a")
    return TestClient(create_app(Settings(db=db, artifacts=artifacts, api_docs=api_docs)))


def test_interactive_api_pages_are_off_by_default(tmp_path: Path) -> None:
    web = _client(tmp_path)
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        res = web.get(path)
        assert res.status_code == 404 and "cdn" not in res.text.lower(), path
        assert res.headers["content-security-policy"] == CSP
    schema = web.get("/openapi.json")
    assert schema.status_code == 200 and "/api/campaigns" in schema.json()["paths"]
    assert schema.headers["content-security-policy"] == CSP
    assert "/docs" not in schema.json()["paths"]


def test_the_setting_turns_them_on(tmp_path: Path) -> None:
    web = _client(tmp_path, api_docs=True)
    for path in ("/docs", "/redoc"):
        res = web.get(path)
        assert res.status_code == 200 and "content-security-policy" not in res.headers, path
    assert web.get("/").headers["content-security-policy"] == CSP
