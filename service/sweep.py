"""``catterms bench``: the workers' benchmark families over a list of worker counts, as a markdown report.

For each worker count P a fresh local cluster of P workers runs every family and mode
(:func:`workers.bench.measure`: serial baseline, the job, and Dask's own ceiling, side by side in one run).
The report folder gets ``report.md`` with the table, ``scaling-<mode>.png`` (speedup and efficiency
against workers, with the ideal lines) and ``timeline-<family>.png`` (a Gantt chart of one grad job per
family on the largest cluster). The report is rewritten after every worker count, so a sweep cut short
still leaves the rows it measured.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Sequence

from . import redact, report

COLUMNS = ("family", "mode", "workers", "branches", "tasks", "serial_s", "wall_s", "speedup", "efficiency",
           "ceiling_efficiency", "of_ceiling", "utilisation", "parallelism")


def sweep(worker_counts: Sequence[int], out: Path, families: Sequence[Any], modes: Sequence[str] = ("grad",),
          reps: int = 3, on_row: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """Run ``families`` (:class:`workers.bench.Family`) on each worker count; write the report into ``out``.
    ``on_row`` sees each row as soon as it is measured (the CLI prints it: a sweep takes minutes)."""
    from workers import Executor
    from workers.bench import machine, measure

    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    counts = sorted(set(worker_counts))
    table: list[dict[str, Any]] = []
    timelines: dict[str, dict[str, Any]] = {}
    for P in counts:
        with Executor(n_workers=P) as ex:
            for family in families:
                for mode in modes:
                    table.append(asdict(measure(ex, family, mode, reps)))
                    if on_row:
                        on_row(table[-1])
            if P == counts[-1]:
                timelines = {f.name: redact.report(ex.run(f.term, f.x, "grad").report) for f in families}
        path = _write(out, table, timelines, modes, f"Machine: {machine()}. Worker counts: "
                      f"{', '.join(map(str, counts))}; median of {reps} runs each; {time.perf_counter() - t0:.0f} s "
                      f"in all{'' if P == counts[-1] else f' so far (measured up to {P} workers)'}.")
    return path


def _write(out: Path, table: list[dict[str, Any]], timelines: dict[str, dict[str, Any]], modes: Sequence[str],
           header: str) -> Path:
    lines = [
        "# catterms benchmark: speedup and efficiency against workers",
        "",
        header,
        "",
        "`serial_s` is the same compiled computation in one process without Dask; `efficiency` = serial / "
        "(workers × wall). `ceiling_efficiency` is Dask's own ceiling for exactly these task bodies (sent with "
        "`client.map`, no dependencies) and `of_ceiling` the share of it the plan reaches. `utilisation` = "
        "work / (workers × wall) only says how busy the workers were.",
        "",
        report.markdown_table(table, COLUMNS),
        "",
        "## Speedup and efficiency",
        "",
    ]
    for mode in modes:
        image = report.scaling([r for r in table if r["mode"] == mode], out / f"scaling-{mode}.png", f"mode {mode}")
        lines += [f"![{mode}]({image.name})", ""]
    if timelines:
        workers = max(r["workers"] for r in table)
        lines += [f"## Task timelines ({workers} workers, one grad job per family)", ""]
    for name, data in timelines.items():
        image = report.gantt(data, out / f"timeline-{name}.png", f"{name}: tasks per worker")
        lines += [f"### {name}", "", f"![{name}]({image.name})", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
