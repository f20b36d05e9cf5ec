//! Destinations, checked before any input is read or moved: a folder that exists as a
//! file, or that cannot be created or written in, and a report file that cannot be
//! written, are environment errors (exit 1) that name the path at fault. An empty path
//! is a usage error (exit 2).

use super::UsageError;
use anyhow::{Context, anyhow, bail};
use std::io;
use std::path::{Path, PathBuf};

/// Whether a destination folder is made now or when it is first needed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// Created now (the run writes there anyway).
    Now,
    /// Left to the run (e.g. the dead-letter folder, made only when a file is invalid):
    /// checked by writing a probe in the nearest folder that exists.
    WhenNeeded,
}

fn not_empty(flag: &str, path: &Path, what: &str) -> anyhow::Result<()> {
    if path.as_os_str().is_empty() {
        return Err(UsageError(format!("{flag}: the path is empty; give {what}")).into());
    }
    Ok(())
}

/// The nearest folder that exists at or above `path`, or the file in the way.
fn nearest(path: &Path) -> Result<PathBuf, (PathBuf, io::Error)> {
    let mut at = path.to_path_buf();
    loop {
        match std::fs::metadata(&at) {
            Ok(m) if m.is_dir() => return Ok(at),
            Ok(_) => return Err((at, io::Error::from(io::ErrorKind::NotADirectory))),
            Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => {}
            Err(e) => return Err((at, e)),
        }
        at = match at.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
    }
}

/// Writes and removes a probe file in `dir`.
fn probe(flag: &str, path: &Path, dir: &Path) -> anyhow::Result<()> {
    let file = dir.join(format!(".xml2bq-probe-{}", std::process::id()));
    let made = std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(&file);
    if made.is_ok() {
        let _ = std::fs::remove_file(&file);
    }
    made.map(drop).map_err(|e| {
        anyhow!(
            "{flag} {}: cannot write in {} ({e}); give a folder this user can write to",
            path.display(),
            dir.display()
        )
    })
}

/// Checks that `path` is a folder this process can write in, or can be created as one.
pub fn folder(flag: &str, path: &Path, create: Create) -> anyhow::Result<()> {
    not_empty(flag, path, "a folder")?;
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => return probe(flag, path, path),
        Ok(_) => bail!("{flag} {shown}: exists and is not a folder; give a folder (it is created when missing)"),
        Err(e) if !matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => {
            bail!("{flag} {shown}: cannot be used as a folder ({e})")
        }
        Err(_) => {}
    }
    let dir = match nearest(path) {
        Ok(dir) => dir,
        Err((file, e)) if e.kind() == io::ErrorKind::NotADirectory => {
            bail!("{flag} {shown}: cannot create the folder: {} is a file, not a folder", file.display())
        }
        Err((at, e)) => bail!("{flag} {shown}: cannot create the folder: {} cannot be read ({e})", at.display()),
    };
    match create {
        Create::Now => {
            std::fs::create_dir_all(path)
                .with_context(|| format!("{flag} {shown}: cannot create the folder (in {})", dir.display()))?;
            probe(flag, path, path)
        }
        Create::WhenNeeded => probe(flag, path, &dir),
    }
}

/// Checks that the report can be written to `path` (without writing it yet).
pub fn report_file(path: &Path) -> anyhow::Result<()> {
    let flag = "--report";
    not_empty(flag, path, "a file name")?;
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => bail!("{flag} {shown}: is a folder; give a file name"),
        Ok(_) => std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map(drop)
            .with_context(|| format!("{flag} {shown}: the file exists and cannot be written")),
        Err(e) if !matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => {
            bail!("{flag} {shown}: cannot be used ({e})")
        }
        Err(_) => {
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            match std::fs::metadata(dir) {
                Ok(m) if m.is_dir() => probe(flag, path, dir),
                Ok(_) => bail!("{flag} {shown}: {} is a file, not a folder", dir.display()),
                Err(e) => bail!("{flag} {shown}: the folder {} cannot be used ({e}); create it first", dir.display()),
            }
        }
    }
}
