//! Local inputs: walk the files, folders and globs of the command line into regular
//! files, and refuse, by name, every entry that cannot be one.
//!
//! Only regular files (and symlinks to them) are inputs. Reading a FIFO blocks until a
//! writer comes, and a device such as `/dev/zero` never ends, so a `*.xml` entry that is
//! neither is refused here, before anything is read: it is reported as `failed` and left
//! in place, and the other inputs still run. So are a `*.xml` symlink that leads nowhere
//! and a folder that cannot be listed. A folder is searched once however many symlinks
//! lead to it, so symlink loops end.
//!
//! URIs are `file://` and the absolute path's bytes: a byte that is not UTF-8 is written
//! `%XX`, and so is a `%` that would read as such an escape (`%25`), so two different
//! paths never share a URI and a path's URI never changes.

use std::collections::{BTreeSet, HashSet};
use std::fs::{FileType, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Why an entry that names a would-be input is not one.
#[derive(Debug)]
pub enum Refusal {
    /// A FIFO, a socket or a device: reading it would block or never end.
    NotRegular { path: PathBuf, kind: &'static str },
    /// A symlink whose target is missing, or a chain of symlinks that loops.
    Unresolvable { path: PathBuf, error: io::Error },
    /// A folder that cannot be listed, or an entry whose type cannot be read.
    Unreadable { path: PathBuf, error: io::Error },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NotRegular { path, kind } => write!(
                f,
                "{} is {kind}, not a regular file: only regular files (or symlinks to them) are inputs; \
                 leave it out of the inputs",
                path.display()
            ),
            Refusal::Unresolvable { path, error } => {
                write!(f, "{} is a symlink that leads to no file ({error}); fix or remove the link", path.display())
            }
            Refusal::Unreadable { path, error } => {
                write!(
                    f,
                    "cannot read {} ({error}): fix its permissions, or leave it out of the inputs",
                    path.display()
                )
            }
        }
    }
}

impl Refusal {
    /// The entry refused.
    pub fn path(&self) -> &Path {
        match self {
            Refusal::NotRegular { path, .. }
            | Refusal::Unresolvable { path, .. }
            | Refusal::Unreadable { path, .. } => path,
        }
    }
}

/// What walking the local arguments found.
#[derive(Debug, Default)]
pub struct Found {
    /// Regular files (or symlinks to them), as named (not yet made absolute).
    pub files: BTreeSet<PathBuf>,
    pub refused: Vec<Refusal>,
    /// Symlinked folders not searched again: they lead to a folder already searched.
    pub revisits: Vec<(PathBuf, PathBuf)>,
    /// Entries found so far, counting those found twice (an argument that adds none
    /// names nothing).
    pub hits: usize,
    /// Folders searched, by device and inode.
    searched: HashSet<(u64, u64)>,
}

/// A non-regular file's kind, as a message says it.
fn kind(t: &FileType) -> &'static str {
    if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file or folder"
    }
}

/// `*.xml`, or compressed: `*.xml.gz`, `*.xml.zst`, `*.xml.zstd`.
fn is_xml(p: &Path) -> bool {
    p.file_name().is_some_and(|n| super::compress::is_input_name(&n.to_string_lossy()))
}

/// How a folder is searched.
enum Search<'a> {
    /// Every `*.xml` (`*.xml.gz`, `*.xml.zst`, `*.xml.zstd`) at any depth.
    Folder,
    /// The entries that match a glob, down to `depth` levels (None: any, for `**`).
    Glob { pattern: &'a glob::Pattern, depth: Option<usize> },
}

impl Found {
    /// Adds an entry the command line names: a folder to search for `*.xml` (and
    /// compressed `*.xml.gz`, `*.xml.zst`), or a file
    /// (whatever its name), or a refusal. `meta` is the entry followed through symlinks
    /// (`Err` when it leads nowhere).
    pub fn entry(&mut self, path: &Path, meta: io::Result<Metadata>) {
        match &meta {
            Ok(m) if m.is_dir() => self.search(path, m, &Search::Folder, 0),
            _ => self.file(path, meta),
        }
    }

    /// Adds an entry that is not a folder: an input, or a refusal.
    fn file(&mut self, path: &Path, meta: io::Result<Metadata>) {
        self.hits += 1;
        let path = path.to_path_buf();
        match meta {
            Ok(m) if m.is_file() => {
                self.files.insert(path);
            }
            Ok(m) => self.refused.push(Refusal::NotRegular { path, kind: kind(&m.file_type()) }),
            Err(error) => {
                let link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
                self.refused.push(if link {
                    Refusal::Unresolvable { path, error }
                } else {
                    Refusal::Unreadable { path, error }
                });
            }
        }
    }

