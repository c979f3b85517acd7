"""Nothing that grants access to data sits in a pod's spec (issue 22, item 9).

On an S3 root the task document holds the pod's presigned URLs; it goes to the try's own folder in the
store, the pod spec carries only a URL to it that expires shortly after the pod must have started, and
the worker removes it once the pod has finished. Presigned URLs never outlive the credentials that sign
them. Through the real KubernetesPodOperator against the fake API server, outputs on moto's S3.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.kubernetes.conftest import compile_dag
from tests.kubernetes.fake import FakeKubernetes


def test_the_pod_spec_holds_only_a_short_lived_url_to_its_task_document(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str, s3: Any, s3_bucket: str
) -> None:
    run = dag_runner.run_pipeline("tests.pipelines.kube:plain", runner="kubernetes", artifact_root=s3_root)
    assert run.state == "success", run.states
    for pod in fake_k8s.created:
        containers = [*pod["spec"]["containers"], *(pod["spec"].get("initContainers") or [])]
        env = {e["name"]: e.get("value", "") for c in containers for e in c.get("env") or []}
        url = env["AIRFLOW_KFP_TASK_URL"]
        signed = set(re.findall(r"https?://[^\s\"']*X-Amz-Signature[^\s\"']*", json.dumps(pod)))
        assert signed == {url}, "only the task document's URL is signed"
        expires = int(parse_qs(urlparse(url).query)["X-Amz-Expires"][0])
        assert expires == 10 * 60 + 10 * 60  # [kfp] pod_startup_timeout (10m) + 10 minutes, not 12 h
        assert not [k for k in env if k.startswith("AIRFLOW_KFP_TASK_Z")]
    # the documents (and the 12 h URLs in them) are gone once the pods finished
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=s3_bucket).get("Contents") or []]
    assert not [k for k in keys if k.endswith(".kfp-task-document")], keys


def test_presigned_urls_never_outlive_the_credentials_that_sign_them(s3_root: str) -> None:
    from botocore.credentials import RefreshableCredentials

    op = compile_dag(__import__("tests.pipelines.kube", fromlist=["plain"]).plain).get_task("produce")
    settings = op.kfp_settings()
    store = op.artifact_store(settings)
    assert op.url_lifetime(store, 12 * 3600) == 12 * 3600  # access keys: no expiry
    expiry = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    store.client._request_signer._credentials = RefreshableCredentials(
        "AKIDEXAMPLE", "secret", "token", expiry, refresh_using=lambda: {}, method="assume-role"
    )
    capped = op.url_lifetime(store, 12 * 3600)
    assert 3500 < capped <= 3600  # IRSA / an assumed role of 1 h: a 12 h URL would die at 1 h anyway
