//! What the benchmark's data generators share (`gen_orders`, `gen_gpx`): the command
//! line (`--mb N --seed S --out PATH`), a seeded random source and an output file that
//! counts what it was written.

// Each generator compiles this module on its own and uses part of it.
#![allow(dead_code)]

use std::io::{BufWriter, Write};

/// `--mb`, `--seed` and `--out` (default: `default_out(mb)`).
pub struct Args {
    pub mb: u64,
    pub seed: u64,
    pub out: String,
}

impl Args {
    pub fn parse(default_out: impl Fn(u64) -> String) -> Args {
        let args: Vec<String> = std::env::args().collect();
        let get = |k: &str| args.iter().position(|a| a == k).and_then(|i| args.get(i + 1)).cloned();
        let mb: u64 = get("--mb").and_then(|v| v.parse().ok()).unwrap_or(100);
        let seed: u64 = get("--seed").and_then(|v| v.parse().ok()).unwrap_or(1);
        let out = get("--out").unwrap_or_else(|| default_out(mb));
        Args { mb, seed, out }
    }

    /// The output file (its folder created), counting the bytes written.
    pub fn create(&self) -> CountingWriter<BufWriter<std::fs::File>> {
        if let Some(dir) = std::path::Path::new(&self.out).parent() {
            std::fs::create_dir_all(dir).expect("create output folder");
        }
        let file = std::fs::File::create(&self.out).expect("create output");
        CountingWriter { inner: BufWriter::with_capacity(1 << 20, file), n: 0 }
    }
}

/// splitmix64: same seed, same numbers.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }

    /// A step in [-1, 1).
    pub fn step(&mut self) -> f64 {
        (self.below(2_000_001) as f64 - 1_000_000.0) / 1_000_000.0
    }
}

pub struct CountingWriter<W> {
    pub inner: W,
    pub n: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(b)?;
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
