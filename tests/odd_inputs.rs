//! Odd entries among the inputs: only regular files (and symlinks to them) are read. A
//! FIFO or a device named `*.xml`, a dangling symlink and an unreadable folder each fail
//! alone (reported `failed`, left in place, the message naming the path) while the other
//! inputs load; symlink loops end; names that differ only in bytes that are not UTF-8
//! stay two inputs. Every run has a deadline, so a hang fails the test instead of the suite.

mod common;
use common::*;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// An input folder holding the one-order sample `orders.xml`.
fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(format!("{SAMPLE}/orders.xml"), dir.path().join("orders.xml")).unwrap();
    dir
}

/// The result of one run: exit code, stderr, and the report.
struct Run {
    code: Option<i32>,
    stderr: String,
    report: serde_json::Value,
}

impl Run {
    /// The report's entry for the file whose URI ends with `name`.
    fn file(&self, name: &str) -> &serde_json::Value {
        let files = self.report["files"].as_array().expect("a report");
        let hits: Vec<_> = files.iter().filter(|f| f["uri"].as_str().unwrap().ends_with(name)).collect();
        assert_eq!(hits.len(), 1, "one report entry ends with {name}: {files:#?}");
        hits[0]
    }
}

/// Runs `xml2bq` (through `wrap`, e.g. `setpriv ...`, when given) with a report, killing
/// it after 60 s.
fn run_wrapped(wrap: &[&str], args: &[&str]) -> Run {
    let tmp = tempfile::tempdir().unwrap();
    let report = tmp.path().join("report.json");
    let (program, pre) = match wrap.split_first() {
        Some((p, rest)) => {
            (*p, rest.iter().map(OsStr::new).chain([OsStr::new(env!("CARGO_BIN_EXE_xml2bq"))]).collect())
        }
        None => (env!("CARGO_BIN_EXE_xml2bq"), vec![]),
    };
    let err = std::fs::File::create(tmp.path().join("stderr")).unwrap();
    let mut child = Command::new(program)
        .args(pre)
        .args(args)
        .args(["--report", report.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(err)
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("xml2bq {args:?} still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = std::fs::read_to_string(tmp.path().join("stderr")).unwrap();
    let report = match std::fs::read(&report) {
        Ok(b) => serde_json::from_slice(&b).unwrap(),
        Err(_) => serde_json::Value::Null,
    };
    Run { code: status.code(), stderr, report }
}

fn run(args: &[&str]) -> Run {
    run_wrapped(&[], args)
}

/// Loads `input` into a fresh folder; returns the run and the orders table's row count.
fn load(input: &Path) -> (Run, usize) {
    let out = tempfile::tempdir().unwrap();
    let r = run(&["load", input.to_str().unwrap(), "--dest", out.path().to_str().unwrap()]);
    let rows = table_rows(&out.path().join("orders")).len();
    (r, rows)
}

/// `orders.xml` loaded (its one row) and `refused` failed with a message holding `why`.
fn only_refused_failed(r: &Run, rows: usize, refused: &str, why: &str) {
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(r.report["totals"]["files"], 2, "{}", r.report);
    assert_eq!(r.report["totals"]["failed"], 1);
    assert_eq!(r.file("/orders.xml")["status"], "loaded");
    assert_eq!(rows, 1, "the other input loads");
    let f = r.file(refused);
    assert_eq!(f["status"], "failed");
    let failure = f["failure"].as_str().unwrap();
    assert!(failure.contains(why), "{failure}");
    assert!(r.stderr.contains(&format!("FAILED {} (left in place): ", f["uri"].as_str().unwrap())), "{}", r.stderr);
}

#[test]
fn a_fifo_named_xml_is_refused_by_name_not_read() {
    let dir = folder();
    let fifo = dir.path().join("pipe.xml");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let (r, rows) = load(dir.path());
    let why = format!("{} is a FIFO (named pipe), not a regular file", fifo.display());
    only_refused_failed(&r, rows, "/pipe.xml", &why);
    assert!(fifo.exists(), "left in place");
}

#[test]
fn a_symlink_to_a_device_is_refused_by_name_not_read() {
    let dir = folder();
    let link = dir.path().join("zero.xml");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let (r, rows) = load(dir.path());
    let why = format!("{} is a character device, not a regular file", link.display());
    only_refused_failed(&r, rows, "/zero.xml", &why);
    let uri = format!("file://{}/zero.xml", std::fs::canonicalize(dir.path()).unwrap().display());
    assert_eq!(r.file("/zero.xml")["uri"], uri, "the link is named, not /dev/zero");
}

#[test]
fn symlink_loops_end() {
    // Two symlinks from a folder to itself, one from a sub-folder to its parent.
    let dir = folder();
    std::os::unix::fs::symlink(".", dir.path().join("a")).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("b")).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::os::unix::fs::symlink("..", dir.path().join("sub/up")).unwrap();
    let (r, rows) = load(dir.path());
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.report["totals"]["files"], 1, "{}", r.report);
    assert_eq!(rows, 1);
    assert!(r.stderr.contains("/a not searched: it leads to "), "{}", r.stderr);
    // A glob's `**` follows the same links, each folder once.
    let pattern = format!("{}/**/*.xml", dir.path().display());
    let r = run(&["validate", &pattern]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.report["totals"]["files"], 1, "{}", r.report);
}

#[test]
fn a_dangling_symlink_fails_alone() {
    let dir = folder();
    let link = dir.path().join("gone.xml");
    std::os::unix::fs::symlink(dir.path().join("deleted.xml"), &link).unwrap();
    let (r, rows) = load(dir.path());
    let why = format!("{} is a symlink that leads to no file (No such file or directory", link.display());
    only_refused_failed(&r, rows, "/gone.xml", &why);
}

#[test]
fn an_unreadable_folder_fails_alone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = folder();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::copy(format!("{SAMPLE}/orders.xml"), locked.join("more.xml")).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads any folder (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH): run the binary
    // without those capabilities then.
    let wrap: &[&str] = if std::fs::read_dir(&locked).is_ok() {
        const DROP: &str = "-dac_override,-dac_read_search";
        const W: &[&str] = &["setpriv", "--inh-caps", DROP, "--bounding-set", DROP];
        let w = W;
        if !Command::new(w[0]).args(&w[1..]).arg("true").status().is_ok_and(|s| s.success()) {
            std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
            println!("skipped: running as root, and setpriv cannot drop the capabilities that read any folder");
            return;
        }
        w
    } else {
        &[]
    };
    let out = tempfile::tempdir().unwrap();
    let r = run_wrapped(wrap, &["load", dir.path().to_str().unwrap(), "--dest", out.path().to_str().unwrap()]);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    let rows = table_rows(&out.path().join("orders")).len();
    let why = format!("cannot read {} (Permission denied", locked.display());
    only_refused_failed(&r, rows, "/locked", &why);
    assert!(locked.join("more.xml").exists());
}

#[test]
fn names_that_differ_only_in_bytes_that_are_not_utf8_stay_two_inputs() {
    let dir = tempfile::tempdir().unwrap();
    for name in [b"a\xfe.xml", b"a\xff.xml"] {
        let path = dir.path().join(OsStr::from_bytes(name));
        std::fs::copy(format!("{SAMPLE}/orders.xml"), path).unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let r = run(&["load", dir.path().to_str().unwrap(), "--dest", out.path().to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.report["totals"]["loaded"], 2, "{}", r.report);
    let base = format!("file://{}", std::fs::canonicalize(dir.path()).unwrap().display());
    assert_eq!(r.file("/a%FE.xml")["uri"], format!("{base}/a%FE.xml"));
    assert_eq!(r.file("/a%FF.xml")["uri"], format!("{base}/a%FF.xml"));
    let rows = table_rows(&out.path().join("orders"));
    let sources: Vec<&str> = rows.iter().map(|r| r["_source_uri"].as_str().unwrap()).collect();
    assert_eq!(sources, [format!("{base}/a%FE.xml"), format!("{base}/a%FF.xml")]);
}
