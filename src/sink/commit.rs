//! Crash-safe commits: temporaries named after the run that wrote them, one input's
//! renames applied all together or not at all, and the recovery that finishes what a
//! stopped run left.
//!
//! Every temporary is a dot-file beside its final name, `.<final name>.tmp-<run id>`
//! (`.bak-<run id>` for a part being replaced). A run holds an exclusive lock on
//! `ROOT/.xml2bq/<run id>.lock` for its whole life in each folder it writes under, so
//! another run can tell a live run's temporaries (locked) from a dead one's (the lock
//! is free once the process is gone, however it ended) and never deletes the former.
//!
//! A commit that changes more than one final name first writes (and fsyncs) a journal,
//! `ROOT/.xml2bq/journal-<run id>-<n>.json`, listing each table's temporary, final
//! name and backup; then moves each old part aside, renames each new one into place,
//! and marks the journal committed (`….committed.json`, one rename). An error the run
//! sees undoes the renames already done; after a crash, [`recover`] — run before
//! anything else — rolls a committed journal forward and any other back, then removes
//! what dead runs left.

use super::fault;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// The folder, in each root, of locks and journals.
pub const META: &str = ".xml2bq";

/// This process: its id, and the locks it holds.
struct Run {
    id: String,
    held: Mutex<BTreeMap<PathBuf, File>>,
    journals: AtomicU64,
}

fn run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
        Run {
            id: format!("{}-{:016x}", std::process::id(), h.finish()),
            held: Mutex::new(BTreeMap::new()),
            journals: AtomicU64::new(0),
        }
    })
}

/// The temporary name of `fin` of this kind (`tmp`, `bak`) for this run.
pub fn temp_path(fin: &Path, kind: &str) -> PathBuf {
    let name = fin.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    fin.with_file_name(format!(".{name}.{kind}-{}", run().id))
}

/// The run id a temporary's name carries (`None`: not a temporary of xml2bq's).
fn temp_owner(name: &str) -> Option<&str> {
    if !name.starts_with('.') {
        return None;
    }
    let (_, id) = [".tmp-", ".bak-"].iter().filter_map(|k| name.rsplit_once(k)).max_by_key(|(head, _)| head.len())?;
    valid_id(id).then_some(id)
}

/// `<pid>-<16 hex>` (or `<pid>`: the temporaries of versions before the run locks).
fn valid_id(id: &str) -> bool {
    let (pid, nonce) = id.split_once('-').unwrap_or((id, "0"));
    !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
        && !nonce.is_empty()
        && nonce.bytes().all(|b| b.is_ascii_hexdigit())
}

fn annotate(e: io::Error, what: &str, p: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", p.display()))
}

/// True when `p` names an entry (a missing parent, or a file where a folder should be: not).
pub fn exists(p: &Path) -> io::Result<bool> {
    match std::fs::symlink_metadata(p) {
        Ok(_) => Ok(true),
        Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => Ok(false),
        Err(e) => Err(annotate(e, "cannot inspect", p)),
    }
}

fn remove_if_exists(p: &Path) -> io::Result<()> {
    match std::fs::remove_file(p) {
        Err(e) if !matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => {
            Err(annotate(e, "cannot remove", p))
        }
        _ => Ok(()),
    }
}

fn rename(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::rename(from, to).map_err(|e| annotate(e, &format!("cannot rename {} to", from.display()), to))
}

/// Writes `bytes` to a new file (counted by the fault budget) and flushes it to the disk.
pub fn write_synced(p: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = fault::Out(File::create(p)?);
    f.write_all(bytes)?;
    f.sync()
}

/// Makes a folder's entries (renames, new files) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| annotate(e, "cannot sync folder", dir))?;
    let _ = dir;
    Ok(())
}

/// Whether the run that owns a temporary is still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Liveness {
    Mine,
    Alive,
    Dead,
}

fn liveness(root: &Path, id: &str) -> Liveness {
    if id == run().id {
        return Liveness::Mine;
    }
    if !id.contains('-') {
        // An older version's temporary: its pid is all there is to go by.
        let proc = Path::new("/proc");
        return if proc.is_dir() && !proc.join(id).exists() { Liveness::Dead } else { Liveness::Alive };
    }
    let lock = root.join(META).join(format!("{id}.lock"));
    match File::open(&lock) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Liveness::Dead,
        Err(_) => Liveness::Alive,
        Ok(f) => match f.try_lock() {
            Ok(()) => Liveness::Dead,
            Err(_) => Liveness::Alive,
        },
    }
}

