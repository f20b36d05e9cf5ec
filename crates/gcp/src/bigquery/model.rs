//! The BigQuery REST resources xml2bq reads, as typed structs: the Job (reference, status,
//! load and DML statistics), the Table (its schema, fields nested in RECORDs) and the answer of
//! `jobs.query` (rows of `f`/`v` cells).
//!
//! Only the fields xml2bq uses are declared; the rest of each answer is ignored. BigQuery
//! sends int64 values as JSON strings (`"outputRows": "23"`): [`int64`] reads both forms.
//! A field BigQuery leaves out or sends as `null` takes its default.

use serde::{Deserialize, Deserializer, Serialize};

/// A field that may be absent or `null`: its default then.
fn null_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An int64 as BigQuery sends it: a JSON string of digits (a number is taken too).
fn int64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Int {
        Text(String),
        Number(u64),
    }
    match Option::<Int>::deserialize(d)? {
        None => Ok(None),
        Some(Int::Number(n)) => Ok(Some(n)),
        Some(Int::Text(s)) => {
            s.parse().map(Some).map_err(|_| serde::de::Error::custom(format!("{s:?} is not an int64")))
        }
    }
}

/// A job (`jobs.get`, `jobs.insert`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    #[serde(default)]
    pub job_reference: Option<JobReference>,
    #[serde(default, deserialize_with = "null_default")]
    pub status: JobStatus,
    #[serde(default, deserialize_with = "null_default")]
    pub statistics: JobStatistics,
}

/// `jobReference`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobReference {
    #[serde(default)]
    pub project_id: String,
    #[serde(default)]
    pub job_id: String,
    #[serde(default)]
    pub location: Option<String>,
}

/// `status`: the state, and the errors of a failed job.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStatus {
    #[serde(default, deserialize_with = "null_default")]
    pub state: JobState,
    /// Set when the job failed.
    #[serde(default)]
    pub error_result: Option<ErrorProto>,
    /// Every error met, fatal or not.
    #[serde(default, deserialize_with = "null_default")]
    pub errors: Vec<ErrorProto>,
}

/// `status.state`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    Pending,
    Running,
    Done,
    /// Absent, or a state this version does not know: not done.
    #[default]
    #[serde(other)]
    Unknown,
}

/// One error of a job (`ErrorProto`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorProto {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `statistics`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStatistics {
    #[serde(default)]
    pub load: Option<LoadStatistics>,
    #[serde(default)]
    pub query: Option<QueryStatistics>,
}

/// `statistics.query`: of a DML statement, what it changed.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryStatistics {
    #[serde(default)]
    pub dml_stats: Option<DmlStats>,
}

/// `statistics.query.dmlStats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DmlStats {
    #[serde(default, deserialize_with = "int64")]
    pub inserted_row_count: Option<u64>,
    #[serde(default, deserialize_with = "int64")]
    pub updated_row_count: Option<u64>,
    #[serde(default, deserialize_with = "int64")]
    pub deleted_row_count: Option<u64>,
}

/// `statistics.load`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadStatistics {
    #[serde(default, deserialize_with = "int64")]
    pub output_rows: Option<u64>,
}

impl Job {
    pub fn is_done(&self) -> bool {
        self.status.state == JobState::Done
    }

    /// The job's failure, as BigQuery gave it (`errorResult` and `errors[]`), if it failed.
    pub fn failure(&self) -> Option<String> {
        let s = &self.status;
        s.error_result.as_ref().map(|e| {
            let text = |v: &ErrorProto| serde_json::to_string(v).unwrap_or_default();
            let all: Vec<String> = s.errors.iter().map(text).collect();
            format!("errorResult: {}; errors: [{}]", text(e), all.join(","))
        })
    }

    /// `statistics.load.outputRows`.
    pub fn output_rows(&self) -> Option<u64> {
        self.statistics.load.as_ref()?.output_rows
    }

    /// `statistics.query.dmlStats`: what a DML statement changed.
    pub fn dml_stats(&self) -> Option<DmlStats> {
        self.statistics.query.as_ref()?.dml_stats
    }
}

/// A table (`tables.get`, `tables.insert`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    #[serde(default)]
    pub table_reference: Option<TableReference>,
    #[serde(default, deserialize_with = "null_default")]
    pub schema: TableSchema,
}

