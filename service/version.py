"""The installed catterms version, as ``catterms --version`` and ``GET /v1/health`` report it."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def installed() -> str:
    """The version of the installed catterms distribution, or ``"unknown"`` when running from a bare checkout."""
    try:
        return version("catterms")
    except PackageNotFoundError:
        return "unknown"
