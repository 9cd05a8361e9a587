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
        })
    }

    /// Whether the check runs. Tags match the check's tags or its suite name.
    pub fn selects(&self, info: &CheckInfo) -> bool {
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
}
