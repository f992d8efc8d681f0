"""Reports: the text table, per-worker totals and the PNG charts."""

from __future__ import annotations

import matplotlib.image
import pytest

from service import report

REPORT = {
    "tasks": 3, "workers": 2, "wall_s": 1.0, "work_s": 1.5, "span_s": 0.9, "parallelism": 1.67, "utilisation": 0.75,
    "serial_s": 1.4, "speedup": 1.4, "efficiency": 0.7,
    "tasks_detail": [["a", "w0", 10.0, 10.5, "forward"], ["b", "w1", 10.0, 10.6, "forward"],
                     {"key": "c", "worker": "w0", "start": 10.6, "stop": 11.0, "phase": "reverse"}],
}


def test_table_shows_each_figure_and_each_worker():
    text = report.table(REPORT, "job x")
    assert text.splitlines()[0] == "job x"
    for needle in ("wall time", "1.000 s", "efficiency (serial / P·wall)", "0.70", "speedup (serial / wall)", "1.40x"):
        assert needle in text
    busy = report.per_worker(REPORT)
    assert list(busy) == ["w0", "w1"] and busy["w0"][0] == 2 and busy["w1"][0] == 1
    assert busy["w0"][1] == pytest.approx(0.9) and busy["w1"][1] == pytest.approx(0.6)
    assert "estimated" not in text, "missing keys are skipped"


def test_pngs(tmp_path):
    g = matplotlib.image.imread(report.gantt(REPORT, tmp_path / "g.png"))
    assert g.shape[0] > 50 and g.shape[1] > 200
    rows = [{"family": "f", "workers": p, "speedup": 0.9 * p, "efficiency": 0.9} for p in (1, 2, 4)]
    s = matplotlib.image.imread(report.scaling(rows, tmp_path / "sub" / "s.png"))
    assert s.shape[1] > s.shape[0] > 50


def test_markdown_table():
    md = report.markdown_table([{"a": 1, "b": 0.123456}], ["a", "b"])
    assert md.splitlines() == ["| a | b |", "|---|---|", "| 1 | 0.123 |"]
