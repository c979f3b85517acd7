"""Issue 5: hash-based caching, run for real through Airflow (dag.test on SQLite).

Every component of ``tests.pipelines.caching`` appends its name to ``KFP_CACHE_TEST_LOG`` when it
really runs, so "nothing ran" is observed, not assumed.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

CHAIN = "tests.pipelines.caching:chain"
TASKS = {"prep", "train", "evaluate", "side"}


@pytest.fixture
def ran(tmp_path, monkeypatch):
    """``ran()`` returns the components that really ran since the last call."""
    log = tmp_path / "ran.log"
    log.touch()
    monkeypatch.setenv("KFP_CACHE_TEST_LOG", str(log))
    seen = {"n": 0}

    def since_last() -> list[str]:
        lines = log.read_text().splitlines()
        new, seen["n"] = lines[seen["n"] :], len(lines)
        return sorted(new)

    return since_last


def hits(result) -> set[str]:
    return {t for t, m in result.manifests.items() if isinstance(t, str) and m["cache"]["hit"]}


def outputs(result, task_id):
    m = result.manifest(task_id)
    return m["parameters"], {k: (v["uri"], v["digest"], v["size"]) for k, v in m["artifacts"].items()}


def entries(root: Path) -> list[Path]:
    return sorted((root / ".cache").rglob("*.json"))


def test_identical_rerun_hits_everywhere_and_runs_nothing(dag_runner, artifact_root, ran, capfd):
    first = dag_runner.run_pipeline(CHAIN)
    assert first.state == "success"
    assert ran() == sorted(TASKS)
    assert hits(first) == set()
    assert all(first.manifest(t)["cache"]["key"] for t in TASKS)
    assert len(entries(artifact_root)) == 4
    capfd.readouterr()

    second = dag_runner.run_pipeline(CHAIN)
    out = capfd.readouterr().out
    assert second.state == "success"
    assert ran() == []  # no subprocess ran any component
    assert hits(second) == TASKS
    for task in TASKS:
        m1, m2 = first.manifest(task), second.manifest(task)
        assert outputs(first, task) == outputs(second, task)  # the original URIs, same bytes
        assert m2["cache"]["key"] == m1["cache"]["key"]
        assert m2["cache"]["source_run_id"] == first.dag_run.run_id
        assert m2["cache"]["source_task_id"] == task
        assert m2["run_id"] == second.dag_run.run_id
        for name, record in m2["artifacts"].items():
            assert record["producer_cache_key"] == m1["artifacts"][name]["producer_cache_key"]
    assert f"Cache hit: reusing the outputs of DAG 'cache-chain', run '{first.dag_run.run_id}', task 'train'" in out
    assert first.manifest("train")["cache"]["key"] in out

    link = _api_server_link(second, "train")
    assert link.endswith(f"/dags/cache-chain/runs/{quote(first.dag_run.run_id, safe='')}/tasks/train")
    assert _api_server_link(first, "train") is None  # a miss has no cache source
    # no task stored a link in XCom: the plugin builds it from the manifest when it is shown
    assert _xcom(second, "train", "_link_CacheSourceLink") is None


def _api_server_link(result, task_id):
    """The "Cache source" link as the api-server computes it: the serialized task, deserialized
    with the package's plugin links (what Airflow's extra-links endpoint calls)."""
    from airflow.models.serialized_dag import SerializedDagModel
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        dag = SerializedDagModel.get_dag(result.dag.dag_id, session=session)
        task = dag.get_task(task_id)
        assert "Cache source" in task.extra_links
        ti = session.scalars(
            TaskInstance.__table__.select()
            .where(TaskInstance.run_id == result.dag_run.run_id, TaskInstance.task_id == task_id)
            .with_only_columns(TaskInstance.id)
        ).first()
        ti = session.get(TaskInstance, ti)
        return task.get_extra_links(ti, "Cache source") or None


def _xcom(result, task_id, key):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(
            XComModel.get_many(run_id=result.dag_run.run_id, dag_ids=result.dag.dag_id, task_ids=task_id, key=key)
        ).first()
        return None if row is None else XComModel.deserialize_value(row)


def test_a_change_misses_exactly_that_task_and_those_downstream(dag_runner, artifact_root, ran):
    base = dag_runner.run_pipeline(CHAIN)
    assert ran() == sorted(TASKS)

    changed_param = dag_runner.run_pipeline(CHAIN, conf={"lr": 0.2})
    assert ran() == ["evaluate", "train"]
    assert hits(changed_param) == {"prep", "side"}
    assert changed_param.manifest("train")["parameters"]["Output"] == 2.0  # 0.2 * (0+1+2+3+4)

    changed_code = dag_runner.run_pipeline("tests.pipelines.caching_changed:chain_new_code")
    assert ran() == ["evaluate", "train"]
    assert hits(changed_code) == {"prep", "side"}
    assert changed_code.manifest("train")["parameters"]["Output"] == 2.0  # 0.1 * 2 * 10

    changed_image = dag_runner.run_pipeline("tests.pipelines.caching:chain_new_image")
    assert ran() == ["evaluate", "train"]  # same bytes from train, but its key changed: downstream re-runs
    assert hits(changed_image) == {"prep", "side"}

    changed_env = dag_runner.run_pipeline("tests.pipelines.caching:chain_new_env")
    assert ran() == ["evaluate", "train"]
    assert hits(changed_env) == {"prep", "side"}

    changed_upstream_param = dag_runner.run_pipeline(CHAIN, conf={"n_rows": 6})
    assert ran() == ["evaluate", "prep", "train"]
    assert hits(changed_upstream_param) == {"side"}

    new_version = dag_runner.run_pipeline(CHAIN, cache_version="2")
    assert ran() == sorted(TASKS)
    assert hits(new_version) == set()
    keys = {t: base.manifest(t)["cache"]["key"] for t in TASKS}
    assert all(new_version.manifest(t)["cache"]["key"] != keys[t] for t in TASKS)

    again = dag_runner.run_pipeline(CHAIN)  # the original entries are all still there
    assert ran() == []
    assert {t: again.manifest(t)["cache"]["source_run_id"] for t in TASKS} == dict.fromkeys(TASKS, base.dag_run.run_id)


def test_custom_cache_key_replaces_the_computed_one(dag_runner, artifact_root, ran):
    ref = "tests.pipelines.caching:chain_custom_key"
    first = dag_runner.run_pipeline(ref)
    assert ran() == sorted(TASKS)
    other_lr = dag_runner.run_pipeline(ref, conf={"lr": 0.5})
    # As in KFP: the key set on train stands for the step, whatever its inputs; train's cached model
    # (same bytes) and score then make evaluate a hit too.
    assert ran() == []
    assert hits(other_lr) == TASKS
    assert other_lr.manifest("train")["parameters"] == first.manifest("train")["parameters"]


@pytest.fixture
def source_file(tmp_path, monkeypatch):
    path = tmp_path / "source.txt"
    monkeypatch.setenv("KFP_CACHE_TEST_SOURCE", str(path))
    return path


def test_upstream_with_caching_off_keys_downstream_by_content(dag_runner, artifact_root, ran, source_file):
    ref = "tests.pipelines.caching:upstream_off"
    source_file.write_text("a\nb\n")
    first = dag_runner.run_pipeline(ref)
    assert ran() == ["count_lines", "snapshot"]
    assert [p.parent.name for p in entries(artifact_root)] == ["count-lines"]  # nothing recorded for snapshot

    same_bytes = dag_runner.run_pipeline(ref)
    assert ran() == ["snapshot"]  # snapshot always runs; identical bytes: its consumer may reuse its result
    assert hits(same_bytes) == {"count-lines"}
    assert same_bytes.manifest("snapshot")["cache"] == {**first.manifest("snapshot")["cache"]}
    assert same_bytes.manifest("snapshot")["cache"]["key"]  # the key is computed even with caching off
    assert same_bytes.manifest("count-lines")["parameters"]["Output"] == 2

    source_file.write_text("a\nb\nc\n")
    new_bytes = dag_runner.run_pipeline(ref)
    assert ran() == ["count_lines", "snapshot"]
    assert hits(new_bytes) == set()
    assert new_bytes.manifest("count-lines")["parameters"]["Output"] == 3
    old = first.manifest("snapshot")["artifacts"]["data"]["producer_cache_key"]
    assert new_bytes.manifest("snapshot")["artifacts"]["data"]["producer_cache_key"] != old


def _backdate(root: Path, seconds: float) -> None:
    for path in entries(root):
        document = json.loads(path.read_text())
        document["created_at"] -= seconds
        path.write_text(json.dumps(document))


def test_expired_entries_miss_at_task_pipeline_and_deployment_level(dag_runner, artifact_root, ran, monkeypatch):
    first = dag_runner.run_pipeline(CHAIN)
    assert ran() == sorted(TASKS)
    _backdate(artifact_root, 2 * 3600)

    within = dag_runner.run_pipeline(CHAIN, max_cache_staleness="3h")
    assert ran() == []
    assert hits(within) == TASKS

    task_level = dag_runner.run_pipeline("tests.pipelines.caching:chain_train_stale_after_1h")
    assert ran() == ["train"]  # train's own max_staleness; it wrote identical bytes, so evaluate still hits
    assert hits(task_level) == {"prep", "evaluate", "side"}

    monkeypatch.setenv("AIRFLOW__KFP__MAX_CACHE_STALENESS", "1h")
    deployment = dag_runner.run_pipeline(CHAIN)
    assert ran() == ["evaluate", "prep", "side"]  # train's entry was renewed by the previous run
    assert hits(deployment) == {"train"}
    assert deployment.manifest("train")["cache"]["source_run_id"] == task_level.dag_run.run_id

    renewed = dag_runner.run_pipeline(CHAIN)  # the stale entries were replaced, not kept
    assert ran() == []
    sources = {t: renewed.manifest(t)["cache"]["source_run_id"] for t in TASKS}
    assert sources == {
        "prep": deployment.dag_run.run_id,
        "train": task_level.dag_run.run_id,
        "evaluate": deployment.dag_run.run_id,
        "side": deployment.dag_run.run_id,
    }
    assert first.dag_run.run_id not in sources.values()
    assert len(entries(artifact_root)) == 4


def test_an_entry_whose_artifact_was_deleted_misses_and_the_task_runs(dag_runner, artifact_root, ran, capfd):
    first = dag_runner.run_pipeline(CHAIN)
    ran()
    first.artifact_path("prep", "data").unlink()
    capfd.readouterr()

    second = dag_runner.run_pipeline(CHAIN)
    out = capfd.readouterr().out
    assert second.state == "success"
    assert ran() == ["prep"]  # identical bytes again, so train keeps its hit
    assert hits(second) == {"train", "evaluate", "side"}
    assert "its output artifact 'data'" in out and "no longer exists" in out
    assert second.artifact_path("prep", "data").read_text() == "x\n0\n1\n2\n3\n4\n"
    new_uri = second.manifest("prep")["artifacts"]["data"]["uri"]
    assert new_uri != first.manifest("prep")["artifacts"]["data"]["uri"]  # written by this run


def test_a_corrupt_entry_is_a_miss_with_a_warning(dag_runner, artifact_root, ran, capfd):
    first = dag_runner.run_pipeline(CHAIN)
    ran()
    key = first.manifest("train")["cache"]["key"]
    [entry] = (artifact_root / ".cache").glob(f"dag=3Acache-chain/cache-chain/train/{key}.json")
    entry.write_bytes(entry.read_bytes()[:40])  # a torn write from some other tool
    capfd.readouterr()

    second = dag_runner.run_pipeline(CHAIN)
    out = capfd.readouterr().out
    assert second.state == "success"
    assert ran() == ["train"]
    assert "is unreadable" in out and str(entry) in out
    assert json.loads(entry.read_text())["key"] == key  # replaced by a complete entry
    assert dag_runner.run_pipeline(CHAIN).manifest("train")["cache"]["hit"] is True


def test_a_failed_try_is_never_cached_and_the_retry_runs(dag_runner, artifact_root, ran):
    first = dag_runner.run_pipeline("tests.pipelines.caching:retried")
    assert first.state == "success"
    assert ran() == ["flaky", "flaky"]  # the failing first try, then the retry
    [entry] = entries(artifact_root)
    assert json.loads(entry.read_text())["manifest"]["parameters"] == {"Output": 6}
    second = dag_runner.run_pipeline("tests.pipelines.caching:retried")
    assert ran() == [] and hits(second) == {"flaky"}

    for _ in range(2):
        failed = dag_runner.run_pipeline("tests.pipelines.caching:failing")
        assert failed.state == "failed"
        assert ran() == ["always_fails"]  # runs again every time: a failure is never recorded
    assert not list((artifact_root / ".cache").glob("*/*/always-fails"))


def test_caching_off_per_task_pipeline_run_and_deployment(dag_runner, artifact_root, ran, monkeypatch):
    base = dag_runner.run_pipeline(CHAIN)
    assert ran() == sorted(TASKS)

    task_off = dag_runner.run_pipeline("tests.pipelines.caching:chain_side_uncached")
    assert ran() == ["side"]
    assert hits(task_off) == {"prep", "train", "evaluate"}

    pipeline_off = dag_runner.run_pipeline(CHAIN, enable_caching=False)
    assert ran() == sorted(TASKS)

    run_off = dag_runner.run_pipeline(CHAIN, conf={"kfp_enable_caching": False, "lr": 0.1})
    assert run_off.state == "success"  # Airflow's Param validation accepts the extra conf key
    assert ran() == sorted(TASKS)

    monkeypatch.setenv("AIRFLOW__KFP__ENABLE_CACHING", "False")
    deployment_off = dag_runner.run_pipeline(CHAIN)
    assert ran() == sorted(TASKS)
    monkeypatch.delenv("AIRFLOW__KFP__ENABLE_CACHING")

    for off in (pipeline_off, run_off, deployment_off):
        assert hits(off) == set()
        assert {t: off.manifest(t)["cache"]["key"] for t in TASKS} == {
            t: base.manifest(t)["cache"]["key"] for t in TASKS
        }
    back_on = dag_runner.run_pipeline(CHAIN)
    assert ran() == []  # the runs with caching off neither read nor wrote the index
    assert {back_on.manifest(t)["cache"]["source_run_id"] for t in TASKS} == {base.dag_run.run_id}


def _racing_writes(store, uri, key, n, replaces=None):
    from airflow_kfp.cache.index import CacheEntry, CacheSource, write_entry

    barrier = threading.Barrier(n)
    written: dict[int, bool] = {}
    errors: list[BaseException] = []

    def racer(i: int) -> None:
        entry = CacheEntry(
            key=key,
            created_at=time.time(),
            source=CacheSource(dag_id="d", run_id=f"run-{i}", task_id="t"),
            scope="dag:d",
            pipeline="p",
            manifest={"parameters": {"Output": i}, "artifacts": {}},
        )
        barrier.wait()
        try:
            written[i] = write_entry(store, uri, entry, replaces=replaces)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return written


@pytest.fixture(params=["local", "s3"])
def any_store(request, tmp_path, monkeypatch):
    from airflow_kfp.stores.factory import get_artifact_store

    if request.param == "local":
        return get_artifact_store(str(tmp_path / "root"))
    bucket = request.getfixturevalue("s3_bucket")
    endpoint = request.getfixturevalue("moto_server")
    monkeypatch.setenv(
        "AIRFLOW_CONN_KFP_S3",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "testing",
                "password": "testing",
                "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"},
            }
        ),
    )
    return get_artifact_store(f"s3://{bucket}/root", "kfp_s3")


def test_runs_racing_on_one_key_leave_one_complete_entry(any_store):
    from airflow_kfp.cache.index import entry_uri, parse_entry

    key = "ab" * 32
    uri = entry_uri(any_store, "train", key, scope="dag:d", pipeline="p")
    written = _racing_writes(any_store, uri, key, 6)
    assert sorted(written.values()) == [False] * 5 + [True]  # the first complete result wins
    winner = next(i for i, ok in written.items() if ok)
    entry = parse_entry(any_store.read_bytes(uri), key, scope="dag:d", pipeline="p")
    assert entry.source.run_id == f"run-{winner}" and entry.manifest["parameters"] == {"Output": winner}

    # Racers that all found the same stale entry: it is replaced once, by one complete entry.
    stale = any_store.read_bytes(uri)
    written = _racing_writes(any_store, uri, key, 6, replaces=stale)
    assert any(written.values())
    entry = parse_entry(any_store.read_bytes(uri), key, scope="dag:d", pipeline="p")
    now_there = int(entry.source.run_id.split("-")[1])
    assert written[now_there] is True  # the entry is whole and is the one a racer reported writing
    assert entry.manifest["parameters"] == {"Output": now_there}
    assert any_store.list_uris(any_store.uri_for(".cache") + "/") == [uri]  # no temporary files left


@pytest.fixture
def k8s_cluster(tmp_path, s3_bucket, moto_server, monkeypatch):
    """The Kubernetes runner against moto S3 and the fake Kubernetes API server, whose kubelet runs
    each pod's containers as local processes (the Kubernetes runner's own test harness)."""
    import json

    from tests.kubernetes.fake import fake_cluster

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server)
    monkeypatch.setenv("AIRFLOW__KFP__ARTIFACT_ROOT", f"s3://{s3_bucket}/root")
    with fake_cluster(tmp_path / "cluster") as cluster:
        config = cluster.kubeconfig(tmp_path / "kubeconfig")
        conn = {"conn_type": "kubernetes", "extra": {"kube_config_path": str(config)}}
        monkeypatch.setenv("AIRFLOW_CONN_KFP_FAKE_K8S", json.dumps(conn))
        monkeypatch.setenv("AIRFLOW__KFP__KUBERNETES_CONN_ID", "kfp_fake_k8s")
        yield cluster


def test_kubernetes_runner_starts_no_pod_on_a_hit(dag_runner, k8s_cluster, ran):
    first = dag_runner.run_pipeline(CHAIN, runner="kubernetes")
    assert first.state == "success", first.states
    assert sorted(p["metadata"]["labels"]["task_id"] for p in k8s_cluster.created) == sorted(TASKS)
    for pod in k8s_cluster.created:  # the pod carries its cache key (first 40 hex digits)
        task = pod["metadata"]["labels"]["task_id"]
        assert first.manifest(task)["cache"]["key"].startswith(pod["metadata"]["labels"]["airflow-kfp/cache-key"])

    second = dag_runner.run_pipeline(CHAIN, runner="kubernetes")
    assert second.state == "success"
    assert len(k8s_cluster.created) == 4  # no pod was created for any task
    assert hits(second) == TASKS
    assert all(outputs(first, t) == outputs(second, t) for t in TASKS)

    changed = dag_runner.run_pipeline(CHAIN, runner="kubernetes", conf={"tag": "b"})
    assert changed.state == "success"
    assert [p["metadata"]["labels"]["task_id"] for p in k8s_cluster.created[4:]] == ["side"]
    assert hits(changed) == {"prep", "train", "evaluate"}
    assert changed.manifest("side")["parameters"]["Output"] == "B"

    local = dag_runner.run_pipeline(CHAIN)  # the local runner ignores images: it does not reuse pod results
    assert ran() == sorted(TASKS) and hits(local) == set()
