//! The ledger of a folder destination: which version of which input went into the
//! folder's tables, one entry per input in `DEST/_xml2bq_ledger/<part stem>.json`.
//!
//! An input's entry is renamed into place in the same commit as its parts ([`commit`]):
//! after a crash at any point, either both are there or neither is, so the ledger never
//! claims rows that are missing and a re-run never writes rows twice. `load` skips the
//! inputs whose listed version the ledger holds; `--reload` loads them again, adding a
//! set of parts beside the earlier ones, so the rows are there once more, as in BigQuery.
//! A new version of an input replaces every part its entry lists. `xml2bq ledger forget`
//! removes entries so that those inputs load again (replacing their first set of parts).
//!
//! [`commit`]: super::commit

use super::commit;
use crate::source::Input;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// The ledger's folder inside a destination.
pub const DIR: &str = "_xml2bq_ledger";

/// What the ledger holds about one input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub uri: String,
    /// [`Input::version`] when it was loaded.
    pub version: String,
    /// Rows per table.
    pub rows: BTreeMap<String, u64>,
    /// The parts written, relative to the destination.
    pub parts: Vec<String>,
    /// How many times the input was loaded into the folder (1, plus one per `--reload`);
    /// `rows` and `parts` count them all.
    #[serde(default = "one")]
    pub loads: u32,
    /// When the commit was made (RFC 3339, UTC).
    pub loaded_at: String,
    pub tool: String,
}

impl Entry {
    /// The entry for `input` with these rows and parts (paths under `dest`).
    pub fn new(input_uri: &str, version: &str, rows: BTreeMap<String, u64>, parts: &[PathBuf], dest: &Path) -> Self {
        Entry {
            uri: input_uri.to_string(),
            version: version.to_string(),
            rows,
            parts: parts.iter().map(|p| p.strip_prefix(dest).unwrap_or(p).to_string_lossy().into_owned()).collect(),
            loads: 1,
            loaded_at: now_rfc3339(),
            tool: format!("xml2bq {}", env!("CARGO_PKG_VERSION")),
        }
    }

    /// Adds the loads of the earlier entry of the same input (this one is a `--reload`).
    pub fn add_earlier(&mut self, earlier: Entry) {
        for (table, n) in earlier.rows {
            *self.rows.entry(table).or_default() += n;
        }
        let mut parts = earlier.parts;
        parts.append(&mut self.parts);
        self.parts = parts;
        self.loads += earlier.loads;
    }

    /// The paths of the parts, under `dest`; a listed path that is not a plain relative
    /// one (a hand-edited entry) is left out, so that nothing outside `dest` is touched.
    pub fn part_paths(&self, dest: &Path) -> Vec<PathBuf> {
        self.parts
            .iter()
            .map(Path::new)
            .filter(|p| p.components().all(|c| matches!(c, std::path::Component::Normal(_))))
            .map(|p| dest.join(p))
            .collect()
    }

    /// True when this entry records `input` as it is now.
    pub fn covers(&self, input: &Input) -> bool {
        self.uri == input.uri && self.version == input.version
    }
}

fn one() -> u32 {
    1
}

/// The path of the entry of the input whose parts are named `stem`.
pub fn path(dest: &Path, stem: &str) -> PathBuf {
    dest.join(DIR).join(format!("{stem}.json"))
}

/// Writes `entry` under its temporary name (synced) and returns the commit operation
/// that renames it into place.
pub fn stage(dest: &Path, stem: &str, entry: &Entry) -> io::Result<commit::Op> {
    let fin = path(dest, stem);
    let dir = fin.parent().expect("the ledger folder");
    std::fs::create_dir_all(dir)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot create the ledger folder {}: {e}", dir.display())))?;
    let tmp = commit::temp_path(&fin, "tmp");
    let mut json = serde_json::to_vec_pretty(entry).map_err(io::Error::other)?;
    json.push(b'\n');
    if let Err(e) = commit::write_synced(&tmp, &json) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io::Error::new(e.kind(), format!("cannot write the ledger entry {}: {e}", tmp.display())));
    }
    Ok(commit::Op { tmp: Some(tmp), fin })
}

/// The entry at `p`, if there is one.
fn read(p: &Path) -> io::Result<Option<Entry>> {
    match std::fs::read(p) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            io::Error::other(format!(
                "ledger entry {} is unreadable ({e}); remove it to load that input again",
                p.display()
            ))
        }),
        Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => Ok(None),
        Err(e) => Err(io::Error::new(e.kind(), format!("cannot read the ledger entry {}: {e}", p.display()))),
    }
}

/// The entry of the input whose parts are named `stem`.
pub fn get(dest: &Path, stem: &str) -> io::Result<Option<Entry>> {
    read(&path(dest, stem))
}

/// Every entry, sorted by URI, with its path.
pub fn list(dest: &Path) -> io::Result<Vec<(PathBuf, Entry)>> {
    let dir = dest.join(DIR);
    let rd = match std::fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(io::Error::new(e.kind(), format!("cannot list {}: {e}", dir.display()))),
    };
    let mut out = vec![];
    for e in rd {
        let p = e.map_err(|e| io::Error::new(e.kind(), format!("cannot list {}: {e}", dir.display())))?.path();
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with('.') || !name.ends_with(".json") {
            continue; // temporaries of running or stopped commits
        }
        if let Some(entry) = read(&p)? {
            out.push((p, entry));
        }
    }
    out.sort_by(|a, b| a.1.uri.cmp(&b.1.uri));
    Ok(out)
}

/// Removes the entries of these URIs; returns the URIs that had none.
pub fn forget(dest: &Path, uris: &[String]) -> io::Result<Vec<String>> {
    let entries = list(dest)?;
    let mut unknown = vec![];
    for uri in uris {
        let mine: Vec<&PathBuf> = entries.iter().filter(|(_, e)| &e.uri == uri).map(|(p, _)| p).collect();
        if mine.is_empty() {
            unknown.push(uri.clone());
        }
        for p in mine {
            std::fs::remove_file(p).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot remove the ledger entry {}: {e}", p.display()))
            })?;
        }
    }
    if let Some(dir) = entries.first().and_then(|(p, _)| p.parent()) {
        commit::sync_dir(dir)?;
    }
    Ok(unknown)
}

/// Now, as RFC 3339 in UTC with seconds (`2026-11-26T16:46:08Z`).
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now().round(jiff::Unit::Second).map(|t| t.to_string()).unwrap_or_default()
}