/// True when `f` is still the file at `p` (not removed or replaced since it was opened).
fn same_file(f: &File, p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (f.metadata(), std::fs::metadata(p)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (f, p);
        true
    }
}

/// Takes this run's lock in `root` (once per root), before it writes any temporary there.
pub fn hold(root: &Path) -> io::Result<()> {
    let mut held = run().held.lock().unwrap_or_else(|e| e.into_inner());
    let meta = root.join(META);
    // (A folder removed and made again under the same name is held again.)
    if held.contains_key(root) && meta.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(&meta).map_err(|e| annotate(e, "cannot create", &meta))?;
    let path = meta.join(format!("{}.lock", run().id));
    for attempt in 0.. {
        let f = OpenOptions::new().create(true).truncate(false).write(true).open(&path);
        let f = f.map_err(|e| annotate(e, "cannot create the run lock", &path))?;
        // Where the file system has no locks, other runs see this one as alive for
        // ever (they cannot take its lock either): safe, but nothing is cleaned up.
        let _ = f.lock();
        // A recovering run may have removed it as a dead run's between open and lock.
        if same_file(&f, &path) || attempt == 8 {
            held.insert(root.to_path_buf(), f);
            break;
        }
    }
    Ok(())
}

/// Gives up this run's locks at its end (their files removed: nothing of the run is
/// left). A later [`hold`] takes them again.
pub fn release() {
    let mut held = run().held.lock().unwrap_or_else(|e| e.into_inner());
    for (root, file) in std::mem::take(&mut *held) {
        let _ = std::fs::remove_file(root.join(META).join(format!("{}.lock", run().id)));
        drop(file);
    }
}

/// One final name of a commit: the temporary to rename onto it (`None`: the table has
/// no rows, so any part an earlier run left is removed).
#[derive(Debug)]
pub struct Op {
    pub tmp: Option<PathBuf>,
    pub fin: PathBuf,
}

/// A journal entry: paths relative to the root; `bak` is set when the final name was
/// taken before the commit (the old part is moved there until the commit is done).
#[derive(Serialize, Deserialize, Debug)]
struct Entry {
    fin: String,
    tmp: Option<String>,
    bak: Option<String>,
}

#[derive(Serialize, Deserialize, Debug)]
struct Journal {
    tool: String,
    entries: Vec<Entry>,
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).to_string_lossy().into_owned()
}

/// Applies `ops` under `root`: every final name changes, or (on an error, returned)
/// none does. On an error the temporaries are removed, unless undoing itself failed (the
/// message says so; the next run's recovery finishes it).
pub fn apply(root: &Path, ops: &[Op]) -> io::Result<()> {
    let mut entries = vec![];
    for op in ops {
        let bak = match exists(&op.fin) {
            Ok(true) => Some(temp_path(&op.fin, "bak")),
            Ok(false) => None,
            Err(e) => return Err(discard(ops, e)),
        };
        if op.tmp.is_some() || bak.is_some() {
            entries.push((op, bak));
        }
    }
    match entries.as_slice() {
        [] => return Ok(()),
        // One change: a single rename (or removal) is atomic by itself.
        [(op, _)] => {
            let done = match &op.tmp {
                Some(tmp) => rename(tmp, &op.fin),
                None => remove_if_exists(&op.fin),
            };
            return done.and_then(|()| sync_parent(&op.fin)).map_err(|e| discard(ops, e));
        }
        _ => {}
    }
    let journal = Journal {
        tool: format!("xml2bq {}", env!("CARGO_PKG_VERSION")),
        entries: entries
            .iter()
            .map(|(op, bak)| Entry {
                fin: rel(root, &op.fin),
                tmp: op.tmp.as_ref().map(|t| rel(root, t)),
                bak: bak.as_ref().map(|b| rel(root, b)),
            })
            .collect(),
    };
    // A caller that skipped `recover` (a library user) has not taken the lock yet.
    if let Err(e) = hold(root) {
        return Err(discard(ops, e));
    }
    let n = run().journals.fetch_add(1, Ordering::SeqCst);
    let path = root.join(META).join(format!("journal-{}-{n}.json", run().id));
    if let Err(e) = write_journal(&path, &journal) {
        return Err(discard(ops, e));
    }
    fault::crash_point();
    let forward = || -> io::Result<()> {
        for (op, bak) in &entries {
            if let Some(bak) = bak {
                fault::rename()?;
                rename(&op.fin, bak)?;
                fault::crash_point();
            }
            if let Some(tmp) = &op.tmp {
                fault::rename()?;
                rename(tmp, &op.fin)?;
                fault::crash_point();
            }
        }
        for (op, _) in &entries {
            sync_parent(&op.fin)?;
        }
        let committed = committed_path(&path);
        rename(&path, &committed)?;
        sync_parent(&committed)
    };
    match forward() {
        Ok(()) => {
            fault::crash_point();
            let _ = roll_forward(root, &journal);
            let _ = std::fs::remove_file(committed_path(&path));
            Ok(())
        }
        Err(e) => match roll_back(root, &journal).and_then(|()| remove_if_exists(&path)) {
            Ok(()) => Err(e),
            Err(undo) => Err(io::Error::new(
                e.kind(),
                format!("{e}; undoing the renames failed too ({undo}): the next run on {} finishes it", root.display()),
            )),
        },
    }
}