    /// Adds what a glob matches: files (whatever their names) and refusals; folders
    /// it matches are not searched. The walk follows symlinks, each folder once, so
    /// `**` ends on a symlink loop.
    pub fn glob(&mut self, pattern: &str) -> Result<(), glob::PatternError> {
        let compiled = glob::Pattern::new(pattern)?;
        let parts: Vec<&str> = pattern.split('/').collect();
        let first = parts.iter().position(|c| c.contains(['*', '?', '['])).unwrap_or(parts.len());
        let base = match parts[..first].join("/") {
            b if b.is_empty() && pattern.starts_with('/') => "/".to_string(),
            b => b,
        };
        let depth = (!parts[first..].iter().any(|c| c.contains("**"))).then_some(parts.len() - first);
        let base = PathBuf::from(base);
        match std::fs::metadata(if base.as_os_str().is_empty() { Path::new(".") } else { &base }) {
            Ok(m) if m.is_dir() => self.search(&base, &m, &Search::Glob { pattern: &compiled, depth }, 0),
            _ => {} // nothing matches below a folder that is not there
        }
        Ok(())
    }

    /// Searches a folder (`level` below the argument), once per folder.
    fn search(&mut self, dir: &Path, meta: &Metadata, how: &Search, level: usize) {
        if !self.searched.insert((meta.dev(), meta.ino())) {
            self.hits += 1;
            if level > 0 {
                let target = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
                self.revisits.push((dir.to_path_buf(), target));
            }
            return;
        }
        let listing = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        let entries = match std::fs::read_dir(listing) {
            Ok(e) => e,
            Err(error) => return self.refused.push(Refusal::Unreadable { path: listing.to_path_buf(), error }),
        };
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(error) => return self.refused.push(Refusal::Unreadable { path: listing.to_path_buf(), error }),
            };
            let path = dir.join(entry.file_name());
            let meta = match entry.file_type() {
                Ok(t) if t.is_symlink() => std::fs::metadata(&path),
                Ok(_) => entry.metadata(),
                Err(e) => Err(e),
            };
            let is_dir = meta.as_ref().is_ok_and(|m| m.is_dir());
            match how {
                Search::Folder if is_dir => self.search(&path, meta.as_ref().expect("a folder"), how, level + 1),
                Search::Folder => {
                    if is_xml(&path) {
                        self.file(&path, meta)
                    }
                }
                Search::Glob { pattern, depth } => {
                    if is_dir {
                        if depth.is_none_or(|d| level + 1 < d) {
                            self.search(&path, meta.as_ref().expect("a folder"), how, level + 1);
                        }
                    } else if pattern.matches_with(&path.to_string_lossy(), GLOB) {
                        self.file(&path, meta);
                    }
                }
            }
        }
    }
}

/// `*` and `?` never match `/`; `**` matches any number of folders.
const GLOB: glob::MatchOptions =
    glob::MatchOptions { case_sensitive: true, require_literal_separator: true, require_literal_leading_dot: false };

/// `file://` and the path's bytes, with `%XX` for a byte that is not UTF-8 and `%25` for
/// a `%` followed by two hex digits: distinct paths never share a URI.
pub fn file_uri(path: &Path) -> String {
    let bytes = path.as_os_str().as_bytes();
    let mut uri = String::with_capacity(bytes.len() + 7);
    uri.push_str("file://");
    let mut at = 0;
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        for (i, c) in valid.char_indices() {
            let next = &bytes[at + i + 1..];
            if c == '%' && next.len() >= 2 && next[..2].iter().all(u8::is_ascii_hexdigit) {
                uri.push_str("%25");
            } else {
                uri.push(c);
            }
        }
        for b in chunk.invalid() {
            uri.push_str(&format!("%{b:02X}"));
        }
        at += valid.len() + chunk.invalid().len();
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn uris_are_distinct_and_readable() {
        let uri = |b: &[u8]| file_uri(Path::new(OsStr::from_bytes(b)));
        assert_eq!(uri(b"/data/a.xml"), "file:///data/a.xml");
        assert_eq!(uri("/data/é 100%.xml".as_bytes()), "file:///data/é 100%.xml");
        assert_eq!(uri(b"/d/a\xff.xml"), "file:///d/a%FF.xml");
        assert_eq!(uri(b"/d/a%FF.xml"), "file:///d/a%25FF.xml");
        assert_eq!(uri(b"/d/a%\xff.xml"), "file:///d/a%%FF.xml");
        assert_eq!(uri(b"/d/\xc3(\xfe\xff"), "file:///d/%C3(%FE%FF");
        let names: [&[u8]; 6] = [b"a\xff", b"a\xfe", b"a%FF", b"a%25FF", b"a%%FF", b"a%\xff"];
        let uris: BTreeSet<String> = names.iter().map(|n| uri(n)).collect();
        assert_eq!(uris.len(), names.len(), "{uris:?}");
    }
}
