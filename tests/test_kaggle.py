"""`--source kaggle`: the official client against a fake Kaggle API on a loopback port."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fakes.kaggle_server import FakeKaggle
from olist_cli.cli import app
from olist_cli.dataset import SOURCE_FILES
from olist_cli.errors import EXIT_FAILURE, EXIT_USAGE, SourceError, UsageError
from olist_cli.settings import Settings, load_settings
from olist_cli.sources import kaggle as kaggle_source
from olist_cli.sources.kaggle import HOW_TO_AUTHENTICATE, KaggleEvent, download_kaggle

NAMES = [s.file_name for s in SOURCE_FILES]
USER = "olist-tester"
KEY = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"  # the secret no output may show
BASIC = base64.b64encode(f"{USER}:{KEY}".encode()).decode()


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def kaggle_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No credentials, config or cache of the person running the tests can be used."""
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "KAGGLE_API_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "kaggle-config"
    config.mkdir()
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(config))
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub"))
    # ~/.kaggle/access_token and ~/.kaggle/credentials.json are read from HOME.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return config


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from olist_cli.sources.sample import generate_sample

    folder = tmp_path_factory.mktemp("sample")
    generate_sample(folder, scale=0.001, progress=False)
    return folder


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def sample_zip(sample_dir: Path) -> bytes:
    return zip_of({name: (sample_dir / name).read_bytes() for name in NAMES})


@pytest.fixture
def fake(sample_zip: bytes) -> Iterator[FakeKaggle]:
    with FakeKaggle(sample_zip, username=USER, key=KEY) as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", retry_backoff_s=0.0)


def env_credentials(monkeypatch: pytest.MonkeyPatch, key: str = KEY) -> None:
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    monkeypatch.setenv("KAGGLE_KEY", key)


def write_kaggle_json(config: Path, mode: int, key: str = KEY) -> Path:
    path = config / "kaggle.json"
    path.write_text(json.dumps({"username": USER, "key": key}))
    path.chmod(mode)
    return path


# -- downloads ---------------------------------------------------------------------------


