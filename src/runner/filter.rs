//! `--only`, `--skip` and `--tags`: which checks a run selects.

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::check::CheckInfo;

/// The selection made by `--only`, `--skip` and `--tags`.
#[derive(Debug, Clone)]
pub struct CheckFilter {
    only: Option<GlobSet>,
    skip: Option<GlobSet>,
    tags: Vec<String>,
    /// With `--shard`: the ids this shard owns.
    owned: Option<std::collections::HashSet<String>>,
}

/// `--shard K/N`: the K-th of N deterministic shares of the selected checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which share, 1-based.
    pub index: usize,
    /// How many shares.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let parsed = text.split_once('/').and_then(|(k, n)| {
            Some((
                k.trim().parse::<usize>().ok()?,
                n.trim().parse::<usize>().ok()?,
            ))
        });
        match parsed {
            Some((index, count)) if index >= 1 && index <= count => Ok(Shard { index, count }),
            _ => Err(format!(
                "`{text}` is not a shard; write K/N with 1 ≤ K ≤ N, e.g. 2/4"
            )),
        }
    }
}

impl Shard {
    /// The seed this share uses when every runner is given the same `base` seed:
    /// `base + K − 1`, so the N runners of a distributed load send distinct webhook ids
    /// and each run can be replayed from its printed seed.
    pub fn seed(self, base: u64) -> u64 {
        base.wrapping_add(self.index as u64 - 1)
    }
}

impl CheckFilter {
    /// Builds the filter; a malformed glob is a [`FilterError`].
    pub fn new(
        only: &[String],
        skip: &[String],
        tags: &[String],
    ) -> Result<CheckFilter, FilterError> {
        Ok(CheckFilter {
            only: globs(GlobList::Only, only)?,
            skip: globs(GlobList::Skip, skip)?,
            tags: tags
                .iter()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect(),
            owned: None,
        })
    }

    /// Restricts the filter to one shard of `ids` (every check the filter selects):
    /// sorted by id, the i-th goes to shard `i mod N`. Shards are disjoint, together
    /// complete, and the same for the same set of checks on every CI runner.
    pub fn sharded(mut self, shard: Shard, ids: impl IntoIterator<Item = String>) -> CheckFilter {
        let mut ids: Vec<String> = ids.into_iter().collect();
        ids.sort();
        ids.dedup();
        self.owned = Some(
            ids.into_iter()
                .enumerate()
                .filter(|(i, _)| i % shard.count == shard.index - 1)
                .map(|(_, id)| id)
                .collect(),
        );
        self
    }

    /// Whether the check runs. Tags match the check's tags or its suite name.
    pub fn selects(&self, info: &CheckInfo) -> bool {
        if let Some(owned) = &self.owned
            && !owned.contains(&info.id)
        {
            return false;
        }
        if let Some(only) = &self.only
            && !only.is_match(&info.id)
        {
            return false;
        }
        if let Some(skip) = &self.skip
            && skip.is_match(&info.id)
        {
            return false;
        }
        self.tags.is_empty()
            || self
                .tags
                .iter()
                .any(|t| info.tags.iter().any(|own| own == t) || info.suite() == t)
    }
}

fn globs(list: GlobList, patterns: &[String]) -> Result<Option<GlobSet>, FilterError> {
    let patterns: Vec<&str> = patterns
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect();
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern).map_err(|source| FilterError::Glob {
            list,
            pattern: pattern.to_owned(),
            source,
        })?;
        builder.add(glob);
    }
    builder
        .build()
        .map(Some)
        .map_err(|source| FilterError::Set { list, source })
}

/// Which list of check-id globs a pattern came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobList {
    /// The checks to run (`--only`).
    Only,
    /// The checks to leave out (`--skip`).
    Skip,
}

/// A check-id glob that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// One pattern is not a glob.
    #[error("`{pattern}` is not a valid glob: {source}")]
    Glob {
        /// The list it came from.
        list: GlobList,
        /// The pattern as given.
        pattern: String,
        /// Why.
        source: globset::Error,
    },
    /// The patterns together cannot be compiled.
    #[error("{source}")]
    Set {
        /// The list they came from.
        list: GlobList,
        /// Why.
        source: globset::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Level;

    fn info(id: &str, tags: &[&str]) -> CheckInfo {
        CheckInfo {
            id: id.into(),
            title: String::new(),
            level: Level::Required,
            why: String::new(),
            fix: String::new(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            needs: Default::default(),
            diagnosis: None,
        }
    }

    #[test]
    fn only_skip_and_tags_combine() {
        let f = CheckFilter::new(&["signature.*".into()], &["*.stale-*".into()], &[]).unwrap();
        assert!(f.selects(&info("signature.valid-accepted", &[])));
        assert!(!f.selects(&info("signature.stale-timestamp-rejected", &[])));
        assert!(!f.selects(&info("delivery.status-200", &[])));
        let t = CheckFilter::new(&[], &[], &["ordering".into(), "fast".into()]).unwrap();
        assert!(t.selects(&info("ordering.out-of-order-accepted", &[])));
        assert!(t.selects(&info("delivery.latency", &["fast"])));
        assert!(!t.selects(&info("delivery.large-payload", &[])));
        assert!(CheckFilter::new(&["[".into()], &[], &[]).is_err());
    }

    #[test]
    fn shards_are_disjoint_and_complete() {
        let ids: Vec<String> = (0..23).map(|i| format!("suite.check-{i:02}")).collect();
        for count in 1..=5 {
            let mut seen = Vec::new();
            for index in 1..=count {
                let filter = CheckFilter::new(&[], &[], &[])
                    .unwrap()
                    .sharded(Shard { index, count }, ids.clone());
                seen.extend(
                    ids.iter()
                        .filter(|id| filter.selects(&info(id, &[])))
                        .cloned(),
                );
            }
            seen.sort();
            assert_eq!(seen, ids, "{count} shards");
        }
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/3", "4/3", "2", "a/b", "1/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn each_shard_gets_its_own_seed() {
        let seeds: Vec<u64> = (1..=4)
            .map(|index| Shard { index, count: 4 }.seed(41))
            .collect();
        assert_eq!(seeds, [41, 42, 43, 44]);
        assert_eq!(Shard { index: 2, count: 2 }.seed(u64::MAX), 0);
    }
}
