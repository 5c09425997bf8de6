"""Helpers for the browser tests that need no Playwright import (test modules skip without it).

Every browser context a test opens is watched (`BrowserErrors`): a console error, an uncaught
exception, a `securitypolicyviolation` event or a failed request fails the test, unless the test
said it causes that one on purpose (`browser_errors.allow(pattern)`). Pages run under the site's
real Content-Security-Policy; nothing is injected with it bypassed (axe-core runs in its own
isolated world, see test_page_ui.assert_no_axe_violations).
"""

from __future__ import annotations

import json
import re
import threading
import time

from django.core.signals import request_finished, request_started

# Devtools instrumentation, not page script: init scripts are not subject to the page's CSP, and
# this one only reports. Chromium logs violations too; the event also names the directive.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  const where = event.sourceFile ? ` at ${event.sourceFile}:${event.lineNumber}:${event.columnNumber}` : "";
  console.error(`securitypolicyviolation: ${event.effectiveDirective} refused ${event.blockedURI || "inline"}${where}`);
});
"""

# Chromium's own pages (its PDF viewer is an extension) load their parts in ways that are no
# concern of the site's; and it drops a favicon fetch still running when the test navigates on.
BROWSERS_OWN = re.compile(r"\b(chrome-extension|chrome|devtools)://|/favicon\.(ico|svg) \(net::ERR_ABORTED\)")


class BrowserErrors:
    """What went wrong in the browser during a test, as one line each."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.allowed: list[re.Pattern[str]] = []
        # Requests of a document the page has since left: a navigation aborts them (browser
        # behaviour, not the site's), e.g. the list's poll in flight when a test reloads.
        self.navigations = 0  # documents the page has committed to
        self.leaving = False  # a new document is on its way: the old one is still running
        self.issued_at: dict = {}

    def attach(self, context) -> None:
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        context.on("console", self._console)
        context.on("weberror", lambda error: self.seen.append(f"uncaught: {error.error}"))
        context.on("page", lambda page: page.on("framenavigated", self._committed))
        context.on("request", self._issued)
        context.on("requestfinished", self._finished)
        context.on("requestfailed", self._failed)
        context.on("response", self._response)

    def allow(self, pattern: str) -> None:
        """A failure the test causes on purpose (a regular expression searched in each line)."""
        self.allowed.append(re.compile(pattern))

    @staticmethod
    def _new_document(request) -> bool:
        """A navigation of the page itself (not of an iframe: a frame being created has no `frame`
        yet, and Playwright raises for it)."""
        if not request.is_navigation_request():
            return False
        try:
            return request.frame.parent_frame is None
        except Exception:
            return False

    def _issued(self, request) -> None:
        if self._new_document(request):
            self.leaving = True
        self.issued_at[request] = self.navigations

    def _finished(self, request) -> None:
        self.issued_at.pop(request, None)
        if self._new_document(request):
            self.leaving = False  # committed by now, or a download that never replaces the page

    def _committed(self, frame) -> None:
        if frame.parent_frame is None:
            self.navigations += 1
            self.leaving = False

    def _failed(self, request) -> None:
        issued_at = self.issued_at.pop(request, self.navigations)
        aborted_by_navigation = self.leaving or issued_at < self.navigations
        if self._new_document(request):
            self.leaving = False
        if request.failure == "net::ERR_ABORTED" and aborted_by_navigation:
            return  # its document is being left, or was: the navigation aborted it
        self.seen.append(f"failed: {request.method} {request.url} ({request.failure})")

    def unexpected(self) -> list[str]:
        return [
            line
            for line in self.seen
            if not any(p.search(line) for p in self.allowed) and not BROWSERS_OWN.search(line)
        ]

    def _console(self, message) -> None:
        if message.type == "error":
            self.seen.append(f"console: {message.text} ({message.location.get('url', '')})")

    def _response(self, response) -> None:
        if response.status >= 400:
            self.seen.append(f"answered {response.status}: {response.request.method} {response.url}")


def wait_until(page, condition, what: str = "the state waited for", *, timeout: float = 30.0) -> None:
    """Poll `condition()` (Python, reading the page with page.evaluate) until it holds; `what`
    names it in the failure.

    Not Playwright's wait_for_function with a string: that evaluates it with eval, which the
    site's CSP rightly refuses.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        page.wait_for_timeout(100)


def sign_in(page, site: str, user) -> None:
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site}/")


def part_requests(page) -> list[dict]:
    """The JSON bodies of the page's `POST …/parts` requests (each round of part URLs it asks
    for), in order, as they are sent; the list fills while the test drives the page."""
    bodies: list[dict] = []

    def record(request) -> None:
        if request.method == "POST" and request.url.endswith("/parts"):
            bodies.append(json.loads(request.post_data))

    page.on("request", record)
    return bodies


def declared_checksums(bodies: list[dict]) -> dict[str, str]:
    """Every part's SHA-256 the page declared across its `/parts` rounds (`part_requests`)."""
    return {number: digest for body in bodies for number, digest in body.get("checksums", {}).items()}


class ServerRequests:
    """The requests Django's live server is still answering, so a test's teardown can wait for
    them: the database is flushed after each test, and a request still writing then (a presign
    sent just before the page closed) deadlocks PostgreSQL's TRUNCATE."""

    def __init__(self) -> None:
        self.running = 0
        self._lock = threading.Lock()

    def __enter__(self) -> ServerRequests:
        request_started.connect(self._started, weak=False)
        request_finished.connect(self._finished, weak=False)
        return self

    def __exit__(self, *exc) -> None:
        request_started.disconnect(self._started)
        request_finished.disconnect(self._finished)

    def _started(self, **kwargs) -> None:
        with self._lock:
            self.running += 1

    def _finished(self, **kwargs) -> None:
        with self._lock:
            self.running -= 1

    def wait_until_idle(self, timeout: float = 15.0) -> bool:
        """Wait until no request has been running for a moment (one sent just before the browser
        closed may not have started yet); False if that never happened within `timeout`."""
        deadline, idle_since = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            if self.running > 0:
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= 0.1:
                return True
            time.sleep(0.02)
        return False
