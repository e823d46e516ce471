"""`brl()`, the report's money format, against strings written out by hand.

The report, docs and notebook tests build their expected text with `brl()` itself, so
they cannot notice it going wrong; this test holds each of its ranges and the edges
between them.
"""

from __future__ import annotations

import pytest

from olist_cli.report_queries import brl

NBSP = "\u00a0"  # after "R$", so that a line never breaks inside an amount


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # zero
        (0.0, "R$ 0"),
        # units: whole reais, with a thousands separator
        (0.4, "R$ 0"),
        (1.0, "R$ 1"),
        (980.0, "R$ 980"),
        (1234.5, "R$ 1,234"),  # round half to even, as format() does
        (9999.0, "R$ 9,999"),
        (9999.4, "R$ 9,999"),
        # thousands: from 10,000, in k without decimals
        (10_000.0, "R$ 10k"),
        (10_499.0, "R$ 10k"),
        (10_500.0, "R$ 10k"),  # 10.5 rounds half to even
        (10_501.0, "R$ 11k"),
        (512_000.0, "R$ 512k"),
        (999_499.0, "R$ 999k"),
        # millions: from 1,000,000, in M with two decimals
        (1_000_000.0, "R$ 1.00M"),
        (1_260_000.0, "R$ 1.26M"),
        (15_843_553.24, "R$ 15.84M"),
        (2_345_678_901.0, "R$ 2,345.68M"),
        # negatives: the same ranges by absolute value, the sign after "R$"
        (-980.0, "R$ -980"),
        (-9999.0, "R$ -9,999"),
        (-10_000.0, "R$ -10k"),
        (-512_000.0, "R$ -512k"),
        (-1_000_000.0, "R$ -1.00M"),
        (-1_260_000.0, "R$ -1.26M"),
    ],
)
def test_brl(value: float, expected: str) -> None:
    assert brl(value) == expected.replace("R$ ", f"R${NBSP}")
