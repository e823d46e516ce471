"""The retry helper: transient errors retried with growing, jittered delays; others never."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from olist_cli.retry import MAX_DELAY_S, backoff_delay, is_network_error, retrying


class Flaky:
    """A callable that fails ``failures`` times with ``error``, then returns ``value``."""

    def __init__(self, failures: int, error: Exception, value: str = "done") -> None:
        self.failures = failures
        self.error = error
        self.value = value
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return self.value


def transient(exc: Exception) -> bool:
    return isinstance(exc, ConnectionError)


def attempt(flaky: Flaky, slept: list[float] | None = None, **options: Any) -> str:
    """``retrying(flaky)``, its waits recorded in ``slept`` when given; ``options`` override
    the defaults (what="x", retries=3, backoff_s=1.0, transient: ConnectionError)."""
    if slept is not None:
        options["sleep"] = slept.append
    defaults = {"what": "x", "retries": 3, "backoff_s": 1.0, "is_transient": transient}
    return retrying(flaky, **{**defaults, **options})


def test_transient_failures_are_retried_until_success() -> None:
    flaky = Flaky(2, ConnectionError("reset by peer"))
    slept: list[float] = []
    seen: list[tuple[int, float, str]] = []

    result = attempt(
        flaky,
        slept,
        what="upload",
        on_retry=lambda n, delay, exc: seen.append((n, delay, str(exc))),
        jitter=lambda: 0.0,
    )

    assert result == "done"
    assert flaky.calls == 3
    assert [n for n, _, _ in seen] == [1, 2]
    assert [reason for _, _, reason in seen] == ["reset by peer", "reset by peer"]
    assert slept == [delay for _, delay, _ in seen]


@pytest.mark.parametrize(
    ("flaky", "options", "match", "calls", "sleeps", "notes"),
    [
        pytest.param(
            (5, PermissionError("403 access denied")),
            {"what": "upload"},
            "403",
            1,
            0,
            None,  # (not asserted)
            id="a-permanent-error-is-raised-at-once",
        ),
        pytest.param(
            (10, ConnectionError("down")),
            {"what": "kaggle download", "backoff_s": 0.5},
            "down",
            4,  # the first attempt and three retries
            3,
            ["kaggle download: gave up after 3 retries"],
            id="retries-are-bounded-and-the-last-error-says-so",
        ),
        pytest.param(
            (1, ConnectionError("down")),
            {"retries": 0},
            None,
            1,
            0,
            [],  # no note at all
            id="zero-retries-means-one-attempt",
        ),
    ],
)
def test_errors_that_are_raised(
    flaky: tuple[int, Exception],
    options: dict[str, Any],
    match: str | None,
    calls: int,
    sleeps: int,
    notes: list[str] | None,
) -> None:
    failing = Flaky(*flaky)
    slept: list[float] = []
    with pytest.raises(type(failing.error), match=match) as info:
        attempt(failing, slept, **options)
    assert failing.calls == calls
    assert len(slept) == sleeps
    if notes is not None:
        assert (getattr(info.value, "__notes__", None) or []) == notes


def test_backoff_schedule_doubles_with_jitter_between_half_and_full() -> None:
    low: list[float] = []
    attempt(Flaky(4, ConnectionError("down")), low, retries=4, jitter=lambda: 0.0)
    assert low == [0.5, 1.0, 2.0, 4.0]

    high: list[float] = []
    attempt(Flaky(4, ConnectionError("down")), high, retries=4, jitter=lambda: 0.999)
    assert high == pytest.approx([1.0, 2.0, 4.0, 8.0], rel=1e-3)


def test_the_delay_is_capped() -> None:
    assert backoff_delay(30, 1.0, 0.999) <= MAX_DELAY_S
    assert backoff_delay(30, 1.0, 0.0) == MAX_DELAY_S / 2


def test_real_jitter_stays_in_its_band() -> None:
    for retry in (1, 2, 3):
        for _ in range(50):
            slept: list[float] = []
            attempt(Flaky(retry, ConnectionError("down")), slept, retries=retry, backoff_s=2.0)
            nominal = 2.0 * 2 ** (retry - 1)
            assert nominal / 2 <= slept[-1] <= nominal


@pytest.mark.parametrize(
    ("error", "network"),
    [
        (ConnectionResetError("reset"), True),
        (TimeoutError("slow"), True),
        (requests.exceptions.ConnectionError("refused"), True),
        (requests.exceptions.ReadTimeout("slow"), True),
        (requests.exceptions.ChunkedEncodingError("cut short"), True),
        (requests.exceptions.SSLError("bad certificate"), False),
        (requests.exceptions.InvalidURL("no"), False),
        (ValueError("bad"), False),
    ],
)
def test_network_errors_are_recognised_by_type_or_name(error: Exception, network: bool) -> None:
    assert is_network_error(error) is network
