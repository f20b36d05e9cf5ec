"""xml2bq on Cloud Composer: load XML exports into BigQuery, one Kubernetes pod per shard.

Each pod runs the xml2bq image with ``load --shard i/N``; together the N pods cover every
input file exactly once. The destination's ledger (a table in the dataset) records each
object version loaded, so a scheduled run over one fixed prefix loads only the objects that
arrived since the last run, a retried pod never duplicates rows, and a run stopped part-way
is finished by the next one. With ``xml2bq_archive`` set, loaded objects are moved there;
with ``xml2bq_write`` = merge, re-delivered records replace their rows (upserts by key). Each pod writes its run report to
``/airflow/xcom/return.json``, which becomes the task's XCom; a final task reads all the
reports and fails the run when any shard failed or (configurably) any file was dead-lettered.

Airflow Variables (read when the DAG is parsed; the run-time ones can be overridden per run
with the DAG's params):

=========================  ==========================================================  =========
Variable                   meaning                                                     default
=========================  ==========================================================  =========
xml2bq_image               the image in Artifact Registry                              xml2bq:latest
xml2bq_input               gs://BUCKET/PREFIX/*.xml                                    (required)
xml2bq_dest                bq://PROJECT.DATASET                                        (required)
xml2bq_dead_letter         gs://BUCKET/PREFIX for invalid files                        (required)
xml2bq_staging             gs://BUCKET/PREFIX for Parquet staging; empty: in-request   ""
xml2bq_archive             gs://BUCKET/PREFIX loaded objects move to; empty: they stay ""
xml2bq_write               append, or merge (upsert by key; truncate is refused here)  append
xml2bq_key                 with merge: --key values, space-separated (TABLE=COL[,COL]) ""
xml2bq_shards              number of pods                                              4
xml2bq_namespace           Kubernetes namespace of the pods                            composer-user-workloads
xml2bq_service_account     Kubernetes service account (Workload Identity, no keys)     xml2bq
xml2bq_schedule            cron expression or preset; empty: manual runs only          ""
xml2bq_retries             retries of a failed shard                                   2
xml2bq_fail_on_invalid     "true": fail the run when a file was dead-lettered          true
=========================  ==========================================================  =========
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from kubernetes.client import models as k8s

from airflow.exceptions import AirflowFailException
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

try:  # Airflow 3
    from airflow.sdk import DAG, Param, Variable, task
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.decorators import task
    from airflow.models import Variable
    from airflow.models.param import Param

DAG_ID = "xml2bq_load"
XCOM_RETURN = "/airflow/xcom/return.json"


def var(name: str, default: str) -> str:
    """An Airflow Variable at parse time: the environment (AIRFLOW_VAR_*) first, then the
    metastore; the default when neither has it or the metastore cannot be reached."""
    env = os.environ.get(f"AIRFLOW_VAR_{name.upper()}")
    if env is not None:
        return env
    try:
        try:
            value = Variable.get(name, default=None)  # Airflow 3
        except TypeError:
            value = Variable.get(name, default_var=None)  # Airflow 2
    except Exception:  # noqa: BLE001 - no metastore while parsing: use the default
        value = None
    return default if value is None else value


IMAGE = var("xml2bq_image", "xml2bq:latest")
NAMESPACE = var("xml2bq_namespace", "composer-user-workloads")
SERVICE_ACCOUNT = var("xml2bq_service_account", "xml2bq")
SCHEDULE = var("xml2bq_schedule", "") or None
RETRIES = int(var("xml2bq_retries", "2"))


def shard_arguments_for(params: dict) -> list[list[str]]:
    """The xml2bq arguments of each shard's pod."""
    missing = [k for k in ("input", "dest", "dead_letter") if not str(params.get(k) or "").strip()]
    if missing:
        raise AirflowFailException(f"set the Variables or params {', '.join('xml2bq_' + m for m in missing)}")
    shards = int(params["shards"])
    if shards < 1:
        raise AirflowFailException(f"shards must be at least 1, not {shards}")
    base = [
        "load", params["input"],
        "--dest", params["dest"],
        "--dead-letter", params["dead_letter"],
        "--report", XCOM_RETURN,
        # Invalid files are a final state (dead-lettered, listed in the report): the pod
        # succeeds and check_reports decides. Exit code 1 (retry-worthy) still fails it.
        "--allow-invalid",
    ]
    if str(params.get("staging") or "").strip():
        base += ["--staging", params["staging"]]
    if str(params.get("archive") or "").strip():
        base += ["--archive", params["archive"]]
    write = str(params.get("write") or "append").strip()
    if write not in ("append", "merge"):
        # truncate in N shards would leave each table holding one shard's rows.
        raise AirflowFailException(f"write must be append or merge, not {write!r}")
    keys = str(params.get("key") or "").split()
    if keys and write != "merge":
        raise AirflowFailException("key is only used with write = merge")
    if write == "merge":
        base += ["--write", "merge"]
        for k in keys:
            base += ["--key", k]
    return [base + ["--shard", f"{i}/{shards}"] for i in range(shards)]


