//! The project file (`spotcheck.toml`, see [`crate::project`]) on the command line:
//! which file a command reads, and its settings merged under the flags (a flag always
//! wins; a header or report format given by a flag replaces the file's of that name).

use std::path::{Path, PathBuf};

use clap::ArgMatches;
use clap::parser::ValueSource;

use super::common::{SecretArgs, TargetArgs};
use crate::error::SetupError;
use crate::project::{self, Project};

/// Which flags the command line gave explicitly among those with a default value
/// (for the others, absence is visible in the value itself).
#[derive(Debug, Clone, Copy, Default)]
pub struct Given {
    /// `--timeout`.
    pub timeout: bool,
    /// `--secret-env`.
    pub secret_env: bool,
}

impl Given {
    /// Reads the sources of a subcommand's values.
    pub fn from_matches(matches: &ArgMatches) -> Given {
        let given = |id: &str| {
            matches.try_get_raw(id).is_ok_and(|v| v.is_some())
                && matches.value_source(id) == Some(ValueSource::CommandLine)
        };
        Given {
            timeout: given("timeout"),
            secret_env: given("secret_env"),
        }
    }
}

/// The project file a command reads: `explicit` (`--project`), none with `disabled`
/// (`--no-project`), else the one [`project::discover`] finds from the working directory.
/// Its mistakes are exit-2 errors with `file:line:column`.
pub fn find(explicit: Option<&Path>, disabled: bool) -> Result<Option<Project>, SetupError> {
    let path = match explicit {
        Some(path) => Some(path.to_path_buf()),
        None if disabled => None,
        None => std::env::current_dir()
            .ok()
            .and_then(|dir| project::discover(&dir)),
    };
    let Some(path) = path else {
        return Ok(None);
    };
    let loaded = project::load(&path).map_err(|err| SetupError::new(err.render(stderr_color())))?;
    errln!("project file: {}", path.display());
    Ok(Some(loaded))
}

/// What a run's flags hold that the project file may fill in.
pub struct RunFlags<'a> {
    /// `--endpoint`, `--ca-cert`, `--header`, `--timeout`.
    pub target: &'a mut TargetArgs,
    /// `--secret-env`, `--secret-file`.
    pub secret: &'a mut SecretArgs,
    /// `--events`.
    pub events: &'a mut Vec<String>,
    /// `--org-id`.
    pub org_id: &'a mut Vec<String>,
    /// `--report`.
    pub reports: &'a mut Vec<String>,
    /// `--min-coverage`.
    pub min_coverage: &'a mut Option<crate::coverage::MinCoverage>,
    /// Which defaulted flags were given.
    pub given: Given,
}

/// Fills in from `project` what the flags leave unsaid.
pub fn apply(project: &Project, flags: RunFlags<'_>) {
    let RunFlags {
        target,
        secret,
        events,
        org_id,
        reports,
        min_coverage,
        given,
    } = flags;
    if min_coverage.is_none() {
        *min_coverage = project.min_coverage;
    }
    if target.endpoint.is_none() {
        target.endpoint.clone_from(&project.endpoint);
    }
    if target.ca_cert.is_none() {
        target.ca_cert.clone_from(&project.ca_cert);
    }
    if !given.timeout
        && let Some(timeout) = project.timeout
    {
        target.timeout = timeout;
    }
    if secret.secret_file.is_none() && !given.secret_env {
        if let Some(file) = &project.secret_file {
            secret.secret_file = Some(file.clone());
        } else if let Some(name) = &project.secret_env {
            secret.secret_env.clone_from(name);
        }
    }
    if events.is_empty() && !project.events.is_empty() {
        *events = project
            .subscription()
            .events_arg()
            .split(',')
            .map(str::to_owned)
            .collect();
    }
    if org_id.is_empty() {
        org_id.clone_from(&project.organizations);
    }
    let flag_headers: Vec<String> = target
        .headers
        .iter()
        .filter_map(|h| {
            h.split_once(':')
                .map(|(n, _)| n.trim().to_ascii_lowercase())
        })
        .collect();
    let mut headers: Vec<String> = project
        .headers
        .iter()
        .filter(|(name, _)| !flag_headers.contains(&name.to_ascii_lowercase()))
        .map(|(name, value)| format!("{name}: {value}"))
        .collect();
    headers.append(&mut target.headers);
    target.headers = headers;
    let flag_formats: Vec<String> = reports
        .iter()
        .filter_map(|r| {
            r.split_once('=')
                .map(|(f, _)| f.trim().to_ascii_lowercase())
        })
        .map(|f| if f == "md" { "markdown".to_owned() } else { f })
        .collect();
    let mut merged: Vec<String> = project
        .reports
        .iter()
        .filter(|(format, _)| !flag_formats.contains(format))
        .map(|(format, path)| format!("{format}={}", path.display()))
        .collect();
    merged.append(reports);
    *reports = merged;
}

/// Whether stderr shows colour.
fn stderr_color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// The project files `scenarios check` validates: those among `paths` named
/// `spotcheck.toml`, and the one found from the working directory.
pub fn files_to_check(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = paths
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n == project::FILE_NAME) && p.is_file())
        .cloned()
        .collect();
    if let Some(found) = std::env::current_dir()
        .ok()
        .and_then(|dir| project::discover(&dir))
        && !files.iter().any(|f| same_file(f, &found))
    {
        files.push(found);
    }
    files
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
