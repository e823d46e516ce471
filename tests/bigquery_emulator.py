"""A local BigQuery for the tests: local-bigquery 0.4.0 on loopback ports, started once.

See ../shared/emulators.md. The emulator needs Python 3.13 and lives in its own venv,
``.emulators/bigquery-venv``, made by ``scripts/setup-bigquery-emulator.sh`` (run here
when missing, so a plain ``pytest`` works on a fresh machine; about 25 s the first time,
instant after). It runs with a private HOME (its DuckDB extensions are installed there
offline) and a fresh data folder, answers on two free ports of 127.0.0.1, and is stopped
when the session ends. If it cannot be installed or started, every test that uses it
FAILS with the reason: the BigQuery path is never skipped silently.

Test modules import the ``bigquery_emulator`` fixture from here. Each module gets its
own fixture definition from pytest, so the server is shared through a reference count:
the first user starts it, the last one stops it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SETUP = REPO / "scripts" / "setup-bigquery-emulator.sh"
EMULATORS = REPO / ".emulators"
EXECUTABLE = EMULATORS / "bigquery-venv" / "bin" / "local-bigquery"
PRIVATE_HOME = EMULATORS / "bigquery-home"
PROJECT = "test-project"
READY_TIMEOUT_S = 60.0


@dataclass
class Emulator:
    endpoint: str  # http://127.0.0.1:<port>
    project: str
    data_dir: Path
    # gs://<bucket>/<name> load URIs read <gcs_root>/<bucket>/<name>: where a
    # gcp-storage-emulator started with data_dir=<gcs_base> keeps its objects.
    gcs_base: Path
    gcs_root: Path
    log: Path
    process: subprocess.Popen[bytes]

    def client(self):  # -> google.cloud.bigquery.Client, imported here only
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        return bigquery.Client(
            project=self.project,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": self.endpoint},
        )

    def env(self, **extra: str) -> dict[str, str]:
        """OLIST_* variables that point the CLI at this emulator."""
        return {
            "OLIST_WAREHOUSE": "bigquery",
            "OLIST_BQ_PROJECT": self.project,
            "OLIST_BQ_API_ENDPOINT": self.endpoint,
            **extra,
        }


def install() -> Path:
    """Run the setup script (idempotent: instant when done); the server's executable."""
    try:
        done = subprocess.run(
            ["bash", str(SETUP)], capture_output=True, text=True, timeout=900, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"{SETUP.name} did not run: {exc}") from exc
    if done.returncode != 0:
        raise RuntimeError(
            f"{SETUP.name} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}"
        )
    if not EXECUTABLE.is_file():
        raise RuntimeError(f"{SETUP.name} ran but {EXECUTABLE} is missing")
    return EXECUTABLE


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the server, before exec: SIGTERM it when pytest dies, even killed (Linux)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: no server outlives its pytest
    except (OSError, AttributeError):
        pass  # not Linux: the session fixture's teardown stops it


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start(folder: Path) -> Emulator:
    """Start a server on free loopback ports with its data in ``folder``; wait until ready."""
    executable = install()
    data_dir, gcs_base = folder / "data", folder / "gcs"
    gcs_root = gcs_base / os.environ.get("STORAGE_DIR", ".cloudstorage")  # its default
    gcs_root.mkdir(parents=True, exist_ok=True)
    port, grpc_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OLIST_", "PYTHON"))},
        "HOME": str(PRIVATE_HOME),  # where the setup script installed its DuckDB extensions
        "GCS_LOCAL_ROOT": str(gcs_root),
    }
    log = folder / "emulator.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(executable),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--grpc-port",
                str(grpc_port),
                "--project",
                PROJECT,
                "--data-dir",
                str(data_dir),
            ],  # fmt: skip
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in the terminal stops pytest, which stops it
            preexec_fn=_die_with_parent,
        )
    endpoint = f"http://127.0.0.1:{port}"
    emulator = Emulator(endpoint, PROJECT, data_dir, gcs_base, gcs_root, log, process)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not _ready(f"{endpoint}/bigquery/v2/projects/{PROJECT}/datasets"):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(emulator)
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"local-bigquery did not start on {endpoint}: {tail}")
        time.sleep(0.1)
    return emulator


def stop(emulator: Emulator) -> None:
    if emulator.process.poll() is None:
        emulator.process.terminate()
        try:
            emulator.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            emulator.process.kill()
            emulator.process.wait(timeout=10)


def _say(config: pytest.Config, line: str) -> None:
    """A line on the terminal at once, past pytest's capture (and -q): installing is slow."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)


_shared: Emulator | None = None
_users = 0


@pytest.fixture(scope="session")
def bigquery_emulator(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Emulator]:
    """The session's emulator; the tests FAIL (never skip) when it cannot run here."""
    global _shared, _users
    if _shared is None:
        started = time.monotonic()
        if not EXECUTABLE.is_file():
            _say(request.config, f"the BigQuery emulator is not installed: running {SETUP.name}")
        try:
            _shared = start(tmp_path_factory.mktemp("bigquery-emulator"))
        except RuntimeError as exc:
            pytest.fail(f"the BigQuery emulator is not available: {exc}", pytrace=False)
        print(f"\nbigquery emulator ready in {time.monotonic() - started:.1f}s")
    _users += 1
    try:
        yield _shared
    finally:
        _users -= 1
        if _users == 0 and _shared is not None:
            stop(_shared)
            _shared = None
