//! Inputs: expand the command line's files, folders, globs and `gs://` patterns into a
//! sorted list of XML files, and open each as a stream (never read whole). Local and
//! Cloud Storage inputs look the same to the rest of the pipeline. Local entries that
//! cannot be inputs (FIFOs, devices, dangling symlinks, unreadable folders) are refused
//! by name ([`local`]). Compressed inputs are decompressed as they stream ([`compress`]).

pub mod compress;
mod local;
pub mod shard;
pub mod split;

pub use compress::{Check, Compression};
pub use local::{Refusal, file_uri};

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use xml2bq_gcp::gcs::{GsPath, Object, ObjectReader};
use xml2bq_gcp::{Cloud, Connect};

/// Where an input lives.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Loc {
    Local(PathBuf),
    /// An object, with the client that listed it (and reads, moves and deletes it).
    Gcs(Object, Client),
}

/// A Google Cloud client carried by the objects and locations that need it. It takes no
/// part in comparisons: two objects are the same object whichever client holds them.
#[derive(Clone)]
pub struct Client(pub Arc<Cloud>);

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Client")
    }
}

impl PartialEq for Client {
    fn eq(&self, _: &Client) -> bool {
        true
    }
}

impl Eq for Client {}

impl PartialOrd for Client {
    fn partial_cmp(&self, other: &Client) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Client {
    fn cmp(&self, _: &Client) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

/// One input file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Input {
    /// The lineage URI written into every row: `file:///data/a.xml`, `gs://b/in/a.xml`.
    pub uri: String,
    pub size: u64,
    /// The version that was listed: the object's generation, or a local file's size
    /// and modification time (`size=N,mtime=SECONDS.NANOS`). Two contents of one URI
    /// never share it (the ledger's key, with the URI).
    pub version: String,
    pub loc: Loc,
}

impl Input {
    /// A local file, as `meta` (of the file, or of a symlink's target) describes it.
    pub fn local(path: PathBuf, meta: &std::fs::Metadata) -> Input {
        let mtime = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).unwrap_or_default();
        let version = format!("size={},mtime={}.{:09}", meta.len(), mtime.as_secs(), mtime.subsec_nanos());
        Input { uri: file_uri(&path), size: meta.len(), version, loc: Loc::Local(path) }
    }

    /// A Cloud Storage object, read through `client`.
    pub fn gcs(obj: Object, client: Client) -> Input {
        Input { uri: obj.uri(), size: obj.size, version: obj.generation.to_string(), loc: Loc::Gcs(obj, client) }
    }

    /// The file name, e.g. `a.xml` or `a.xml.gz`.
    pub fn name(&self) -> String {
        self.uri.rsplit('/').next().unwrap_or_default().to_string()
    }

    /// The name of the XML document it holds: the file name without its compression
    /// suffix (`a.xml.gz` → `a.xml`).
    pub fn document_name(&self) -> String {
        compress::strip_suffix(&self.name()).to_string()
    }

    /// How the stored bytes are compressed: by the name (`.gz`, `.zst`, `.zstd`), or, for
    /// a Cloud Storage object, by its `Content-Encoding: gzip`; None for plain XML.
    pub fn compression(&self) -> Option<Compression> {
        Compression::from_name(&self.name()).or(match &self.loc {
            Loc::Gcs(o, _) if o.gzip_encoded() => Some(Compression::Gzip),
            _ => None,
        })
    }

    /// The URI with the version that was read: `gs://b/o.xml#generation`, or
    /// `file:///…#size=N,mtime=…`. Two different contents never share it.
    pub fn versioned_uri(&self) -> String {
        format!("{}#{}", self.uri, self.version)
    }

    /// Opens the stored bytes as a stream: compressed as stored, for copies and
    /// checksums. The XML document is [`Input::document`] of it.
    pub fn open(&self) -> io::Result<Box<dyn Read + Send>> {
        match &self.loc {
            Loc::Local(p) => Ok(Box::new(File::open(p)?)),
            Loc::Gcs(o, client) => Ok(Box::new(ObjectReader::new(client.0.clone(), o.clone()))),
        }
    }

