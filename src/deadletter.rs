//! Dead-letter: move an invalid file aside with a machine-readable reason. The verified
//! move itself ([`relocate`]) also serves the archive of loaded files ([`crate::archive`]).
//!
//! The file is copied (Cloud Storage to Cloud Storage: a server-side rewrite; to a
//! folder: under a temporary dot-file name, renamed once complete), the copy is
//! checked (size and CRC32C against the source), `<name>.error.json` is written
//! beside it, and only then is the source removed (unless `keep_source`; a Cloud
//! Storage source is deleted only at the generation that was read; a symlink is
//! removed, never its target). Any failure, or a crash, leaves the source in place.
//! An input whose name another input's copy already holds gets `<stem>-<hash of its
//! URI>.<ext>`, as parts are named, so no two inputs share a copy or a reason.

use crate::sink::commit;
use crate::sink::fault::{self, Out};
use crate::source::{Input, Loc, Location};
use bytes::Bytes;
use serde::Serialize;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use xml2bq_core::{DecodeError, Schema, stable_hash};
use xml2bq_gcp::gcs::{Object, ObjectReader};

/// Where invalid files go.
#[derive(Clone, Debug)]
pub struct DeadLetter {
    pub dir: Location,
    pub keep_source: bool,
}

/// The content of `<name>.error.json`.
#[derive(Serialize)]
pub struct Reason<'a> {
    pub source: &'a str,
    pub dead_letter: String,
    pub rule: &'static str,
    pub message: &'a str,
    pub path: &'a str,
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub offset: u64,
    pub size: u64,
    pub crc32c: String,
    pub source_removed: bool,
    /// The mapping or schema file xml2bq was built with.
    pub schema: &'static str,
    pub tool: String,
}

/// Copies `src` into `dst`, returning the size and CRC32C of the bytes copied.
fn copy_crc(mut src: impl Read, mut dst: impl Write) -> io::Result<(u64, u32)> {
    let mut buf = vec![0u8; 1 << 20];
    let (mut size, mut crc) = (0u64, 0u32);
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            return Ok((size, crc));
        }
        crc = crc32c::crc32c_append(crc, &buf[..n]);
        size += n as u64;
        dst.write_all(&buf[..n])?;
    }
}

/// Size and CRC32C of a local file.
pub fn checksum(p: &Path) -> io::Result<(u64, u32)> {
    copy_crc(File::open(p)?, io::sink())
}

/// Size and CRC32C of the input as it is now.
fn input_checksum(input: &Input) -> io::Result<(u64, u32)> {
    match &input.loc {
        Loc::Gcs(o, _) if o.crc32c.is_some() => Ok((o.size, o.crc32c.expect("checked"))),
        _ => copy_crc(input.open()?, io::sink()),
    }
}

fn unverified(what: &str, want: (u64, u32), got: (u64, u32)) -> io::Error {
    io::Error::other(format!(
        "dead-letter copy {what} did not verify (source {} bytes crc32c {:08x}, copy {} bytes crc32c {:08x}); source left in place",
        want.0, want.1, got.0, got.1
    ))
}

impl DeadLetter {
    /// Moves `input` to the dead-letter location with `err` as its reason; returns the copy's URI.
    pub fn take(&self, input: &Input, err: &DecodeError, schema: &'static Schema) -> io::Result<String> {
        let reason = |target: &str, (size, crc): (u64, u32)| {
            let reason = Reason {
                source: &input.uri,
                dead_letter: target.to_string(),
                rule: err.rule.as_str(),
                message: &err.message,
                path: &err.path,
                line: err.line,
                column: err.column,
                offset: err.offset,
                size,
                crc32c: format!("{crc:08x}"),
                source_removed: !self.keep_source,
                schema: schema.info.mapping.or(schema.info.files.first().map(|f| f.0)).unwrap_or(""),
                tool: format!("xml2bq {}", env!("CARGO_PKG_VERSION")),
            };
            json_line(&reason)
        };
        relocate(&self.dir, input, !self.keep_source, Sidecar { suffix: "error.json", content: &reason })
    }
}

/// `value` as pretty JSON ending in a newline.
pub fn json_line(value: &impl Serialize) -> io::Result<Vec<u8>> {
    let mut json = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    json.push(b'\n');
    Ok(json)
}

