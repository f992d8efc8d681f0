#!/bin/sh
# The restart policy for hosts without a container runtime (SSH hosts, SLURM jobs): run a command, and run
# it again 2 s after it exits, until this script gets SIGTERM or SIGINT (then the command gets SIGTERM too).
# Compose's `restart: unless-stopped` and Kubernetes Deployments do the same for containers. A Dask worker
# needs it: a worker cut off from the scheduler for longer than distributed.comm.timeouts.tcp exits (Dask
# workers cannot reconnect), and comes back here when the network does.
#   deploy/supervise.sh dask worker tls://head:8786 --nworkers 1 --nthreads 1
set -u
[ "$#" -gt 0 ] || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 2; }
child=
stop() { [ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0; }
trap stop TERM INT
while :; do
    "$@" &
    child=$!
    wait "$child"
    echo "supervise.sh: '$1' exited with $?; restarting in 2 s" >&2
    sleep 2 &
    wait $!
done
