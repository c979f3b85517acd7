"""Artifact store transfer bench: the hook against plain boto3, same settings, same moto server.

    python -m bench.bench_artifact_transfer --size-mib 1024 [--small-mib 64] [--reps 3]

Starts a moto server on 127.0.0.1 (a separate process, so it does not share the client's GIL),
then times upload and download through ``S3ArtifactStore`` (which also computes the sha256 while
the bytes move) and through boto3 ``upload_file``/``download_file`` with the store's own
TransferConfig object, so both sides use identical transfer settings. Each measurement runs in its
own child process so its peak RSS (ru_maxrss) is the client's alone. Fairness: the sides alternate
which goes first in each repetition (hook, boto3, then boto3, hook), both download the same object,
each uploaded object is deleted (untimed) so moto's state stays the same from one run to the next, and
each child first makes one untimed multipart transfer of the same kind (botocore loads its models per
operation on first use: a fixed per-process cost, paid once by a worker, not per artifact).
Besides wall time, each run records the client's CPU time (all threads) and the moto server's: on a
loaded 2-core machine wall time follows total CPU, and the CPU figures show what the digest costs
(about 0.6 s a GiB of SHA-256) against what the transfer itself costs. Runs at two sizes to show the
hook's peak memory does not grow with the artifact's size. Writes bench/results/artifact_transfer.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

MiB = 1024 * 1024
BUCKET = "bench-artifacts"
RESULTS = Path(__file__).parent / "results" / "artifact_transfer.json"


def _settings(args: argparse.Namespace) -> dict[str, int]:
    return {
        "multipart_threshold": args.chunk_mib * MiB,
        "multipart_chunksize": args.chunk_mib * MiB,
        "max_concurrency": args.concurrency,
    }


def child(args: argparse.Namespace) -> None:
    """One measurement in a fresh process: print seconds and peak RSS as JSON."""
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config

    from airflow_kfp.stores.s3 import S3ArtifactStore

    s = _settings(args)
    store = S3ArtifactStore(f"s3://{BUCKET}", endpoint_url=args.endpoint, **s)  # type: ignore[arg-type]
    client = boto3.client(
        "s3",
        endpoint_url=args.endpoint,
        config=Config(
            retries={"mode": "standard", "total_max_attempts": 5},  # type: ignore[typeddict-unknown-key]
            max_pool_connections=max(10, args.concurrency * 2),
            signature_version="s3v4",
            s3={"addressing_style": "path"},
        ),
    )
    config: TransferConfig = store.transfer_config  # the very settings the hook uses
    out = Path(args.file + ".down")

    def transfer(file: Path, key: str) -> str | None:
        uri = f"s3://{BUCKET}/{key}"
        if args.mode == "hook-upload":
            return store.put_path(file, uri).digest
        if args.mode == "hook-download":
            return store.get_path(uri, out).digest
        if args.mode == "boto3-upload":
            client.upload_file(str(file), BUCKET, key, Config=config)
        elif args.mode == "boto3-download":
            client.download_file(BUCKET, key, str(out), Config=config)
        return None

    # Untimed warm-up, same for both sides: one multipart transfer of the same kind, so botocore's
    # models, endpoint and connections are loaded once per process, as in a worker that has run before.
    warm = Path(args.file + ".warm")
    warm.write_bytes(os.urandom(s["multipart_threshold"] + 1))
    warm_key = f"warm/{args.mode}"
    if args.mode.endswith("download"):
        (store.client if args.mode.startswith("hook") else client).upload_file(str(warm), BUCKET, warm_key)
    transfer(warm, warm_key)
    warm.unlink()
    before = resource.getrusage(resource.RUSAGE_SELF)
    rss_before = before.ru_maxrss
    start = time.perf_counter()
    digest = transfer(Path(args.file), args.key)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out.unlink(missing_ok=True)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_s": cpu,
                "rss_setup_mib": rss_before / 1024,
                "rss_peak_mib": after.ru_maxrss / 1024,
                "digest": digest,
            }
        )
    )


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc; 0.0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=1).close()
            return proc, endpoint
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("moto server did not start")


def write_random(path: Path, size_mib: int) -> None:
    with open(path, "wb") as f:
        for _ in range(size_mib):
            f.write(os.urandom(MiB))


def measure(
    args: argparse.Namespace, endpoint: str, mode: str, file: Path, key: str, server_pid: int | None = None
) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.bench_artifact_transfer", "--child", mode, "--endpoint", endpoint]
    cmd += [
        "--file",
        str(file),
        "--key",
        key,
        "--chunk-mib",
        str(args.chunk_mib),
        "--concurrency",
        str(args.concurrency),
    ]
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    server_before = process_cpu_s(server_pid) if server_pid else 0.0
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=Path(__file__).parent.parent)
    if res.returncode:
        raise RuntimeError(f"{mode} failed:\n{res.stderr[-3000:]}")
    row = dict(json.loads(res.stdout.strip().splitlines()[-1]))
    row["server_cpu_s"] = process_cpu_s(server_pid) - server_before if server_pid else 0.0
    return row


def _client(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )


def run_size(
    args: argparse.Namespace, endpoint: str, size_mib: int, tmp: Path, server_pid: int | None = None
) -> dict[str, Any]:
    file = tmp / f"data-{size_mib}.bin"
    write_random(file, size_mib)
    s3 = _client(endpoint)
    source = f"source/{size_mib}"  # what both sides download
    s3.upload_file(str(file), BUCKET, source)
    rows: dict[str, Any] = {}
    for op in ("upload", "download"):
        all_runs: dict[str, list[dict[str, Any]]] = {"hook": [], "boto3": []}
        for rep in range(args.reps):
            # interleaved, and who goes first alternates: drift (load, moto's memory) hits both alike
            for who in ("hook", "boto3") if rep % 2 == 0 else ("boto3", "hook"):
                key = f"{who}/{size_mib}" if op == "upload" else source
                all_runs[who].append(measure(args, endpoint, f"{who}-{op}", file, key, server_pid))
                if op == "upload":
                    s3.delete_object(Bucket=BUCKET, Key=key)  # untimed: moto holds the same data each run
        for who, runs in all_runs.items():
            secs = statistics.median(r["seconds"] for r in runs)
            rows[f"{who}-{op}"] = {
                "median_s": secs,
                "mib_per_s": size_mib / secs,
                "rss_peak_mib": max(r["rss_peak_mib"] for r in runs),
                "rss_setup_mib": max(r["rss_setup_mib"] for r in runs),
                "runs_s": [r["seconds"] for r in runs],
                "cpu_s": [r["cpu_s"] for r in runs],
                "server_cpu_s": [r["server_cpu_s"] for r in runs],
            }
        rows[f"ratio-{op}"] = rows[f"hook-{op}"]["mib_per_s"] / rows[f"boto3-{op}"]["mib_per_s"]
    s3.delete_object(Bucket=BUCKET, Key=source)
    file.unlink()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--small-mib", type=int, default=64, help="second, smaller size for the memory check")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--chunk-mib", type=int, default=8, help="multipart threshold and part size")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.mode = args.child
        child(args)
        return

    proc, endpoint = start_moto()
    results: dict[str, Any] = {"settings": {**_settings(args), "reps": args.reps, "cpus": os.cpu_count()}, "sizes": {}}
    try:
        _client(endpoint).create_bucket(Bucket=BUCKET)
        with tempfile.TemporaryDirectory(prefix="bench-artifacts-") as tmp:
            for size in sorted({args.small_mib, args.size_mib}):
                results["sizes"][str(size)] = run_size(args, endpoint, size, Path(tmp), proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    print(
        f"{'size MiB':>8} {'op':<9} {'hook MiB/s':>10} {'boto3 MiB/s':>11} {'hook/boto3':>10} "
        f"{'hook peak RSS':>13} {'boto3 peak RSS':>14}"
    )
    for size, rows in results["sizes"].items():
        for op in ("upload", "download"):
            h, b = rows[f"hook-{op}"], rows[f"boto3-{op}"]
            print(
                f"{size:>8} {op:<9} {h['mib_per_s']:>10.1f} {b['mib_per_s']:>11.1f} {rows[f'ratio-{op}']:>10.2f} "
                f"{h['rss_peak_mib']:>10.0f} MiB {b['rss_peak_mib']:>11.0f} MiB"
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
