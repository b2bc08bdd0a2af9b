"""The API reference `/api/docs` in Chromium: it was a blank page, because FastAPI's Swagger UI
loads its code from a CDN and starts it with an inline script, both refused by Kluis's CSP.
Now the assets come from a Python package and the start from `/static/api-docs.js`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.server import LiveServer

SHOTS = os.environ.get("KLUIS_SCREENSHOT_DIR")  # set it to look at the pages


def watch(page: Any) -> list[str]:
    """What goes wrong on `page`: console errors (CSP refusals among them), script errors,
    failed or missing resources."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    page.on(
        "response", lambda r: problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None
    )
    return problems


def test_api_docs_render_every_operation_under_the_strict_csp_at_phone_and_desktop_width(
    live_server: LiveServer,
) -> None:
    from playwright.sync_api import sync_playwright

    page_response = httpx.get(live_server.url + "/api/docs")
    assert "script-src 'self'" in page_response.headers["content-security-policy"]
    assert "<script>" not in page_response.text  # no inline script
    operations = sum(
        len(ops)
        for ops in httpx.get(live_server.url + "/api/openapi.json").json()["paths"].values()
    )

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for width in (375, 1280):
                page = browser.new_page(viewport={"width": width, "height": 900})
                problems = watch(page)
                page.goto(live_server.url + "/api/docs")
                page.wait_for_selector(".opblock", timeout=15_000)
                assert page.locator(".opblock").count() == operations
                assert page.locator(".info .title").inner_text().startswith("Kluis")
                overflow: Any = page.evaluate(
                    "document.scrollingElement.scrollWidth - window.innerWidth"
                )
                assert overflow <= 0, f"scrolls sideways by {overflow}px at {width}px"
                # an operation opens and shows the fields its body takes
                page.locator(
                    "#operations-oauth-token_token_post, .opblock-post:has-text('/token')"
                ).first.click()
                page.wait_for_selector("text=grant_type", timeout=5_000)
                if SHOTS:
                    page.screenshot(
                        path=str(Path(SHOTS) / f"api-docs-{width}.png"), full_page=False
                    )
                assert problems == []
                page.close()
        finally:
            browser.close()
