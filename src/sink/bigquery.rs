//! A BigQuery destination, exactly once through its ledger ([`ledger`]): which inputs a
//! run loads, and each batch's way into the tables.
//!
//! [`Sink::plan`] reads the ledger: input versions a `done` batch holds are skipped;
//! a batch a stopped run left (an `intent` without `done`) is finished first, with the
//! same inputs and so the same job ids, before any new input is taken, so new files
//! arriving after a crash never change the jobs of the batch that crashed. A batch goes
//! intent → one load job per table (ids derived from the batch: a job that already ran
//! is found, not run again) → done ([`Sink::load`]). With `--write merge` a table's job
//! is a staging load and a MERGE ([`merge`]), ordered by [`merge_order`].
//!
//! [`ledger`]: xml2bq_gcp::bigquery::ledger
//! [`merge`]: xml2bq_gcp::bigquery::merge

use super::LocalSink;
use crate::archive::Archive;
use crate::report::{FileReport, Status};
use crate::source::{Input, Location};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use xml2bq_core::Schema;
use xml2bq_gcp::bigquery::keys::TableKey;
use xml2bq_gcp::bigquery::ledger::{self, Kind, Row};
use xml2bq_gcp::bigquery::load::{self, TableLoad};
use xml2bq_gcp::bigquery::merge::MergeInput;
use xml2bq_gcp::bigquery::{LoadOptions, WriteMode, jobs};
use xml2bq_gcp::{Cloud, CloudError};

/// A batch the ledger holds as intended but neither done nor abandoned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub batch: String,
    /// Its inputs by URI: the version and the rows per BigQuery table.
    pub files: BTreeMap<String, (String, BTreeMap<String, u64>)>,
    /// Its load jobs (first attempts), one per table.
    pub jobs: BTreeSet<String>,
    pub recorded_us: i64,
}

/// What the ledger says.
#[derive(Debug, Default)]
pub struct State {
    /// Loaded input versions (URI, version), with their rows per BigQuery table.
    loaded: HashMap<(String, String), BTreeMap<String, u64>>,
    /// Oldest first.
    pending: Vec<Pending>,
}

impl State {
    /// Reads the log: a `done` batch's inputs are loaded unless forgotten after it; an
    /// intent neither done nor abandoned is pending.
    pub fn from_rows(rows: &[Row]) -> State {
        let mut done = HashMap::new();
        let mut abandoned = BTreeSet::new();
        let mut forgotten: HashMap<&str, i64> = HashMap::new();
        let mut intents: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
        for r in rows {
            match r.kind {
                Kind::Intent => intents.entry(r.batch.as_str()).or_default().push(r),
                Kind::Done => {
                    done.insert(r.batch.as_str(), r.recorded_us);
                }
                Kind::Abandoned => {
                    abandoned.insert(r.batch.as_str());
                }
                Kind::Forgotten => {
                    if let Some(u) = &r.uri {
                        let at = forgotten.entry(u.as_str()).or_insert(r.recorded_us);
                        *at = (*at).max(r.recorded_us);
                    }
                }
            }
        }
        let mut state = State::default();
        for (batch, rs) in intents {
            let mut p = Pending {
                batch: batch.to_string(),
                files: BTreeMap::new(),
                jobs: BTreeSet::new(),
                recorded_us: rs.iter().map(|r| r.recorded_us).min().unwrap_or_default(),
            };
            for r in rs {
                let (Some(uri), Some(version)) = (&r.uri, &r.version) else { continue };
                let file = p.files.entry(uri.clone()).or_insert_with(|| (version.clone(), BTreeMap::new()));
                if let Some(t) = &r.table_name {
                    file.1.insert(t.clone(), r.row_count.unwrap_or(0));
                }
                p.jobs.extend(r.job_id.clone());
            }
            match done.get(batch) {
                Some(&at) => {
                    for (uri, (version, rows)) in p.files {
                        if forgotten.get(uri.as_str()).is_none_or(|&f| f < at) {
                            state.loaded.insert((uri, version), rows);
                        }
                    }
                }
                None if !abandoned.contains(batch) => state.pending.push(p),
                None => {}
            }
        }
        state.pending.sort_by_key(|p| p.recorded_us);
        state
    }