/// The file written beside a moved input: `<copy name>.<suffix>`, its content made
/// from the copy's URI and the (size, CRC32C) verified. It names the input as its
/// `source`, which is how a re-run recognises its own copy.
pub struct Sidecar<'a> {
    pub suffix: &'a str,
    pub content: &'a SidecarContent<'a>,
}

/// Makes a sidecar's bytes from the copy's URI and its verified (size, CRC32C).
pub type SidecarContent<'a> = dyn Fn(&str, (u64, u32)) -> io::Result<Vec<u8>> + 'a;

/// Copies `input` into `dir` (verified by size and CRC32C), writes the sidecar beside
/// the copy, then removes the source when `remove_source` (a Cloud Storage source only
/// at the generation read; a symlink itself, never its target). Returns the copy's URI.
/// Any failure, or a crash, leaves the source in place and no partial copy under a final
/// name. Shared by the dead-letter and the archive.
pub fn relocate(dir: &Location, input: &Input, remove_source: bool, sidecar: Sidecar<'_>) -> io::Result<String> {
    let want = input_checksum(input)?;
    if want.0 != input.size {
        return Err(io::Error::other(format!("{} changed while it was read; left in place", input.uri)));
    }
    let content = |target: &str| (sidecar.content)(target, want);
    let suffix = sidecar.suffix;
    let target = match dir {
        Location::Local(dir) => take_local(dir, input, want, suffix, &content)?,
        Location::Gcs(g, client) => {
            let c = &client.0;
            let name = input.name();
            let mut object = g.join(&name);
            let get = |name: &str| c.block_on(c.gcs_get(&g.bucket, name)).map_err(io::Error::other);
            // The name is another input's when it holds other bytes, or a sidecar
            // naming another source.
            let theirs = |o: &Object| -> io::Result<bool> {
                if (o.size, o.crc32c.unwrap_or(0)) != want {
                    return Ok(true);
                }
                let Some(json) = get(&format!("{object}.{suffix}"))? else { return Ok(false) };
                let mut bytes = vec![];
                ObjectReader::new(c.clone(), json).read_to_end(&mut bytes)?;
                Ok(source_of(&bytes).as_deref() != Some(input.uri.as_str()))
            };
            if let Some(o) = get(&object)?
                && theirs(&o)?
            {
                object = g.join(&alt_name(input));
            }
            let copy = match &input.loc {
                Loc::Gcs(src, _) => c.block_on(c.gcs_rewrite(src, &g.bucket, &object)),
                Loc::Local(p) => c.block_on(c.gcs_put_file(&g.bucket, &object, p)),
            }
            .map_err(io::Error::other)?;
            let got = (copy.size, copy.crc32c.unwrap_or(!want.1));
            let target = copy.uri();
            if got != want {
                return Err(unverified(&target, want, got));
            }
            let name = format!("{object}.{suffix}");
            c.block_on(c.gcs_put(&g.bucket, &name, Bytes::from(content(&target)?), "application/json"))
                .map_err(io::Error::other)?;
            target
        }
    };
    if remove_source {
        match &input.loc {
            // A symlink is removed itself, never the file it points to.
            Loc::Local(p) => std::fs::remove_file(p).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("copied to {target}, but cannot remove the source {}: {e}", p.display()),
                )
            })?,
            Loc::Gcs(o, client) => {
                let c = &client.0;
                c.block_on(c.gcs_delete(&o.bucket, &o.name, Some(o.generation))).map_err(io::Error::other)?;
            }
        }
    }
    Ok(target)
}

/// The name used when another input holds the input's own name: `<stem>-<16 hex of the
/// URI hash>.<ext>`, as parts are named (stable: a re-run picks the same one).
fn alt_name(input: &Input) -> String {
    let name = input.name();
    let hash = stable_hash(&input.uri);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}-{hash:016x}.{ext}"),
        _ => format!("{name}-{hash:016x}"),
    }
}

fn named(e: io::Error, what: &str, p: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", p.display()))
}

/// The `source` an `.error.json` names (`None`: unreadable).
fn source_of(json: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(json).ok()?;
    Some(v.get("source")?.as_str()?.to_string())
}

fn reason_source(p: &Path) -> Option<String> {
    source_of(&std::fs::read(p).ok()?)
}

