"""workers: catterms terms split at △, × and ▽ into tasks and run on a Dask cluster.

:func:`plan` (pure) turns a term into steps sized for Dask; :class:`Executor` runs value, jvp, vjp and
grad jobs on a local or remote cluster and reports how parallel each run really was::

    from workers import Executor

    with Executor() as ex:
        result = ex.run(term, x, mode="grad", baseline=True)
        result.value, result.derivative, result.report["efficiency"]
"""

from .alloc import like_a_worker, single_thread_blas, tune_allocator
from .estimate import Rates, measure_rates
from .executor import JOB_MODES, ClusterError, Executor, JobHandle
from .plan import MODES, Plan, Step, plan
from .report import Result

__all__ = ["ClusterError", "Executor", "JOB_MODES", "JobHandle", "MODES", "Plan", "Rates", "Result", "Step", "measure_rates",
           "like_a_worker", "plan", "single_thread_blas", "tune_allocator"]