/// `tableReference`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableReference {
    #[serde(default)]
    pub project_id: String,
    #[serde(default)]
    pub dataset_id: String,
    #[serde(default)]
    pub table_id: String,
}

/// `schema`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TableSchema {
    #[serde(default, deserialize_with = "null_default")]
    pub fields: Vec<TableFieldSchema>,
}

/// One column; a RECORD's columns are in `fields`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct TableFieldSchema {
    #[serde(default)]
    pub name: String,
    /// `INT64` or its legacy name `INTEGER`, `RECORD` or `STRUCT`, ...
    #[serde(rename = "type", default)]
    pub field_type: String,
    /// Absent means NULLABLE.
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub fields: Vec<TableFieldSchema>,
}

impl TableFieldSchema {
    /// `NULLABLE`, `REQUIRED` or `REPEATED`.
    pub fn mode(&self) -> &str {
        self.mode.as_deref().unwrap_or("NULLABLE")
    }
}

/// The answer of `jobs.query`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryResponse {
    /// False while the query runs: no rows yet; ask `jobs.getQueryResults` again.
    #[serde(default)]
    pub job_complete: bool,
    #[serde(default)]
    pub job_reference: Option<JobReference>,
    /// More rows follow: ask `jobs.getQueryResults` with this token.
    #[serde(default)]
    pub page_token: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub rows: Vec<TableRow>,
}

/// One row: a cell per column.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TableRow {
    #[serde(default, deserialize_with = "null_default")]
    pub f: Vec<TableCell>,
}

