"""Reports: parallel-efficiency figures of one job, and of sweeps over worker counts, as text and pictures.

Pure functions over the report dict that the executor writes (``tasks``, ``loop_steps``, ``workers``, ``wall_s``,
``work_s``, ``span_s``, ``parallelism``, ``utilisation``, ``est_work_s``, ``est_span_s``, ``tasks_detail``
and, with a baseline, ``serial_s``, ``speedup``, ``efficiency``) and over benchmark rows. Efficiency is
``serial / (P · wall)`` with the serial time measured in one process without Dask; the task stream's
``work / (P · wall)`` is shown as *utilisation* and only explains the gap.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Sequence

#: The rows of the one-job table: (label, key, format). Missing keys are skipped.
ROWS: tuple[tuple[str, str, str], ...] = (
    ("tasks", "tasks", "{:d}"),
    ("loop steps", "loop_steps", "{:d}"),
    ("workers", "workers", "{}"),
    ("wall time", "wall_s", "{:.3f} s"),
    ("work (sum of task times)", "work_s", "{:.3f} s"),
    ("span (critical path)", "span_s", "{:.3f} s"),
    ("parallelism (work / span)", "parallelism", "{:.2f}"),
    ("utilisation (work / P·wall)", "utilisation", "{:.2f}"),
    ("estimated work", "est_work_s", "{:.3f} s"),
    ("estimated span", "est_span_s", "{:.3f} s"),
    ("serial, one process", "serial_s", "{:.3f} s"),
    ("speedup (serial / wall)", "speedup", "{:.2f}x"),
    ("efficiency (serial / P·wall)", "efficiency", "{:.2f}"),
)


def natural(name: str) -> tuple[Any, ...]:
    """A sort key that orders the numbers in names by value: ``w2`` before ``w10``."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``1 worker``, ``2 workers``; ``nouns`` where the plural is not ``noun + "s"`` (``1 branch, 2 branches``)."""
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"


def _cell(fmt: str, value: Any) -> str:
    if isinstance(value, (list, tuple)):
        value = len(value)
    try:
        return fmt.format(value)
    except (TypeError, ValueError):
        return str(value)


def table(report: dict[str, Any], title: str | None = None) -> str:
    """The report as an aligned two-column text table, then tasks and busy time per worker."""
    rows = [(label, _cell(fmt, report[key])) for label, key, fmt in ROWS if report.get(key) is not None]
    lines = [title] if title else []
    width = max((len(label) for label, _ in rows), default=0)
    lines += [f"  {label:<{width}}  {value}" for label, value in rows]
    busy = per_worker(report)
    if busy:
        lines.append(f"  {'worker':<{width}}  tasks   busy")
        lines += [f"  {w:<{width}}  {n:5d}  {t:6.3f} s" for w, (n, t) in busy.items()]
    return "\n".join(lines)


def per_worker(report: dict[str, Any]) -> dict[str, tuple[int, float]]:
    """``worker -> (tasks, busy seconds)`` from the task timeline."""
    out: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for task in _tasks(report):
        out[task["worker"]][0] += 1
        out[task["worker"]][1] += task["stop"] - task["start"]
    return {w: (int(n), t) for w, (n, t) in sorted(out.items(), key=lambda item: natural(item[0]))}


def _tasks(report: dict[str, Any]) -> list[dict[str, Any]]:
    """``tasks_detail`` as dicts, whether it was stored as dicts or as ``[key, worker, start, stop, phase]``."""
    names = ("key", "worker", "start", "stop", "phase")
    return [t if isinstance(t, dict) else dict(zip(names, t)) for t in report.get("tasks_detail") or ()]


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=True)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def gantt(report: dict[str, Any], path: str | Path, title: str = "task timeline") -> Path:
    """A Gantt chart of tasks per worker over the job's wall time, coloured by phase; written as PNG."""
    plt = _pyplot()
    tasks = _tasks(report)
    workers = sorted({t["worker"] for t in tasks}, key=natural)
    phases = sorted({str(t.get("phase")) for t in tasks})
    colours = {p: plt.get_cmap("tab10")(i % 10) for i, p in enumerate(phases)}
    t0 = min((t["start"] for t in tasks), default=0.0)
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.5 * max(1, len(workers))))
    for row, worker in enumerate(workers):
        mine = [t for t in tasks if t["worker"] == worker]
        for phase in phases:
            bars = [(t["start"] - t0, t["stop"] - t["start"]) for t in mine if str(t.get("phase")) == phase]
            if bars:
                ax.broken_barh(bars, (row - 0.4, 0.8), color=colours[phase], edgecolor="black", linewidth=0.3)
    ax.set_yticks(range(len(workers)), workers)
    ax.set_xlabel("seconds since the first task started")
    ax.set_title(title)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[p]) for p in phases]
    if handles:
        ax.legend(handles, phases, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", title="phase")
    return _save(fig, path)


def scaling(rows: Iterable[dict[str, Any]], path: str | Path, title: str = "scaling") -> Path:
    """Speedup and efficiency against workers, one line per family, with the ideal lines; PNG.

    Each row needs ``family``, ``workers``, ``speedup`` and ``efficiency``.
    """
    plt = _pyplot()
    by_family: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for r in rows:
        by_family[str(r["family"])].append((int(r["workers"]), float(r["speedup"]), float(r["efficiency"])))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    ps = sorted({p for pts in by_family.values() for p, _, _ in pts}) or [1]
    left.plot(ps, ps, "k--", label="ideal")
    right.plot(ps, [1.0] * len(ps), "k--", label="ideal")
    for family, pts in sorted(by_family.items()):
        pts.sort()
        left.plot([p for p, _, _ in pts], [s for _, s, _ in pts], "o-", label=family)
        right.plot([p for p, _, _ in pts], [e for _, _, e in pts], "o-", label=family)
    for ax, name in ((left, "speedup (serial / wall)"), (right, "efficiency (serial / P·wall)")):
        ax.set_xlabel("workers")
        ax.set_ylabel(name)
        ax.set_xticks(ps)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    right.set_ylim(0, 1.1)
    fig.suptitle(title)
    return _save(fig, path)


def _save(fig: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Rows as a markdown table over ``columns`` (floats to 3 significant digits)."""
    cell = lambda v: f"{v:.3g}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)