    /// The XML document in `stored` (this input's stored bytes, from [`Input::open`]):
    /// for a compressed input, decompressed on a thread of its own, with the [`Check`] to
    /// finish once it is decoded; otherwise `stored` itself.
    pub fn document(&self, stored: Box<dyn Read + Send>) -> io::Result<(Box<dyn Read + Send>, Option<Check>)> {
        match self.compression() {
            None => Ok((stored, None)),
            Some(how) => {
                let (reader, check) = compress::decompress(stored, how, &self.uri)?;
                Ok((Box::new(reader), Some(check)))
            }
        }
    }
}

/// Why the input list could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ExpandError {
    #[error("input not found: {0} (give a file, a folder or a glob such as 'data/*.xml')")]
    NotFound(String),
    #[error("bad glob {0:?}: {1}")]
    Glob(String, String),
    #[error("{0}: {1}")]
    Remote(String, String),
    #[error("no XML files found in {0}")]
    Empty(String),
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Lists the objects a `gs://` argument names: an object, a folder (`gs://b/in/`,
/// all `*.xml`, `*.xml.gz`, `*.xml.zst` below it) or a glob (`gs://b/in/*.xml`,
/// `gs://b/in/**/*.xml`).
fn expand_gcs(arg: &str, cloud: &Cloud) -> Result<Vec<Object>, ExpandError> {
    let remote = |e: xml2bq_gcp::CloudError| ExpandError::Remote(arg.to_string(), e.to_string());
    let gs = GsPath::parse(arg).ok_or_else(|| ExpandError::Remote(arg.into(), "expected gs://BUCKET/PATH".into()))?;
    let xml = |o: &Object| compress::is_input_name(&o.name);
    let found: Vec<Object> = if has_glob(&gs.path) {
        let prefix = &gs.path[..gs.path.find(['*', '?', '[']).expect("has a glob")];
        let pattern = glob::Pattern::new(&gs.path).map_err(|e| ExpandError::Glob(arg.into(), e.to_string()))?;
        let opts = glob::MatchOptions { require_literal_separator: true, ..Default::default() };
        let all = cloud.block_on(cloud.gcs_list(&gs.bucket, prefix)).map_err(remote)?;
        all.into_iter().filter(|o| pattern.matches_with(&o.name, opts)).collect()
    } else if gs.path.is_empty() || gs.path.ends_with('/') {
        cloud.block_on(cloud.gcs_list(&gs.bucket, &gs.path)).map_err(remote)?.into_iter().filter(xml).collect()
    } else {
        match cloud.block_on(cloud.gcs_get(&gs.bucket, &gs.path)).map_err(remote)? {
            Some(o) => vec![o],
            None => {
                let dir = format!("{}/", gs.path);
                cloud.block_on(cloud.gcs_list(&gs.bucket, &dir)).map_err(remote)?.into_iter().filter(xml).collect()
            }
        }
    };
    if found.is_empty() {
        return Err(ExpandError::Empty(arg.to_string()));
    }
    Ok(found)
}

/// A local entry the arguments name that cannot be an input: left in place and
/// reported as failed, with why.
#[derive(Debug)]
pub struct Refused {
    /// The entry's URI (of the entry itself, not of a symlink's target).
    pub uri: String,
    pub why: Refusal,
}

/// The inputs the arguments name, and the entries refused.
#[derive(Debug, Default)]
pub struct Expansion {
    /// Sorted by URI, each once.
    pub inputs: Vec<Input>,
    /// Sorted by URI, each once.
    pub refused: Vec<Refused>,
    /// Symlinked folders not searched again (`link`, `target`): the folder they lead to
    /// was already searched, so no file is missed (a symlink loop ends here).
    pub revisits: Vec<(PathBuf, PathBuf)>,
}

/// The URI of `path` itself: its folder made absolute and canonical, its name kept (so
/// a symlink is named, not its target).
fn entry_uri(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let canonical = match (abs.parent(), abs.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir).map_or(abs.clone(), |d| d.join(name)),
        _ => abs,
    };
    file_uri(&canonical)
}

