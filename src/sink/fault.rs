//! Faults on demand, for the crash-safety tests: honoured only in debug builds (the
//! integration tests run one), compiled out of release builds.
//!
//! - `XML2BQ_FAULT_WRITE_BUDGET=N`: after N bytes written to output files (parts,
//!   dead-letter copies, journals) by this process, every write fails with ENOSPC, as
//!   on a full disk.
//! - `XML2BQ_FAULT_RENAME=N`: the Nth rename of a journaled commit fails with EIO.
//! - `XML2BQ_FAULT_CRASH=N`: the process exits (status 137, no clean-up, as after
//!   SIGKILL) at the Nth crash point: after a commit's journal is written, after each of
//!   its renames, before a dead-letter copy is renamed into place.
//! - `XML2BQ_FAULT_STOP=NAME`: the process exits (status 137) at the named step of a
//!   BigQuery load: `after-intent` (the batch is in the ledger, no job submitted) or
//!   `after-jobs` (every table's job done, the ledger not yet told).

use std::fs::File;
use std::io::{self, Write};

/// An output file: a `File` whose writes count against the write budget (debug builds).
pub struct Out(pub File);

impl Out {
    /// Flushes the file to the disk.
    pub fn sync(&self) -> io::Result<()> {
        self.0.sync_all()
    }
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        spend(buf.len())?;
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(debug_assertions)]
mod active {
    use std::io;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn var(name: &str) -> Option<u64> {
        std::env::var(name).ok()?.parse().ok()
    }

    struct Faults {
        budget: Option<u64>,
        rename: Option<u64>,
        crash: Option<u64>,
    }

    fn faults() -> &'static Faults {
        static F: OnceLock<Faults> = OnceLock::new();
        F.get_or_init(|| Faults {
            budget: var("XML2BQ_FAULT_WRITE_BUDGET"),
            rename: var("XML2BQ_FAULT_RENAME"),
            crash: var("XML2BQ_FAULT_CRASH"),
        })
    }

    static WRITTEN: AtomicU64 = AtomicU64::new(0);
    static RENAMES: AtomicU64 = AtomicU64::new(0);
    static CRASHES: AtomicU64 = AtomicU64::new(0);

    pub fn spend(n: usize) -> io::Result<()> {
        let Some(budget) = faults().budget else { return Ok(()) };
        if WRITTEN.fetch_add(n as u64, Ordering::SeqCst) + n as u64 > budget {
            return Err(io::Error::from_raw_os_error(28)); // ENOSPC
        }
        Ok(())
    }

    pub fn rename() -> io::Result<()> {
        let Some(n) = faults().rename else { return Ok(()) };
        if RENAMES.fetch_add(1, Ordering::SeqCst) + 1 == n {
            return Err(io::Error::from_raw_os_error(5)); // EIO
        }
        Ok(())
    }

    pub fn crash_point() {
        let Some(n) = faults().crash else { return };
        if CRASHES.fetch_add(1, Ordering::SeqCst) + 1 == n {
            std::process::exit(137);
        }
    }

    pub fn stop_point(name: &str) {
        if std::env::var("XML2BQ_FAULT_STOP").is_ok_and(|v| v == name) {
            std::process::exit(137);
        }
    }
}

#[cfg(not(debug_assertions))]
mod active {
    use std::io;

    #[inline(always)]
    pub fn spend(_: usize) -> io::Result<()> {
        Ok(())
    }

    #[inline(always)]
    pub fn rename() -> io::Result<()> {
        Ok(())
    }

    #[inline(always)]
    pub fn crash_point() {}

    #[inline(always)]
    pub fn stop_point(_: &str) {}
}

use active::spend;
pub use active::{crash_point, rename, stop_point};
