"""Files holding secrets: warned about when others can read them, refused when strict, and
their content never written anywhere (output, logs, run results, the warehouse)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from helpers import olist
from olist_cli.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError

OLIST = str(Path(sys.executable).parent / "olist")
WEBHOOK_TOKEN = "T0KEN-IN-THE-DOTENV-5f3a"


@pytest.fixture(autouse=True)
def no_credentials_of_the_caller(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "KAGGLE_USERNAME", "KAGGLE_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "kaggle-config"))


def key_file(path: Path, mode: int, private_key: str = "not a key") -> Path:
    """A service-account key file (its private key need not be a real one)."""
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "olist-test",
                "private_key_id": "k1",
                "private_key": private_key,
                "client_email": "olist@olist-test.iam.gserviceaccount.com",
                "token_uri": f"http://127.0.0.1:{dead_port()}/token",
            }
        ),
        encoding="utf-8",
    )
    path.chmod(mode)
    return path


def dead_port() -> int:
    with socket.socket() as probe:  # bound, never listening: connections are refused
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Each kind of secret file: (what the message calls it, how a test puts it in place), the
# setup returning the file and the environment that makes olist read it.
Setup = Callable[[Path, int], tuple[Path, dict[str, str]]]


def dotenv(folder: Path, mode: int) -> tuple[Path, dict[str, str]]:
    path = Path(".env")  # the working folder: where Settings reads it
    path.write_text(f"OLIST_ALERT_WEBHOOK_URL=https://hooks.invalid/{WEBHOOK_TOKEN}\n")
    path.chmod(mode)
    return path, {}


def bq_key(folder: Path, mode: int) -> tuple[Path, dict[str, str]]:
    path = key_file(folder / "sa.json", mode)
    return path, {"OLIST_WAREHOUSE": "bigquery", "OLIST_BQ_CREDENTIALS": str(path)}


def adc_key(folder: Path, mode: int) -> tuple[Path, dict[str, str]]:
    path = key_file(folder / "adc.json", mode)
    return path, {"GOOGLE_APPLICATION_CREDENTIALS": str(path), "OLIST_GCS_BUCKET": "olist-b"}


KINDS: dict[str, tuple[str, Setup]] = {
    ".env": ("settings file", dotenv),
    "OLIST_BQ_CREDENTIALS": ("OLIST_BQ_CREDENTIALS key file", bq_key),
    "GOOGLE_APPLICATION_CREDENTIALS": ("GOOGLE_APPLICATION_CREDENTIALS key file", adc_key),
}
DOWNLOAD = ["download", "--scale", "0.001"]  # a command that reads settings, and no key


# -- readable by others: a warning, or with OLIST_STRICT_PERMISSIONS a refusal ------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604], ids=oct)
def test_a_secret_file_others_can_read_is_warned_about(
    kind: str, mode: int, tmp_path: Path
) -> None:
    what, setup = KINDS[kind]
    path, env = setup(tmp_path, mode)
    result = olist(DOWNLOAD, tmp_path / "data", **env)
    assert result.exit_code == EXIT_OK, result.output
    [warning] = [line for line in result.output.splitlines() if "readable by other" in line]
    assert f"{what} {path} is readable by other users (" in warning
    assert warning.endswith(f"run `chmod 600 {path}`")
    assert WEBHOOK_TOKEN not in result.output


@pytest.mark.parametrize("kind", KINDS)
def test_a_private_secret_file_is_not_mentioned(kind: str, tmp_path: Path) -> None:
    _, setup = KINDS[kind]
    _, env = setup(tmp_path, 0o600)
    result = olist(DOWNLOAD, tmp_path / "data", **env)
    assert result.exit_code == EXIT_OK, result.output
    assert "readable by other" not in result.output and "chmod" not in result.output


@pytest.mark.parametrize("kind", KINDS)
def test_strict_permissions_refuse_it_in_one_line_before_doing_anything(
    kind: str, tmp_path: Path
) -> None:
    _, setup = KINDS[kind]
    path, env = setup(tmp_path, 0o644)
    result = olist(DOWNLOAD, tmp_path / "data", OLIST_STRICT_PERMISSIONS="true", **env)
    assert result.exit_code == EXIT_USAGE
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {KINDS[kind][0]} {path} is readable by other users")
    assert f"run `chmod 600 {path}`" in line and "OLIST_STRICT_PERMISSIONS" in line
    assert not (tmp_path / "data" / "raw").exists()  # nothing was downloaded
    assert WEBHOOK_TOKEN not in result.output


def test_strict_permissions_set_in_the_dotenv_itself(tmp_path: Path) -> None:
    Path(".env").write_text("OLIST_STRICT_PERMISSIONS=true\n")
    Path(".env").chmod(0o644)
    result = olist(DOWNLOAD, tmp_path / "data")
    assert result.exit_code == EXIT_USAGE
    assert "settings file .env is readable by other users" in result.stderr
    Path(".env").chmod(0o600)
    assert olist(DOWNLOAD, tmp_path / "data").exit_code == EXIT_OK


def test_status_json_stays_json_with_the_warning_on_stderr(tmp_path: Path) -> None:
    path, _ = dotenv(tmp_path, 0o644)
    result = olist(["status", "--json"], tmp_path / "data")
    assert result.exit_code == EXIT_OK
    assert json.loads(result.stdout)["last_run"] is None
    assert f"warning: settings file {path} is readable by other users" in result.stderr


def test_the_bigquery_client_refuses_a_key_others_can_read_when_strict(tmp_path: Path) -> None:
    """Checked where the key is read too, for callers that are not a run (make_client)."""
    from olist_cli.settings import Settings
    from olist_cli.warehouse.bigquery import make_client

    key = key_file(tmp_path / "sa.json", 0o640)
    strict = Settings(warehouse="bigquery", bq_credentials=key, strict_permissions=True)
    with pytest.raises(UsageError, match=f"run `chmod 600 {key}`"):
        make_client(strict)


def test_application_default_credentials_are_checked_when_strict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from olist_cli.settings import Settings
    from olist_cli.warehouse.bigquery import make_client

    key = key_file(tmp_path / "adc.json", 0o644)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    strict = Settings(warehouse="bigquery", bq_project="olist-test", strict_permissions=True)
    with pytest.raises(UsageError, match="GOOGLE_APPLICATION_CREDENTIALS key file"):
        make_client(strict)


def test_a_kaggle_json_others_can_read_is_refused_when_strict(tmp_path: Path) -> None:
    config = tmp_path / "kaggle-config"
    config.mkdir()
    (config / "kaggle.json").write_text(json.dumps({"username": "u", "key": "k" * 32}))
    (config / "kaggle.json").chmod(0o644)
    result = olist(
        ["download", "--source", "kaggle"], tmp_path / "data", OLIST_STRICT_PERMISSIONS="true"
    )
    assert result.exit_code == EXIT_USAGE
    [line] = result.stderr.strip().splitlines()
    assert f"Kaggle API key file {config / 'kaggle.json'} is readable by other users" in line
    assert "k" * 32 not in result.output


# -- a planted private key never reaches anything olist writes -----------------------------

PLANTED = "OLISTPLANTEDKEYMATERIAL7f3c9e1d0b2a46587c1e9f0d3b5a7c9e"


def real_looking_key() -> str:
    """A genuine RSA private key in PEM: it parses, so the failure comes later, at use."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def run_olist(args: list[str], workdir: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("OLIST_", "GOOGLE_", "KAGGLE_"))
    }
    return subprocess.run(
        [OLIST, *args],
        cwd=workdir,
        env={**base, "OLIST_DATA_DIR": str(workdir / "data"), **env},
        capture_output=True,
        text=True,
        timeout=180,
    )


