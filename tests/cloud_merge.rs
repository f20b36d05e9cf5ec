//! Upserts into BigQuery against the emulators (`--write merge`): a re-delivered record
//! replaces its row and a new one is inserted, loading a file again changes nothing, the
//! later version of a key in one batch wins (by generation or modification time, then
//! URI; within a file the later record), re-running a stopped batch merges nothing twice,
//! and the key rules (`--key TABLE=COLS`, the XSD's `xs:key` by default) with their usage
//! errors. `./scripts/test.sh` starts the emulators; plain `cargo test` skips these.

mod common;
#[path = "common/emulators.rs"]
mod emulators;
#[path = "common/proxy.rs"]
mod proxy;

use common::*;
use emulators::*;
use serde_json::Value;
use std::process::Output;

/// A customers-only document: one `<Customer>` per (CustomerID, ContactName, CompanyName).
fn customers(list: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Root>\n  <Customers>\n");
    for (id, contact, company) in list {
        s.push_str(&format!(
            "    <Customer CustomerID=\"{id}\">
      <CompanyName>{company}</CompanyName>
      <ContactName>{contact}</ContactName>
      <ContactTitle>Owner</ContactTitle>
      <Phone>(503) 555-0100</Phone>
      <FullAddress><Address>1 Main</Address><City>Elgin</City><Region>OR</Region><PostalCode>97827</PostalCode><Country>USA</Country></FullAddress>
    </Customer>
"
        ));
    }
    s.push_str("  </Customers>\n</Root>\n");
    s.into_bytes()
}

/// `xml2bq load INPUT --dest bq://PROJECT.DS --dead-letter DEAD --report R EXTRA`: the
/// output and the report.
fn load_from(input: &str, dead: &str, ds: &str, extra: &[&str], env: &[(&str, &str)]) -> (Output, Value) {
    let dir = tempfile::tempdir().unwrap();
    let rep = dir.path().join("run.json");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_xml2bq"));
    let dest = format!("bq://{PROJECT}.{ds}");
    cmd.args(["load", input, "--dest", &dest, "--dead-letter", dead, "--quiet", "--report", rep.to_str().unwrap()]);
    cmd.args(extra);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = output_leaving_no_temp(&mut cmd, env.iter().any(|(k, _)| k.starts_with("XML2BQ_FAULT")));
    let r = std::fs::read(&rep).map(|b| serde_json::from_slice(&b).unwrap()).unwrap_or(Value::Null);
    (o, r)
}

/// A load of `gs://BUCKET/in/`.
fn load(bucket: &str, ds: &str, extra: &[&str], env: &[(&str, &str)]) -> (Output, Value) {
    load_from(&format!("gs://{bucket}/in/"), &format!("gs://{bucket}/dead"), ds, extra, env)
}

const MERGE: [&str; 4] = ["--write", "merge", "--key", "customers=CustomerID"];

/// Every customer: (CustomerID, ContactName, CompanyName, file name, _record_ordinal).
fn table(ds: &str) -> Vec<(String, String, String, String, i64)> {
    query(&format!(
        "SELECT CustomerID, ContactName, CompanyName, _source_uri, _record_ordinal FROM {ds}.customers ORDER BY CustomerID"
    ))
    .into_iter()
    .map(|r| {
        let s = |i: usize| r[i].as_str().unwrap_or("NULL").to_string();
        let file = s(3).rsplit('/').next().unwrap().to_string();
        (s(0), s(1), s(2), file, s(4).parse().unwrap())
    })
    .collect()
}

fn row(id: &str, contact: &str, company: &str, file: &str, ordinal: i64) -> (String, String, String, String, i64) {
    (id.into(), contact.into(), company.into(), file.into(), ordinal)
}