    /// Every loaded input version: (URI, version, rows per BigQuery table).
    pub fn loaded_inputs(&self) -> impl Iterator<Item = (&str, &str, &BTreeMap<String, u64>)> {
        self.loaded.iter().map(|((u, v), rows)| (u.as_str(), v.as_str(), rows))
    }

    /// The batches recorded but not finished, oldest first.
    pub fn pending(&self) -> &[Pending] {
        &self.pending
    }

    /// The rows per BigQuery table of `input`'s version, when the ledger holds it as loaded.
    pub fn loaded(&self, input: &Input) -> Option<&BTreeMap<String, u64>> {
        self.loaded.get(&(input.uri.clone(), input.version.clone()))
    }
}

/// What a run does with its inputs.
#[derive(Debug, Default)]
pub struct Plan {
    /// Batches a stopped run left, finished first: each with its inputs as listed now.
    pub resume: Vec<(Pending, Vec<Input>)>,
    /// Batches to close as abandoned: none of their jobs ran and their inputs changed.
    pub abandon: Vec<String>,
    /// Inputs of a batch that loaded some tables but whose inputs changed or are gone:
    /// left in place, with why.
    pub blocked: Vec<(Input, String)>,
    /// Already loaded (with their rows per BigQuery table).
    pub skipped: Vec<(Input, BTreeMap<String, u64>)>,
    /// To load in a new batch.
    pub fresh: Vec<Input>,
}

/// Splits `inputs` by what the ledger says. Only pending batches that share an input
/// with this run are touched (a concurrent run or another shard owns the others).
/// `reload`: loaded versions load again. `any_job`: whether any of these jobs exists.
pub fn plan(
    state: &State,
    inputs: Vec<Input>,
    reload: bool,
    mut any_job: impl FnMut(&BTreeSet<String>) -> Result<bool, CloudError>,
) -> Result<Plan, CloudError> {
    let mut by_uri: BTreeMap<String, Input> = inputs.into_iter().map(|i| (i.uri.clone(), i)).collect();
    let mut plan = Plan::default();
    for p in &state.pending {
        if !p.files.keys().any(|u| by_uri.contains_key(u)) {
            continue;
        }
        let intact = p.files.iter().all(|(u, (v, _))| by_uri.get(u).is_some_and(|i| &i.version == v));
        if intact {
            let mine = p.files.keys().map(|u| by_uri.remove(u).expect("checked")).collect();
            plan.resume.push((p.clone(), mine));
        } else if !any_job(&p.jobs)? {
            plan.abandon.push(p.batch.clone());
        } else {
            let why = format!(
                "batch {} (recorded by an earlier run) loaded some of its tables, but its inputs have changed or \
                 are gone since, so it cannot be finished; see `xml2bq ledger list` and the jobs {}",
                p.batch,
                p.jobs.iter().cloned().collect::<Vec<_>>().join(", ")
            );
            for u in p.files.keys() {
                if let Some(i) = by_uri.remove(u) {
                    plan.blocked.push((i, why.clone()));
                }
            }
        }
    }
    for (_, input) in by_uri {
        match state.loaded(&input) {
            Some(rows) if !reload => plan.skipped.push((input, rows.clone())),
            _ => plan.fresh.push(input),
        }
    }
    Ok(plan)
}

/// A BigQuery destination.
pub struct Sink {
    pub cloud: Arc<Cloud>,
    pub opts: LoadOptions,
    pub schema: &'static Schema,
    /// Where the Parquet parts are written before they are loaded.
    pub parts: LocalSink,
    /// Scratch folder (merged parts, ledger records).
    pub work: PathBuf,
}

/// `--write merge` with rows for a table that has no key: a usage error, found after
/// parsing and before anything is recorded or loaded.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unkeyed(pub String);

