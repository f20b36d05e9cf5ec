//! Archive: after an input's rows are committed in every table, move it to the
//! `--archive` location (a folder or `gs://` prefix) by the dead-letter's verified move
//! ([`relocate`]): copied, checked by size and CRC32C, `<name>.loaded.json` written
//! beside the copy, and only then the source removed. A crash leaves the source in place;
//! the ledger says it is loaded, so the next run archives it without loading it again.

use crate::deadletter::{Sidecar, json_line, relocate};
use crate::report::{FileReport, Status};
use crate::source::{Input, Location};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io;

/// Where loaded inputs go.
#[derive(Clone, Debug)]
pub struct Archive {
    pub dir: Location,
}

/// The content of `<name>.loaded.json`.
#[derive(Serialize)]
struct Loaded<'a> {
    source: &'a str,
    version: &'a str,
    archived: &'a str,
    size: u64,
    crc32c: String,
    rows: &'a BTreeMap<String, u64>,
    /// The destination the rows went to.
    destination: &'a str,
    tool: String,
}

impl Archive {
    /// Moves `input`, whose `rows` are committed in `destination`; returns the copy's URI.
    pub fn take(&self, input: &Input, rows: &BTreeMap<String, u64>, destination: &str) -> io::Result<String> {
        let note = |target: &str, (size, crc): (u64, u32)| {
            json_line(&Loaded {
                source: &input.uri,
                version: &input.version,
                archived: target,
                size,
                crc32c: format!("{crc:08x}"),
                rows,
                destination,
                tool: format!("xml2bq {}", env!("CARGO_PKG_VERSION")),
            })
        };
        relocate(&self.dir, input, true, Sidecar { suffix: "loaded.json", content: &note })
            .map_err(|e| io::Error::new(e.kind(), format!("archiving to {} failed (left in place): {e}", self.dir)))
    }
}

/// The report of an input skipped because the ledger holds it (`rows` per schema table),
/// archived when `archive` is given.
pub fn skipped(input: &Input, rows: BTreeMap<String, u64>, archive: Option<&Archive>, dest: &str) -> FileReport {
    let mut r = FileReport::new(&input.uri, input.size, Status::Skipped);
    r.rows = rows;
    if let Some(a) = archive {
        match a.take(input, &r.rows, dest) {
            Ok(to) => r.archived = Some(to),
            Err(e) => r.archive_error = Some(e.to_string()),
        }
    }
    r
}
