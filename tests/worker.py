"""A real Celery worker in its own process, for the `worker` tier.

The broker is `CELERY_BROKER_URL` when set (Redis or RabbitMQ: CI), otherwise the embedded one
`make run` uses (kombu's SQLAlchemy transport on a SQLite file). The worker shares the test's
database and store; the test process sends tasks to it through the same broker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

from .faults import ROOT, wait_until


def broker_url(tmp_path: Path) -> str:
    return os.environ.get("CELERY_BROKER_URL") or f"embedded+sqlite:///{tmp_path / 'broker.sqlite3'}"


class Worker:
    def __init__(self, process: subprocess.Popen, log: Path):
        self.process, self.log = process, log

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def pool_children(self) -> list[int]:
        """The pool processes that run the tasks (prefork: children of the main process)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def kill_pool_child(self) -> int:
        [child] = self.pool_children()
        os.kill(child, signal.SIGKILL)
        return child


@contextmanager
def celery_worker(*, env: dict[str, str], log: Path, broker: str, concurrency: int = 1):
    """Start `celery -A project worker` and yield it once it is ready; stop it afterwards."""
    from project.celery import app

    queue = f"test-{uuid.uuid4().hex[:8]}"  # a queue of its own, should the broker be shared
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        **env,
    }
    previous = (app.conf.broker_url, app.conf.task_default_queue, app.conf.task_always_eager)
    app.conf.update(broker_url=broker, task_default_queue=queue, task_always_eager=False)
    _reset_producers(app)
    command = [
        sys.executable, "-m", "celery", "-A", "project", "worker", "--loglevel=INFO",
        f"--concurrency={concurrency}", "--pool=prefork", "--without-gossip", "--without-mingle",
        "--without-heartbeat", "-Q", queue,
    ]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    worker = Worker(process, log)
    try:
        wait_until(lambda: " ready." in worker.text() or process.poll() is not None, timeout=60, every=0.1)
        if process.poll() is not None:
            raise AssertionError(f"The worker exited: {worker.text()[-3000:]}")
        yield worker
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        app.conf.update(broker_url=previous[0], task_default_queue=previous[1], task_always_eager=previous[2])
        _reset_producers(app)


def _reset_producers(app) -> None:
    """Forget the connections to the previous broker; the next send connects to the new one."""
    from kombu import pools

    pools.reset()  # kombu's process-wide pools, keyed by broker, closed and forgotten
    app._pool = None
    app.amqp._producer_pool = None
