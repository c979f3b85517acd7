"""The local runner: a component try as a subprocess on the worker, with an allow-listed environment
and private PVC mounts, started from a warm fork server."""