/// Removes the temporaries of `ops` after an error; returns the error.
fn discard(ops: &[Op], e: io::Error) -> io::Error {
    for tmp in ops.iter().filter_map(|o| o.tmp.as_ref()) {
        let _ = std::fs::remove_file(tmp);
    }
    e
}

fn sync_parent(p: &Path) -> io::Result<()> {
    p.parent().map_or(Ok(()), sync_dir)
}

fn committed_path(journal: &Path) -> PathBuf {
    journal.with_extension("committed.json")
}

fn write_journal(path: &Path, journal: &Journal) -> io::Result<()> {
    let tmp = temp_path(path, "tmp");
    let write = || -> io::Result<()> {
        let mut f = fault::Out(File::create(&tmp)?);
        f.write_all(&serde_json::to_vec_pretty(journal).map_err(io::Error::other)?)?;
        f.sync()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        sync_parent(path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        annotate(e, "cannot write the commit journal", path)
    })
}

/// Puts every final name of `journal` back as it was before the commit (idempotent: a
/// crash while undoing leaves a state this undoes too).
fn roll_back(root: &Path, journal: &Journal) -> io::Result<()> {
    for e in &journal.entries {
        let fin = root.join(&e.fin);
        let tmp = e.tmp.as_ref().map(|t| root.join(t));
        let bak = e.bak.as_ref().map(|b| root.join(b));
        let tmp_renamed = match &tmp {
            Some(t) => !exists(t)?,
            None => false,
        };
        match &bak {
            // The old part was moved aside: put it back (over the new one, if renamed).
            Some(b) if exists(b)? => rename(b, &fin)?,
            // Already put back (or never moved: then the new part was not renamed either).
            Some(_) => {}
            None if tmp_renamed => remove_if_exists(&fin)?,
            None => {}
        }
        if let Some(t) = &tmp {
            remove_if_exists(t)?;
        }
        sync_parent(&fin)?;
    }
    Ok(())
}

/// Finishes a committed journal: removes the old parts moved aside.
fn roll_forward(root: &Path, journal: &Journal) -> io::Result<()> {
    for e in &journal.entries {
        for p in e.bak.iter().chain(&e.tmp) {
            remove_if_exists(&root.join(p))?;
        }
    }
    Ok(())
}

/// What [`recover`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recovered {
    pub rolled_back: usize,
    pub rolled_forward: usize,
    pub removed: usize,
}

