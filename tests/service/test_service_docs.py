"""The service's documented examples run as written: docs/service.md's in-process service, the README's client."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import numpy as np

import catterms as ct
from service.app import Service, Settings
from service.demo import TOLERANCE, max_relative_error
from service.server import running
from service.store import Store

REPO = Path(__file__).resolve().parents[2]


def _python_blocks(path: Path, after: str) -> list[str]:
    text = path.read_text()
    return re.findall(r"```python\n(.*?)```", text[text.index(after):], re.S)


def test_the_in_process_service_of_docs_service_md_runs(executor, tmp_path):
    block = next(b for b in _python_blocks(REPO / "docs/service.md", "## Python client") if "ASGITransport" in b)
    definitions, _, use = block.partition('\nif __name__ == "__main__":')
    assert "with Executor(" in use, "the example ends by starting an Executor, under the __main__ guard"
    namespace: dict = {}
    exec(compile(definitions, "docs/service.md", "exec"), namespace)  # noqa: S102 (our own docs)
    # the example's own last lines start a cluster; the shared one stands in for it
    value, gradient = asyncio.run(namespace["gradient_in_process"](executor, tmp_path / "data"))
    x = np.array([0.1, 0.2, 0.3])
    assert np.isclose(value, np.sum(np.sin(x))) and np.allclose(gradient, np.cos(x))


def test_the_readme_client_example_runs_against_a_default_service(executor, tmp_path):
    section = (REPO / "README.md").read_text()
    start = section.index("### The service: HTTP, Python client, command line")
    block = re.findall(r"```python\n(.*?)```", section[start:], re.S)[0]
    assert 'Client("http://127.0.0.1:8765")' in block
    with running(Service(Settings(), executor, Store(tmp_path / "data"))) as url:
        namespace: dict = {}
        exec(compile(block.replace("http://127.0.0.1:8765", url), "README.md", "exec"), namespace)  # noqa: S102
    e = namespace["e"]
    want_value, want_gradient = ct.value_and_grad(e.term, e.example_input)
    assert np.isclose(namespace["value"], want_value)
    assert max_relative_error(namespace["gradient"], want_gradient) <= TOLERANCE
