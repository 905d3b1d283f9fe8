"""What the browser stories share: the app served on a free port, Debian's Chromium through
Playwright, and signing in on the login page."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, Page, expect, sync_playwright
from waitress.server import create_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# No sandbox as root; no background traffic (this machine has no Internet).
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]  # fmt: skip
PASSWORD = "correct-horse-9"


@contextmanager
def serving(app) -> Iterator[str]:
    """The app on 127.0.0.1 in a thread of this process; yields its base URL."""
    httpd = create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=httpd.run, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.effective_port}"
    finally:
        httpd.close()


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def sign_in(browser: Browser, base: str, name: str) -> Page:
    page = browser.new_context(accept_downloads=True, locale="zh-CN").new_page()
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_text(f"{name}（")).to_be_visible()
    return page