/// How a batch ended.
#[derive(Debug)]
pub enum BatchOutcome {
    /// Every table loaded (or had nothing to load) and the ledger says done.
    Done(Vec<TableLoad>),
    /// Some table did not load: the batch stays pending, the next run finishes it.
    Incomplete(Vec<TableLoad>),
    /// The batch could not be started or recorded: nothing of it is in the ledger as done.
    Failed(String),
}

impl Sink {
    /// A whole run: reads the ledger, plans, has `parse` decode the inputs to load (into
    /// [`Sink::parts`], dead-lettering the invalid ones), finishes the batches stopped runs
    /// left, loads the new batch, and archives what is done. `reload`: inputs the ledger
    /// holds load again (always so with `--write truncate`). Returns every input's report
    /// and the tables' loads.
    pub fn run(
        &self,
        inputs: &[Input],
        reload: bool,
        archive: Option<&Archive>,
        destination: &str,
        parse: impl FnOnce(&[Input]) -> anyhow::Result<Vec<FileReport>>,
    ) -> anyhow::Result<(Vec<FileReport>, Vec<TableLoad>)> {
        let state = self.state()?;
        if let Some(Archive { dir: Location::Local(dir) }) = archive {
            crate::pipeline::recover_folders(std::slice::from_ref(dir))?;
        }
        // --write truncate replaces the tables with this run's inputs: none is skipped.
        let reload = reload || self.opts.write == WriteMode::Truncate;
        let plan = plan(&state, inputs.to_vec(), reload, |jobs| self.any_job(jobs))?;
        for batch in &plan.abandon {
            self.abandon(batch)?;
        }
        let mut files: Vec<FileReport> = plan
            .skipped
            .iter()
            .map(|(i, rows)| {
                crate::archive::skipped(i, schema_rows(self.schema, &self.opts, rows), archive, destination)
            })
            .collect();
        for (input, why) in &plan.blocked {
            let mut r = FileReport::new(&input.uri, input.size, Status::Failed);
            r.failure = Some(why.clone());
            files.push(r);
        }
        let to_parse: Vec<Input> =
            plan.resume.iter().flat_map(|(_, i)| i.iter().cloned()).chain(plan.fresh.clone()).collect();
        let mut reports: BTreeMap<String, FileReport> =
            parse(&to_parse)?.into_iter().map(|r| (r.uri.clone(), r)).collect();
        // --write merge: rows for a table without a key stop the run before any batch loads.
        let to_load: Vec<&FileReport> = reports.values().filter(|r| r.status == Status::Loaded).collect();
        if let Some(why) = self.unkeyed(&to_load) {
            return Err(Unkeyed(why).into());
        }
        let mut loads = vec![];
        // Batches a stopped run left first (the same inputs, so the same jobs), then the new one.
        // A new batch gets an id of its own: the intent records it before any job runs, so
        // a stopped run is finished by that id; a derived one would give an input loaded
        // again (forgotten, or --reload) the jobs of its earlier batch.
        let nonce = format!("{:?} {}", std::time::SystemTime::now(), std::process::id());
        let mut batches: Vec<(String, Vec<&Input>, Option<&Pending>)> =
            plan.resume.iter().map(|(p, i)| (p.batch.clone(), i.iter().collect(), Some(p))).collect();
        let loaded = |i: &&Input| reports.get(&i.uri).is_some_and(|r| r.status == Status::Loaded);
        let fresh: Vec<&Input> = plan.fresh.iter().filter(loaded).collect();
        if !fresh.is_empty() {
            let with: Vec<(&Input, &FileReport)> = fresh.iter().map(|i| (*i, &reports[&i.uri])).collect();
            batches.push((self.batch_id(&with, Some(&nonce)), fresh, None));
        }
        for (batch, inputs, pending) in batches {
            let fail = |reports: &mut BTreeMap<String, FileReport>, why: &str, only_loaded: bool| {
                for i in &inputs {
                    if let Some(r) = reports.get_mut(&i.uri).filter(|r| !only_loaded || r.status == Status::Loaded) {
                        r.status = Status::Failed;
                        r.failure = Some(why.to_string());
                    }
                }
            };
            if !inputs.iter().all(|i| reports.get(&i.uri).is_some_and(|r| r.status == Status::Loaded)) {
                let why = format!(
                    "batch {batch}, which an earlier run recorded, cannot be finished: another of its inputs did not load"
                );
                fail(&mut reports, &why, true);
                continue;
            }
            let with: Vec<(&Input, &FileReport)> = inputs.iter().map(|i| (*i, &reports[&i.uri])).collect();
            match self.load(&batch, &with, pending) {
                BatchOutcome::Done(l) => loads.extend(l),
                BatchOutcome::Incomplete(l) => {
                    loads.extend(l);
                    continue;
                }
                BatchOutcome::Failed(why) => {
                    fail(&mut reports, &why, false);
                    continue;
                }
            }
            for i in inputs.iter().filter(|_| archive.is_some()) {
                let r = reports.get_mut(&i.uri).expect("parsed");
                match archive.expect("filtered").take(i, &r.rows, destination) {
                    Ok(to) => r.archived = Some(to),
                    Err(e) => r.archive_error = Some(e.to_string()),
                }
            }
        }
        files.extend(reports.into_values());
        Ok((files, loads))
    }

