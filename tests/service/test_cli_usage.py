"""The command line as a new user meets it: help and defaults everywhere, --version, what it prints and
implies, and the phase a job shows while its baseline runs.

Job commands run against the app on a real loopback socket with the shared cluster, in this process.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pytest

import catterms as ct
from catterms import wire
from service import report
from service.app import Service, Settings
from service.cli import SHOWN, _print_status, _show_result, main, names, parser
from service.client import JobResult, _show_progress
from service.server import running
from service.store import Store
from service.version import installed

F = ct.compose(ct.prim("sum"), ct.prim("sin"))


def _subparsers(top: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return next(a for a in top._actions if isinstance(a, argparse._SubParsersAction)).choices


def test_every_option_has_help_and_says_its_default(capsys):
    for name, command in _subparsers(parser()).items():
        for action in command._actions:
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
                continue
            assert action.help, (name, action.dest)
            if action.option_strings:
                assert "default" in action.help, (name, action.option_strings)
        command.format_help()  # every %(default)s expands
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out.strip() == f"catterms {installed()}"


def test_families_and_modes_are_comma_or_space_separated(capsys):
    assert names(["wide,tree"]) == names(["wide", "tree"]) == names(["wide, tree"]) == ["wide", "tree"]
    assert main(["bench", "--families", "wide,nope"]) == 1
    assert "unknown benchmark family 'nope'" in capsys.readouterr().err
    assert main(["bench", "--families", "wide", "--modes", "grad,sideways"]) == 1
    assert "unknown mode 'sideways'" in capsys.readouterr().err


def test_printing_says_what_it_truncated_and_shows_the_phase(capsys):
    _show_result(JobResult(np.arange(100.0), (np.ones(3), np.zeros(SHOWN + 1))), None)
    out = capsys.readouterr().out
    assert f"the first {SHOWN} of 100 elements" in out and f"the first {SHOWN} of {SHOWN + 1:,} elements" in out
    assert "derivative.0 float64[3]: [1. 1. 1.]\n" in out, "a short array is printed whole, with no note"
    _print_status({"id": "0123456789abcdef", "state": "running", "mode": "grad", "progress": {"done": 16, "total": 16},
                   "phase": "baseline"})
    assert capsys.readouterr().out.rstrip().endswith("tasks 16/16  (baseline)")
    bar = _show_progress(None, "0123456789abcdef", {"done": 16, "total": 16}, "baseline")
    assert bar.desc == "job 0123456789abcdef (baseline)"
    bar.close()
    assert report.plural(1, "worker") == "1 worker" and report.plural(2, "worker") == "2 workers"


def test_gantt_rows_and_worker_tables_sort_naturally():
    tasks = [{"key": str(i), "worker": f"w{i}", "start": 0.0, "stop": 1.0, "phase": "fwd"} for i in (10, 2, 1, 0, 11)]
    assert list(report.per_worker({"tasks_detail": tasks})) == ["w0", "w1", "w2", "w10", "w11"]
    assert sorted(["w10", "w2", "x1", "w1"], key=report.natural) == ["w1", "w2", "w10", "x1"]


def test_submit_out_implies_wait_and_a_missing_tangent_names_the_option(executor, tmp_path, capsys):
    term, x, out = tmp_path / "f.ct", tmp_path / "x.npy", tmp_path / "r.npz"
    term.write_bytes(wire.dumps(F))
    np.save(x, np.array([0.3, 0.6]))
    with running(Service(Settings(), executor, Store(tmp_path / "data"))) as url:
        assert main(["submit", str(term), str(x), "--out", str(out), "--url", url]) == 0
        with np.load(out) as saved:
            assert np.allclose(saved["derivative"], np.cos([0.3, 0.6]))
        capsys.readouterr()
        for mode, option in (("jvp", "--tangent"), ("hvp", "--tangent"), ("vjp", "--cotangent")):
            assert main(["submit", str(term), str(x), "--mode", mode, "--url", url]) == 1
            err = capsys.readouterr().err
            assert f"mode '{mode}' needs a {option[2:]}" in err and f"{option} FILE" in err, err


def test_a_job_shows_its_baseline_phase_with_all_tasks_done(executor, tmp_path, slow_term, capsys):
    from service import Client

    with running(Service(Settings(), executor, Store(tmp_path / "data"))) as url, Client(url) as client:
        job = client.submit(slow_term(40), np.array([0.1, 0.2, 0.3]), mode="value", baseline=True)
        seen, deadline = set(), time.monotonic() + 60  # bounded: the job and its baseline take a few seconds
        while time.monotonic() < deadline:
            time.sleep(0.01)
            status = job.status()
            seen.add(status["phase"])
            if status["phase"] == "baseline":
                assert status["progress"]["done"] == status["progress"]["total"], status
                assert main(["status", job.id, "--url", url]) == 0
                assert capsys.readouterr().out.rstrip().endswith("(baseline)")
                break
            if status["state"] in ("done", "failed"):
                break
        assert "baseline" in seen, seen
        job.result(timeout=60)
        assert job.status()["phase"] is None, "a finished job is not held: no phase"