/// Before a run writes under `root`: takes this run's lock there, finishes every commit
/// a dead run left (forward when committed, else back), and removes dead runs'
/// temporaries, journals and locks. Live runs' files are left alone. Recoveries of one
/// root run one at a time.
pub fn recover(root: &Path) -> io::Result<Recovered> {
    hold(root)?;
    let meta = root.join(META);
    let guard_path = meta.join("recover.lock");
    let guard = OpenOptions::new().create(true).truncate(false).write(true).open(&guard_path);
    let guard = guard.map_err(|e| annotate(e, "cannot create", &guard_path))?;
    // Without locks on this file system, no dead run can be told apart: nothing below
    // is touched then.
    let _ = guard.lock();
    let mut done = Recovered::default();
    for (name, path) in entries(&meta)? {
        let Some(rest) = name.strip_prefix("journal-") else { continue };
        let (stem, committed) = match rest.strip_suffix(".committed.json") {
            Some(s) => (s, true),
            None => match rest.strip_suffix(".json") {
                Some(s) => (s, false),
                None => continue,
            },
        };
        let Some((id, _)) = stem.rsplit_once('-') else { continue };
        if liveness(root, id) != Liveness::Dead {
            continue;
        }
        let text = std::fs::read(&path).map_err(|e| annotate(e, "cannot read the commit journal", &path))?;
        let journal: Journal = serde_json::from_slice(&text).map_err(|e| {
            io::Error::other(format!(
                "commit journal {} is unreadable ({e}): remove it, then check the parts it names",
                path.display()
            ))
        })?;
        let finished = if committed { roll_forward(root, &journal) } else { roll_back(root, &journal) };
        finished.map_err(|e| {
            io::Error::new(e.kind(), format!("finishing the interrupted commit {} failed: {e}", path.display()))
        })?;
        remove_if_exists(&path)?;
        if committed {
            done.rolled_forward += 1;
        } else {
            done.rolled_back += 1;
        }
    }
    let mut dirs = vec![root.to_path_buf(), meta.clone()];
    for (name, path) in entries(root)? {
        if name != META && path.is_dir() && !path.join(META).is_dir() {
            dirs.push(path);
        }
    }
    for dir in dirs {
        for (name, path) in entries(&dir)? {
            if let Some(id) = temp_owner(&name)
                && liveness(root, id) == Liveness::Dead
                && path.symlink_metadata().is_ok_and(|m| m.is_file())
            {
                remove_if_exists(&path)?;
                done.removed += 1;
            }
        }
    }
    for (name, path) in entries(&meta)? {
        if let Some(id) = name.strip_suffix(".lock")
            && valid_id(id)
            && id.contains('-')
            && liveness(root, id) == Liveness::Dead
        {
            // Dead: the lock was free (a run starting now re-creates its own if it lost it).
            remove_if_exists(&path)?;
        }
    }
    drop(guard);
    Ok(done)
}

/// The entries of a folder, by name (none when it does not exist).
fn entries(dir: &Path) -> io::Result<Vec<(String, PathBuf)>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => return Ok(vec![]),
        Err(e) => return Err(annotate(e, "cannot list", dir)),
    };
    let mut out = vec![];
    for e in rd {
        let e = e.map_err(|e| annotate(e, "cannot list", dir))?;
        out.push((e.file_name().to_string_lossy().into_owned(), e.path()));
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporaries_name_their_run() {
        let p = temp_path(Path::new("/d/orders/a-0123.parquet"), "tmp");
        let name = p.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with(".a-0123.parquet.tmp-"), "{name}");
        assert_eq!(temp_owner(name), Some(run().id.as_str()));
        assert_eq!(temp_owner(".a.parquet.tmp-1234"), Some("1234"));
        assert_eq!(temp_owner(".a.parquet.bak-12-00ff"), Some("12-00ff"));
        assert_eq!(temp_owner("a.parquet.tmp-1234"), None);
        assert_eq!(temp_owner(".a.parquet.tmp-x"), None);
        assert_eq!(temp_owner(".journal"), None);
    }

    /// Undoing is right after any number of forward steps, and again after itself (a
    /// crash while undoing).
    #[test]
    fn undo_restores_the_old_parts_from_any_step() {
        for steps in 0..=4 {
            let root = tempfile::tempdir().unwrap();
            let r = root.path();
            let mut entries = vec![];
            for t in ["a", "b"] {
                std::fs::create_dir(r.join(t)).unwrap();
                let fin = r.join(t).join("p.parquet");
                std::fs::write(&fin, format!("old {t}")).unwrap();
                let tmp = temp_path(&fin, "tmp");
                std::fs::write(&tmp, format!("new {t}")).unwrap();
                let bak = temp_path(&fin, "bak");
                entries.push(Entry { fin: rel(r, &fin), tmp: Some(rel(r, &tmp)), bak: Some(rel(r, &bak)) });
            }
            let journal = Journal { tool: String::new(), entries };
            let forward: Vec<(String, String)> = journal
                .entries
                .iter()
                .flat_map(|e| [(e.fin.clone(), e.bak.clone().unwrap()), (e.tmp.clone().unwrap(), e.fin.clone())])
                .collect();
            for (from, to) in &forward[..steps] {
                std::fs::rename(r.join(from), r.join(to)).unwrap();
            }
            roll_back(r, &journal).unwrap();
            roll_back(r, &journal).unwrap();
            for t in ["a", "b"] {
                assert_eq!(std::fs::read_to_string(r.join(t).join("p.parquet")).unwrap(), format!("old {t}"));
                assert_eq!(std::fs::read_dir(r.join(t)).unwrap().count(), 1, "step {steps}: nothing else left");
            }
        }
    }
}
