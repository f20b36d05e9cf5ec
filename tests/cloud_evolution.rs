//! Schema evolution against the emulators: a schema that gained an optional column loads
//! into a table made for the older schema (the column is added, the rows it held read
//! NULL in it); incompatible tables are still refused before anything moves. And a local
//! destination's parts of two schemas, read with a merged schema.
//! `./scripts/test.sh` starts the emulators; plain `cargo test` skips these.
//!
//! Building a second binary for an older schema would cost a full build, so the older
//! schema is simulated: the table is created from `xml2bq schema --table customers` with
//! a column taken out, and given rows of its own.

mod common;
#[path = "common/emulators.rs"]
mod emulators;

use common::*;
use emulators::*;
use serde_json::{Value, json};
use std::path::Path;

/// `xml2bq schema --table NAME`: the fields xml2bq creates the table with.
fn schema_of(table: &str) -> Vec<Value> {
    let o = xml2bq(&["schema", "--table", table]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_slice::<Value>(&o.stdout).unwrap().as_array().unwrap().clone()
}

/// `fields` without the top-level column `name`, which must be there with `mode`.
fn without(mut fields: Vec<Value>, name: &str, mode: &str) -> Vec<Value> {
    let i = fields.iter().position(|f| f["name"] == name).unwrap_or_else(|| panic!("no column {name}"));
    assert_eq!(fields[i]["mode"], mode, "{name}");
    fields.remove(i);
    fields
}

fn table_url(ds: &str, table: &str) -> String {
    cloud().bq_url(PROJECT, &format!("/datasets/{ds}/tables/{table}"))
}

/// Creates `ds.table` with `fields` through the REST API, as another tool (or an older
/// xml2bq) would have.
fn create_table(ds: &str, table: &str, fields: &[Value]) {
    let c = cloud();
    let body = json!({
        "tableReference": { "projectId": PROJECT, "datasetId": ds, "tableId": table },
        "schema": { "fields": fields }
    });
    let url = c.bq_url(PROJECT, &format!("/datasets/{ds}/tables"));
    c.block_on(c.json::<Value>(&c.bigquery, reqwest::Method::POST, &url, Some(&body))).unwrap();
}

/// The table's fields as BigQuery describes them.
fn fields_of(ds: &str, table: &str) -> Vec<Value> {
    let c = cloud();
    let t: Value = c.block_on(c.json(&c.bigquery, reqwest::Method::GET, &table_url(ds, table), None)).unwrap();
    t["schema"]["fields"].as_array().unwrap().clone()
}

fn names_of(fields: &[Value]) -> Vec<String> {
    fields.iter().map(|f| f["name"].as_str().unwrap().to_string()).collect()
}

/// Two customers of the older schema (no Fax), from `file:///old.xml`.
fn insert_old_rows(ds: &str) {
    let row = |id: &str, n: u32| {
        format!(
            "('{id}', 'Old Company {n}', 'Old Contact', 'Owner', '555-000{n}', \
             STRUCT('{id}' AS CustomerID, 'Street {n}' AS Address, 'Town' AS City, 'RG' AS Region, \
             '0000{n}' AS PostalCode, 'Nowhere' AS Country), 'file:///old.xml', {n})"
        )
    };
    query(&format!(
        "INSERT INTO {ds}.customers (CustomerID, CompanyName, ContactName, ContactTitle, Phone, FullAddress, \
         _source_uri, _record_ordinal) VALUES {}, {}",
        row("OLD01", 1),
        row("OLD02", 2)
    ));
    assert_eq!(count(ds, "customers"), 2);
}

/// A folder holding copies of these sample files.
fn inputs(files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in files {
        std::fs::copy(Path::new(SAMPLE).join(f), dir.path().join(f)).unwrap();
    }
    dir
}

/// `xml2bq load DIR --dest bq://PROJECT.DS --dead-letter DIR/../dead --report ...`: the
/// output and the report.
fn load(input: &Path, ds: &str, extra: &[&str]) -> (std::process::Output, Value) {
    let work = tempfile::tempdir().unwrap();
    let (dead, rep) = (work.path().join("dead"), work.path().join("run.json"));
    let dest = format!("bq://{PROJECT}.{ds}");
    let mut args = vec![
        "load",
        input.to_str().unwrap(),
        "--dest",
        &dest,
        "--dead-letter",
        dead.to_str().unwrap(),
        "--report",
        rep.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let o = xml2bq(&args);
    let r = std::fs::read(&rep).map(|b| serde_json::from_slice(&b).unwrap()).unwrap_or(Value::Null);
    if o.status.code() != Some(0) {
        assert!(!dead.exists(), "nothing was dead-lettered: {}", stderr(&o));
    }
    (o, r)
}

/// The report's entry for BigQuery table `table`.
fn prepared<'a>(r: &'a Value, table: &str) -> &'a Value {
    r["tables"].as_array().unwrap().iter().find(|t| t["table"] == table).unwrap_or_else(|| panic!("{table}: {r}"))
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn an_optional_column_the_table_lacks_is_added_and_old_rows_read_null() {
    let ds = dataset();
    let ours = schema_of("customers");
    let old = without(ours.clone(), "Fax", "NULLABLE");
    create_table(&ds, "customers", &old);
    insert_old_rows(&ds);

    let input = inputs(&["customer-orders.xml"]);
    let (o, r) = load(input.path(), &ds, &["--keep-source"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("table customers: columns added: Fax"), "{}", stderr(&o));
    let c = prepared(&r, "customers");
    assert_eq!((&c["created"], &c["added"]), (&json!(false), &json!(["Fax"])), "{r}");
    assert_eq!(prepared(&r, "orders")["created"], json!(true), "{r}");
    assert!(prepared(&r, "orders").get("added").is_none(), "{r}");

    // The table's own columns first, unchanged; Fax appended.
    let now = fields_of(&ds, "customers");
    assert_eq!(names_of(&now), with_fax(&old));
    let fax = now.iter().find(|f| f["name"] == "Fax").unwrap();
    assert_eq!((&fax["type"], &fax["mode"]), (&json!("STRING"), &json!("NULLABLE")));

    let rows = query(&format!(
        "SELECT CustomerID, Fax, _source_uri = 'file:///old.xml' FROM {ds}.customers ORDER BY CustomerID"
    ));
    let want: Vec<Vec<Value>> = [
        ("GREAL", Value::Null, "false"),
        ("HUNGC", json!("(503) 555-2376"), "false"),
        ("LAZYK", json!("(509) 555-6221"), "false"),
        ("LETSS", Value::Null, "false"),
        ("OLD01", Value::Null, "true"),
        ("OLD02", Value::Null, "true"),
    ]
    .into_iter()
    .map(|(id, fax, old)| vec![json!(id), fax, json!(old)])
    .collect();
    assert_eq!(rows, want);
    assert_eq!(
        scalar(&format!("SELECT COUNT(*) FROM {ds}.customers WHERE Fax IS NULL AND _source_uri = 'file:///old.xml'")),
        2
    );
    assert_eq!(count(&ds, "orders"), 22);

    // Once added, nothing more to add: a reload adds no column and loads the rows once more.
    let (o, r) = load(input.path(), &ds, &["--keep-source", "--reload"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(prepared(&r, "customers").get("added").is_none(), "{r}");
    assert!(!stderr(&o).contains("columns added"), "{}", stderr(&o));
    assert_eq!(names_of(&fields_of(&ds, "customers")), with_fax(&old));
    assert_eq!(scalar(&format!("SELECT COUNT(*) FROM {ds}.customers WHERE Fax = '(503) 555-2376'")), 2);
    assert_eq!(count(&ds, "customers"), 10);
}

/// The names of `old`, then Fax.
fn with_fax(old: &[Value]) -> Vec<String> {
    let mut v = names_of(old);
    v.push("Fax".into());
    v
}

/// What must hold after a refused load: exit 1, the message, the inputs in place, the
/// table as it was, and no other table created.
fn refused(ds: &str, table_fields: &[Value], must_say: &[&str]) {
    let input = inputs(&["customer-orders.xml", "headers_only.xml"]);
    let (o, _) = load(input.path(), ds, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("nothing was loaded or moved"), "{err}");
    for s in must_say {
        assert!(err.contains(s), "{s:?} in {err}");
    }
    let mut left: Vec<String> =
        std::fs::read_dir(input.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    left.sort();
    assert_eq!(left, ["customer-orders.xml", "headers_only.xml"], "the invalid file was not dead-lettered either");
    assert_eq!(names_of(&fields_of(ds, "customers")), names_of(table_fields), "no column added");
    let tables = query(&format!("SELECT table_name FROM {ds}.INFORMATION_SCHEMA.TABLES ORDER BY 1"));
    assert_eq!(tables, vec![vec![json!("customers")]], "orders was not created");
    assert_eq!(count(ds, "customers"), 0);
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn a_column_of_another_type_is_still_refused_before_anything_moves() {
    let ds = dataset();
    // Without Fax too: the addition the run could make is not made either.
    let mut fields = without(schema_of("customers"), "Fax", "NULLABLE");
    fields[0] = json!({ "name": "CustomerID", "type": "INT64", "mode": "NULLABLE" });
    create_table(&ds, "customers", &fields);
    refused(&ds, &fields, &["customers: column CustomerID is INT64, xml2bq writes STRING"]);
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn a_missing_required_column_is_refused_with_the_way_out() {
    let ds = dataset();
    let fields = without(without(schema_of("customers"), "Fax", "NULLABLE"), "Phone", "REQUIRED");
    create_table(&ds, "customers", &fields);
    refused(
        &ds,
        &fields,
        &[
            "customers: column Phone is missing, and xml2bq writes it REQUIRED",
            "BigQuery adds only NULLABLE or REPEATED columns to an existing table",
            "Add it to the table yourself as NULLABLE",
        ],
    );
}

/// A field added inside an existing RECORD: BigQuery adds it (tables.patch); the emulator
/// accepts the patch but leaves the RECORD as it was. Either way no value is lost: the
/// column is there and loaded, or the run stops before anything moves, naming it.
#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn a_field_added_inside_a_record_is_added_or_refused_never_dropped() {
    let ds = dataset();
    let mut fields = schema_of("customers");
    let address = fields.iter_mut().find(|f| f["name"] == "FullAddress").unwrap();
    let inner = without(address["fields"].as_array().unwrap().clone(), "CustomerID", "NULLABLE");
    address["fields"] = Value::Array(inner);
    create_table(&ds, "customers", &fields);
    let input = inputs(&["customer-orders.xml"]);
    let (o, r) = load(input.path(), &ds, &["--keep-source"]);
    match o.status.code() {
        Some(0) => {
            assert_eq!(prepared(&r, "customers")["added"], json!(["FullAddress.CustomerID"]), "{r}");
            let address = fields_of(&ds, "customers").into_iter().find(|f| f["name"] == "FullAddress").unwrap();
            assert_eq!(names_of(address["fields"].as_array().unwrap()).last().unwrap(), "CustomerID");
            assert_eq!(count(&ds, "customers"), 4);
        }
        _ => {
            assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
            let err = stderr(&o);
            assert!(err.contains("still lacks FullAddress.CustomerID") && err.contains("nothing was loaded"), "{err}");
            assert_eq!(count(&ds, "customers"), 0);
        }
    }
}

/// The emulators' venv python (it has pyarrow and duckdb), installed by scripts/emulators/up.sh.
fn emulators_python() -> std::path::PathBuf {
    let cache = std::env::var_os("XML2BQ_CACHE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(&std::env::var_os("HOME").unwrap()).join(".cache/xml2bq"));
    let py = cache.join("emulators-venv/bin/python");
    assert!(py.exists(), "{}: {NEEDS}", py.display());
    py
}

/// A local destination: each part carries the columns of the schema it was written with.
/// A part of the older schema (no Fax) beside one of the current schema: readers that
/// merge the parts' schemas (pyarrow with unified schemas, DuckDB with union_by_name) read
/// NULL in Fax for the older part's rows.
#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn a_local_table_folder_with_parts_of_two_schemas_reads_with_a_merged_schema() {
    let input = inputs(&["customer-orders.xml"]);
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("out");
    let o = xml2bq(&["load", input.path().to_str().unwrap(), "--dest", dest.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let customers = dest.join("customers");
    assert_eq!(parts(&customers, "parquet").len(), 1);
    let script = r#"
import glob, json, sys
import duckdb, pyarrow as pa, pyarrow.dataset as ds, pyarrow.parquet as pq
d = sys.argv[1]
new = pq.read_table(glob.glob(d + "/*.parquet")[0])
# The older schema's part: no Fax column, two rows of its own.
old = new.drop_columns(["Fax"]).slice(0, 2)
old = old.set_column(old.schema.get_field_index("_source_uri"), "_source_uri", pa.array(["file:///old.xml"] * 2))
pq.write_table(old, d + "/0-older.parquet")
files = sorted(glob.glob(d + "/*.parquet"))
merged = pa.unify_schemas([pq.read_schema(f) for f in files])
cols = ["_source_uri", "CustomerID", "Fax"]
a = ds.dataset(d, schema=merged).to_table(columns=cols).sort_by([(c, "ascending") for c in cols[:2]]).to_pylist()
b = duckdb.sql(f"SELECT _source_uri, CustomerID, Fax FROM read_parquet('{d}/*.parquet', union_by_name = true) ORDER BY 1, 2").fetchall()
print(json.dumps({"pyarrow": [[r[c] for c in cols] for r in a], "duckdb": [list(r) for r in b]}))
"#;
    let o = std::process::Command::new(emulators_python())
        .args(["-c", script, customers.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let got: Value = serde_json::from_slice(&o.stdout).unwrap();
    let uri = format!("file://{}", input.path().canonicalize().unwrap().join("customer-orders.xml").display());
    let want = json!([
        ["file:///old.xml", "GREAL", null],
        ["file:///old.xml", "HUNGC", null],
        [uri, "GREAL", null],
        [uri, "HUNGC", "(503) 555-2376"],
        [uri, "LAZYK", "(509) 555-6221"],
        [uri, "LETSS", null]
    ]);
    assert_eq!(got["pyarrow"], want);
    assert_eq!(got["duckdb"], want);
}
