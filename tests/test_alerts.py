"""Alerts: every failed run tells the webhook, whatever its exit code, and the URL stays secret.

A real HTTP server on a loopback port receives the POSTs (fakes.webhook); its URL ends in
a token, as a Slack webhook's does, and no output, file or warehouse row may show it.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from fakes.webhook import TOKEN, Webhook
from helpers import ITEMS_FILE, copy_data_dir, olist, query, replace_field
from olist_cli.errors import EXIT_FAILURE, EXIT_LOCKED, EXIT_OK, EXIT_USAGE
from ops_support import one_line_error, run_olist


@pytest.fixture
def hook() -> Iterator[Webhook]:
    with Webhook() as server:
        yield server


@pytest.fixture
def data_dir(sample_warehouse, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    return copy_data_dir(sample_warehouse.data_dir, tmp_path / "data")


def only_alert(hook: Webhook) -> dict[str, Any]:
    assert len(hook.received) == 1, hook.received
    return hook.received[0]


# -- every exit code ---------------------------------------------------------------------


def test_a_run_that_cannot_find_its_source_alerts_with_exit_2(
    data_dir: Path, tmp_path: Path, hook: Webhook
) -> None:
    """Before: alerts fired only on exit 1, so a cron job pointed at a folder that is gone
    told no one."""
    missing = tmp_path / "gone"
    result = olist(
        ["run-all", "--source", str(missing)], data_dir, OLIST_ALERT_WEBHOOK_URL=hook.url
    )
    assert result.exit_code == EXIT_USAGE
    alert = only_alert(hook)
    assert alert["status"] == "usage_error" and alert["stage"] == "download"
    assert alert["error"] == f"source not found: {missing} (expected a folder or a .zip file)"
    assert alert["text"] == f"olist run-all failed in download: {alert['error']}"
    assert "alert sent" in result.output


def test_a_run_with_broken_settings_alerts_if_the_webhook_setting_is_valid(
    tmp_path: Path, hook: Webhook
) -> None:
    result = olist(["load"], tmp_path / "data", OLIST_ALERT_WEBHOOK_URL=hook.url, OLIST_THREADS="x")
    assert result.exit_code == EXIT_USAGE
    alert = only_alert(hook)
    assert alert["command"] == "load" and alert["status"] == "usage_error"
    assert alert["stage"] == "settings"
    assert alert["error"].startswith("invalid settings: OLIST_THREADS: ")
    assert alert["text"] == f"olist load failed in settings: {alert['error']}"


def test_a_run_that_finds_the_lock_held_alerts_with_exit_3(data_dir: Path, hook: Webhook) -> None:
    with FileLock(data_dir / "olist.duckdb.lock"):
        result = olist(
            ["load"], data_dir, OLIST_ALERT_WEBHOOK_URL=hook.url, OLIST_LOCK_TIMEOUT_S="0"
        )
    assert result.exit_code == EXIT_LOCKED
    alert = only_alert(hook)
    assert alert["status"] == "locked" and alert["stage"] == "lock"
    assert alert["error"].startswith("another olist run holds the warehouse (")
    assert alert["error"] in result.output.strip().splitlines()[-1]


@pytest.mark.parametrize("answer", [500, None], ids=["http-500", "nobody-listening"])
def test_a_failing_webhook_never_changes_the_exit_code(answer: int | None, tmp_path: Path) -> None:
    with Webhook(status=answer or 200) as server:
        url = server.url
        if answer is None:
            server.__exit__()
        result = olist(["load"], tmp_path / "data", OLIST_ALERT_WEBHOOK_URL=url, OLIST_THREADS="x")
    assert result.exit_code == EXIT_USAGE
    assert result.output.strip().splitlines()[-1].startswith("error: invalid settings: ")
    why = "webhook answered HTTP 500" if answer else "webhook unreachable: ConnectionRefusedError"
    assert f"alert not sent: {why}" in result.output
    assert TOKEN not in result.output


# -- the webhook URL is validated, and secret ---------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"hooks.slack.com/services/{TOKEN}",  # no scheme: before, a traceback showing it
        f"file:///tmp/{TOKEN}",  # before: accepted
        f"ftp://example.com/{TOKEN}",
        f"https:///services/{TOKEN}",  # no host
        f"https://example.com:port/{TOKEN}",
        f"https://example.com/services/{TOKEN} ",
    ],
    ids=["no-scheme", "file", "ftp", "no-host", "bad-port", "space"],
)
def test_a_webhook_url_that_is_not_http_is_a_settings_error_that_hides_it(
    url: str,
    sample_warehouse,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    data_dir = tmp_path / "data"
    done = run_olist(
        ["load", "--source", str(sample_warehouse.data_dir / "raw")],
        data_dir,
        cwd=tmp_path,
        OLIST_ALERT_WEBHOOK_URL=url,
    )
    assert done.returncode == EXIT_USAGE  # before: exit 1, after a successful load
    assert one_line_error(done) == (
        "error: invalid settings: OLIST_ALERT_WEBHOOK_URL: Value error, must be an http:// "
        "or https:// URL with a host (the value is not shown: it may hold a token)"
    )
    assert TOKEN not in done.stdout + done.stderr
    assert not data_dir.exists()  # refused before anything was done


def test_an_empty_webhook_url_is_no_webhook(tmp_path: Path) -> None:
    result = olist(["status"], tmp_path / "data", OLIST_ALERT_WEBHOOK_URL="")
    assert result.exit_code == EXIT_OK, result.output


def test_no_output_file_or_row_ever_shows_the_webhook_url(
    data_dir: Path, tmp_path: Path, hook: Webhook
) -> None:
    """Runs that fail every way (exit 1, 2 and 3), warn, and refuse a bad URL, in both log
    formats; then every byte they printed or left in the working folder, and every row of
    `_run_results`, is searched for the token."""
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in (data_dir / "raw").glob("*.csv"):
        (broken / path.name).write_bytes(path.read_bytes())
    replace_field(broken / ITEMS_FILE, 2, 5, "not-a-price")
    runs: list[tuple[list[str], dict[str, str], int]] = [
        (["run-all", "--source", str(broken)], {}, EXIT_FAILURE),
        (["run-all", "--source", str(tmp_path / "gone")], {}, EXIT_USAGE),
        (["load"], {"OLIST_THREADS": "x"}, EXIT_USAGE),
        (["run-all", "--source", str(data_dir / "raw"), "--force"],
         {"OLIST_ALERT_ON_WARN": "true"}, EXIT_OK),
        (["load"], {"OLIST_ALERT_WEBHOOK_URL": f"hooks.example.com/{TOKEN}"}, EXIT_USAGE),
    ]  # fmt: skip
    seen: list[str] = []
    for log_format in ("text", "json"):
        for args, env, code in runs:
            done = run_olist(
                ["--log-format", log_format, *args],
                data_dir,
                cwd=tmp_path,
                **{"OLIST_ALERT_WEBHOOK_URL": hook.url, **env},
            )
            assert done.returncode == code, done.stdout + done.stderr
            seen += [done.stdout, done.stderr]
        with FileLock(data_dir / "olist.duckdb.lock"):
            done = run_olist(
                ["--log-format", log_format, "load"],
                data_dir,
                cwd=tmp_path,
                OLIST_ALERT_WEBHOOK_URL=hook.url,
                OLIST_LOCK_TIMEOUT_S="0",
            )
        assert done.returncode == EXIT_LOCKED
        seen += [done.stdout, done.stderr]
    for path in tmp_path.rglob("*"):
        if path.is_file():
            seen.append(path.read_bytes().decode("utf-8", "replace"))
    rows = query(data_dir / "olist.duckdb", "select * from staging._run_results")
    seen.append(json.dumps(rows, default=str))

    # The grep has something to read: alerts went out, and the runs were recorded.
    assert [a["status"] for a in hook.received].count("locked") == 2
    assert len(hook.received) == 10  # 4 failures and a warning, twice; not the bad URL
    assert len(rows) > 100 and "usage_error" in seen[-1]
    everything = "\n".join(seen)
    assert "alert sent" in everything
    assert TOKEN not in everything


def test_a_webhook_that_cannot_be_sent_to_is_reported_not_raised() -> None:
    """Whatever urllib raises is a reason naming the error's type, never the URL: before, a
    URL it could not parse raised, with the URL in the message."""
    from olist_cli.alerts import send_alert

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    why = send_alert(f"http://127.0.0.1:{port}/{TOKEN}", {"text": "x"})
    assert why == "webhook unreachable: ConnectionRefusedError"
    why = send_alert(f"http://[::1/{TOKEN}", {"text": "x"})  # urllib: "Invalid IPv6 URL"
    assert why is not None and why.startswith("webhook unreachable: ") and TOKEN not in why
