"""Keep cluster addresses out of everything the API returns.

Anyone who can reach a Dask scheduler or worker port can run code on it, so the service never hands out
those addresses: reports name workers ``w0``, ``w1``, … instead, and error messages from the cluster have
their addresses replaced.
"""

from __future__ import annotations

import re
from typing import Any

#: A Dask comm address (``tcp://10.0.0.5:8786``, ``tls://[::1]:8786``, ``inproc://…``, ``ucx://…``).
ADDRESS = re.compile(r"\b(?:tcp|tls|inproc|ucx|ws|wss)://(?:\[[0-9a-fA-F:.]*\]|[^\s'\",<>()\[\]{}])+")


def message(text: str) -> str:
    """``text`` with every cluster address replaced by ``<cluster>``."""
    return ADDRESS.sub("<cluster>", text)


def report(data: Any) -> Any:
    """A copy of a JSON-able report in which each distinct address becomes ``w0``, ``w1``, … (in order of
    first appearance, so the same worker keeps the same name across the report)."""
    names: dict[str, str] = {}

    def alias(found: re.Match[str]) -> str:
        return names.setdefault(found.group(0), f"w{len(names)}")

    def walk(obj: Any) -> Any:
        if isinstance(obj, str):
            return ADDRESS.sub(alias, obj)
        if isinstance(obj, dict):
            return {walk(k): walk(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [walk(v) for v in obj]
        return obj

    return walk(data)
