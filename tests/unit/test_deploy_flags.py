"""The key=value flag vocabulary deploy's --label, --annotation and --partition use (flags.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kubectl_kaito import flags
from kubectl_kaito.errors import UsageError


def test_labels() -> None:
    assert flags.labels(["team=nlp,env=dev", "example.com/tier=gpu", "empty="]) == {
        "team": "nlp",
        "env": "dev",
        "example.com/tier": "gpu",
        "empty": "",
    }
    assert flags.labels(None) == {}


def test_annotations_keep_commas_and_spaces() -> None:
    assert flags.annotations(["a=x, y", "example.com/note=k=v"]) == {"a": "x, y", "example.com/note": "k=v"}


@pytest.mark.parametrize(
    ("call", "why"),
    [
        (lambda: flags.labels(["a"]), "expected KEY=VALUE"),
        (lambda: flags.labels(["-a=b"]), "invalid --label key '-a'"),
        (lambda: flags.labels(["Bad_Prefix/a=b"]), "invalid --label key"),
        (lambda: flags.labels(["a=" + "v" * 64]), "invalid --label value"),
        (lambda: flags.labels(["a=1", "a=2"]), "sets a twice"),
        (lambda: flags.annotations(["a=1", "a=2"]), "sets a twice"),
        (lambda: flags.annotations(["a=\x1b[31m"]), "control character"),
        (lambda: flags.annotations(["a=\udcff"]), "not valid UTF-8"),
        (lambda: flags.annotations(["a=" + "x" * (256 * 1024)]), "larger than Kubernetes allows"),
        (lambda: flags.annotations([("k" * 64) + "=v"]), "invalid --annotation key"),
    ],
)
def test_key_value_refusals(call: Callable[[], object], why: str) -> None:
    with pytest.raises(UsageError) as e:
        call()
    assert why in e.value.message and e.value.exit_code == 2


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "inf", "nan", "1e3", "0x10", "", "٣", "2147483648", "9" * 5000])
def test_positive_int_refuses(value: str) -> None:
    with pytest.raises(UsageError) as e:
        flags.positive_int(value, "--port", 65535 if value != "2147483648" else 2**31 - 1)
    assert "--port" in e.value.message


def test_positive_int() -> None:
    assert flags.positive_int(" 8 ", "--x") == 8
    assert flags.positive_int("65535", "--port", 65535) == 65535


def test_key_values() -> None:
    assert flags.key_values("Mode=mig, profile=1g.10gb", "--partition", ("mode", "profile"), "x") == {
        "mode": "mig",
        "profile": "1g.10gb",
    }
    with pytest.raises(UsageError, match="unknown key 'size'"):
        flags.key_values("size=1", "--partition", ("mode",), "x")
