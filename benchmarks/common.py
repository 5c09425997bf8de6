"""Shared helpers: Django setup, timing statistics, results files, free ports, the machine."""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    import django

    django.setup()


def measure_interleaved(
    operations: dict[str, tuple[Callable, Callable | None]],
    *,
    iterations: int,
    rounds: int = 4,
    warmup: int = 30,
) -> dict[str, dict]:
    """Time each operation (after its `prepare`, untimed) in turns, `iterations / rounds` at a time.

    Turns spread any drift of the machine (another process, a CPU's clock) over every operation
    alike, so ratios between them hold even when the absolute figures move.
    """
    samples: dict[str, list[float]] = {name: [] for name in operations}
    for operation, prepare in operations.values():
        _time(operation, prepare, warmup)
    for _ in range(rounds):
        for name, (operation, prepare) in operations.items():
            samples[name] += _time(operation, prepare, iterations // rounds)
    return {name: _summary(times) for name, times in samples.items()}


def _time(operation: Callable, prepare: Callable | None, count: int) -> list[float]:
    times = []
    for _ in range(count):
        state = prepare() if prepare else None
        start = time.perf_counter()
        operation() if state is None else operation(state)
        times.append((time.perf_counter() - start) * 1000)
    return times


def _summary(times: list[float]) -> dict:
    times = sorted(times)
    return {
        "median_ms": round(statistics.median(times), 3),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 3),
        "iterations": len(times),
    }


def save(name: str, results: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps(results, indent=2, default=str))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 30.0) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"Nothing answered at {url}") from None
            time.sleep(0.2)


@contextmanager
def process(
    args: list[str], *, env: dict[str, str] | None = None, ready_url: str, quiet: bool = False
) -> Iterator[None]:
    """Run a server process (moto, gunicorn) until the block ends; wait until `ready_url` answers."""
    output = subprocess.DEVNULL
    child = subprocess.Popen(args, env=env, cwd=ROOT, stdout=output, stderr=output if quiet else None)
    try:
        wait_for(ready_url)
        yield
    finally:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's S3 server in its own process on a free port; yields its endpoint URL."""
    endpoint = f"http://{HOST}:{free_port()}"
    port = endpoint.rsplit(":", 1)[1]
    with process(
        [sys.executable, "-m", "moto.server", "-H", HOST, "-p", port],
        ready_url=f"{endpoint}/moto-api/",
        quiet=True,
    ):
        yield endpoint


@contextmanager
def seaweedfs(data_dir: Path, *, access_key: str, secret_key: str) -> Iterator[str]:
    """SeaweedFS (the embedded store of `make run`) on a free port; yields its endpoint URL."""
    from project import localstore

    store = localstore.start(data_dir=data_dir, access_key=access_key, secret_key=secret_key)
    try:
        yield store.endpoint
    finally:
        store.stop()


@contextmanager
def gunicorn(*, env: dict[str, str], workers: int, threads: int = 1) -> Iterator[str]:
    """The project under gunicorn on a free port; yields the site's URL."""
    site = f"http://{HOST}:{free_port()}"
    args = [sys.executable, "-m", "gunicorn", "project.wsgi", "--bind", site.removeprefix("http://")]
    args += ["--workers", str(workers), "--threads", str(threads), "--log-level", "warning"]
    with process(args, env=env, ready_url=f"{site}/accounts/login/"):
        yield site


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    from importlib.metadata import version

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "python": platform.python_version(),
        **{name.replace("-", "_"): version(name) for name in ("django", "django-ninja", "boto3", "moto")},
    }