def test_a_download_yields_the_nine_files(
    settings: Settings,
    fake: FakeKaggle,
    sample_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    env_credentials(monkeypatch)
    events: list[KaggleEvent] = []

    folder = download_kaggle(
        settings, settings.raw_dir, endpoint=fake.url, on_event=events.append, progress=False
    )

    assert folder == settings.raw_dir
    for name in NAMES:
        assert (folder / name).read_bytes() == (sample_dir / name).read_bytes(), name
    [request] = fake.downloads()
    assert request.authorized
    assert request.body == {"ownerSlug": "olistbr", "datasetSlug": "brazilian-ecommerce"}
    assert [s.method for s in fake.seen] == ["POST", "GET"]  # the redirect was followed
    # Nothing but the raw folder is left in the data dir: the zip and staging are gone.
    assert [p.name for p in settings.data_dir.iterdir()] == ["raw"]
    messages = [e.message for e in events if e.kind == "progress"]
    assert messages[0].startswith("olistbr/brazilian-ecommerce: downloading (")
    assert "downloaded" in messages[-1]
    # The client's own prints (dataset URL, login help) never reach the terminal.
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_credentials_from_kaggle_json_and_a_progress_bar(
    settings: Settings, fake: FakeKaggle, kaggle_env: Path
) -> None:
    write_kaggle_json(kaggle_env, 0o600)
    events: list[KaggleEvent] = []

    download_kaggle(
        settings, settings.raw_dir, endpoint=fake.url, on_event=events.append, progress=True
    )

    assert fake.downloads()[0].authorized
    assert [e for e in events if e.kind == "warning"] == []
    assert all((settings.raw_dir / name).is_file() for name in NAMES)


def test_a_kaggle_json_readable_by_others_is_warned_about(
    settings: Settings, fake: FakeKaggle, kaggle_env: Path
) -> None:
    path = write_kaggle_json(kaggle_env, 0o644)
    events: list[KaggleEvent] = []

    download_kaggle(settings, settings.raw_dir, endpoint=fake.url, on_event=events.append)

    [warning] = [e.message for e in events if e.kind == "warning"]
    assert f"chmod 600 {path}" in warning
    assert "readable by other users" in warning
    assert KEY not in warning


def test_no_credentials_is_a_usage_error_saying_how_to_set_them(
    settings: Settings, fake: FakeKaggle, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(UsageError) as info:
        download_kaggle(settings, settings.raw_dir, endpoint=fake.url)

    assert info.value.exit_code == EXIT_USAGE
    assert info.value.message == HOW_TO_AUTHENTICATE
    assert "KAGGLE_USERNAME" in HOW_TO_AUTHENTICATE and "KAGGLE_KEY" in HOW_TO_AUTHENTICATE
    assert "\n" not in HOW_TO_AUTHENTICATE
    assert fake.seen == []
    assert capfd.readouterr().out == ""  # the client's login help was not printed


def test_no_credentials_through_the_cli_exits_2_with_one_line(
    tmp_path: Path, kaggle_env: Path
) -> None:
    result = CliRunner().invoke(
        app,
        ["download", "--source", "kaggle"],
        env={
            "OLIST_DATA_DIR": str(tmp_path / "data"),
            "KAGGLE_CONFIG_DIR": str(kaggle_env),
            "KAGGLE_USERNAME": None,
            "KAGGLE_KEY": None,
        },
    )

    assert result.exit_code == EXIT_USAGE
    printed = result.output + (getattr(result, "stderr", "") or "")
    assert f"error: {HOW_TO_AUTHENTICATE}" in printed
    assert "Authentication required" not in printed  # the client's help text stayed quiet


def test_a_transient_503_is_retried(
    settings: Settings, fake: FakeKaggle, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_credentials(monkeypatch)
    fake.fail_next = [503]
    events: list[KaggleEvent] = []

    download_kaggle(settings, settings.raw_dir, endpoint=fake.url, on_event=events.append)

    assert len(fake.downloads()) == 2
    [retry] = [e.message for e in events if e.kind == "retry"]
    assert "503" in retry and "retry 1" in retry
    assert all((settings.raw_dir / name).is_file() for name in NAMES)


def test_a_server_that_stays_down_fails_after_the_retries(
    tmp_path: Path, fake: FakeKaggle, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_credentials(monkeypatch)
    fake.fail_next = [503, 502, 503]
    settings = load_settings(data_dir=tmp_path / "data", retries=2, retry_backoff_s=0.0)

    with pytest.raises(SourceError, match="failed after 2 retries") as info:
        download_kaggle(settings, settings.raw_dir, endpoint=fake.url)

    assert len(fake.downloads()) == 3
    assert info.value.exit_code == EXIT_FAILURE
    assert not settings.raw_dir.exists()


def test_refused_credentials_are_not_retried(
    settings: Settings, fake: FakeKaggle, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_credentials(monkeypatch, key="not-the-right-key")

    with pytest.raises(UsageError, match="Kaggle refused the credentials"):
        download_kaggle(settings, settings.raw_dir, endpoint=fake.url)
    assert len(fake.downloads()) == 1


def test_an_unknown_dataset_names_the_setting(
    tmp_path: Path, fake: FakeKaggle, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_credentials(monkeypatch)
    settings = load_settings(data_dir=tmp_path / "data", kaggle_dataset="olistbr/no-such-data")

    with pytest.raises(UsageError, match="not found.*OLIST_KAGGLE_DATASET"):
        download_kaggle(settings, settings.raw_dir, endpoint=fake.url)


def test_a_file_with_a_wrong_header_is_a_source_error_and_keeps_the_old_files(
    settings: Settings, sample_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_credentials(monkeypatch)
    files = {name: (sample_dir / name).read_bytes() for name in NAMES}
    files["olist_orders_dataset.csv"] = files["olist_orders_dataset.csv"].replace(
        b"customer_id", b"client_id", 1
    )
    settings.raw_dir.mkdir(parents=True)
    (settings.raw_dir / "olist_orders_dataset.csv").write_bytes(b"the previous file\n")

    with (
        FakeKaggle(zip_of(files), username=USER, key=KEY) as server,
        pytest.raises(SourceError) as info,
    ):
        download_kaggle(settings, settings.raw_dir, endpoint=server.url)

    assert "olist_orders_dataset.csv, line 1" in info.value.message
    assert "column 2 is 'client_id', expected 'customer_id'" in info.value.message
    assert info.value.message.startswith("olistbr/brazilian-ecommerce from Kaggle: ")
    assert (settings.raw_dir / "olist_orders_dataset.csv").read_bytes() == b"the previous file\n"
    assert sorted(p.name for p in settings.data_dir.iterdir()) == ["raw"]


def test_a_zip_missing_a_file_is_a_source_error(
    settings: Settings, sample_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_credentials(monkeypatch)
    files = {f"archive/{n}": (sample_dir / n).read_bytes() for n in NAMES[:-1]}

    with (
        FakeKaggle(zip_of(files), username=USER, key=KEY) as server,
        pytest.raises(SourceError, match="missing product_category_name_translation.csv"),
    ):
        download_kaggle(settings, settings.raw_dir, endpoint=server.url)


# -- secrets -----------------------------------------------------------------------------


def test_no_secret_appears_in_anything_a_run_prints_raises_or_writes(
    tmp_path: Path, sample_zip: bytes, kaggle_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs through the CLI, with a server whose errors repeat the credentials it got."""
    other_key = "0123456789abcdef0123456789abcdef"  # in a world-readable kaggle.json
    write_kaggle_json(kaggle_env, 0o644, key=other_key)
    secrets = [KEY, BASIC, other_key, base64.b64encode(f"{USER}:{other_key}".encode()).decode()]
    data = tmp_path / "data"
    seen: list[str] = []

    def run(key: str, fail: list[int]) -> None:
        with FakeKaggle(sample_zip, username=USER, key=KEY, echo_credentials=True) as server:
            server.fail_next = list(fail)
            monkeypatch.setattr(kaggle_source, "API_ENDPOINT", server.url)
            result = CliRunner().invoke(
                app,
                ["download", "--source", "kaggle"],
                env={
                    "OLIST_DATA_DIR": str(data),
                    "OLIST_RETRIES": "1",
                    "OLIST_RETRY_BACKOFF_S": "0",
                    "KAGGLE_USERNAME": USER,
                    "KAGGLE_KEY": key,
                },
            )
        seen.extend([result.output, getattr(result, "stderr", "") or "", repr(result.exception)])
        seen.append(str(result.exit_code))

    run(KEY, [])  # succeeds, with the permissions warning
    run(KEY, [503, 503])  # fails after its retries; the 503 bodies echo the credentials
    run("a-wrong-key-0000", [])  # refused; the 401 body echoes the credentials
    # Every file the runs left behind (logs, manifests, caches), except the credentials file.
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.parent != kaggle_env:
            seen.append(path.read_bytes().decode("utf-8", "replace"))

    everything = "\n".join(seen)
    assert "downloaded from Kaggle" in everything  # the grep has something to read...
    assert "chmod 600" in everything
    assert "failed after 1 retries" in everything
    assert "Kaggle refused the credentials" in everything
    assert "***" in everything  # ...including messages that had a secret scrubbed
    for secret in [*secrets, "a-wrong-key-0000"]:
        assert secret not in everything


def test_scrub_replaces_keys_basic_auth_and_signed_url_queries() -> None:
    secrets = kaggle_source.Secrets()
    secrets.add_credentials(USER, KEY)
    text = (
        f"key {KEY}; header Basic {BASIC}; "
        "url https://storage.example/x.zip?X-Goog-Signature=abc123&X-Goog-Credential=me"
    )
    scrubbed = secrets.scrub(text)
    assert KEY not in scrubbed and BASIC not in scrubbed and "abc123" not in scrubbed
    assert "https://storage.example/x.zip?…" in scrubbed


# -- start-up cost -----------------------------------------------------------------------


def test_importing_the_source_does_not_import_the_client() -> None:
    code = (
        "import sys, olist_cli.cli, olist_cli.sources, olist_cli.sources.kaggle; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('kaggle', 'kagglesdk')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    ).stdout
    assert out.strip() == "[]"


# -- a full disk -------------------------------------------------------------------------


def test_a_full_disk_while_downloading_is_one_line_and_leaves_nothing_behind(
    tmp_path: Path, sample_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ops_support import tiny_disk

    env_credentials(monkeypatch)
    stored = io.BytesIO()  # not compressed: bigger than the disk
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as zf:
        for name in NAMES:
            zf.write(sample_dir / name, name)
    with (
        tiny_disk(tmp_path / "disk", "64k") as disk,
        FakeKaggle(stored.getvalue(), username=USER, key=KEY) as server,
    ):
        monkeypatch.setattr(kaggle_source, "API_ENDPOINT", server.url)
        for _ in range(2):  # and again: no try leaves a partial zip or staging folder
            result = CliRunner().invoke(
                app,
                ["download", "--source", "kaggle"],
                env={"OLIST_DATA_DIR": str(disk / "data"), "OLIST_RETRY_BACKOFF_S": "0"},
            )
            assert result.exit_code == EXIT_FAILURE
            assert "Traceback" not in result.output
            assert result.output.strip().splitlines()[-1] == (
                "error: Kaggle download of olistbr/brazilian-ecommerce: cannot write the zip "
                f"in {disk / 'data'}: No space left on device (free some space and run again)"
            )
            assert sorted(p.name for p in (disk / "data").iterdir()) == ["olist.duckdb.lock"]
        assert len(server.downloads()) == 2  # a full disk is not retried
