"""Prometheus metrics of one service instance (its own registry, so several can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

#: Job latency buckets (seconds, submit to finish): tiny jobs take tens of ms, big ones minutes.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)


class Metrics:
    """Jobs by state, job latency, tasks run, submissions and errors, and the cluster's connection."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.jobs = Gauge("catterms_jobs", "Jobs in the store, by state", ["state"], registry=self.registry)
        self.queue = Gauge("catterms_queue_depth", "Jobs waiting for a runner", registry=self.registry)
        self.latency = Histogram(
            "catterms_job_latency_seconds", "Submit-to-finish time of jobs, by outcome", ["state"],
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.tasks = Counter("catterms_tasks", "Cluster tasks run by finished jobs", registry=self.registry)
        self.submitted = Counter(
            "catterms_submissions", "Accepted submissions; deduplicated ones found an earlier job", ["deduplicated"],
            registry=self.registry,
        )
        self.errors = Counter("catterms_http_errors", "Error responses, by code", ["code"], registry=self.registry)
        self.connected = Gauge("catterms_cluster_connected", "1 while the scheduler answers, 0 while it is away",
                               registry=self.registry)
        self.workers = Gauge("catterms_cluster_workers", "Worker threads last counted on the cluster",
                             registry=self.registry)

    def render(self, counts: dict[str, int], queued: int, connected: bool, workers: int) -> bytes:
        """The exposition text, with the gauges read fresh from the store, dispatcher and executor."""
        for state, n in counts.items():
            self.jobs.labels(state).set(n)
        self.queue.set(queued)
        self.connected.set(int(connected))
        self.workers.set(workers)
        return generate_latest(self.registry)
