//! `--only`, `--skip` and `--tags`: which checks a run selects.

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::check::CheckInfo;
use crate::error::SetupError;

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

/// `--shard`: a share written out (`K/N`), or `auto` (`auto/N`) for the index (and total)
/// that the CI's parallel runner or a Kubernetes Indexed Job puts in the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardArg {
    /// `K/N`.
    Fixed(Shard),
    /// `auto`, or `auto/N` when the environment gives an index but no total.
    Auto {
        /// The `N` of `auto/N`.
        total: Option<usize>,
    },
}

impl std::str::FromStr for ShardArg {
    type Err = String;

    fn from_str(text: &str) -> Result<ShardArg, String> {
        let trimmed = text.trim();
        if trimmed == "auto" {
            return Ok(ShardArg::Auto { total: None });
        }
        if let Some(total) = trimmed.strip_prefix("auto/") {
            return match total.trim().parse::<usize>() {
                Ok(total) if total >= 1 => Ok(ShardArg::Auto { total: Some(total) }),
                _ => Err(format!(
                    "`{text}` is not a shard; write auto/N with N ≥ 1, the number of runners (e.g. auto/4)"
                )),
            };
        }
        trimmed
            .parse::<Shard>()
            .map(ShardArg::Fixed)
            .map_err(|err| format!("{err}, or auto"))
    }
}

/// Where `--shard auto` found its index and total.
struct ShardSource {
    /// The runner, as users know it.
    name: &'static str,
    /// The variable holding this runner's index.
    index: &'static str,
    /// The variable holding the number of runners, when the runner sets one.
    total: Option<&'static str>,
    /// Whether the index counts from 1 (GitLab) rather than 0.
    one_based: bool,
}

/// The runners `--shard auto` knows, in the order it looks for them.
const SHARD_SOURCES: [ShardSource; 4] = [
    ShardSource {
        name: "GitLab CI",
        index: "CI_NODE_INDEX",
        total: Some("CI_NODE_TOTAL"),
        one_based: true,
    },
    ShardSource {
        name: "CircleCI",
        index: "CIRCLE_NODE_INDEX",
        total: Some("CIRCLE_NODE_TOTAL"),
        one_based: false,
    },
    ShardSource {
        name: "Buildkite",
        index: "BUILDKITE_PARALLEL_JOB",
        total: Some("BUILDKITE_PARALLEL_JOB_COUNT"),
        one_based: false,
    },
    ShardSource {
        name: "a Kubernetes Indexed Job",
        index: "JOB_COMPLETION_INDEX",
        total: None,
        one_based: false,
    },
];

/// A share and, for `auto`, where it came from (`from GitLab CI (CI_NODE_INDEX=2, …)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedShard {
    /// The share.
    pub shard: Shard,
    /// For `auto`: which runner and variables gave it, in words.
    pub source: Option<String>,
}

impl ResolvedShard {
    /// `shard 2/4 from GitLab CI (CI_NODE_INDEX=2, CI_NODE_TOTAL=4)`, what the commands
    /// print so a CI log shows which share ran.
    pub fn describe(&self) -> String {
        let shard = format!("shard {}/{}", self.shard.index, self.shard.count);
        match &self.source {
            Some(source) => format!("{shard} from {source}"),
            None => shard,
        }
    }
}

