"""Tell someone when a scheduled run fails: a JSON POST to a webhook (Slack-compatible).

Sending is best effort: a dead webhook is reported and never hides the pipeline's own
error or changes its exit code. The URL itself is a secret (Slack embeds a token in it),
so it is never printed.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from olist_cli.run_results import RunRecord

TIMEOUT_S = 10.0


def alert_payload(record: RunRecord, *, stage: str | None) -> dict[str, Any]:
    """What is sent: a readable ``text`` for chat tools and the facts for machines."""
    failed_tests = [t["name"] for t in record.tests if t["status"] in ("fail", "error")]
    warned_tests = [t["name"] for t in record.tests if t["status"] == "warn"]
    error = record.error["message"] if record.error else None
    if record.status == "success":
        headline = f"olist {record.command}: {len(warned_tests)} data test(s) warned"
    else:
        headline = f"olist {record.command} failed" + (f" in {stage}" if stage else "")
    text = headline + (f": {error}" if error else "")
    return {
        "text": text,
        "run_id": record.run_id,
        "command": record.command,
        "status": record.status,
        "stage": stage,
        "error": error,
        "failed_tests": failed_tests,
        "warned_tests": warned_tests,
        "duration_s": record.duration_s,
    }


def send_alert(url: str, payload: dict[str, Any]) -> str | None:
    """POST the payload; return None on success, else why it failed (without the URL).

    Any failure is caught, whatever raises it (urllib's errors, http.client's InvalidURL,
    a proxy setting): the alert must never end a run that is reporting its own outcome,
    and the reason is given by its type only, since urllib's messages quote the URL.
    """
    try:
        request = urllib.request.Request(
            url,
            data=json.dumps(payload).encode("utf-8"),
            headers={"Content-Type": "application/json", "User-Agent": "olist-alert"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            if not 200 <= response.status < 300:
                return f"webhook answered HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"webhook answered HTTP {exc.code}"
    except Exception as exc:
        reason = getattr(exc, "reason", None)  # URLError wraps the socket's error
        cause = reason if isinstance(reason, Exception) else exc
        return f"webhook unreachable: {type(cause).__name__}"
    return None