/// Copies `input` into the folder `dir`: under a temporary name first, verified, then
/// renamed to its name (or, when another input holds that name, to [`alt_name`]), with
/// its `.error.json` claimed before the copy is renamed. A crash at any point leaves
/// the source in place and no partial copy under a final name; the re-run writes the
/// same name.
fn take_local(
    dir: &Path,
    input: &Input,
    want: (u64, u32),
    suffix: &str,
    reason: &dyn Fn(&str) -> io::Result<Vec<u8>>,
) -> io::Result<String> {
    std::fs::create_dir_all(dir).map_err(|e| named(e, "cannot create the folder", dir))?;
    commit::hold(dir)?;
    let primary = dir.join(input.name());
    let alt = dir.join(alt_name(input));
    // Named after the input's own name, so that two inputs of one name never share it.
    let tmp = commit::temp_path(&alt, "tmp");
    let copy = || -> io::Result<(u64, u32)> {
        let mut out = Out(File::create(&tmp)?);
        copy_crc(input.open()?, &mut out)?;
        out.sync()?;
        drop(out);
        checksum(&tmp)
    };
    let got = copy().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        named(e, "cannot write the copy", &tmp)
    })?;
    if got != want {
        let _ = std::fs::remove_file(&tmp);
        return Err(unverified(&tmp.display().to_string(), want, got));
    }
    fault::crash_point();
    let placed = claim(&primary, &alt, &input.uri, suffix, reason).and_then(|target| {
        std::fs::rename(&tmp, &target).map_err(|e| named(e, "cannot rename the copy to", &target))?;
        commit::sync_dir(dir)?;
        Ok(target)
    });
    if placed.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    Ok(placed?.display().to_string())
}

/// Writes the `.error.json` of the first of `names` that is free or already this
/// input's (its `.error.json` names the same source); the last one is the input's own.
/// A free name is claimed atomically (a hard link fails when the name is taken), so two
/// inputs never share one, in this run or a concurrent one.
fn claim(
    primary: &Path,
    alt: &Path,
    uri: &str,
    suffix: &str,
    reason: &dyn Fn(&str) -> io::Result<Vec<u8>>,
) -> io::Result<std::path::PathBuf> {
    let reason_path = |p: &Path| {
        let name = p.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
        p.with_file_name(format!("{name}.{suffix}"))
    };
    // Named after the input's own name, as the copy's temporary is.
    let tmp = commit::temp_path(&reason_path(alt), "tmp");
    for (i, target) in [primary, alt].into_iter().enumerate() {
        let json = reason_path(target);
        if let Err(e) = commit::write_synced(&tmp, &reason(&target.display().to_string())?) {
            let _ = std::fs::remove_file(&tmp);
            return Err(named(e, "cannot write", &tmp));
        }
        let ours = || reason_source(&json).as_deref() == Some(uri);
        let claimed = if i == 1 {
            true
        } else {
            match std::fs::hard_link(&tmp, &json) {
                Ok(()) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Ok(target.to_path_buf());
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => ours(),
                // No hard links on this file system: check, then rename.
                Err(_) => !commit::exists(&json)? || ours(),
            }
        };
        if claimed {
            return match std::fs::rename(&tmp, &json) {
                Ok(()) => Ok(target.to_path_buf()),
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    Err(named(e, "cannot rename the reason to", &json))
                }
            };
        }
        let _ = std::fs::remove_file(&tmp);
    }
    unreachable!("the last name is always claimed")
}

/// 1-based line and column (in characters) of byte `offset` of `input`.
pub fn locate(input: &Input, offset: u64) -> io::Result<(u64, u64)> {
    // The offset counts in the XML document: that of a compressed file is decompressed.
    let (document, _check) = input.document(input.open()?)?;
    let mut r = document.take(offset);
    let mut buf = vec![0u8; 1 << 20];
    let (mut line, mut col) = (1u64, 1u64);
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            return Ok((line, col));
        }
        let chunk = &buf[..n];
        let after = match memchr::memrchr(b'\n', chunk) {
            Some(i) => {
                line += memchr::memchr_iter(b'\n', chunk).count() as u64;
                col = 1;
                &chunk[i + 1..]
            }
            None => chunk,
        };
        col += after.iter().filter(|&&b| b & 0xC0 != 0x80).count() as u64;
    }
}
