//! Compressed objects in Cloud Storage, against fake-gcs-server: `*.xml.gz` and
//! `*.xml.zst` objects, and objects stored with `Content-Encoding: gzip`, load the same
//! rows as the plain file; cut short or corrupt, they are dead-lettered with
//! `invalid-compression` and their stored bytes moved as they are.
//!
//! fake-gcs-server serves a `Content-Encoding: gzip` object as Cloud Storage does
//! (decompressive transcoding): decompressed, ignoring a range, unless the request
//! accepts gzip; the first test pins that down, because xml2bq relies on asking for the
//! stored bytes. Ignored without the emulators (`./scripts/test.sh` runs them).

mod common;
#[path = "common/emulators.rs"]
mod emulators;

use common::*;
use emulators::*;
use serde_json::Value;
use std::path::Path;

/// Uploads `bytes` as `bucket/name` stored with `Content-Encoding: gzip`.
fn put_gzip_encoded(bucket: &str, name: &str, bytes: Vec<u8>) {
    let c = cloud();
    let url = format!(
        "{}/upload/storage/v1/b/{bucket}/o?uploadType=media&name={}&contentEncoding=gzip",
        c.storage.endpoint,
        name.replace('/', "%2F")
    );
    let o: Value = c.block_on(async {
        let r = c
            .send(&c.storage, reqwest::Method::POST, &url, |r| r.header("Content-Type", "application/xml").body(bytes));
        r.await.unwrap().json().await.unwrap()
    });
    assert_eq!(o["contentEncoding"], "gzip", "{o}");
}

/// GET of an object's media with these headers: (status, Content-Encoding, body).
fn get(bucket: &str, name: &str, headers: &[(&str, &str)]) -> (u16, Option<String>, Vec<u8>) {
    let c = cloud();
    let url = format!("{}/storage/v1/b/{bucket}/o/{}?alt=media", c.storage.endpoint, name.replace('/', "%2F"));
    c.block_on(async {
        let resp = c
            .send(&c.storage, reqwest::Method::GET, &url, |mut r| {
                for (k, v) in headers {
                    r = r.header(*k, *v);
                }
                r
            })
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let enc = resp.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_string());
        (status, enc, resp.bytes().await.unwrap().to_vec())
    })
}

/// The orders rows of a table folder, per source URI, without the URI.
fn orders_of(dest: &Path, uri: &str) -> Vec<Value> {
    table_rows(&dest.join("orders"))
        .into_iter()
        .filter(|r| r["_source_uri"] == uri)
        .map(|mut r| {
            r.as_object_mut().unwrap().remove("_source_uri");
            r
        })
        .collect()
}

