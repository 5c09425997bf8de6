"""Fault injection for tests (marker `faults`): a TCP proxy that misbehaves on demand, placed
between the app and the store (or PostgreSQL), and the app under gunicorn in a subprocess.

Tests poll with deadlines (`wait_until`), never sleep a fixed time.
"""

from __future__ import annotations

import os
import queue
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Literal

import requests

ROOT = Path(__file__).resolve().parent.parent
HTTP_METHODS = {b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS"}
Mode = Literal["pass", "refuse", "reset", "hang", "delay", "hold", "cut"]


def wait_until(condition: Callable[[], object], *, timeout: float = 10.0, every: float = 0.02):
    """Poll `condition` until it is truthy (and return it); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"Still not true after {timeout} s: {condition}")
        time.sleep(every)
    return result


def timed(call):
    """Run `call`; return its result and the seconds it took."""
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def quickest(*calls) -> float:
    """The shortest time any of `calls` took: a pause of the machine's (another process, a
    collection) lengthens one run, not the cost a test compares."""
    return min(timed(call)[1] for call in calls)


def within(elapsed: float, budget: float, *, baseline: float) -> bool:
    """Whether `elapsed` stayed within `budget` plus the overhead of a `baseline` measured in the
    same test (the same request with a healthy store): a loaded machine slows both alike."""
    return elapsed <= budget + 3 * baseline


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FaultProxy:
    """A TCP proxy on 127.0.0.1 in front of `upstream` that misbehaves when told to.

    Modes (set `proxy.mode`; `delay` uses `proxy.delay_ms`):
      pass    forward both ways
      refuse  close the listener: connecting is refused
      reset   accept, then reset the connection (RST: SO_LINGER 0)
      hang    accept and never answer (connections already open stop forwarding too)
      delay   forward, `delay_ms` later each way; with `hold_matching` set, only those answers
      hold    forward the request, let the upstream do the work, drop its answer (the client waits);
              with `hold_matching` set, only answers to requests whose first line contains it
      cut     forward an answer's headers and its first `cut_after` body bytes, then end the
              connection (a short read); with `hold_matching` set, only those answers
    """

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.port = free_port()
        self.delay_ms = 0
        self.accepted = 0
        self.answers_dropped = 0  # answers `hold` swallowed
        self.hold_matching: bytes | None = None
        self.cut_after = 0
        self.answers_cut = 0
        self._mode: Mode = "pass"
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._open_listener()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mode(self) -> Mode:
        return self._mode

    @mode.setter
    def mode(self, mode: Mode) -> None:
        self._mode = mode
        if mode in ("refuse", "reset"):
            self._reset_open_connections()
        if mode == "refuse":
            self._close_listener()
        elif self._listener is None:
            self._open_listener()

    def close(self) -> None:
        self._close_listener()
        self._reset_open_connections()

    # --- Listening ----------------------------------------------------------------------------

    def _open_listener(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            # shutdown() wakes the thread blocked in accept() on Linux; close() alone may not.
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed
            self.accepted += 1
            self._track(client)
            if self._mode == "reset":
                _reset(client)
            elif self._mode != "hang":  # a hung connection is kept open and never read
                threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    # --- Forwarding ---------------------------------------------------------------------------

    def _connect(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _reset(client)
            return
        server.settimeout(None)
        self._track(server)
        last_request = [b""]  # the first line of the request this connection carries now
        for source, target, is_answer in ((client, server, False), (server, client, True)):
            outbox: queue.Queue = queue.Queue()
            threading.Thread(
                target=self._read, args=(source, outbox, is_answer, last_request), daemon=True
            ).start()
            threading.Thread(target=_write, args=(target, outbox), daemon=True).start()

    def _read(self, source: socket.socket, outbox: queue.Queue, is_answer: bool, last_request: list) -> None:
        answer = b""  # what this answer has sent so far, for `cut`
        dropped = False  # this stream lost an answer to `hold`: its client keeps waiting, not told of EOF
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if not data:
                if not dropped:
                    outbox.put((0.0, b""))  # end of stream: the writer half-closes its side
                return
            if not is_answer and data[:8].split(b" ")[0] in HTTP_METHODS:
                last_request[0] = data.split(b"\r\n", 1)[0]
            mode = self._mode
            matches = is_answer and (self.hold_matching or b"") in last_request[0]
            if mode == "cut" and matches:
                answer += data
                headers_end = answer.find(b"\r\n\r\n")
                if headers_end >= 0:
                    self.answers_cut += 1
                    outbox.put((0.0, answer[: headers_end + 4 + self.cut_after]))
                    outbox.put((0.0, b""))  # the connection ends mid-body
                    return
                continue
            held = mode == "hold" and matches
            if mode == "hang" or held:
                if held:
                    self.answers_dropped += 1
                    dropped = True
                continue
            delayed = mode == "delay" and (self.hold_matching is None or matches)
            due = time.monotonic() + (self.delay_ms / 1000 if delayed else 0.0)
            outbox.put((due, data))

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def _reset_open_connections(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _reset(sock)


def _write(target: socket.socket, outbox: queue.Queue) -> None:
    while True:
        due, data = outbox.get()
        if not data:
            with suppress(OSError):
                target.shutdown(socket.SHUT_WR)
            return
        if (wait := due - time.monotonic()) > 0:
            time.sleep(wait)  # the line's latency: each chunk leaves `delay` after it arrived
        try:
            target.sendall(data)
        except OSError:
            return


def _reset(sock: socket.socket) -> None:
    """Close with RST instead of FIN: SO_LINGER on, with a zero timeout."""
    with suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


# --- The app under gunicorn ------------------------------------------------------------------


def database_url(settings_dict: dict) -> str:
    """The URL of the database a test is using, for a server in another process."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user, password = settings_dict.get("USER", ""), settings_dict.get("PASSWORD", "")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    return f"postgres://{credentials}{host}:{settings_dict.get('PORT') or 5432}/{settings_dict['NAME']}"


@contextmanager
def gunicorn(env: dict[str, str], log: Path) -> Iterator[str]:
    """The project under gunicorn with gunicorn.conf.py, one small worker; yields the site's URL.

    Its stderr (gunicorn's messages and the app's log) goes to `log`.
    """
    port = free_port()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "SECRET_KEY": "fault-tests-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "4",
        "GUNICORN_LOG_LEVEL": "warning",
        **env,
    }
    with log.open("wb") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        site = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: _answers(site) or server.poll() is not None, timeout=30, every=0.1)
            if server.poll() is not None:
                raise AssertionError(f"gunicorn exited: {log.read_text()[-2000:]}")
            yield site
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()


def _answers(site: str) -> bool:
    try:
        requests.get(f"{site}/accounts/login/", timeout=2)
    except requests.RequestException:
        return False
    return True
