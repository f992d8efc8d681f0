"""Job results and their reports: how parallel a run really was, from the scheduler's own records.

``work_s`` adds up the tasks' measured compute intervals; ``span_s`` is the critical path of the job's
task graph under those durations; ``parallelism = work / span`` bounds what more workers could give;
``utilisation = work / (workers × wall)`` says how busy the workers were. Only ``efficiency = serial /
(workers × wall)``, against the same computation in-process without Dask, says what the split bought:
utilisation also counts the slowdown of task bodies inside workers (see workers/alloc.py), efficiency does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from catterms.engine import loop_steps

from .graph import Graph
from .plan import Plan


@dataclass
class Result:
    """A job's output value, its derivative (jvp: output tangent; vjp, grad: input cotangent; value:
    ``None``) and its report (a JSON-able dict)."""

    value: Any
    derivative: Any
    report: dict[str, Any]


def critical_path(deps: dict[str, list[str]], durations: dict[str, float]) -> float:
    """The longest chain of dependent tasks, each weighing its duration (``deps`` in dependency order
    or not: it is resolved iteratively)."""
    finish: dict[str, float] = {}
    for root in deps:
        stack = [root]
        while stack:
            k = stack[-1]
            if k in finish:
                stack.pop()
                continue
            pending = [d for d in deps[k] if d not in finish]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            finish[k] = durations.get(k, 0.0) + max((finish[d] for d in deps[k]), default=0.0)
    return max(finish.values(), default=0.0)


def report(plan: Plan, graph: Graph, records: dict[str, dict[str, Any]], workers: int, wall_s: float,
           serial_s: float | None) -> dict[str, Any]:
    """The report of one job from the scheduler's ``records`` (key → worker, start, stop)."""
    timed = {k: r for k, r in records.items() if k in graph.dsk and r.get("start") is not None}
    durations = {k: r["stop"] - r["start"] for k, r in timed.items()}
    work = sum(durations.values())
    span = critical_path(graph.deps, durations)
    t0 = min((r["start"] for r in timed.values()), default=0.0)
    detail = []
    for k, r in sorted(timed.items(), key=lambda kr: kr[1]["start"]):
        step = plan.steps[graph.info[k]]
        detail.append({"key": k, "phase": step.name, "where": step.where, "worker": r["worker"],
                       "start": r["start"] - t0, "stop": r["stop"] - t0})
    out: dict[str, Any] = {
        "mode": plan.mode,
        "tasks": graph.tasks,
        "workers": workers,
        "wall_s": wall_s,
        "work_s": work,
        "span_s": span,
        "parallelism": work / span if span > 0 else None,
        "utilisation": work / (workers * wall_s) if workers and wall_s > 0 else None,
        "est_work_s": plan.est_work_s,
        "est_span_s": plan.est_span_s,
        "plan_s": plan.plan_s,
        "threshold_s": plan.threshold_s,
        "derive_s": plan.derive_s,
        "tail_steps": len(plan.tail),
        # the term's loops, each run inside one task or unrolled by the plan into tasks per step (a while
        # loop's steps are the data's)
        "loop_steps": loop_steps(plan.term),
        "tasks_detail": detail,
    }
    if serial_s is not None:
        out["serial_s"] = serial_s
        out["speedup"] = serial_s / wall_s if wall_s > 0 else None
        out["efficiency"] = serial_s / (workers * wall_s) if workers and wall_s > 0 else None
    return out