def written_text(workdir: Path, done: subprocess.CompletedProcess, keys: set[Path]) -> str:
    """Everything the run wrote: its output, every file it left, the _run_results rows."""
    parts = [done.stdout, done.stderr]
    for path in sorted(workdir.rglob("*")):
        if path.is_file() and path not in keys:
            parts.append(path.read_bytes().decode("utf-8", errors="replace"))
    database = workdir / "data" / "olist.duckdb"
    if database.exists():
        with duckdb.connect(str(database), read_only=True) as con:
            rows = con.sql("select * from staging._run_results").fetchall()
        assert rows, "the run recorded itself in the warehouse"
        parts.append(repr(rows))
    return "\n".join(parts)


@pytest.mark.parametrize("valid", [False, True], ids=["malformed-key", "parsing-key"])
@pytest.mark.parametrize(
    "scenario",
    ["bigquery-key", "bigquery-key-json-logs", "archive-adc", "archive-adc-json-logs", "strict"],
)
def test_the_key_file_content_is_never_written(scenario: str, valid: bool, tmp_path: Path) -> None:
    private_key = (
        real_looking_key()
        if valid
        else (f"-----BEGIN PRIVATE KEY-----\n{PLANTED}\n-----END PRIVATE KEY-----\n")
    )
    # What would give the key away: the planted marker, or the lines of the PEM body.
    secrets = [PLANTED] if not valid else [x for x in private_key.splitlines() if "-" not in x]
    key = key_file(tmp_path / "key.json", 0o644 if scenario == "strict" else 0o600, private_key)
    bigquery = {
        "OLIST_WAREHOUSE": "bigquery",
        "OLIST_BQ_PROJECT": "olist-test",
        "OLIST_BQ_CREDENTIALS": str(key),
        "OLIST_BQ_RETRY_DEADLINE_S": "1",
    }
    archive = {
        "OLIST_ARCHIVE": "true",
        "OLIST_GCS_BUCKET": "olist-test-bucket",
        "GOOGLE_APPLICATION_CREDENTIALS": str(key),
        "OLIST_RETRIES": "0",
    }
    env, logs = {
        "bigquery-key": (bigquery, []),
        "bigquery-key-json-logs": (bigquery, ["--log-format", "json", "--verbose"]),
        "archive-adc": (archive, []),
        "archive-adc-json-logs": (archive, ["--log-format", "json", "--verbose"]),
        "strict": ({**bigquery, **archive, "OLIST_STRICT_PERMISSIONS": "true"}, []),
    }[scenario]

    done = run_olist([*logs, "run-all", "--scale", "0.01"], tmp_path, env)

    expected = EXIT_USAGE if scenario == "strict" or not valid else EXIT_FAILURE
    assert done.returncode == expected, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())
    assert results["error"]["message"][:30] in done.stderr  # the grep has an error to read
    if scenario.startswith("archive"):  # the DuckDB warehouse recorded the failed run
        assert (tmp_path / "data" / "olist.duckdb").is_file()
    everything = written_text(tmp_path, done, {key})
    for secret in secrets:
        assert secret not in everything