/// One cell: its value as BigQuery writes it in JSON (numbers as strings, NULL as null,
/// a RECORD as `{"f": [...]}`, a REPEATED column as `[{"v": ...}, ...]`).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TableCell {
    #[serde(default)]
    pub v: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_with_int64_as_strings() {
        let job: Job = serde_json::from_str(
            r#"{"kind": "bigquery#job", "id": "p:US.j1",
                "jobReference": {"projectId": "p", "jobId": "j1", "location": "US"},
                "status": {"state": "DONE"},
                "statistics": {"creationTime": "1767268800000",
                               "load": {"inputFiles": "2", "outputRows": "23", "outputBytes": "999"}}}"#,
        )
        .unwrap();
        let r = job.job_reference.as_ref().unwrap();
        assert_eq!((r.project_id.as_str(), r.job_id.as_str(), r.location.as_deref()), ("p", "j1", Some("US")));
        assert!(job.is_done());
        assert_eq!(job.output_rows(), Some(23));
        assert_eq!(job.failure(), None);

        let number: Job =
            serde_json::from_str(r#"{"status": {"state": "DONE"}, "statistics": {"load": {"outputRows": 5}}}"#)
                .unwrap();
        assert_eq!(number.output_rows(), Some(5));
        assert!(serde_json::from_str::<Job>(r#"{"statistics": {"load": {"outputRows": "x"}}}"#).is_err());
    }

    #[test]
    fn a_merge_job_with_dml_stats() {
        let job: Job = serde_json::from_str(
            r#"{"status": {"state": "DONE"}, "configuration": {"jobType": "QUERY"},
                "statistics": {"query": {"statementType": "MERGE", "numDmlAffectedRows": "3",
                  "dmlStats": {"deletedRowCount": "0", "updatedRowCount": "2", "insertedRowCount": "1"}}}}"#,
        )
        .unwrap();
        let want = DmlStats { inserted_row_count: Some(1), updated_row_count: Some(2), deleted_row_count: Some(0) };
        assert_eq!(job.dml_stats(), Some(want));
        assert_eq!(job.output_rows(), None);
        let bare: Job = serde_json::from_str(r#"{"statistics": {"query": {}}}"#).unwrap();
        assert_eq!(bare.dml_stats(), None);
    }

    #[test]
    fn running_failed_and_sparse_jobs() {
        let running: Job = serde_json::from_str(r#"{"status": {"state": "RUNNING"}}"#).unwrap();
        assert_eq!(running.status.state, JobState::Running);
        assert!(!running.is_done());
        assert_eq!(running.output_rows(), None);

        let failed: Job = serde_json::from_str(
            r#"{"status": {"state": "DONE",
                "errorResult": {"reason": "invalid", "message": "bad file", "debugInfo": ""},
                "errors": [{"reason": "invalid", "location": "gs://b/x", "message": "bad file"}]},
                "statistics": null}"#,
        )
        .unwrap();
        assert_eq!(
            failed.failure().as_deref(),
            Some(
                r#"errorResult: {"reason":"invalid","message":"bad file"}; errors: [{"reason":"invalid","location":"gs://b/x","message":"bad file"}]"#
            )
        );

        let sparse: Job = serde_json::from_str(r#"{"status": {"state": "SOMETHING_NEW", "errors": null}}"#).unwrap();
        assert_eq!(sparse.status.state, JobState::Unknown);
        assert!(sparse.status.errors.is_empty());
        let empty: Job = serde_json::from_str("{}").unwrap();
        assert_eq!(empty.status.state, JobState::Unknown);
    }

    #[test]
    fn a_table_with_nested_fields() {
        let t: Table = serde_json::from_str(
            r#"{"kind": "bigquery#table",
                "tableReference": {"projectId": "p", "datasetId": "d", "tableId": "orders"},
                "schema": {"fields": [
                  {"name": "CustomerID", "type": "STRING", "mode": "REQUIRED"},
                  {"name": "ShipInfo", "type": "RECORD", "fields": [
                    {"name": "Freight", "type": "NUMERIC", "mode": "NULLABLE", "precision": "38"},
                    {"name": "Lines", "type": "STRUCT", "mode": "REPEATED", "fields": [
                      {"name": "Qty", "type": "INTEGER"}]}]}]},
                "numRows": "23"}"#,
        )
        .unwrap();
        assert_eq!(t.table_reference.as_ref().unwrap().table_id, "orders");
        let f = &t.schema.fields;
        assert_eq!(f.len(), 2);
        assert_eq!((f[0].name.as_str(), f[0].field_type.as_str(), f[0].mode()), ("CustomerID", "STRING", "REQUIRED"));
        assert_eq!((f[1].field_type.as_str(), f[1].mode()), ("RECORD", "NULLABLE"));
        let ship = &f[1].fields;
        assert_eq!((ship[0].name.as_str(), ship[0].field_type.as_str()), ("Freight", "NUMERIC"));
        assert_eq!((ship[1].name.as_str(), ship[1].mode()), ("Lines", "REPEATED"));
        assert_eq!(
            ship[1].fields,
            vec![TableFieldSchema { name: "Qty".into(), field_type: "INTEGER".into(), mode: None, fields: vec![] }]
        );
        let bare: Table = serde_json::from_str(r#"{"schema": null}"#).unwrap();
        assert!(bare.schema.fields.is_empty());
    }

    #[test]
    fn a_query_response() {
        let q: QueryResponse = serde_json::from_str(
            r#"{"kind": "bigquery#queryResponse", "jobComplete": true, "totalRows": "2",
                "schema": {"fields": [{"name": "n", "type": "INTEGER"}, {"name": "s", "type": "STRING"}]},
                "rows": [{"f": [{"v": "3"}, {"v": null}]},
                         {"f": [{"v": "4"}, {"v": [{"v": "a"}, {"v": "b"}]}]}]}"#,
        )
        .unwrap();
        let cells: Vec<Vec<serde_json::Value>> =
            q.rows.into_iter().map(|r| r.f.into_iter().map(|c| c.v).collect()).collect();
        assert_eq!(
            cells,
            vec![
                vec![serde_json::json!("3"), serde_json::Value::Null],
                vec![serde_json::json!("4"), serde_json::json!([{"v": "a"}, {"v": "b"}])]
            ]
        );
        assert!(q.job_complete && q.page_token.is_none());
        let running: QueryResponse = serde_json::from_str(
            r#"{"jobComplete": false, "jobReference": {"projectId": "p", "jobId": "j1", "location": "EU"}}"#,
        )
        .unwrap();
        assert!(!running.job_complete && running.rows.is_empty());
        let job = running.job_reference.unwrap();
        assert_eq!((job.job_id.as_str(), job.location.as_deref()), ("j1", Some("EU")));
        let paged: QueryResponse =
            serde_json::from_str(r#"{"jobComplete": true, "pageToken": "BH2", "rows": [{"f": [{"v": "1"}]}]}"#)
                .unwrap();
        assert_eq!((paged.page_token.as_deref(), paged.rows.len()), (Some("BH2"), 1));
        let none: QueryResponse = serde_json::from_str(r#"{"jobComplete": true, "totalRows": "0"}"#).unwrap();
        assert!(none.rows.is_empty());
    }
}
