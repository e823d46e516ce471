"""The retry helper: transient errors retried with growing, jittered delays; others never."""

from __future__ import annotations

import pytest

from olist_cli.retry import MAX_DELAY_S, backoff_delay, retrying


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


def test_transient_failures_are_retried_until_success() -> None:
    flaky = Flaky(2, ConnectionError("reset by peer"))
    slept: list[float] = []
    seen: list[tuple[int, float, str]] = []

    result = retrying(
        flaky,
        what="upload",
        retries=3,
        backoff_s=1.0,
        is_transient=transient,
        on_retry=lambda n, delay, exc: seen.append((n, delay, str(exc))),
        sleep=slept.append,
        jitter=lambda: 0.0,
    )

    assert result == "done"
    assert flaky.calls == 3
    assert [n for n, _, _ in seen] == [1, 2]
    assert [reason for _, _, reason in seen] == ["reset by peer", "reset by peer"]
    assert slept == [delay for _, delay, _ in seen]


def test_a_permanent_error_is_raised_at_once() -> None:
    flaky = Flaky(5, PermissionError("403 access denied"))
    slept: list[float] = []

    with pytest.raises(PermissionError, match="403"):
        retrying(
            flaky,
            what="upload",
            retries=3,
            backoff_s=1.0,
            is_transient=transient,
            sleep=slept.append,
        )

    assert flaky.calls == 1
    assert slept == []


def test_retries_are_bounded_and_the_last_error_says_so() -> None:
    flaky = Flaky(10, ConnectionError("down"))
    slept: list[float] = []

    with pytest.raises(ConnectionError, match="down") as info:
        retrying(
            flaky,
            what="kaggle download",
            retries=3,
            backoff_s=0.5,
            is_transient=transient,
            sleep=slept.append,
        )

    assert flaky.calls == 4  # the first attempt and three retries
    assert len(slept) == 3
    assert info.value.__notes__ == ["kaggle download: gave up after 3 retries"]


def test_zero_retries_means_one_attempt() -> None:
    flaky = Flaky(1, ConnectionError("down"))
    with pytest.raises(ConnectionError) as info:
        retrying(flaky, what="x", retries=0, backoff_s=1.0, is_transient=transient)
    assert flaky.calls == 1
    assert not getattr(info.value, "__notes__", None)


def test_backoff_schedule_doubles_with_jitter_between_half_and_full() -> None:
    flaky = Flaky(4, ConnectionError("down"))
    low: list[float] = []
    retrying(
        flaky,
        what="x",
        retries=4,
        backoff_s=1.0,
        is_transient=transient,
        sleep=low.append,
        jitter=lambda: 0.0,
    )
    assert low == [0.5, 1.0, 2.0, 4.0]

    flaky = Flaky(4, ConnectionError("down"))
    high: list[float] = []
    retrying(
        flaky,
        what="x",
        retries=4,
        backoff_s=1.0,
        is_transient=transient,
        sleep=high.append,
        jitter=lambda: 0.999,
    )
    assert high == pytest.approx([1.0, 2.0, 4.0, 8.0], rel=1e-3)


def test_the_delay_is_capped() -> None:
    assert backoff_delay(30, 1.0, 0.999) <= MAX_DELAY_S
    assert backoff_delay(30, 1.0, 0.0) == MAX_DELAY_S / 2


def test_real_jitter_stays_in_its_band() -> None:
    for retry in (1, 2, 3):
        for _ in range(50):
            flaky = Flaky(retry, ConnectionError("down"))
            slept: list[float] = []
            retrying(
                flaky,
                what="x",
                retries=retry,
                backoff_s=2.0,
                is_transient=transient,
                sleep=slept.append,
            )
            nominal = 2.0 * 2 ** (retry - 1)
            assert nominal / 2 <= slept[-1] <= nominal
