"""The Composer DAG, imported by a real Airflow with the cncf.kubernetes provider."""

import os

import pytest

from conftest import ROOT

os.environ.update(
    {
        "AIRFLOW_VAR_XML2BQ_IMAGE": "us-central1-docker.pkg.dev/p/xml2bq/xml2bq:1.2.3",
        "AIRFLOW_VAR_XML2BQ_SERVICE_ACCOUNT": "xml2bq-ksa",
        "AIRFLOW_VAR_XML2BQ_NAMESPACE": "etl",
        "AIRFLOW_VAR_XML2BQ_INPUT": "gs://in/exports/*.xml",
        "AIRFLOW_VAR_XML2BQ_DEST": "bq://p.sales",
        "AIRFLOW_VAR_XML2BQ_DEAD_LETTER": "gs://in/invalid",
        "AIRFLOW_VAR_XML2BQ_SHARDS": "3",
        "AIRFLOW_VAR_XML2BQ_SCHEDULE": "@daily",
        "AIRFLOW_VAR_XML2BQ_RETRIES": "3",
    }
)


@pytest.fixture(scope="module")
def bag():
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow 3

        return DagBag(dag_folder=str(ROOT / "dags"))
    except ImportError:
        from airflow.models.dagbag import DagBag

        return DagBag(dag_folder=str(ROOT / "dags"), include_examples=False)


@pytest.fixture(scope="module")
def dag(bag):
    return bag.dags["xml2bq_load"]


def params(**over):
    p = {"input": "gs://in/exports/*.xml", "dest": "bq://p.sales", "dead_letter": "gs://in/invalid",
         "staging": "", "shards": 3, "fail_on_invalid": True}
    p.update(over)
    return p


def test_imports_without_errors(bag):
    assert bag.import_errors == {}
    assert list(bag.dags) == ["xml2bq_load"]


def test_tasks_and_schedule(dag):
    assert sorted(dag.task_ids) == ["check_reports", "load_shard", "shard_arguments"]
    assert dag.get_task("load_shard").upstream_task_ids == {"shard_arguments"}
    assert dag.get_task("check_reports").upstream_task_ids == {"load_shard"}
    assert dag.get_task("check_reports").trigger_rule == "all_done"
    assert dag.params["shards"] == 3
    assert str(getattr(dag, "schedule", None) or dag.timetable.summary) in ("@daily", "0 0 * * *")


def test_pods_image_service_account_and_xcom(dag):
    pod = dag.get_task("load_shard")
    kw = pod.partial_kwargs
    assert kw["image"] == "us-central1-docker.pkg.dev/p/xml2bq/xml2bq:1.2.3"
    assert kw["service_account_name"] == "xml2bq-ksa"
    assert kw["namespace"] == "etl"
    assert kw["do_xcom_push"] is True
    assert kw["retries"] == 3
    # No key files: nothing mounts a secret or sets GOOGLE_APPLICATION_CREDENTIALS.
    assert not kw.get("secrets")
    assert "GOOGLE_APPLICATION_CREDENTIALS" not in str(kw.get("env_vars"))
    # The arguments are mapped from shard_arguments' output.
    assert "arguments" in str(pod.expand_input.value)


def test_each_of_three_pods_gets_its_own_shard(dag):
    fn = dag.get_task("shard_arguments").python_callable
    args = fn(params=params())
    assert len(args) == 3
    for i, a in enumerate(args):
        assert a[:2] == ["load", "gs://in/exports/*.xml"]
        assert a[a.index("--shard") + 1] == f"{i}/3"
        assert a[a.index("--report") + 1] == "/airflow/xcom/return.json"
        assert a[a.index("--dest") + 1] == "bq://p.sales"
        assert a[a.index("--dead-letter") + 1] == "gs://in/invalid"
        assert "--allow-invalid" in a and "--staging" not in a
    staged = fn(params=params(staging="gs://tmp/x", shards=2))
    assert [a[a.index("--staging") + 1] for a in staged] == ["gs://tmp/x", "gs://tmp/x"]
    assert all("--archive" not in a for a in args + staged)
    archived = fn(params=params(archive="gs://in/done", shards=2))
    assert [a[a.index("--archive") + 1] for a in archived] == ["gs://in/done", "gs://in/done"]
    assert all("--write" not in a for a in args)
    merged = fn(params=params(write="merge", key="customers=CustomerID orders=_source_uri,_record_ordinal"))
    assert merged[2][merged[2].index("--write"):][:6] == [
        "--write", "merge", "--key", "customers=CustomerID", "--key", "orders=_source_uri,_record_ordinal"]
    with pytest.raises(Exception, match="write must be append or merge"):
        fn(params=params(write="truncate"))
    with pytest.raises(Exception, match="only used with write = merge"):
        fn(params=params(key="customers=CustomerID"))
    with pytest.raises(Exception, match="xml2bq_dest"):
        fn(params=params(dest=""))


def report(shard, dead=0, failed=0, table_failed=False):
    loads = [{"table": "orders", "state": "failed" if table_failed else "loaded", "error": "boom"}]
    return {"shard": shard, "exit_code": 0,
            "totals": {"files": 5, "loaded": 4 - dead - failed, "skipped": 1, "dead_lettered": dead, "failed": failed},
            "loads": loads}


def test_the_final_check_reads_every_report(dag):
    from airflow.exceptions import AirflowFailException

    fn = dag.get_task("check_reports").python_callable

    class TI:
        def __init__(self, reports):
            self.reports = reports

        def xcom_pull(self, task_ids):
            assert task_ids == "load_shard"
            return self.reports

    ok = fn(params=params(), ti=TI([report("0/3"), report("1/3"), report("2/3")]))
    assert ok == {"files": 15, "loaded": 12, "skipped": 3, "dead_lettered": 0, "failed": 0}
    with pytest.raises(AirflowFailException, match="1 of 3 shards did not finish"):
        fn(params=params(), ti=TI([report("0/3"), None, report("2/3")]))
    with pytest.raises(AirflowFailException, match="2 invalid files were dead-lettered"):
        fn(params=params(), ti=TI([report("0/3", dead=2), report("1/3"), report("2/3")]))
    assert fn(params=params(fail_on_invalid=False), ti=TI([report("0/3", dead=2), report("1/3"), report("2/3")]))["dead_lettered"] == 2
    with pytest.raises(AirflowFailException, match="table orders not loaded"):
        fn(params=params(), ti=TI([report("0/3", table_failed=True), report("1/3"), report("2/3")]))
