"""workers: catterms terms split at △, × and ▽ into tasks and run on a Dask cluster.

:func:`plan` (pure) turns a term into steps sized for Dask; :class:`Executor` runs value, jvp, vjp and
grad jobs on a local or remote cluster and reports how parallel each run really was::

    from workers import Executor

    with Executor() as ex:
        result = ex.run(term, x, mode="grad", baseline=True)
        result.value, result.derivative, result.report["efficiency"]

:func:`check_limits` refuses a job over its :class:`JobLimits` before it runs. The names that need
Dask distributed (the Executor's) are imported when first used, so that planning and admission — and a
command line that only shows their defaults — do not load it.
"""

from typing import Any

from .admission import JobLimits, OverLimit, check_limits
from .alloc import like_a_worker, single_thread_blas, tune_allocator
from .estimate import Rates, measure_rates
from .plan import MODES, Plan, Step, plan

_EXECUTOR = ("ClusterError", "Executor", "JOB_MODES", "JobHandle")

__all__ = ["ClusterError", "Executor", "JOB_MODES", "JobHandle", "JobLimits", "MODES", "OverLimit", "Plan", "Rates",
           "Result", "Step", "check_limits", "measure_rates", "like_a_worker", "plan", "single_thread_blas",
           "tune_allocator"]


def __getattr__(name: str) -> Any:
    if name in _EXECUTOR:
        from . import executor

        return getattr(executor, name)
    if name == "Result":
        from .report import Result

        return Result
    raise AttributeError(f"module 'workers' has no attribute {name!r}")
