"""airflow_kfp.spec.quantities parses as the Kubernetes client does, without importing it (issue 29:
importing ``kubernetes`` was a third of a task process's samples under the real executor)."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest
from kubernetes.utils.quantity import parse_quantity as client_parse

from airflow_kfp.spec.quantities import parse_quantity

CASES = [
    "0",
    "1",
    "1.5",
    "500m",
    "0.5",
    "2",
    "128974848",
    "129e6",
    "129M",
    "123Mi",
    "1Gi",
    "1G",
    "7Ti",
    "1Ei",
    "1E",
    "3n",
    "7u",
    "1k",
    "1K",
    "1ki",
    "1Ki",
    "1Xi",
    "1.5Gi",
    "-1",
    "-2Gi",
    "abc",
    "",
    "i",
    "Mi",
    "1mi",
    "1e3",
    "1e3Mi",
    "+5",
    "1_000",
    "NaN",
    "Infinity",
    "12Pi",
    "1P",
    "0.000001",
    "10Q",
    "1iB",
]


@pytest.mark.parametrize("text", CASES)
def test_same_value_or_same_refusal_as_the_kubernetes_client(text: str) -> None:
    try:
        expected: Decimal | str = client_parse(text)
    except ValueError:
        expected = "refused"
    try:
        got: Decimal | str = parse_quantity(text)
    except ValueError:
        got = "refused"
    assert got == expected or (isinstance(got, Decimal) and got.is_nan() and expected.is_nan())  # type: ignore[union-attr]


def test_numbers_pass_through() -> None:
    assert parse_quantity(3) == client_parse(3) and parse_quantity(0.5) == client_parse(0.5)


def test_reading_the_settings_does_not_import_the_kubernetes_client() -> None:
    code = (
        "import sys\n"
        "from airflow_kfp.config import KfpSettings\n"
        "KfpSettings().check()\n"
        "assert 'kubernetes' not in sys.modules, sorted(m for m in sys.modules if m.startswith('kubernetes'))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
