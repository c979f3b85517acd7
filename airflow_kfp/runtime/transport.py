"""What every pod-side HTTP transfer shares: chunk size, retries, its error and its log line.

Standard library only. Kept apart from ``staging`` (what to move) and ``transfer`` (large transfers)
so that neither imports the other to reach them.
"""

from __future__ import annotations

import sys
import time
import urllib.error
from typing import Any

from airflow_kfp.core.errors import AirflowKfpError

CHUNK = 1024 * 1024
ATTEMPTS = 4


class StagingError(AirflowKfpError):
    """A transfer that failed for good; the message names the artifact URI, never a signed URL."""


def _log(message: str) -> None:
    print(f"[airflow-kfp] {message}", file=sys.stderr, flush=True)


def _retrying(what: str, fn: Any) -> Any:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return fn()
        except urllib.error.HTTPError as exc:
            detail = exc.read(2000).decode("utf-8", "replace")
            if (exc.code < 500 and exc.code not in (408, 429)) or attempt == ATTEMPTS:
                raise StagingError(f"{what}: HTTP {exc.code} {exc.reason}; {_s3_message(detail)}") from None
        except (urllib.error.URLError, OSError) as exc:
            if attempt == ATTEMPTS:
                raise StagingError(f"{what}: {getattr(exc, 'reason', exc)}") from None
        _log(f"{what}: attempt {attempt} failed, retrying")
        time.sleep(min(2**attempt, 20))
    raise AssertionError("unreachable")


def _s3_message(body: str) -> str:
    """The Code/Message of an S3 error body; presigned URLs expire, so say so."""
    for tag in ("Code", "Message"):
        start = body.find(f"<{tag}>")
        if start >= 0:
            body = body.replace(f"<{tag}>", f"{tag}=").replace(f"</{tag}>", " ")
    hint = " (the presigned URL expired: raise [kfp] presigned_url_expiry)" if "expired" in body.lower() else ""
    return " ".join(body.split())[:500] + hint