/// Expands arguments into inputs, sorted by URI, each once. Inputs whose URI starts
/// with one of `exclude` (the destination and dead-letter locations) are left out.
/// Only an argument that matches nothing at all, a bad glob or a `gs://` listing that
/// fails is an error; an entry that cannot be an input is [`Refused`].
pub fn expand(args: &[String], exclude: &[String], connect: &Connect) -> Result<Expansion, ExpandError> {
    let mut found = local::Found::default();
    let mut objects = std::collections::BTreeMap::new();
    for a in args {
        if a.starts_with("gs://") {
            let cloud = connect.get().map_err(|e| ExpandError::Remote(a.clone(), e.to_string()))?;
            objects.extend(expand_gcs(a, &cloud)?.into_iter().map(|o| (o, Client(cloud.clone()))));
            continue;
        }
        let p = Path::new(a);
        // Anything found (even again) or refused: the argument names something.
        let before = found.hits + found.refused.len();
        match std::fs::metadata(p) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && std::fs::symlink_metadata(p).is_err() => {
                if !has_glob(a) {
                    return Err(ExpandError::NotFound(a.clone()));
                }
                found.glob(a).map_err(|e| ExpandError::Glob(a.clone(), e.to_string()))?;
            }
            meta => found.entry(p, meta),
        }
        if found.hits + found.refused.len() == before {
            return Err(ExpandError::Empty(a.clone()));
        }
    }
    let mut out = Expansion { revisits: std::mem::take(&mut found.revisits), ..Default::default() };
    let mut seen = BTreeSet::new();
    for p in std::mem::take(&mut found.files) {
        let abs = std::fs::canonicalize(&p).and_then(|abs| std::fs::metadata(&abs).map(|m| (abs, m)));
        match abs {
            Ok((abs, meta)) => {
                if seen.insert(abs.clone()) {
                    // A symlink keeps its own path: dead-lettering moves the link.
                    out.inputs.push(Input::local(link_path(&p).unwrap_or(abs), &meta));
                }
            }
            // Gone or changed since it was listed.
            Err(error) => found.refused.push(Refusal::Unreadable { path: p, error }),
        }
    }
    out.inputs.extend(objects.into_iter().map(|(o, c)| Input::gcs(o, c)));
    out.inputs.retain(|i| !exclude.iter().any(|x| i.uri.starts_with(x.as_str())));
    out.inputs.sort_by(|a, b| a.uri.cmp(&b.uri));
    out.inputs.dedup_by(|a, b| a.uri == b.uri);
    out.refused = found.refused.into_iter().map(|why| Refused { uri: entry_uri(why.path()), why }).collect();
    out.refused.retain(|r| !exclude.iter().any(|x| r.uri.starts_with(x.as_str())));
    out.refused.sort_by(|a, b| a.uri.cmp(&b.uri));
    out.refused.dedup_by(|a, b| a.uri == b.uri);
    Ok(out)
}

/// A symlink's own absolute path (its folder resolved, its name kept), so that
/// dead-lettering removes the link and never the file it points to; `None` for a file.
fn link_path(p: &Path) -> Option<PathBuf> {
    if !p.symlink_metadata().ok()?.file_type().is_symlink() {
        return None;
    }
    let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    Some(std::fs::canonicalize(dir).ok()?.join(p.file_name()?))
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

/// A place for files: a local folder or a Cloud Storage prefix (with its client).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Local(PathBuf),
    Gcs(GsPath, Client),
}

impl Location {
    /// A folder, or `gs://BUCKET/PREFIX` (connecting to Cloud Storage now).
    pub fn parse(s: &str, connect: &Connect) -> xml2bq_gcp::Result<Location> {
        Ok(match GsPath::parse(s) {
            Some(g) => Location::Gcs(g, Client(connect.get()?)),
            None => Location::Local(PathBuf::from(s)),
        })
    }

    /// The URI prefix of everything inside this location (to keep it out of the inputs).
    pub fn uri_prefix(&self) -> String {
        match self {
            Location::Local(p) => {
                let abs = std::fs::canonicalize(p).unwrap_or_else(|_| std::path::absolute(p).unwrap_or(p.clone()));
                format!("{}/", file_uri(&abs))
            }
            Location::Gcs(g, _) => format!("gs://{}/{}", g.bucket, g.join("")),
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Local(p) => write!(f, "{}", p.display()),
            Location::Gcs(g, _) => write!(f, "{g}"),
        }
    }
}
