"""Figure 5: artifact transfer through the S3 hook against plain boto3, by bench/bench_artifact_transfer.py.

Calls that module's own measurement (moto server, interleaved hook/boto3 child processes, peak RSS
per child) at a modest size, without touching the JSON file it writes when run on its own.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench._common import Figure, not_available

TARGET = 1.05
MEMORY_LIMIT_MIB = 256.0


def run(*, size_mib: int, reps: int, log: Any = print) -> list[Figure]:
    try:
        from bench import bench_artifact_transfer as transfer
    except Exception as exc:
        return [not_available("artifact_upload", "artifact transfer", TARGET, f"bench_artifact_transfer: {exc}")]
    args = argparse.Namespace(reps=reps, chunk_mib=8, concurrency=8)
    proc, endpoint = transfer.start_moto()
    try:
        transfer._client(endpoint).create_bucket(Bucket=transfer.BUCKET)
        with tempfile.TemporaryDirectory(prefix="bench-artifacts-") as tmp:
            rows = transfer.run_size(args, endpoint, size_mib, Path(tmp), proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    figures = []
    for op in ("upload", "download"):
        hook, boto = rows[f"hook-{op}"], rows[f"boto3-{op}"]
        cpu = {who: statistics.median(r["cpu_s"]) for who, r in (("store", hook), ("boto3", boto))}
        server = {who: statistics.median(r["server_cpu_s"]) for who, r in (("store", hook), ("boto3", boto))}
        total = {who: cpu[who] + server[who] for who in cpu}
        log(
            f"  {op}: hook {hook['mib_per_s']:.0f} MiB/s, boto3 {boto['mib_per_s']:.0f} MiB/s; CPU s (client + moto) "
            f"hook {cpu['store']:.2f} + {server['store']:.2f}, boto3 {cpu['boto3']:.2f} + {server['boto3']:.2f}"
        )
        figures.append(
            Figure(
                key=f"artifact_{op}",
                title=f"{size_mib} MiB {op}: S3 store (with sha256) vs boto3 alone, time",
                target=TARGET,
                numerator="store",
                denominator="boto3",
                num_runs=hook["runs_s"],
                den_runs=boto["runs_s"],
                size=f"{size_mib} MiB",
                peak_mib={"store": hook["rss_peak_mib"], "boto3": boto["rss_peak_mib"]},
                memory_limit_mib=MEMORY_LIMIT_MIB,
                details={
                    "mib_per_s": {"store": hook["mib_per_s"], "boto3": boto["mib_per_s"]},
                    "rss_setup_mib": {"store": hook["rss_setup_mib"], "boto3": boto["rss_setup_mib"]},
                    "client_cpu_s": {"store": hook["cpu_s"], "boto3": boto["cpu_s"]},
                    "server_cpu_s": {"store": hook["server_cpu_s"], "boto3": boto["server_cpu_s"]},
                    "cpu_ratio_median": total["store"] / total["boto3"] if total["boto3"] else None,
                },
                note=f"`S3ArtifactStore.{'put_path' if op == 'upload' else 'get_path'}` (SHA-256 while the bytes "
                f"move) vs boto3 `{op}_file` with the store's own TransferConfig ({args.chunk_mib} MiB parts, "
                f"{args.concurrency} threads), moto server on 127.0.0.1, sides alternating first, each warmed "
                "by one untimed transfer; peak MiB is the client process's peak RSS. cpu_ratio_median is "
                "(client + moto CPU) store / boto3: the digest's "
                "SHA-256 (~0.6 CPU s/GiB) is free only while a core is idle; on a saturated machine wall time "
                "follows that ratio",
            )
        )
    return figures
