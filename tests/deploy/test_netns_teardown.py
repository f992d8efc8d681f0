"""The namespace cluster leaves nothing behind when it is interrupted: deploy/netns_cluster.py started,
then SIGTERM; its namespaces, veths, bridge and processes are gone. (SIGTERM is turned into the
KeyboardInterrupt that Ctrl-C raises, so one signal tests both; a cluster start costs ~10 s.)"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import pytest

import netns

pytestmark = pytest.mark.skipif(netns.missing() is not None, reason=f"namespace cluster: {netns.missing()}")


def test_an_interrupted_cluster_is_torn_down(tmp_path):
    proc = subprocess.Popen([sys.executable, str(netns.DEPLOY / "netns_cluster.py"), "--workers", "1",
                             "--dir", str(tmp_path)], stdout=subprocess.PIPE, text=True, cwd=netns.REPO)
    lines: list[str] = []
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline and not (lines and lines[-1].startswith("Ctrl-C")):
            line = proc.stdout.readline()
            assert line, f"netns_cluster.py exited early: {lines}"
            lines.append(line)
        run_id = re.search(r"netns (ct[0-9a-f]{6})-scheduler", "".join(lines)).group(1)
        pids = {name: subprocess.run(["ip", "netns", "pids", f"{run_id}-{name}"], capture_output=True,
                                     text=True).stdout.split() for name in ("scheduler", "worker0", "service")}
        assert all(pids.values()), pids
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert run_id not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert run_id not in subprocess.run(["ip", "link"], capture_output=True, text=True).stdout
    for pid in (p for found in pids.values() for p in found):
        assert alive(pid) is False, f"process {pid} is left"


def alive(pid: str) -> bool:
    """Whether a process runs (a zombie, dead and waiting for its parent to reap it, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
