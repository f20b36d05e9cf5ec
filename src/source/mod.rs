//! Inputs: expand the command line's files, folders and globs into a sorted list of
//! XML files, and open each as a stream (never read whole).

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// One input file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Input {
    /// The lineage URI written into every row, e.g. `file:///data/a.xml`.
    pub uri: String,
    pub path: PathBuf,
    pub size: u64,
}

impl Input {
    /// The file name, e.g. `a.xml`.
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Opens the input as a byte stream.
    pub fn open(&self) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(File::open(&self.path)?))
    }
}

/// Why the input list could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ExpandError {
    #[error("input not found: {0} (give a file, a folder or a glob such as 'data/*.xml')")]
    NotFound(String),
    #[error("bad glob {0:?}: {1}")]
    Glob(String, String),
    #[error(
        "{0}: gs:// inputs are not supported by this build yet; copy the files locally (gcloud storage cp) or use a local path"
    )]
    Remote(String),
    #[error("cannot read {0}: {1}")]
    Io(String, io::Error),
    #[error("no XML files found in {0}")]
    Empty(String),
}

fn is_xml(p: &Path) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("xml"))
}

fn walk(dir: &Path, out: &mut BTreeSet<PathBuf>) -> Result<(), ExpandError> {
    let io = |e| ExpandError::Io(dir.display().to_string(), e);
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let p = entry.map_err(io)?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if is_xml(&p) {
            out.insert(p);
        }
    }
    Ok(())
}

/// Expands arguments into inputs, sorted by URI, each once. Files under any of
/// `exclude` (the destination and dead-letter folders) are left out.
pub fn expand(args: &[String], exclude: &[PathBuf]) -> Result<Vec<Input>, ExpandError> {
    let mut paths = BTreeSet::new();
    for a in args {
        if a.starts_with("gs://") {
            return Err(ExpandError::Remote(a.clone()));
        }
        let p = Path::new(a);
        let before = paths.len();
        if p.is_dir() {
            walk(p, &mut paths)?;
            if paths.len() == before {
                return Err(ExpandError::Empty(a.clone()));
            }
        } else if p.is_file() {
            paths.insert(p.to_path_buf());
        } else if a.contains(['*', '?', '[']) {
            let g = glob::glob(a).map_err(|e| ExpandError::Glob(a.clone(), e.to_string()))?;
            for m in g {
                let m = m.map_err(|e| ExpandError::Glob(a.clone(), e.to_string()))?;
                if m.is_file() {
                    paths.insert(m);
                }
            }
            if paths.len() == before {
                return Err(ExpandError::Empty(a.clone()));
            }
        } else {
            return Err(ExpandError::NotFound(a.clone()));
        }
    }
    let exclude: Vec<PathBuf> = exclude
        .iter()
        .filter_map(|e| std::fs::canonicalize(e).ok())
        .collect();
    let mut seen = BTreeSet::new();
    let mut out = vec![];
    for p in paths {
        let abs =
            std::fs::canonicalize(&p).map_err(|e| ExpandError::Io(p.display().to_string(), e))?;
        if exclude.iter().any(|x| abs.starts_with(x)) || !seen.insert(abs.clone()) {
            continue;
        }
        let size = std::fs::metadata(&abs)
            .map_err(|e| ExpandError::Io(p.display().to_string(), e))?
            .len();
        out.push(Input {
            uri: format!("file://{}", abs.display()),
            path: abs,
            size,
        });
    }
    out.sort();
    Ok(out)
}

/// A stable 64-bit FNV-1a hash (names part files; the same URI always gives the same name).
pub fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Counts bytes as they are read (for progress and throughput).
pub struct Counting<R> {
    pub inner: R,
    pub on_read: Box<dyn FnMut(u64) + Send>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.on_read)(n as u64);
        Ok(n)
    }
}
