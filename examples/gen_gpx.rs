//! Generates a large, deterministic GPX 1.1 track for benchmarks (bench/run.sh, case b).
//!
//! `cargo run --release --example gen_gpx -- --mb 500 --seed 1 --out bench-data/gpx-500mb.gpx`
//!
//! A document like a device's export, valid against the published GPX 1.1 schema
//! (namespace `http://www.topografix.com/GPX/1/1`): metadata, then tracks (`trk`) of
//! segments (`trkseg`) of points (`trkpt`, the row element of the GPX mapping) with
//! `lat`/`lon` attributes (7 to 14 fraction digits), `ele`, `time` in UTC with `Z`
//! (a third with milliseconds), now and then `sat` and `hdop`, and most with a Garmin
//! TrackPointExtension (heart rate, cadence) under `extensions` (xs:any, lax, another
//! namespace). A new segment every few thousand points, a new track every few segments.
//! Same seed and size, same bytes.

mod generate;

use generate::{Args, Rng};
use std::io::Write;

const ACTIVITIES: &[&str] = &["running", "cycling", "hiking", "driving"];
const NAMES: &[&str] =
    &["Morning run", "Commute &amp; back", "Tour de l'Île", "Runde um den Müggelsee", "東京マラソン"];

/// `2012-12-02T15:00:33Z` (or with `.250Z`) for a Unix time in milliseconds.
fn timestamp(ms: i64, with_millis: bool) -> String {
    let t = jiff::Timestamp::from_millisecond(ms).expect("a time within jiff's range");
    t.strftime(if with_millis { "%Y-%m-%dT%H:%M:%S%.3fZ" } else { "%Y-%m-%dT%H:%M:%SZ" }).to_string()
}

fn main() {
    let args = Args::parse(|mb| format!("bench-data/gpx-{mb}mb.gpx"));
    let mut w = args.create();
    let Args { mb, seed, out } = args;
    let target = mb * 1_000_000;
    let mut rng = Rng(seed);
    let start_ms: i64 = 1_354_460_433_000; // 2012-12-02T15:00:33Z
    writeln!(
        w,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <gpx version=\"1.1\" creator=\"xml2bq gen_gpx\"\n  \
         xmlns=\"http://www.topografix.com/GPX/1/1\"\n  \
         xmlns:gpxtpx=\"http://www.garmin.com/xmlschemas/TrackPointExtension/v1\"\n  \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n  \
         xsi:schemaLocation=\"http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd\">\n  \
         <metadata>\n    <name>xml2bq benchmark track</name>\n    <time>{}</time>\n  </metadata>",
        timestamp(start_ms, false)
    )
    .unwrap();
    let closing = "  </trk>\n</gpx>\n";
    let (mut points, mut segs, mut trks) = (0u64, 0u64, 0u64);
    let mut ms = start_ms;
    'tracks: loop {
        trks += 1;
        let activity = ACTIVITIES[rng.below(ACTIVITIES.len() as u64) as usize];
        writeln!(
            w,
            "  <trk>\n    <name>{} {trks}</name>\n    <type>{activity}</type>",
            NAMES[rng.below(NAMES.len() as u64) as usize]
        )
        .unwrap();
        // Each track starts somewhere new, within the schema's ranges (lon < 180).
        let mut lat = rng.step() * 70.0;
        let mut lon = rng.step() * 170.0;
        let mut ele = 10.0 + rng.below(2000) as f64;
        let digits = [7usize, 8, 14][rng.below(3) as usize];
        let millis = rng.below(3) == 0;
        for _ in 0..(2 + rng.below(6)) {
            segs += 1;
            writeln!(w, "    <trkseg>").unwrap();
            for _ in 0..(1000 + rng.below(4000)) {
                lat = (lat + rng.step() * 0.0002).clamp(-89.9, 89.9);
                lon = (lon + rng.step() * 0.0002).clamp(-179.9, 179.9);
                ele = (ele + rng.step() * 2.0).max(-400.0);
                ms += 1000 + rng.below(4) as i64 * 1000 + if millis { rng.below(1000) as i64 } else { 0 };
                writeln!(w, "      <trkpt lat=\"{lat:.digits$}\" lon=\"{lon:.digits$}\">").unwrap();
                writeln!(w, "        <ele>{ele:.1}</ele>\n        <time>{}</time>", timestamp(ms, millis)).unwrap();
                if rng.below(4) == 0 {
                    writeln!(
                        w,
                        "        <sat>{}</sat>\n        <hdop>{}.{}</hdop>",
                        4 + rng.below(9),
                        rng.below(4),
                        rng.below(10)
                    )
                    .unwrap();
                }
                if rng.below(10) != 0 {
                    writeln!(
                        w,
                        "        <extensions>\n          <gpxtpx:TrackPointExtension>\n            \
                         <gpxtpx:hr>{}</gpxtpx:hr>\n            <gpxtpx:cad>{}</gpxtpx:cad>\n          \
                         </gpxtpx:TrackPointExtension>\n        </extensions>",
                        90 + rng.below(100),
                        60 + rng.below(40)
                    )
                    .unwrap();
                }
                writeln!(w, "      </trkpt>").unwrap();
                points += 1;
                if w.n + 32 >= target {
                    writeln!(w, "    </trkseg>").unwrap();
                    break 'tracks;
                }
            }
            writeln!(w, "    </trkseg>").unwrap();
        }
        if w.n + closing.len() as u64 >= target {
            break;
        }
        writeln!(w, "  </trk>").unwrap();
    }
    w.write_all(closing.as_bytes()).unwrap();
    w.inner.flush().unwrap();
    eprintln!("wrote {out}: {} bytes, {trks} trk, {segs} trkseg, {points} trkpt", w.n);
}
