"""`make run`: the whole app on this machine, with an embedded S3 unless real S3 settings exist.

Starts SeaweedFS on 127.0.0.1 with its data in .data/s3 (kept between runs), creates the bucket
with its CORS rules, migrates, creates a development user and runs Django's server with DEBUG on,
next to a Celery worker and the beat scheduler on an embedded broker (a SQLite file in .data/,
so queued jobs survive a restart; CELERY_BROKER_URL picks a real one).
With AWS_STORAGE_BUCKET_NAME set it uses that bucket and changes none of its rules.
Ctrl-C stops everything.

`python -m project.dev manage <command> …` (`make manage ARGS="…"`) runs a management command
with the same settings, e.g. against the embedded S3 while `make run` is up.
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import environ

from project import localstore

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DATA_DIR = BASE_DIR / ".data" / "s3"
# The ports `make run` was started with, so that `make -s manage` talks to the same store.
RUN_FILE = BASE_DIR / ".data" / "run.json"
ACCESS_KEY, SECRET_KEY = "local", "local-secret"
# SeaweedFS has no public access block (501 NotImplemented) and its buckets are private anyway
# (no anonymous identity); until configure_bucket skips it on such stores, that refusal is not fatal.
NO_PUBLIC_ACCESS_BLOCK = "public access block (NotImplemented)"


def manage(*args: str, env: dict[str, str]) -> None:
    """Run a management command; of configure_bucket's refusals, SeaweedFS's known one only prints a note."""
    command = [sys.executable, str(BASE_DIR / "manage.py"), *args]
    if args[0] != "configure_bucket":
        subprocess.run(command, env=env, check=True)
        return
    completed = subprocess.run(command, env=env, capture_output=True, text=True)
    sys.stdout.write(completed.stdout)
    if completed.returncode and NO_PUBLIC_ACCESS_BLOCK in completed.stderr:
        print("SeaweedFS has no public access block; its buckets are private. CORS is set.")
    elif completed.returncode:
        sys.stderr.write(completed.stderr)
        raise subprocess.CalledProcessError(completed.returncode, command)


def stop_group(process: subprocess.Popen) -> None:
    """Stop a process and its children (SIGTERM, then SIGKILL after 10 s)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=10)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def stop_celery(process: subprocess.Popen) -> None:
    """A warm shutdown: SIGTERM to Celery's main process only, which stops its pool (a SIGTERM to
    the whole group would kill tasks mid-run); the group is killed if it takes over 20 s."""
    try:
        process.terminate()
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        stop_group(process)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def dev_env(ports: dict[str, str] | None = None) -> tuple[dict[str, str], str | None]:
    """Return the environment of the development processes, and the embedded S3's port if any.

    `ports`: PORT and S3_PORT to use where the environment sets none (default 8000 and 9000).
    """
    environ.Env.read_env(BASE_DIR / ".env")
    ports = ports or {}
    web_port = os.environ.get("PORT", ports.get("PORT") or "8000")
    # A development server: DEBUG even when a .env copied from .env.example says false.
    env = {**os.environ, "DEBUG": "true"}
    env.setdefault("UPLOADS_CORS_ORIGINS", f"http://{HOST}:{web_port},http://localhost:{web_port}")
    if env.get("AWS_STORAGE_BUCKET_NAME"):
        return env, None
    s3_port = os.environ.get("S3_PORT", ports.get("S3_PORT") or "9000")
    env.update(
        AWS_S3_ENDPOINT_URL=f"http://{HOST}:{s3_port}",
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_STORAGE_BUCKET_NAME="uploads-dev",
    )
    return env, s3_port


def remember_ports(*, web_port: str, s3_port: str | None) -> None:
    RUN_FILE.parent.mkdir(parents=True, exist_ok=True)
    RUN_FILE.write_text(json.dumps({"PORT": web_port, "S3_PORT": s3_port}))


def manage_env() -> dict[str, str]:
    """`make -s manage`'s environment: `make run`'s, with the ports it was last started with
    (PORT and S3_PORT set in the environment still win)."""
    try:
        remembered = json.loads(RUN_FILE.read_text())
    except (OSError, ValueError):
        remembered = {}
    if not isinstance(remembered, dict):
        remembered = {}
    return dev_env({name: str(remembered[name]) for name in ("PORT", "S3_PORT") if remembered.get(name)})[0]


def setup_commands(*, embedded_s3: bool) -> list[list[str]]:
    """The management commands run before the server starts."""
    commands = [["migrate", "--noinput"]]
    if embedded_s3:
        # Only the embedded bucket: your own bucket's rules are yours (`manage.py configure_bucket`).
        commands.append(["configure_bucket", "--create"])
    return [*commands, ["create_dev_user"]]


def celery_commands() -> list[list[str]]:
    """The worker (processing, webhooks) and the scheduler (cleanup, requeues) beside the server."""
    celery = [sys.executable, "-m", "celery", "-A", "project"]
    return [
        [*celery, "worker", "--loglevel=INFO", "--concurrency=2", "--without-gossip", "--without-mingle"],
        [
            *celery,
            "beat",
            "--loglevel=WARNING",
            "--schedule",
            str(BASE_DIR / ".data" / "celerybeat-schedule"),
        ],
    ]


def main() -> int:
    # `kill` and supervisors send SIGTERM; stop the children as on Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    env, s3_port = dev_env()
    web_port = os.environ.get("PORT", "8000")
    server: subprocess.Popen | None = None
    store: localstore.LocalStore | None = None
    helpers: list[subprocess.Popen] = []
    (BASE_DIR / ".data").mkdir(exist_ok=True)

    if s3_port is None:
        print(f"Using the bucket {env['AWS_STORAGE_BUCKET_NAME']!r} from your settings; no local S3.")
    else:
        try:
            store = localstore.start(
                data_dir=DATA_DIR, s3_port=int(s3_port), access_key=ACCESS_KEY, secret_key=SECRET_KEY
            )
        except localstore.LocalStoreError as e:
            print(f"The embedded S3 did not start: {e}", file=sys.stderr)
            return 1
        print(
            f"Embedded S3 (SeaweedFS) at {store.endpoint}, bucket 'uploads-dev', data in .data/s3 "
            "(kept between runs; to start afresh, stop and rm -rf .data/s3 db.sqlite3). "
            "Its log: .data/s3/weed.log"
        )

    remember_ports(web_port=web_port, s3_port=s3_port)
    try:
        for command in setup_commands(embedded_s3=s3_port is not None):
            manage(*command, env=env)
        # Own process groups too: Ctrl-C reaches them through stop_group, once, in order.
        helpers = [subprocess.Popen(command, env=env, process_group=0) for command in celery_commands()]
        print(f"\n  Open http://{HOST}:{web_port}/ and sign in as dev / dev.  Ctrl-C stops everything.\n")
        # Its own process group: the autoreloader's child must stop with it, not outlive a kill.
        server = subprocess.Popen(
            [sys.executable, str(BASE_DIR / "manage.py"), "runserver", f"{HOST}:{web_port}"],
            env=env,
            process_group=0,
        )
        server.wait()
    except KeyboardInterrupt:
        pass
    except subprocess.CalledProcessError as e:
        print(f"Setup step failed: {' '.join(e.cmd[2:])}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            stop_group(server)
        for helper in helpers:
            stop_celery(helper)
        if store is not None:
            store.stop()
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["manage"]:
        completed = subprocess.run(
            [sys.executable, str(BASE_DIR / "manage.py"), *sys.argv[2:]], env=manage_env()
        )
        sys.exit(completed.returncode)
    sys.exit(main())
