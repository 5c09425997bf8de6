"""The browser watcher (tests/browser.py): which failed requests fail a browser test."""

from types import SimpleNamespace

from tests.browser import BrowserErrors

MAIN_FRAME = SimpleNamespace(parent_frame=None)


def reload(errors) -> None:
    """What the watcher hears of a reload: the new document's request, then its commit."""
    errors._issued(request("http://site/", navigation=True))
    errors._committed(MAIN_FRAME)


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
    reload(errors)
    errors._failed(poll)
    assert errors.unexpected() == []


def test_a_request_of_the_old_document_that_failed_otherwise_is_still_reported():
    errors = BrowserErrors()
    put = request("http://store/part", failure="net::ERR_CONNECTION_RESET")
    errors._issued(put)
    reload(errors)
    errors._failed(put)
    assert errors.unexpected() == ["failed: GET http://store/part (net::ERR_CONNECTION_RESET)"]


def test_a_request_the_old_document_sent_while_the_new_one_loads_is_not_reported_when_aborted():
    errors = BrowserErrors()
    errors._issued(request("http://site/", navigation=True))  # the reload has started
    put = request("http://store/part")  # the old document is still running and sends one more
    errors._issued(put)
    errors._failed(put)
    assert errors.unexpected() == []


def test_a_request_of_the_new_document_aborted_later_is_reported():
    errors = BrowserErrors()
    reload(errors)
    poll = request("http://site/uploads/changes/")
    errors._issued(poll)
    errors._failed(poll)
    assert errors.unexpected() == ["failed: GET http://site/uploads/changes/ (net::ERR_ABORTED)"]


def test_a_navigation_that_ends_without_a_new_document_stops_excusing_aborts():
    errors = BrowserErrors()
    download = request("http://site/file?download=true", navigation=True)
    errors._issued(download)
    errors._finished(download)  # an attachment: the page stays
    cancelled = request("http://store/part")
    errors._issued(cancelled)
    errors._failed(cancelled)
    assert errors.unexpected() == ["failed: GET http://store/part (net::ERR_ABORTED)"]


class IframeCreation(Request):
    """An iframe's first navigation: Playwright raises when asked for a frame not yet created."""

    @property
    def frame(self):
        raise RuntimeError("Frame for this navigation request is not available")

    @frame.setter
    def frame(self, value):
        pass


def test_an_iframes_first_navigation_is_watched_without_asking_for_its_frame():
    errors = BrowserErrors()
    preview = IframeCreation("http://store/notes.txt", navigation=True, failure="net::ERR_FAILED")
    errors._issued(preview)
    errors._failed(preview)
    assert errors.unexpected() == ["failed: GET http://store/notes.txt (net::ERR_FAILED)"]
