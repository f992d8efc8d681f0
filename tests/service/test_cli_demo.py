"""``catterms demo``, the quickstart's main job, end to end in a subprocess."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_demo_runs_checks_and_shuts_down():
    done = subprocess.run([sys.executable, "-m", "service", "demo"], cwd=REPO, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "OK: the service's gradient matches the in-process gradient." in out
    error = float(re.search(r"max relative error, gradient vs in-process ct.value_and_grad: (\S+)", out).group(1))
    assert error <= 1e-9
    assert re.search(r"dashboard \(while the demo runs\): http://127\.0\.0\.1:\d+/status", out)
    for row in ("value", "gradient norm", "efficiency (serial / P·wall)", "speedup (serial / wall)", "tasks"):
        assert row in out
    assert "Traceback" not in done.stderr, done.stderr
    readme = (REPO / "README.md").read_text()
    sample = re.search(r"The demo prints.*?```text\n(.*?)```", readme, re.S).group(1)
    printed = out.splitlines()
    for line in filter(None, sample.splitlines()):
        assert any(_sample_line(line).fullmatch(p) for p in printed), f"the README's demo line {line!r} is not printed"


def _sample_line(line: str) -> re.Pattern:
    """A line of the README's demo sample with what changes from run to run (ids, URLs, numbers) as wildcards."""
    parts = re.split(r"(https?://\S+|\b[0-9a-f]{16}\b|\d[\d.,]*(?:e[+-]\d+)?)", line)
    return re.compile("".join(re.escape(p) if i % 2 == 0 else r"\S+?" for i, p in enumerate(parts)))
