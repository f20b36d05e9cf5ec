//! Dead-letter: move an invalid file aside with a machine-readable reason.
//!
//! The file is copied (Cloud Storage to Cloud Storage: a server-side rewrite), the
//! copy is checked (size and CRC32C against the source), `<name>.error.json` is
//! written beside it, and only then is the source removed (unless `keep_source`;
//! a Cloud Storage source is deleted only at the generation that was read). Any
//! failure leaves the source in place.

use crate::source::{Input, Loc, Location};
use bytes::Bytes;
use serde::Serialize;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use xml2bq_core::{DecodeError, Schema, stable_hash};
use xml2bq_gcp::Cloud;

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

fn cloud() -> io::Result<std::sync::Arc<Cloud>> {
    Cloud::get().map_err(io::Error::other)
}

/// Size and CRC32C of the input as it is now.
fn input_checksum(input: &Input) -> io::Result<(u64, u32)> {
    match &input.loc {
        Loc::Gcs(o) if o.crc32c.is_some() => Ok((o.size, o.crc32c.expect("checked"))),
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
        let want = input_checksum(input)?;
        if want.0 != input.size {
            return Err(io::Error::other(format!("{} changed while it was read; left in place", input.uri)));
        }
        let name = input.name();
        let alt = format!("{:016x}-{name}", stable_hash(&input.uri));
        let (target, got) = match &self.dir {
            Location::Local(dir) => {
                std::fs::create_dir_all(dir)?;
                let mut target = dir.join(&name);
                if target.exists() && checksum(&target)? != want {
                    target = dir.join(&alt); // another file of that name is already there
                }
                let mut copy = File::create(&target)?;
                copy_crc(input.open()?, &mut copy)?;
                copy.sync_all()?;
                drop(copy);
                (target.display().to_string(), checksum(&target)?)
            }
            Location::Gcs(g) => {
                let c = cloud()?;
                let mut object = g.join(&name);
                if let Some(o) = c.block_on(c.gcs_get(&g.bucket, &object)).map_err(io::Error::other)?
                    && (o.size, o.crc32c.unwrap_or(0)) != want
                {
                    object = g.join(&alt);
                }
                let copy = match &input.loc {
                    Loc::Gcs(src) => c.block_on(c.gcs_rewrite(src, &g.bucket, &object)),
                    Loc::Local(p) => c.block_on(c.gcs_put_file(&g.bucket, &object, p)),
                }
                .map_err(io::Error::other)?;
                (copy.uri(), (copy.size, copy.crc32c.unwrap_or(!want.1)))
            }
        };
        if got != want {
            return Err(unverified(&target, want, got));
        }
        let reason = Reason {
            source: &input.uri,
            dead_letter: target.clone(),
            rule: err.rule.as_str(),
            message: &err.message,
            path: &err.path,
            line: err.line,
            column: err.column,
            offset: err.offset,
            size: want.0,
            crc32c: format!("{:08x}", want.1),
            source_removed: !self.keep_source,
            schema: schema.info.mapping.or(schema.info.files.first().map(|f| f.0)).unwrap_or(""),
            tool: format!("xml2bq {}", env!("CARGO_PKG_VERSION")),
        };
        let mut json = serde_json::to_vec_pretty(&reason).map_err(io::Error::other)?;
        json.push(b'\n');
        match &self.dir {
            Location::Local(_) => {
                let mut f = File::create(format!("{target}.error.json"))?;
                f.write_all(&json)?;
                f.sync_all()?;
            }
            Location::Gcs(g) => {
                let c = cloud()?;
                let object = target.strip_prefix(&format!("gs://{}/", g.bucket)).unwrap_or(&target);
                let name = format!("{object}.error.json");
                c.block_on(c.gcs_put(&g.bucket, &name, Bytes::from(json), "application/json"))
                    .map_err(io::Error::other)?;
            }
        }
        if !self.keep_source {
            match &input.loc {
                Loc::Local(p) => std::fs::remove_file(p)?,
                Loc::Gcs(o) => {
                    let c = cloud()?;
                    c.block_on(c.gcs_delete(&o.bucket, &o.name, Some(o.generation))).map_err(io::Error::other)?;
                }
            }
        }
        Ok(target)
    }
}

/// 1-based line and column (in characters) of byte `offset` of `input`.
pub fn locate(input: &Input, offset: u64) -> io::Result<(u64, u64)> {
    let mut r = input.open()?.take(offset);
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
