//! Sharding: N workers split one input list so that together they cover every file
//! exactly once. A file's shard is a stable hash of its URI modulo N, so adding files
//! never moves the others. The index comes from `--shard INDEX/COUNT`, or from the
//! engines that run indexed workers: Kubernetes Indexed Jobs (`JOB_COMPLETION_INDEX`,
//! with the count from `--shard-count` / `XML2BQ_SHARD_COUNT`) and Cloud Run Jobs
//! (`CLOUD_RUN_TASK_INDEX`, `CLOUD_RUN_TASK_COUNT`).

use xml2bq_core::stable_hash;

/// This worker's part of the inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

fn number(what: &str, v: &str) -> Result<u64, String> {
    v.trim().parse().map_err(|_| format!("{what} {v:?} is not a whole number"))
}

impl Shard {
    pub fn new(index: u64, count: u64) -> Result<Shard, String> {
        if count == 0 || index >= count {
            return Err(format!("shard {index}/{count}: the index must be 0 to COUNT-1 and COUNT at least 1"));
        }
        Ok(Shard { index, count })
    }

    /// Parses `INDEX/COUNT`, e.g. `2/7`.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (i, n) = s.split_once('/').ok_or_else(|| format!("--shard {s:?}: expected INDEX/COUNT, e.g. 0/4"))?;
        Shard::new(number("shard index", i)?, number("shard count", n)?)
    }

    /// The shard from the flag, else from the environment `env` (None: no sharding).
    pub fn resolve(
        flag: Option<&str>,
        count: Option<u64>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Shard>, String> {
        if let Some(f) = flag {
            return Shard::parse(f).map(Some);
        }
        if let Some(i) = env("JOB_COMPLETION_INDEX") {
            let n = count.ok_or(
                "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but not the shard count: \
                 pass --shard-count N or set XML2BQ_SHARD_COUNT to the Job's completions",
            )?;
            return Shard::new(number("JOB_COMPLETION_INDEX", &i)?, n).map(Some);
        }
        if let (Some(i), Some(n)) = (env("CLOUD_RUN_TASK_INDEX"), env("CLOUD_RUN_TASK_COUNT")) {
            return Shard::new(number("CLOUD_RUN_TASK_INDEX", &i)?, number("CLOUD_RUN_TASK_COUNT", &n)?).map(Some);
        }
        Ok(None)
    }

    /// Whether this shard processes the input with this URI.
    pub fn owns(&self, uri: &str) -> bool {
        // Finish FNV-1a with a 64-bit mixer so that similar names spread evenly.
        let mut z = stable_hash(uri);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        z % self.count == self.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_inputs() {
        let uris: Vec<String> = (0..1000).map(|i| format!("gs://b/in/file-{i:04}.xml")).collect();
        for n in [1, 2, 3, 7] {
            let mut owners = vec![0u32; uris.len()];
            for i in 0..n {
                let s = Shard::new(i, n).unwrap();
                let mine = uris.iter().filter(|u| s.owns(u)).count();
                assert!(mine as f64 > 1000.0 / n as f64 * 0.8, "shard {s} holds {mine} of 1000");
                for (k, u) in uris.iter().enumerate() {
                    owners[k] += u32::from(s.owns(u));
                }
            }
            assert!(owners.iter().all(|&o| o == 1), "every file in exactly one of {n} shards");
        }
    }

    #[test]
    fn sources_of_the_index() {
        let none = |_: &str| None;
        assert_eq!(Shard::resolve(Some("2/7"), None, none).unwrap(), Some(Shard { index: 2, count: 7 }));
        assert!(Shard::resolve(Some("7/7"), None, none).is_err());
        assert!(Shard::resolve(Some("x"), None, none).is_err());
        assert_eq!(Shard::resolve(None, None, none).unwrap(), None);
        let k8s = |k: &str| (k == "JOB_COMPLETION_INDEX").then(|| "1".to_string());
        assert_eq!(Shard::resolve(None, Some(3), k8s).unwrap(), Some(Shard { index: 1, count: 3 }));
        assert!(Shard::resolve(None, None, k8s).unwrap_err().contains("XML2BQ_SHARD_COUNT"));
        let run = |k: &str| match k {
            "CLOUD_RUN_TASK_INDEX" => Some("4".to_string()),
            "CLOUD_RUN_TASK_COUNT" => Some("5".to_string()),
            _ => None,
        };
        assert_eq!(Shard::resolve(None, None, run).unwrap(), Some(Shard { index: 4, count: 5 }));
    }
}