impl ShardArg {
    /// The share to run; `auto` reads the environment through `env` (the process
    /// environment in the CLI). A setup error (exit 2) when `auto` finds no index, or a
    /// value that is not a number or out of range.
    pub fn resolve(
        self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ResolvedShard, SetupError> {
        let total_given = match self {
            ShardArg::Fixed(shard) => {
                return Ok(ResolvedShard {
                    shard,
                    source: None,
                });
            }
            ShardArg::Auto { total } => total,
        };
        let Some((source, index_text)) = SHARD_SOURCES
            .iter()
            .find_map(|source| Some((source, env(source.index)?)))
        else {
            return Err(SetupError::new(
                "--shard auto found no runner index in the environment",
            )
            .with_hint(
                "it reads GitLab's CI_NODE_INDEX/CI_NODE_TOTAL (set by `parallel:`), CircleCI's \
                 CIRCLE_NODE_INDEX/CIRCLE_NODE_TOTAL, Buildkite's BUILDKITE_PARALLEL_JOB/\
                 BUILDKITE_PARALLEL_JOB_COUNT, or a Kubernetes Indexed Job's JOB_COMPLETION_INDEX \
                 (with --shard auto/N); elsewhere write --shard K/N",
            ));
        };
        let number = |name: &str, text: &str| {
            text.trim().parse::<usize>().map_err(|_| {
                SetupError::new(format!(
                    "--shard auto: {name}=`{text}` (from {}) is not a number",
                    source.name
                ))
            })
        };
        let index = number(source.index, &index_text)?;
        let mut seen = vec![format!("{}={}", source.index, index_text.trim())];
        let total_env = match source.total {
            Some(name) => match env(name) {
                Some(text) => {
                    seen.push(format!("{name}={}", text.trim()));
                    Some(number(name, &text)?)
                }
                None => None,
            },
            None => None,
        };
        let count = match (total_env, total_given) {
            (Some(env_total), Some(given)) if env_total != given => {
                return Err(SetupError::new(format!(
                    "--shard auto/{given} disagrees with {} ({}): the runners are {env_total}",
                    source.name,
                    seen.join(", ")
                ))
                .with_hint("write --shard auto and let the runner say how many there are"));
            }
            (Some(total), _) | (None, Some(total)) => total,
            (None, None) => {
                let hint = match source.total {
                    Some(name) => format!("{name} is not set; write --shard auto/N"),
                    None => format!(
                        "{} does not say how many runners there are: write --shard auto/N, N being the Job's `completions`",
                        source.name
                    ),
                };
                return Err(SetupError::new(format!(
                    "--shard auto: {} gives {} but no total",
                    source.name,
                    seen.join(", ")
                ))
                .with_hint(hint));
            }
        };
        if total_given.is_some() && total_env.is_none() {
            seen.push(format!("total {count} from --shard auto/{count}"));
        }
        let shard_index = if source.one_based { index } else { index + 1 };
        if count == 0 || shard_index == 0 || shard_index > count {
            let range = if source.one_based {
                format!("1 to {count}")
            } else {
                format!("0 to {}", count.saturating_sub(1))
            };
            return Err(SetupError::new(format!(
                "--shard auto: {} gives {}; the index must be {range}",
                source.name,
                seen.join(", ")
            )));
        }
        Ok(ResolvedShard {
            shard: Shard {
                index: shard_index,
                count,
            },
            source: Some(format!("{} ({})", source.name, seen.join(", "))),
        })
    }
}

impl CheckFilter {
    /// Builds the filter; a malformed glob is a setup error.
    pub fn new(
        only: &[String],
        skip: &[String],
        tags: &[String],
    ) -> Result<CheckFilter, SetupError> {
        Ok(CheckFilter {
            only: globs("--only", only)?,
            skip: globs("--skip", skip)?,
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

fn globs(flag: &str, patterns: &[String]) -> Result<Option<GlobSet>, SetupError> {
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
        let glob = Glob::new(pattern).map_err(|err| {
            SetupError::new(format!("{flag} `{pattern}` is not a valid glob: {err}"))
                .with_hint("use * and ? wildcards, e.g. 'signature.*'")
        })?;
        builder.add(glob);
    }
    builder
        .build()
        .map(Some)
        .map_err(|err| SetupError::new(format!("{flag}: {err}")))
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

    /// Environment variables as `(name, value)`.
    type Vars<'a> = &'a [(&'a str, &'a str)];

    fn resolve(arg: &str, vars: Vars) -> Result<ResolvedShard, String> {
        let arg: ShardArg = arg.parse()?;
        arg.resolve(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
        .map_err(|err| err.to_string())
    }

    #[test]
    fn auto_reads_each_runner_with_its_own_base() {
        let shard = |index, count| Shard { index, count };
        let cases: [(&str, Vars, Shard); 5] = [
            (
                "auto",
                &[("CI_NODE_INDEX", "1"), ("CI_NODE_TOTAL", "3")],
                shard(1, 3),
            ),
            (
                "auto",
                &[("CIRCLE_NODE_INDEX", "0"), ("CIRCLE_NODE_TOTAL", "3")],
                shard(1, 3),
            ),
            (
                "auto",
                &[
                    ("BUILDKITE_PARALLEL_JOB", "2"),
                    ("BUILDKITE_PARALLEL_JOB_COUNT", "3"),
                ],
                shard(3, 3),
            ),
            ("auto/4", &[("JOB_COMPLETION_INDEX", "3")], shard(4, 4)),
            (
                "auto/3",
                &[("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "3")],
                shard(2, 3),
            ),
        ];
        for (arg, vars, expected) in cases {
            assert_eq!(
                resolve(arg, vars).map(|r| r.shard),
                Ok(expected),
                "{arg} {vars:?}"
            );
        }
        assert_eq!(
            resolve("auto", &[("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "4")])
                .unwrap()
                .describe(),
            "shard 2/4 from GitLab CI (CI_NODE_INDEX=2, CI_NODE_TOTAL=4)"
        );
        assert_eq!(resolve("3/5", &[]).unwrap().describe(), "shard 3/5");
    }

    #[test]
    fn auto_refuses_what_it_cannot_use() {
        let refused = [
            ("auto", vec![]),
            ("auto", vec![("JOB_COMPLETION_INDEX", "0")]),
            ("auto", vec![("CI_NODE_INDEX", "0"), ("CI_NODE_TOTAL", "3")]),
            (
                "auto",
                vec![("CIRCLE_NODE_INDEX", "3"), ("CIRCLE_NODE_TOTAL", "3")],
            ),
            (
                "auto",
                vec![
                    ("BUILDKITE_PARALLEL_JOB", "x"),
                    ("BUILDKITE_PARALLEL_JOB_COUNT", "3"),
                ],
            ),
            (
                "auto/2",
                vec![("CI_NODE_INDEX", "1"), ("CI_NODE_TOTAL", "3")],
            ),
            ("auto/2", vec![("JOB_COMPLETION_INDEX", "2")]),
        ];
        for (arg, vars) in refused {
            assert!(resolve(arg, &vars).is_err(), "{arg} {vars:?}");
        }
        for bad in ["auto/0", "auto/x", "autox", "0/3"] {
            assert!(bad.parse::<ShardArg>().is_err(), "{bad}");
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
