"""The gradient job service: HTTP API, job store, Python client, ``catterms`` CLI and reports.

Users touch this layer: they submit a term (catterms wire bytes) with its inputs, from
:class:`Client`/:class:`AsyncClient` or the ``catterms`` command line, to a service that runs it on the
workers (:mod:`workers`) and returns the value, the derivative and a parallel-efficiency report. Importing
``service`` loads only the client side; the server (:mod:`service.app`, :mod:`service.server`) is
imported by ``catterms serve``.
"""

from .client import AsyncClient, Client, Job, JobResult
from .errors import (
    BadRequest, Conflict, JobCancelled, JobFailed, NonFinite, NotFound, NotReady, OverLimit, RemoteTermTypeError,
    RemoteWireFormatError, ServiceError, TooLarge, Unauthorized, Unavailable,
)

__all__ = [
    "AsyncClient", "BadRequest", "Client", "Conflict", "Job", "JobCancelled", "JobFailed", "JobResult", "NonFinite",
    "NotFound", "NotReady", "OverLimit", "RemoteTermTypeError", "RemoteWireFormatError", "ServiceError", "TooLarge",
    "Unauthorized", "Unavailable",
]
