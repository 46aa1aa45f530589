"""What every browser test shares: Debian's Chromium, its flags, where screenshots go.

The tests skip only when /usr/bin/chromium is absent (.ci/run installs it).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
#: Screenshots for people to look at (git-ignored).
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
)


def launched_browser() -> Iterator[Any]:
    """Chromium through Playwright, for a fixture to yield from."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page: Any, name: str, *, full_page: bool = False) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=full_page)
    return path


@dataclass(frozen=True)
class ServedInstance:
    """A fresh development instance (SQLite) served by werkzeug on 127.0.0.1."""

    base_url: str
    app: Any
    engine: Any

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"


@contextmanager
def served_instance(
    folder: Path, *, now: datetime, config: Mapping[str, Any] | None = None
) -> Iterator[ServedInstance]:
    """``certvc init --dev`` in ``folder`` for the server's own URL, the issuer app (with
    ``config``) behind it, on a thread; everything closed afterwards."""
    from werkzeug.serving import make_server

    from issuer import db
    from issuer.app import create_app
    from issuer.services import instance

    url = db.sqlite_url(folder)
    holder: dict[str, Any] = {}
    server = make_server(
        "127.0.0.1", 0, lambda env, start: holder["app"](env, start), threaded=True
    )
    base_url = f"http://127.0.0.1:{server.server_port}"
    engine = db.make_engine(url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    try:
        instance.init_instance(
            folder / "instance",
            engine=engine,
            database=url,
            public_url=base_url,
            dev_mode=True,
            passphrase=None,
            now=now,
        )
        holder["app"] = create_app(
            {"INSTANCE": str(folder / "instance"), "DATABASE_URL": url, **(config or {})}
        )
        thread.start()
        yield ServedInstance(base_url, holder["app"], engine)
    finally:
        if thread.is_alive():
            server.shutdown()
            thread.join(timeout=10)
        server.server_close()
        if "app" in holder:
            holder["app"].extensions["certvc.db"].engine.dispose()
        engine.dispose()
