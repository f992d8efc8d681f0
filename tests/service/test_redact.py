"""Cluster addresses never leave the service: reports alias workers, messages hide addresses."""

from __future__ import annotations

from service import redact


def test_reports_alias_each_worker_consistently():
    a, b = "tcp://10.1.2.3:40111", "tls://[::1]:8786"
    report = {"workers": [a, b], "tasks_detail": [["k1", b, 0.0, 1.0, "fwd"], ["k2", a, 1.0, 2.0, "rev"]], "n": 2}
    out = redact.report(report)
    assert out == {"workers": ["w0", "w1"], "tasks_detail": [["k1", "w1", 0.0, 1.0, "fwd"], ["k2", "w0", 1.0, 2.0, "rev"]],
                   "n": 2}
    assert "tcp://" not in repr(out) and "tls://" not in repr(out)


def test_messages_hide_addresses():
    text = "CommClosedError: in <TCP (closed) ConnectionPool.gather local=tcp://127.0.0.1:5 remote=tcp://10.0.0.9:8786>"
    assert redact.message(text) == "CommClosedError: in <TCP (closed) ConnectionPool.gather local=<cluster> remote=<cluster>>"
