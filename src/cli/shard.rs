//! `--shard`: a share written out (`K/N`), or `auto`, read from the environment the CI's
//! parallel runner or a Kubernetes Indexed Job sets. Reading the process environment and
//! naming the flag are the command line's; the engine gets the resolved [`Shard`].

use crate::error::SetupError;
use crate::runner::filter::Shard;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
