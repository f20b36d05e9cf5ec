//! Dead-letter: move an invalid file aside with a machine-readable reason.
//!
//! The file is copied (CRC32C computed on the way), the copy is re-read and checked
//! (size and CRC32C), `<name>.error.json` is written beside it, and only then is the
//! source removed (unless `keep_source`). Any failure leaves the source in place.

use crate::parse::DecodeError;
use crate::source::{Input, stable_hash};
use serde::Serialize;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Where invalid files go.
#[derive(Clone, Debug)]
pub struct DeadLetter {
    pub dir: PathBuf,
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
    pub xsd: &'static str,
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

/// Size and CRC32C of a file.
pub fn checksum(p: &Path) -> io::Result<(u64, u32)> {
    copy_crc(File::open(p)?, io::sink())
}

impl DeadLetter {
    /// Moves `input` to the dead-letter folder with `err` as its reason; returns the copy's path.
    pub fn take(&self, input: &Input, err: &DecodeError) -> io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let name = input.name();
        let mut target = self.dir.join(&name);
        if target.exists() && checksum(&target)? != checksum(&input.path)? {
            // Another file of the same name is already here: keep both.
            target = self
                .dir
                .join(format!("{:016x}-{name}", stable_hash(&input.uri)));
        }
        let mut copy = File::create(&target)?;
        let (size, crc) = copy_crc(File::open(&input.path)?, &mut copy)?;
        copy.sync_all()?;
        drop(copy);
        let check = checksum(&target)?;
        if check != (size, crc) || size != input.size {
            let _ = std::fs::remove_file(&target);
            return Err(io::Error::other(format!(
                "dead-letter copy of {} did not verify (wrote {size} bytes crc32c {crc:08x}, read back {} bytes crc32c {:08x}); source left in place",
                input.uri, check.0, check.1
            )));
        }
        let reason = Reason {
            source: &input.uri,
            dead_letter: target.display().to_string(),
            rule: err.rule.as_str(),
            message: &err.message,
            path: &err.path,
            line: err.line,
            column: err.column,
            offset: err.offset,
            size,
            crc32c: format!("{crc:08x}"),
            source_removed: !self.keep_source,
            xsd: crate::schema::XSD_FILE,
            tool: format!("xml2bq {}", env!("CARGO_PKG_VERSION")),
        };
        let json = serde_json::to_vec_pretty(&reason).map_err(io::Error::other)?;
        let mut reason_path = target.clone().into_os_string();
        reason_path.push(".error.json");
        let mut f = File::create(&reason_path)?;
        f.write_all(&json)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        if !self.keep_source {
            std::fs::remove_file(&input.path)?;
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
