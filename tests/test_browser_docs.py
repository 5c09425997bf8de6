"""The API's interactive docs in a real browser, under the site's Content-Security-Policy: Swagger
UI from the site's own static files renders every operation, with no console error, no CSP
violation and no request to another origin."""

import os
from urllib.parse import urlsplit

import pytest

from tests.browser import sign_in
from tests.test_browser import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="browser tests skipped: no Chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def operations() -> int:
    """Every operation the schema declares: Swagger UI draws one block for each."""
    from project.api import api

    schema = api.get_openapi_schema()
    return sum(len(methods) for methods in schema["paths"].values())


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1100, "height": 800})  # the CSP applies
    yield context.new_page()
    context.close()


def test_the_api_docs_render_under_the_sites_csp_with_assets_from_the_site(s3, live_server, page, user):
    sign_in(page, live_server.url, user)
    problems, origins = [], set()
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda request: origins.add(urlsplit(request.url).netloc))

    page.goto(f"{live_server.url}/api/docs")
    page.wait_for_selector(".opblock", timeout=15_000)

    assert page.locator(".opblock").count() == operations()
    assert problems == [], "\n".join(problems)
    assert origins == {urlsplit(live_server.url).netloc}