def check(reports: list, params: dict) -> dict:
    """Fails unless every shard reported success (and, if asked, nothing was dead-lettered)."""
    shards = int(params["shards"])
    got = [r for r in (reports or []) if r]
    problems = []
    if len(got) < shards:
        problems.append(f"{shards - len(got)} of {shards} shards did not finish (no report)")
    totals = {"files": 0, "loaded": 0, "skipped": 0, "dead_lettered": 0, "failed": 0}
    for r in got:
        t = r.get("totals", {})
        for k in totals:
            totals[k] += int(t.get(k, 0))
        for load in r.get("loads", []):
            if load.get("state") == "failed":
                problems.append(f"shard {r.get('shard')}: table {load.get('table')} not loaded: {load.get('error')}")
    if totals["failed"]:
        problems.append(f"{totals['failed']} files could not be read or written (left in place)")
    fail_on_invalid = str(params.get("fail_on_invalid", True)).lower() in ("true", "1", "yes")
    if fail_on_invalid and totals["dead_lettered"]:
        problems.append(f"{totals['dead_lettered']} invalid files were dead-lettered to {params.get('dead_letter')}")
    if problems:
        raise AirflowFailException("; ".join(problems))
    return totals


with DAG(
    dag_id=DAG_ID,
    description="Load XML exports into BigQuery with xml2bq, one pod per shard",
    schedule=SCHEDULE,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["xml2bq", "bigquery"],
    params={
        "input": Param(var("xml2bq_input", ""), type="string"),
        "dest": Param(var("xml2bq_dest", ""), type="string"),
        "dead_letter": Param(var("xml2bq_dead_letter", ""), type="string"),
        "staging": Param(var("xml2bq_staging", ""), type="string"),
        "archive": Param(var("xml2bq_archive", ""), type="string"),
        "write": Param(var("xml2bq_write", "append"), type="string", enum=["append", "merge"]),
        "key": Param(var("xml2bq_key", ""), type="string"),
        "shards": Param(int(var("xml2bq_shards", "4")), type="integer", minimum=1),
        "fail_on_invalid": Param(var("xml2bq_fail_on_invalid", "true").lower() == "true", type="boolean"),
    },
) as dag:

    @task
    def shard_arguments(params=None) -> list[list[str]]:
        return shard_arguments_for(params)

    load = KubernetesPodOperator.partial(
        task_id="load_shard",
        name="xml2bq",
        image=IMAGE,
        namespace=NAMESPACE,
        service_account_name=SERVICE_ACCOUNT,
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
        container_resources=k8s.V1ResourceRequirements(
            requests={"cpu": "2", "memory": "1Gi"}, limits={"memory": "2Gi"}
        ),
        # Parquet parts are written under /tmp before they are loaded.
        volumes=[k8s.V1Volume(name="work", empty_dir=k8s.V1EmptyDirVolumeSource())],
        volume_mounts=[k8s.V1VolumeMount(name="work", mount_path="/tmp")],
        retries=RETRIES,
        retry_delay=timedelta(minutes=1),
        retry_exponential_backoff=True,
    ).expand(arguments=shard_arguments())

    @task(trigger_rule="all_done")
    def check_reports(params=None, ti=None) -> dict:
        return check(list(ti.xcom_pull(task_ids="load_shard") or []), params)

    load >> check_reports()
