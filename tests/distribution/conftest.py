"""Distribution tests: krew-manifest.yaml, the release archive, and pip installs (docs/distribution.md)."""

from __future__ import annotations


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "slow: builds the release archive or a venv (seconds); part of the default run (-m 'not slow' skips it)",
    )
