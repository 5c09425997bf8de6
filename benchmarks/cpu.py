"""Where the CPU goes, and on which cores: CPU-seconds per group of processes, and a placement
that gives the store its own cores, as S3 has in every real deployment.

On a small machine a browser, a store and a client share the same cores, so a transfer's speed is
bounded by their CPU together: a client that spends more CPU per byte slows the store down too.
Measuring both placements shows which part of a gap is the client's code and which is its CPU.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import psutil

GROUPS = ("store", "browser", "django", "bench")


def group_of(process: psutil.Process) -> str:
    if process.pid == os.getpid():
        return "bench"  # this process: boto3 and the Playwright client
    name = process.name()
    if name == "weed":
        return "store"
    if name.startswith(("chrom", "headless_shell")):
        return "browser"
    if any("gunicorn" in part for part in process.cmdline()):
        return "django"
    return "other"


def own_processes() -> list[psutil.Process]:
    """This benchmark and what it started (store, gunicorn, Chromium): never another user's
    processes of the same names (other benchmarks or tests may share the machine)."""
    me = psutil.Process()
    return [me, *me.children(recursive=True)]


def cpu_seconds() -> Counter:
    """CPU-seconds (user + system) used so far by each group's live processes."""
    used: Counter = Counter()
    for process in own_processes():
        try:
            times = process.cpu_times()
            used[group_of(process)] += times.user + times.system
        except psutil.Error:
            continue  # gone meanwhile
    return used


def spent(before: Counter, after: Counter) -> dict[str, float]:
    return {group: round(max(0.0, after[group] - before[group]), 1) for group in GROUPS}


def _pin(groups: set[str], cpus: set[int]) -> None:
    for process in own_processes():
        try:
            if group_of(process) not in groups:
                continue
            for thread in process.threads():  # each thread: Linux's affinity is per thread
                os.sched_setaffinity(thread.id, cpus)
        except (psutil.Error, OSError):
            continue


def can_separate() -> bool:
    return hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) >= 2


@contextmanager
def store_on_own_cores() -> Iterator[dict[str, list[int]]]:
    """Pin the store to the first half of this process's cores and the rest of the benchmark to the
    other half (threads started later inherit it); undo it afterwards."""
    cpus = sorted(os.sched_getaffinity(0))
    half = len(cpus) // 2
    store, clients = set(cpus[:half]), set(cpus[half:])
    _pin({"store"}, store)
    _pin({"browser", "django", "bench"}, clients)
    try:
        yield {"store": sorted(store), "clients": sorted(clients)}
    finally:
        _pin(set(GROUPS), set(cpus))
