"""The browser watcher (tests/browser.py): which failed requests fail a browser test."""

from types import SimpleNamespace

from tests.browser import BrowserErrors

MAIN_FRAME = SimpleNamespace(parent_frame=None)


class Request:
    """What the watcher reads of Playwright's Request (hashable by identity, as Playwright's is)."""

    def __init__(self, url: str, *, navigation: bool, failure: str):
        self.url, self.method, self.frame, self.failure = url, "GET", MAIN_FRAME, failure
        self.navigation = navigation

    def is_navigation_request(self) -> bool:
        return self.navigation


def request(url: str, *, navigation: bool = False, failure: str = "net::ERR_ABORTED") -> Request:
    return Request(url, navigation=navigation, failure=failure)


def test_a_request_aborted_while_its_document_is_still_open_is_reported():
    errors = BrowserErrors()
    poll = request("http://site/uploads/changes/")
    errors._issued(poll)
    errors._failed(poll)
    assert errors.unexpected() == ["failed: GET http://site/uploads/changes/ (net::ERR_ABORTED)"]


def test_a_request_aborted_because_the_page_loaded_a_new_document_is_not_reported():
    errors = BrowserErrors()
    poll = request("http://site/uploads/changes/")
    errors._issued(poll)
    errors._issued(request("http://site/", navigation=True))  # a reload
    errors._failed(poll)
    assert errors.unexpected() == []


def test_a_request_of_the_old_document_that_failed_otherwise_is_still_reported():
    errors = BrowserErrors()
    put = request("http://store/part", failure="net::ERR_CONNECTION_RESET")
    errors._issued(put)
    errors._issued(request("http://site/", navigation=True))
    errors._failed(put)
    assert errors.unexpected() == ["failed: GET http://store/part (net::ERR_CONNECTION_RESET)"]
