//! Sharding for cluster schedulers: `--shard I/N` runs a deterministic
//! slice of the variants (shard I of N, 0-based, contiguous); without it the
//! index comes from `JOB_COMPLETION_INDEX` (Kubernetes indexed jobs) or
//! `SLURM_ARRAY_TASK_ID` (Slurm job arrays, counted from
//! `SLURM_ARRAY_TASK_MIN`), and the count from `--shards N` or
//! `SLURM_ARRAY_TASK_COUNT`.

use std::ops::Range;

use crate::error::SweepError;

/// Shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

fn err(m: impl Into<String>) -> SweepError {
    SweepError::Shard(m.into())
}

impl Shard {
    /// Parses `I/N`.
    pub fn parse(text: &str) -> Result<Shard, SweepError> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| err(format!("`{text}`: expected I/N, e.g. 0/8")))?;
        let num = |s: &str, what: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| err(format!("`{text}`: {what} `{s}` is not a number")))
        };
        Shard::new(num(i, "index")?, num(n, "count")?)
    }

    pub fn new(index: u32, count: u32) -> Result<Shard, SweepError> {
        if count == 0 {
            return Err(err("the shard count must be at least 1"));
        }
        if index >= count {
            return Err(err(format!(
                "index {index} is not below the count {count} (shards are numbered from 0)"
            )));
        }
        Ok(Shard { index, count })
    }

    /// The shard of this process: `--shard` (`flag`), else a scheduler's
    /// index variable with `--shards` (`count`) or Slurm's task count.
    /// `env` reads a variable (the process environment in the binary).
    pub fn resolve(
        flag: Option<&str>,
        count: Option<u32>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Shard>, SweepError> {
        if let Some(f) = flag {
            let s = Shard::parse(f)?;
            if count.is_some_and(|c| c != s.count) {
                return Err(err(format!(
                    "--shard {f} and --shards {} disagree",
                    count.unwrap_or(0)
                )));
            }
            return Ok(Some(s));
        }
        let var = |name: &str| -> Result<Option<u32>, SweepError> {
            match env(name) {
                None => Ok(None),
                Some(v) if v.trim().is_empty() => Ok(None),
                Some(v) => v
                    .trim()
                    .parse::<u32>()
                    .map(Some)
                    .map_err(|_| err(format!("{name}=`{v}` is not a number"))),
            }
        };
        if let Some(i) = var("JOB_COMPLETION_INDEX")? {
            let n = count.ok_or_else(|| {
                err("JOB_COMPLETION_INDEX is set: give the job's completions as --shards N")
            })?;
            return Shard::new(i, n).map(Some);
        }
        if let Some(id) = var("SLURM_ARRAY_TASK_ID")? {
            let min = var("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let n = match count {
                Some(n) => n,
                None => var("SLURM_ARRAY_TASK_COUNT")?.ok_or_else(|| {
                    err("SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT: give --shards N")
                })?,
            };
            let i = id.checked_sub(min).ok_or_else(|| {
                err(format!(
                    "SLURM_ARRAY_TASK_ID {id} is below SLURM_ARRAY_TASK_MIN {min}"
                ))
            })?;
            return Shard::new(i, n).map(Some);
        }
        if count.is_some() {
            return Err(err(
                "--shards without --shard, JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID",
            ));
        }
        Ok(None)
    }

    /// The variants of this shard out of `total`: a contiguous slice, the
    /// slices of shards 0..N covering 0..total exactly once.
    pub fn slice(&self, total: u32) -> Range<u32> {
        let at = |k: u32| (total as u64 * k as u64 / self.count as u64) as u32;
        at(self.index)..at(self.index + 1)
    }

    /// File name of this shard's part (`part-0003-of-0010`).
    pub fn part_name(&self) -> String {
        format!("part-{:04}-of-{:04}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn slices_cover_every_variant_once() {
        for total in [0u32, 1, 7, 10, 1000] {
            for n in 1..=9u32 {
                let mut seen = Vec::new();
                for i in 0..n {
                    seen.extend(Shard::new(i, n).unwrap().slice(total));
                }
                assert_eq!(seen, (0..total).collect::<Vec<_>>(), "{total} in {n}");
            }
        }
    }

    #[test]
    fn flag_then_kubernetes_then_slurm() {
        let none = env(&[]);
        assert_eq!(Shard::resolve(None, None, &none).unwrap(), None);
        let s = Shard::resolve(Some("2/5"), None, &none).unwrap().unwrap();
        assert_eq!((s.index, s.count), (2, 5));
        let k8s = env(&[("JOB_COMPLETION_INDEX", "3"), ("SLURM_ARRAY_TASK_ID", "1")]);
        let s = Shard::resolve(None, Some(4), &k8s).unwrap().unwrap();
        assert_eq!((s.index, s.count), (3, 4));
        assert!(Shard::resolve(None, None, &k8s).is_err(), "count needed");
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ]);
        let s = Shard::resolve(None, None, &slurm).unwrap().unwrap();
        assert_eq!((s.index, s.count), (4, 8));
        // The flag wins over the environment.
        let s = Shard::resolve(Some("0/2"), None, &slurm).unwrap().unwrap();
        assert_eq!((s.index, s.count), (0, 2));
    }

    #[test]
    fn bad_shards_are_errors() {
        let none = env(&[]);
        for bad in ["3/3", "1/0", "x/2", "2"] {
            assert!(Shard::resolve(Some(bad), None, &none).is_err(), "{bad}");
        }
        assert!(Shard::resolve(Some("1/3"), Some(4), &none).is_err());
        assert!(Shard::resolve(None, Some(4), &none).is_err());
        let bad = env(&[("JOB_COMPLETION_INDEX", "one")]);
        assert!(Shard::resolve(None, Some(2), &bad).is_err());
    }
}