    /// The ledger's rows, read.
    pub fn state(&self) -> Result<State, CloudError> {
        self.cloud.block_on(ledger::prepare(&self.cloud, &self.opts))?;
        Ok(State::from_rows(&self.cloud.block_on(ledger::read(&self.cloud, &self.opts))?))
    }

    /// Whether any of these jobs exists.
    pub fn any_job(&self, ids: &BTreeSet<String>) -> Result<bool, CloudError> {
        for id in ids {
            if self.cloud.block_on(jobs::get(&self.cloud, &self.opts, id))?.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Closes a pending batch whose jobs never ran.
    pub fn abandon(&self, batch: &str) -> Result<(), CloudError> {
        self.append(&[Row::new(batch, Kind::Abandoned)])
    }

    /// Marks `uris` loadable again; returns the URIs the ledger does not hold as loaded.
    pub fn forget(&self, uris: &[String]) -> Result<Vec<String>, CloudError> {
        let state = self.state()?;
        let known: BTreeSet<&str> = state.loaded.keys().map(|(u, _)| u.as_str()).collect();
        let unknown = uris.iter().filter(|u| !known.contains(u.as_str())).cloned().collect();
        let stamp = Row::new("", Kind::Forgotten).recorded_us;
        let rows: Vec<Row> = uris
            .iter()
            .filter(|u| known.contains(u.as_str()))
            .map(|u| Row { uri: Some(u.clone()), ..Row::new(&format!("forget_{stamp}"), Kind::Forgotten) })
            .collect();
        self.append(&rows)?;
        Ok(unknown)
    }

    fn append(&self, rows: &[Row]) -> Result<(), CloudError> {
        self.cloud.block_on(ledger::append(&self.cloud, &self.opts, rows, &self.work))
    }

    /// `report`'s rows per BigQuery table (the schema's tables, renamed by `--table`).
    pub fn rows(&self, report: &FileReport) -> BTreeMap<String, u64> {
        self.schema
            .tables
            .iter()
            .zip(&self.opts.tables)
            .map(|(t, bq)| (bq.clone(), report.rows.get(t.name).copied().unwrap_or(0)))
            .collect()
    }

    /// The batch id of new inputs (`nonce` makes it unlike any earlier batch of the same inputs).
    pub fn batch_id(&self, files: &[(&Input, &FileReport)], nonce: Option<&str>) -> String {
        let versions: Vec<String> = files.iter().map(|(i, _)| i.versioned_uri()).collect();
        jobs::batch_id(&self.opts, &versions, nonce)
    }

    /// Loads a batch of parsed inputs (all `loaded`): records the intent unless
    /// `pending` (a batch a stopped run recorded, whose rows must match), runs one load
    /// job per table, and records it done.
    pub fn load(&self, batch: &str, files: &[(&Input, &FileReport)], pending: Option<&Pending>) -> BatchOutcome {
        match pending {
            Some(p) => {
                for (i, r) in files {
                    let want = p.files.get(&i.uri).map(|(_, rows)| rows);
                    if want != Some(&self.rows(r)) {
                        return BatchOutcome::Failed(format!(
                            "batch {batch}: {} gave other rows than the earlier run recorded ({:?}, now {:?}); \
                             nothing was loaded for it",
                            i.uri,
                            want,
                            self.rows(r)
                        ));
                    }
                }
            }
            None => {
                let mut intent = vec![];
                for (i, r) in files {
                    for (table, n) in self.rows(r) {
                        intent.push(Row {
                            uri: Some(i.uri.clone()),
                            version: Some(i.version.clone()),
                            job_id: Some(jobs::job_id(&self.opts, &table, batch, 0)),
                            table_name: Some(table),
                            row_count: Some(n),
                            ..Row::new(batch, Kind::Intent)
                        });
                    }
                }
                if let Err(e) = self.append(&intent) {
                    return BatchOutcome::Failed(format!("recording batch {batch} in the ledger failed: {e}"));
                }
            }
        }
        super::fault::stop_point("after-intent");
        let loads = self.load_tables(batch, files);
        if loads.iter().any(|l| l.error.is_some()) {
            return BatchOutcome::Incomplete(loads);
        }
        super::fault::stop_point("after-jobs");
        match self.append(&[Row::new(batch, Kind::Done)]) {
            Ok(()) => BatchOutcome::Done(loads),
            Err(e) => BatchOutcome::Failed(format!(
                "batch {batch} is loaded, but recording it in the ledger failed ({e}); \
                 the next run records it without loading it again"
            )),
        }
    }

    /// With `--write merge`: why these files cannot be merged (a table they have rows for
    /// has no key), naming the table and a file; None when they can.
    pub fn unkeyed(&self, files: &[&FileReport]) -> Option<String> {
        if self.opts.write != WriteMode::Merge {
            return None;
        }
        self.schema.tables.iter().zip(&self.opts.keys).find_map(|(t, key)| match key {
            TableKey::Missing(why) => files
                .iter()
                .find(|f| f.rows.get(t.name).is_some_and(|&n| n > 0))
                .map(|f| format!("--write merge: {why}. {} has rows for it: nothing was loaded", f.uri)),
            TableKey::Columns(_) => None,
        })
    }

    /// One load job per table (a staging load and a MERGE with `--write merge`), from
    /// the parts of `files`.
    fn load_tables(&self, batch: &str, files: &[(&Input, &FileReport)]) -> Vec<TableLoad> {
        let order = merge_order(&files.iter().map(|(i, _)| *i).collect::<Vec<_>>());
        self.schema
            .tables
            .iter()
            .enumerate()
            .map(|(t, spec)| {
                let with_rows: Vec<(&Input, u64)> = files
                    .iter()
                    .map(|(i, f)| (*i, f.rows.get(spec.name).copied().unwrap_or(0)))
                    .filter(|(_, n)| *n > 0)
                    .collect();
                let input = load::TableInput {
                    name: spec.name,
                    bq_table: &self.opts.tables[t],
                    parts: with_rows.iter().map(|(i, _)| self.parts.part_path(i, t)).collect(),
                    batch,
                    rows: with_rows.iter().map(|(_, n)| n).sum(),
                    work: &self.work,
                    merge: None,
                };
                let input = match (self.opts.write, self.opts.keys.get(t)) {
                    (WriteMode::Merge, Some(TableKey::Columns(key))) => load::TableInput {
                        merge: Some(MergeInput { key, files: &order, fields: &self.opts.schemas[t] }),
                        ..input
                    },
                    (WriteMode::Merge, missing) if input.rows > 0 => {
                        let why = match missing {
                            Some(TableKey::Missing(why)) => why.clone(),
                            _ => format!("table {} has no merge key", spec.name),
                        };
                        return load::refused(&self.opts, &input, why);
                    }
                    _ => input,
                };
                self.cloud.block_on(load::load_table(&self.cloud, &self.opts, &input))
            })
            .collect()
    }
}

/// The order in which a merge lets rows win (a later file's rows replace an earlier
/// one's): by version time — a Cloud Storage generation (microseconds), a local file's
/// modification time (`size=..,mtime=SECS.NANOS`) — then by URI. The URIs, oldest first.
pub fn merge_order(files: &[&Input]) -> Vec<String> {
    let time = |i: &Input| -> u128 {
        if let Ok(generation) = i.version.parse::<u128>() {
            return generation.saturating_mul(1000);
        }
        let mtime = i.version.split(',').find_map(|kv| kv.strip_prefix("mtime="));
        let (secs, nanos) = mtime.and_then(|m| m.split_once('.')).unwrap_or(("0", "0"));
        secs.parse::<u128>().unwrap_or(0) * 1_000_000_000 + nanos.parse::<u128>().unwrap_or(0)
    };
    let mut order: Vec<(u128, &str)> = files.iter().map(|i| (time(i), i.uri.as_str())).collect();
    order.sort();
    order.dedup();
    order.into_iter().map(|(_, u)| u.to_string()).collect()
}

/// Rows per BigQuery table (as the ledger records them) keyed by the schema's table
/// names instead, as reports show them.
fn schema_rows(schema: &Schema, opts: &LoadOptions, rows: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    schema
        .tables
        .iter()
        .zip(&opts.tables)
        .map(|(t, bq)| (t.name.to_string(), rows.get(bq).copied().unwrap_or(0)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(batch: &str, kind: Kind, uri: Option<&str>, at: i64) -> Row {
        Row {
            uri: uri.map(str::to_string),
            version: uri.map(|_| "1".to_string()),
            table_name: uri.map(|_| "orders".to_string()),
            job_id: uri.map(|_| format!("job_{batch}")),
            row_count: uri.map(|_| 3),
            recorded_us: at,
            ..Row::new(batch, kind)
        }
    }

    fn input(uri: &str, version: &str) -> Input {
        let loc = crate::source::Loc::Local(PathBuf::from("/unused"));
        Input { uri: uri.to_string(), size: 0, version: version.to_string(), loc }
    }

    #[test]
    fn merge_order_is_version_time_then_uri() {
        let files = [
            input("gs://b/z.xml", "1700000000000002"),
            input("gs://b/a.xml", "1700000000000002"),
            input("gs://b/m.xml", "1700000000000001"),
            input("file:///d/new.xml", "size=10,mtime=1700000001.000000005"),
            input("file:///d/old.xml", "size=99,mtime=1699999999.500000000"),
        ];
        let refs: Vec<&Input> = files.iter().collect();
        assert_eq!(
            merge_order(&refs),
            vec!["file:///d/old.xml", "gs://b/m.xml", "gs://b/a.xml", "gs://b/z.xml", "file:///d/new.xml"]
        );
    }

    #[test]
    fn the_log_says_what_is_loaded_and_what_is_pending() {
        let rows = vec![
            row("a", Kind::Intent, Some("gs://b/1.xml"), 1),
            row("a", Kind::Done, None, 2),
            row("b", Kind::Intent, Some("gs://b/2.xml"), 3),
            row("c", Kind::Intent, Some("gs://b/3.xml"), 4),
            row("c", Kind::Abandoned, None, 5),
            row("d", Kind::Intent, Some("gs://b/4.xml"), 6),
            row("d", Kind::Done, None, 7),
            Row { uri: Some("gs://b/4.xml".into()), ..row("f", Kind::Forgotten, None, 8) },
        ];
        let s = State::from_rows(&rows);
        let keys: BTreeSet<&str> = s.loaded.keys().map(|(u, _)| u.as_str()).collect();
        assert_eq!(keys, BTreeSet::from(["gs://b/1.xml"]));
        assert_eq!(s.pending.len(), 1);
        assert_eq!(s.pending[0].batch, "b");
        assert_eq!(s.pending[0].jobs, BTreeSet::from(["job_b".to_string()]));
        assert_eq!(s.pending[0].files["gs://b/2.xml"].1["orders"], 3);
    }
}