fn report(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn the_emulator_transcodes_gzip_encoded_objects_unless_gzip_is_accepted() {
    let bucket = bucket();
    let doc = orders_document(50, "", "");
    let stored = gzip(&[doc.as_bytes()]);
    put_gzip_encoded(&bucket, "o.xml", stored.clone());
    let c = cloud();
    let meta = c.block_on(c.gcs_get(&bucket, "o.xml")).unwrap().unwrap();
    assert_eq!((meta.size, meta.content_encoding.as_deref()), (stored.len() as u64, Some("gzip")));
    // Plain GET: decompressed, no Content-Encoding; a range is ignored (the whole
    // document, 200), as in Cloud Storage's decompressive transcoding.
    assert_eq!(get(&bucket, "o.xml", &[]), (200, None, doc.as_bytes().to_vec()));
    assert_eq!(get(&bucket, "o.xml", &[("Range", "bytes=5-")]), (200, None, doc.as_bytes().to_vec()));
    // Accepting gzip: the stored bytes, labelled, and ranges honoured.
    assert_eq!(get(&bucket, "o.xml", &[("Accept-Encoding", "gzip")]), (200, Some("gzip".into()), stored.clone()));
    assert_eq!(
        get(&bucket, "o.xml", &[("Accept-Encoding", "gzip"), ("Range", "bytes=5-")]),
        (206, Some("gzip".into()), stored[5..].to_vec())
    );
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn compressed_objects_load_the_same_rows_as_the_plain_file() {
    let bucket = bucket();
    let doc = orders_document(1000, "", "");
    let gz = gzip(&[doc.as_bytes()]);
    let zst = zstd::encode_all(doc.as_bytes(), 3).unwrap();
    put(&bucket, "in/plain.xml", doc.clone().into_bytes());
    put(&bucket, "in/a.xml.gz", gz.clone());
    put(&bucket, "in/b.xml.zst", zst.clone());
    // `gsutil cp -Z` style: the name says XML, the metadata says gzip.
    put_gzip_encoded(&bucket, "in/ce.xml", gz.clone());
    // A gzip file stored with Content-Encoding: gzip too (so that browsers inflate it):
    // one layer of gzip, not two.
    put_gzip_encoded(&bucket, "in/ce.xml.gz", gz.clone());
    put(&bucket, "in/notes.gz", gzip(&[b"not searched for"]));
    let dir = tempfile::tempdir().unwrap();
    let (dest, rep) = (dir.path().join("out"), dir.path().join("r.json"));
    let input = format!("gs://{bucket}/in/");
    let o = xml2bq(&["load", &input, "--dest", dest.to_str().unwrap(), "--report", rep.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = report(&rep);
    let files: Vec<(String, u64)> = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["uri"].as_str().unwrap().to_string(), f["bytes"].as_u64().unwrap()))
        .collect();
    let uri = |n: &str| format!("gs://{bucket}/in/{n}");
    let stored = |b: &Vec<u8>| b.len() as u64;
    assert_eq!(
        files,
        vec![
            (uri("a.xml.gz"), stored(&gz)),
            (uri("b.xml.zst"), stored(&zst)),
            (uri("ce.xml"), stored(&gz)),
            (uri("ce.xml.gz"), stored(&gz)),
            (uri("plain.xml"), doc.len() as u64)
        ]
    );
    let want = orders_of(&dest, &uri("plain.xml"));
    assert_eq!(want.len(), 1000);
    for n in ["a.xml.gz", "b.xml.zst", "ce.xml", "ce.xml.gz"] {
        assert_eq!(orders_of(&dest, &uri(n)), want, "{n}");
    }
    assert_eq!(r["totals"]["rows"]["customers"], 5 * 1000);
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn compressed_objects_cut_short_or_corrupt_are_dead_lettered_with_their_rule() {
    let bucket = bucket();
    let doc = orders_document(1000, "", "");
    let gz = gzip(&[doc.as_bytes()]);
    let mut flipped = gz.clone();
    let mid = gz.len() / 2;
    flipped[mid..mid + 4].iter_mut().for_each(|b| *b ^= 0xA5);
    let cut = gz[..gz.len() / 2].to_vec();
    put(&bucket, "in/good.xml.gz", gz.clone());
    put(&bucket, "in/cut.xml.gz", cut.clone());
    put(&bucket, "in/flipped.xml.gz", flipped.clone());
    put_gzip_encoded(&bucket, "in/ce-cut.xml", cut.clone());
    let dir = tempfile::tempdir().unwrap();
    let (dest, rep) = (dir.path().join("out"), dir.path().join("r.json"));
    let (input, dead) = (format!("gs://{bucket}/in/"), format!("gs://{bucket}/dead"));
    let o = xml2bq(&[
        "load",
        &input,
        "--dest",
        dest.to_str().unwrap(),
        "--dead-letter",
        &dead,
        "--report",
        rep.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(names(&bucket, "in/"), vec!["in/good.xml.gz"]);
    let bad = [("ce-cut.xml", &cut, true), ("cut.xml.gz", &cut, true), ("flipped.xml.gz", &flipped, false)];
    let mut want_names = vec![];
    for (n, _, _) in &bad {
        want_names.extend([format!("dead/{n}"), format!("dead/{n}.error.json")]);
    }
    assert_eq!(names(&bucket, "dead/"), want_names);
    for (n, bytes, short) in bad {
        let (_, _, json) = get(&bucket, &format!("dead/{n}.error.json"), &[]);
        let reason: Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(reason["rule"], "invalid-compression", "{n}: {reason}");
        let msg = reason["message"].as_str().unwrap();
        let source = format!("gs://{bucket}/in/{n}");
        assert_eq!(reason["source"], source.as_str());
        if short {
            let want = format!("{source}: the gzip data is cut short: it ends at compressed byte {} ", cut.len());
            assert!(msg.starts_with(&want), "{msg}");
        } else {
            assert!(
                msg.starts_with(&format!("{source}: the gzip data is corrupt at or before compressed byte ")),
                "{msg}"
            );
        }
        // The stored bytes were moved, not the decompressed ones.
        assert_eq!(&get(&bucket, &format!("dead/{n}"), &[("Accept-Encoding", "gzip")]).2, bytes, "{n}");
    }
    // Nothing of the bad objects was written; the good one was loaded whole.
    let orders = table_rows(&dest.join("orders"));
    assert_eq!(orders.len(), 1000);
    assert!(orders.iter().all(|r| r["_source_uri"] == format!("gs://{bucket}/in/good.xml.gz").as_str()));

    // Dead-lettered from Cloud Storage into a local folder: the copy is the stored
    // gzip, verified against the object's size and CRC32C.
    put_gzip_encoded(&bucket, "in2/ce-cut.xml", cut.clone());
    let local_dead = dir.path().join("dead");
    let input = format!("gs://{bucket}/in2/");
    let o = xml2bq(&["load", &input, "--dest", dest.to_str().unwrap(), "--dead-letter", local_dead.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(std::fs::read(local_dead.join("ce-cut.xml")).unwrap(), cut);
    let reason: Value =
        serde_json::from_slice(&std::fs::read(local_dead.join("ce-cut.xml.error.json")).unwrap()).unwrap();
    assert_eq!(reason["rule"], "invalid-compression");
    assert_eq!(reason["size"], cut.len() as u64);
    assert!(names(&bucket, "in2/").is_empty());
}
