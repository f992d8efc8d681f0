"""``catterms bench``'s sweep: a markdown report with the scaling chart and a timeline per family."""

from __future__ import annotations

import matplotlib.image

from service.sweep import COLUMNS, sweep


def test_sweep_writes_report_and_pngs(tmp_path):
    from workers.bench import tiny

    path = sweep([1], tmp_path / "out", [tiny()], modes=["grad", "hvp"], reps=1)
    text = path.read_text()
    assert path.name == "report.md" and "| " + " | ".join(COLUMNS) + " |" in text
    assert "| tiny | grad | 1 |" in text and "| tiny | hvp | 1 |" in text
    for image in ("scaling-grad.png", "scaling-hvp.png", "timeline-tiny.png"):
        assert f"]({image})" in text
        assert matplotlib.image.imread(tmp_path / "out" / image).shape[0] > 50