/// The tables of a dataset.
fn tables(ds: &str) -> Vec<String> {
    let c = cloud();
    let url = c.bq_url(PROJECT, &format!("/datasets/{ds}/tables"));
    let ans: Value = c.block_on(c.json(&c.bigquery, reqwest::Method::GET, &url, None)).unwrap();
    let mut names: Vec<String> = ans["tables"]
        .as_array()
        .map(|ts| ts.iter().map(|t| t["tableReference"]["tableId"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// The customers table's load in a report: (state, inserted, updated).
fn merged(r: &Value) -> (String, Option<u64>, Option<u64>) {
    let l = r["loads"].as_array().unwrap().iter().find(|l| l["table"] == "customers").unwrap();
    let m = &l["merged"];
    (l["state"].as_str().unwrap().to_string(), m["inserted"].as_u64(), m["updated"].as_u64())
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn merge_upserts_by_key_and_loading_a_file_again_changes_nothing() {
    let (bucket, ds) = (bucket(), dataset());
    put(&bucket, "in/a.xml", customers(&[("C0", "Ann", "Alpha"), ("C1", "Bob", "Beta"), ("C2", "Cy", "Gamma")]));
    let (o, r) = load(&bucket, &ds, &MERGE, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(merged(&r), ("loaded".into(), Some(3), Some(0)));
    assert_eq!(r["loads"][0]["merged"]["key"], serde_json::json!(["CustomerID"]));
    let stage = r["loads"][0]["merged"]["staging_table"].as_str().unwrap();
    assert!(stage.starts_with("customers_xml2bq_stage_"), "{stage}");
    assert!(
        stderr(&o).contains(": loaded (3 rows, job xml2bq_customers_")
            && stderr(&o).contains("; merged on CustomerID: 3 inserted, 0 updated)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        table(&ds),
        vec![
            row("C0", "Ann", "Alpha", "a.xml", 1),
            row("C1", "Bob", "Beta", "a.xml", 2),
            row("C2", "Cy", "Gamma", "a.xml", 3)
        ]
    );

    // 2 changed customers and 1 new one: the union, with the changed values.
    let b = customers(&[("C2", "Cy", "Gamma 2"), ("C3", "Dee", "Delta"), ("C1", "Bo", "Beta 2")]);
    put(&bucket, "in/b.xml", b.clone());
    let (o, r) = load(&bucket, &ds, &MERGE, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(r["totals"]["skipped"], 1, "a.xml is in the ledger");
    assert_eq!(merged(&r), ("loaded".into(), Some(1), Some(2)));
    let after = vec![
        row("C0", "Ann", "Alpha", "a.xml", 1),
        row("C1", "Bo", "Beta 2", "b.xml", 3),
        row("C2", "Cy", "Gamma 2", "b.xml", 1),
        row("C3", "Dee", "Delta", "b.xml", 2),
    ];
    assert_eq!(table(&ds), after);
    assert_eq!(tables(&ds), ["_xml2bq_ledger", "customers", "orders"], "the staging tables are dropped");

    // b.xml delivered again (a new generation, the same content): nothing changes.
    put(&bucket, "in/b.xml", b);
    let (o, r) = load(&bucket, &ds, &MERGE, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!((r["totals"]["loaded"].as_u64(), r["totals"]["skipped"].as_u64()), (Some(1), Some(1)));
    assert_eq!(merged(&r), ("loaded".into(), Some(0), Some(3)));
    assert_eq!(table(&ds), after);

    // --reload: both files again in one batch; b.xml is the later version of C1 and C2.
    let (o, r) = load(&bucket, &ds, &[&MERGE[..], &["--reload"]].concat(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(r["totals"]["loaded"], 2);
    assert_eq!(merged(&r), ("loaded".into(), Some(0), Some(4)));
    assert_eq!(table(&ds), after);
    assert_eq!(count(&ds, "customers"), 4);
    assert_eq!(tables(&ds), ["_xml2bq_ledger", "customers", "orders"]);
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn in_one_batch_the_later_version_of_a_key_wins() {
    // Two objects in one batch: z.xml is uploaded first (the older generation), a.xml
    // second; the URI order is the other way round. The generation decides.
    let (bucket, ds) = (bucket(), dataset());
    put(&bucket, "in/z.xml", customers(&[("C5", "Old", "older"), ("C6", "Six", "only in z")]));
    put(&bucket, "in/a.xml", customers(&[("C5", "New", "newer")]));
    // Staged on Cloud Storage this time (--staging): the parts go when the load is done.
    let staging = format!("gs://{bucket}/stage");
    let (o, r) = load(&bucket, &ds, &[&MERGE[..], &["--staging", &staging]].concat(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(merged(&r), ("loaded".into(), Some(2), Some(0)));
    assert_eq!(table(&ds), vec![row("C5", "New", "newer", "a.xml", 1), row("C6", "Six", "only in z", "z.xml", 2)]);
    assert_eq!(names(&bucket, "stage/"), Vec::<String>::new(), "staged parts deleted");
    assert!(r["loads"][0]["warnings"].is_null(), "{}", r["loads"][0]);

    // One file with the key twice (keyed by ContactName, which the XSD lets repeat): the
    // later record wins.
    let (bucket, ds) = (emulators::bucket(), dataset());
    put(&bucket, "in/one.xml", customers(&[("C7", "Kim", "first"), ("C8", "Lee", "only"), ("C9", "Kim", "second")]));
    let (o, r) = load(&bucket, &ds, &["--write", "merge", "--key", "customers=ContactName"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(merged(&r), ("loaded".into(), Some(2), Some(0)));
    assert_eq!(table(&ds), vec![row("C8", "Lee", "only", "one.xml", 2), row("C9", "Kim", "second", "one.xml", 3)]);
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn local_files_are_ordered_by_modification_time_then_uri() {
    let ds = dataset();
    let dir = tempfile::tempdir().unwrap();
    let (input, dead) = (dir.path().join("in"), dir.path().join("dead"));
    std::fs::create_dir(&input).unwrap();
    let now = std::time::SystemTime::now();
    for (name, company, age) in [("a.xml", "newer", 0), ("b.xml", "older", 3600)] {
        let path = input.join(name);
        std::fs::write(&path, customers(&[("C1", "Ann", company)])).unwrap();
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(now - std::time::Duration::from_secs(age)).unwrap();
    }
    let (o, r) = load_from(input.to_str().unwrap(), dead.to_str().unwrap(), &ds, &MERGE, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(merged(&r), ("loaded".into(), Some(1), Some(0)));
    assert_eq!(table(&ds), vec![row("C1", "Ann", "newer", "a.xml", 1)]);
}

/// A staging table that could not be dropped (BigQuery refuses the DELETE here) is a
/// warning, not a failure, and it is set to expire in 7 days: it goes by itself.
#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn a_staging_table_left_behind_expires_by_itself() {
    let (bucket, ds) = (bucket(), dataset());
    put(&bucket, "in/a.xml", customers(&[("C0", "Ann", "Alpha"), ("C1", "Bob", "Beta")]));
    let bq = std::env::var("BIGQUERY_EMULATOR_HOST").unwrap();
    let proxy = proxy::FaultProxy::start(bq.trim_start_matches("http://"), "DELETE /bigquery/");
    proxy.arm(true);
    let env = [("BIGQUERY_EMULATOR_HOST", proxy.host()), ("XML2BQ_RETRY_MAX_TIMES", "1".into())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (o, r) = load(&bucket, &ds, &MERGE, &env);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(merged(&r), ("loaded".into(), Some(2), Some(0)));
    assert_eq!(proxy.refused.load(std::sync::atomic::Ordering::SeqCst), 2, "one DELETE and one retry");
    let stage: Vec<String> = tables(&ds).into_iter().filter(|t| t.contains("_xml2bq_stage_")).collect();
    assert_eq!(stage.len(), 1, "{stage:?}");
    let warnings =
        r["loads"].as_array().unwrap().iter().find(|l| l["table"] == "customers").unwrap()["warnings"].clone();
    let want = format!("the staging table {} could not be dropped after the merge", stage[0]);
    assert!(warnings.to_string().contains(&want), "{warnings}");
    expires_in_a_week(&ds, &stage[0]);
}

/// The staging table is created to expire before anything is loaded into it: when the
/// expiry cannot be set after the load (as when a run stops right after it) and the table
/// cannot be dropped, it still goes by itself.
#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn a_staging_table_expires_even_when_nothing_after_its_load_reaches_bigquery() {
    let (bucket, ds) = (bucket(), dataset());
    put(&bucket, "in/a.xml", customers(&[("C0", "Ann", "Alpha"), ("C1", "Bob", "Beta")]));
    let bq = std::env::var("BIGQUERY_EMULATOR_HOST").unwrap();
    // Two proxies in a row: the outer refuses PATCH (the expiry after the load), the
    // inner DELETE (the drop after the merge).
    let deletes = proxy::FaultProxy::start(bq.trim_start_matches("http://"), "DELETE /bigquery/");
    let patches = proxy::FaultProxy::start(&deletes.host(), "PATCH /bigquery/");
    deletes.arm(true);
    patches.arm(true);
    let env = [("BIGQUERY_EMULATOR_HOST", patches.host()), ("XML2BQ_RETRY_MAX_TIMES", "1".into())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (o, r) = load(&bucket, &ds, &MERGE, &env);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(merged(&r), ("loaded".into(), Some(2), Some(0)));
    assert_eq!(patches.refused.load(std::sync::atomic::Ordering::SeqCst), 2, "one PATCH and one retry");
    assert_eq!(deletes.refused.load(std::sync::atomic::Ordering::SeqCst), 2, "one DELETE and one retry");
    let stage: Vec<String> = tables(&ds).into_iter().filter(|t| t.contains("_xml2bq_stage_")).collect();
    assert_eq!(stage.len(), 1, "{stage:?}");
    let warnings =
        r["loads"].as_array().unwrap().iter().find(|l| l["table"] == "customers").unwrap()["warnings"].to_string();
    for want in ["could not be set to expire", "could not be dropped after the merge"] {
        assert!(warnings.contains(&format!("the staging table {} {want}", stage[0])), "{warnings}");
    }
    let t = expires_in_a_week(&ds, &stage[0]);
    assert_eq!(t["numRows"], "2", "the staging load went into the table created to expire: {t}");
}

/// Table `name` of `ds` is set to expire 7 days from now (within the hour): its metadata.
fn expires_in_a_week(ds: &str, name: &str) -> Value {
    let c = cloud();
    let url = c.bq_url(PROJECT, &format!("/datasets/{ds}/tables/{name}"));
    let t: Value = c.block_on(c.json(&c.bigquery, reqwest::Method::GET, &url, None)).unwrap();
    let expires: u64 = t["expirationTime"].as_str().and_then(|v| v.parse().ok()).unwrap_or(0);
    let week_ms = 7 * 24 * 3600 * 1000;
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    assert!(expires > now_ms + week_ms - 3_600_000 && expires <= now_ms + week_ms, "expires {expires}, now {now_ms}");
    t
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn a_stopped_batch_run_again_finds_its_merge_and_merges_nothing_twice() {
    let (bucket, ds) = (bucket(), dataset());
    put(&bucket, "in/a.xml", customers(&[("C0", "Ann", "Alpha"), ("C1", "Bob", "Beta")]));
    let (o, _) = load(&bucket, &ds, &MERGE, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    put(&bucket, "in/b.xml", customers(&[("C1", "Bob", "Beta 2"), ("C2", "Cy", "Gamma")]));
    let (o, _) = load(&bucket, &ds, &MERGE, &[("XML2BQ_FAULT_STOP", "after-jobs")]);
    assert_eq!(o.status.code(), Some(137), "stopped after the jobs: {}", stderr(&o));
    let want = vec![
        row("C0", "Ann", "Alpha", "a.xml", 1),
        row("C1", "Bob", "Beta 2", "b.xml", 1),
        row("C2", "Cy", "Gamma", "b.xml", 2),
    ];
    assert_eq!(table(&ds), want);
    // The same batch (the ledger holds it pending): its MERGE is found done, not run again.
    let (o, r) = load(&bucket, &ds, &MERGE, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(merged(&r), ("already_loaded".into(), Some(1), Some(1)), "the earlier run's job: {}", r["loads"]);
    assert_eq!(table(&ds), want);
    let (o, r) = load(&bucket, &ds, &MERGE, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(r["totals"]["skipped"], 2);
    assert_eq!(tables(&ds), ["_xml2bq_ledger", "customers", "orders"]);
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn merge_keys_default_to_the_xs_key_and_a_table_without_one_is_refused() {
    let (bucket, ds) = (bucket(), dataset());
    // customers and orders: orders have no xs:key.
    put(&bucket, "in/both.xml", orders_document(3, "", "-v1").into_bytes());
    let (o, _) = load(&bucket, &ds, &["--write", "merge"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    let want = "--write merge: table orders has no merge key: the schema declares no xs:key for its rows; give one \
                with --key orders=COL[,COL] (its columns: CustomerID, EmployeeID,";
    assert!(err.contains(want), "{err}");
    assert!(err.contains(&format!(". gs://{bucket}/in/both.xml has rows for it: nothing was loaded")), "{err}");
    assert_eq!((count(&ds, "customers"), count(&ds, "orders")), (0, 0));
    assert_eq!(names(&bucket, "in/"), ["in/both.xml"], "the input stays");

    // customers by their xs:key (CustomerID), orders by position in their file: loading
    // the file again changes nothing.
    let keyed = ["--write", "merge", "--key", "orders=_source_uri,_record_ordinal"];
    let (o, r) = load(&bucket, &ds, &keyed, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(merged(&r), ("loaded".into(), Some(3), Some(0)));
    assert_eq!(r["loads"][0]["merged"]["key"], serde_json::json!(["CustomerID"]), "the xs:key");
    let orders =
        |ds: &str| query(&format!("SELECT CustomerID, ShipInfo.ShipName, _record_ordinal FROM {ds}.orders ORDER BY 3"));
    let before = orders(&ds);
    assert_eq!(before.len(), 3);
    let (o, _) = load(&bucket, &ds, &[&keyed[..], &["--reload"]].concat(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!((count(&ds, "customers"), count(&ds, "orders")), (3, 3));
    assert_eq!(orders(&ds), before);
    // A new version of the file replaces its orders and customers.
    put(&bucket, "in/both.xml", orders_document(3, "", "-v2").into_bytes());
    let (o, _) = load(&bucket, &ds, &keyed, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!((count(&ds, "customers"), count(&ds, "orders")), (3, 3));
    let v2 = scalar(&format!("SELECT COUNT(*) FROM {ds}.customers WHERE ENDS_WITH(CompanyName, '-v2')"));
    assert_eq!(v2, 3);
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn key_usage_errors_exit_2_before_anything_is_read() {
    let (bucket, ds) = (bucket(), dataset());
    put(&bucket, "in/a.xml", customers(&[("C0", "Ann", "Alpha")]));
    let cases: [(&[&str], &str); 5] = [
        (
            &["--write", "merge", "--key", "CustomerID"],
            "--key CustomerID: tables customers, orders all have these columns",
        ),
        (
            &["--write", "merge", "--key", "customers=Nope"],
            "--key customers=Nope: table customers has no column Nope; its columns: CustomerID, CompanyName,",
        ),
        (&["--write", "merge", "--key", "people=CustomerID"], "--key people=CustomerID: no table \"people\""),
        (&["--key", "customers=CustomerID"], "--key customers=CustomerID only applies with --write merge"),
        (
            &["--write", "append", "--key", "customers=CustomerID"],
            "only applies with --write merge (the write mode is append)",
        ),
    ];
    for (args, want) in cases {
        let (o, _) = load(&bucket, &ds, args, &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
    }
    assert_eq!(tables(&ds), Vec::<String>::new(), "nothing was created");
    // A folder destination takes no --key.
    let dir = tempfile::tempdir().unwrap();
    let o = xml2bq(&[
        "load",
        "sample-data/customers.xml",
        "--dest",
        dir.path().to_str().unwrap(),
        "--key",
        "customers=CustomerID",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--key only apply to a BigQuery destination"), "{}", stderr(&o));
}
