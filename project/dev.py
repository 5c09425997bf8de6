"""`make run`: the whole app on this machine, with an embedded S3 unless real S3 settings exist.

Starts moto's S3 server on 127.0.0.1 (in memory: objects vanish when it stops), creates the
bucket with its CORS rules, migrates, creates a development user and runs Django's server
with DEBUG on. With AWS_STORAGE_BUCKET_NAME set it uses that bucket and changes none of its rules.
Ctrl-C stops everything.

`python -m project.dev manage <command> …` (`make manage ARGS="…"`) runs a management command
with the same settings, e.g. against the embedded S3 while `make run` is up.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], env=env, check=True)


def wait_until_up(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"The embedded S3 server did not start at {url}.") from None
            time.sleep(0.2)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def dev_env() -> tuple[dict[str, str], str | None]:
    """Return the environment of the development processes, and the embedded S3's port if any."""
    environ.Env.read_env(BASE_DIR / ".env")
    web_port = os.environ.get("PORT", "8000")
    # A development server: DEBUG even when a .env copied from .env.example says false.
    env = {**os.environ, "DEBUG": "true"}
    env.setdefault("UPLOADS_CORS_ORIGINS", f"http://{HOST}:{web_port},http://localhost:{web_port}")
    if env.get("AWS_STORAGE_BUCKET_NAME"):
        return env, None
    s3_port = os.environ.get("S3_PORT", "9000")
    env.update(
        AWS_S3_ENDPOINT_URL=f"http://{HOST}:{s3_port}",
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local-secret",
        AWS_STORAGE_BUCKET_NAME="uploads-dev",
    )
    return env, s3_port


def setup_commands(*, embedded_s3: bool) -> list[list[str]]:
    """The management commands run before the server starts."""
    commands = [["migrate", "--noinput"]]
    if embedded_s3:
        # Only the embedded bucket: your own bucket's rules are yours (`manage.py configure_bucket`).
        commands.append(["configure_bucket", "--create"])
    return [*commands, ["create_dev_user"]]


def main() -> int:
    # `kill` and supervisors send SIGTERM; stop the children as on Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    env, s3_port = dev_env()
    web_port = os.environ.get("PORT", "8000")
    children: list[subprocess.Popen] = []

    if s3_port is None:
        print(f"Using the bucket {env['AWS_STORAGE_BUCKET_NAME']!r} from your settings; no local S3.")
    else:
        endpoint = env["AWS_S3_ENDPOINT_URL"]
        children.append(
            subprocess.Popen([sys.executable, "-m", "moto.server", "-H", HOST, "-p", s3_port], env=env)
        )
        wait_until_up(f"{endpoint}/moto-api/")
        print(f"Embedded S3 (moto) at {endpoint}, bucket 'uploads-dev' (in memory).")

    try:
        for command in setup_commands(embedded_s3=s3_port is not None):
            manage(*command, env=env)
        print(f"\n  Open http://{HOST}:{web_port}/ and sign in as dev / dev.  Ctrl-C stops everything.\n")
        children.append(
            subprocess.Popen(
                [sys.executable, str(BASE_DIR / "manage.py"), "runserver", f"{HOST}:{web_port}"], env=env
            )
        )
        children[-1].wait()
    except KeyboardInterrupt:
        pass
    except subprocess.CalledProcessError as e:
        print(f"Setup step failed: {' '.join(e.cmd[2:])}", file=sys.stderr)
        return 1
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["manage"]:
        completed = subprocess.run(
            [sys.executable, str(BASE_DIR / "manage.py"), *sys.argv[2:]], env=dev_env()[0]
        )
        sys.exit(completed.returncode)
    sys.exit(main())
