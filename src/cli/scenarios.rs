//! `spotcheck scenarios check|list`: lint scenario files and list every check.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::check::Level;
use crate::error::{SetupError, exit};
use crate::scenario::{self, Scenario, ScenarioError};

/// Options of `spotcheck scenarios`.
#[derive(Debug, Args)]
pub struct ScenariosArgs {
    /// What to do with scenario files.
    #[command(subcommand)]
    pub command: ScenariosCommand,
}

/// The `scenarios` subcommands.
#[derive(Debug, Subcommand)]
pub enum ScenariosCommand {
    /// Check scenario files (or directories of *.toml) and print every mistake.
    Check {
        /// Files or directories to check.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// List every check: built-in, TLS probe, and those in --scenarios files.
    List {
        /// Scenario files or directories to add to the built-in checks.
        #[arg(long = "scenarios", value_name = "PATH", num_args = 1..)]
        scenarios: Vec<PathBuf>,
    },
}

/// The TLS probe's checks (run by the TLS module, not by scenario files), listed so that
/// `scenarios list` shows every check id. Same ids, levels and titles as DESIGN.md.
pub const PROBE_CHECKS: [(&str, Level, &str); 6] = [
    (
        "tls.https-required",
        Level::Required,
        "The endpoint is https://; a plain http:// endpoint fails",
    ),
    (
        "tls.tls12-supported",
        Level::Required,
        "A TLS 1.2 handshake succeeds",
    ),
    (
        "tls.tls13-supported",
        Level::Recommended,
        "A TLS 1.3 handshake succeeds",
    ),
    (
        "tls.legacy-refused",
        Level::Recommended,
        "TLS 1.0 and TLS 1.1 handshakes are refused",
    ),
    (
        "tls.certificate-valid",
        Level::Required,
        "The chain verifies, the name matches, and it is within its validity period",
    ),
    (
        "tls.certificate-expiry",
        Level::Recommended,
        "The leaf certificate is valid for 30 more days",
    ),
];

/// Runs `spotcheck scenarios …`: prints problems to stderr and returns exit 2 when a file is wrong.
pub async fn run(args: ScenariosArgs) -> Result<u8, SetupError> {
    match args.command {
        ScenariosCommand::Check { paths } => match scenario::load_paths(&paths) {
            Ok(found) => {
                let files = count_files(&found);
                println!(
                    "ok: {} {} in {files} {}",
                    found.len(),
                    if found.len() == 1 { "check" } else { "checks" },
                    if files == 1 { "file" } else { "files" }
                );
                Ok(exit::CONFORMANT)
            }
            Err(err) => {
                print_error(&err);
                Ok(exit::SETUP)
            }
        },
        ScenariosCommand::List { scenarios } => {
            let user = if scenarios.is_empty() {
                Vec::new()
            } else {
                match scenario::load_paths(&scenarios) {
                    Ok(user) => user,
                    Err(err) => {
                        print_error(&err);
                        return Ok(exit::SETUP);
                    }
                }
            };
            match scenario::with_builtin(user) {
                Ok(all) => {
                    print!("{}", list_table(&all));
                    Ok(exit::CONFORMANT)
                }
                Err(err) => {
                    print_error(&err);
                    Ok(exit::SETUP)
                }
            }
        }
    }
}

fn count_files(found: &[Scenario]) -> usize {
    let mut files: Vec<&str> = found.iter().map(|s| s.origin.file.as_str()).collect();
    files.sort_unstable();
    files.dedup();
    files.len()
}

/// Prints scenario errors to stderr, in colour only on a terminal without `NO_COLOR`.
pub fn print_error(err: &ScenarioError) {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    eprint!("{}", err.render(color));
}

/// The `list` table: the TLS probe checks, the runner's own checks, then `scenarios`
/// (built-ins, then user files).
pub fn list_table(scenarios: &[Scenario]) -> String {
    let mut rows: Vec<[String; 4]> = PROBE_CHECKS
        .iter()
        .map(|(id, level, title)| {
            [
                (*id).to_owned(),
                level.as_str().to_owned(),
                "(probe)".to_owned(),
                (*title).to_owned(),
            ]
        })
        .collect();
    // Checks the runner itself runs after the scenarios.
    let recovery = crate::runner::recovery::info();
    rows.push([
        recovery.id,
        recovery.level.as_str().to_owned(),
        "(run)".to_owned(),
        recovery.title,
    ]);
    rows.extend(scenarios.iter().map(|s| {
        [
            s.id.clone(),
            s.level.as_str().to_owned(),
            if s.origin.builtin {
                "(built-in)".to_owned()
            } else {
                s.origin.file.clone()
            },
            s.title.clone(),
        ]
    }));
    let header = [
        "ID".to_owned(),
        "LEVEL".to_owned(),
        "SOURCE".to_owned(),
        "TITLE".to_owned(),
    ];
    let widths: Vec<usize> = (0..3)
        .map(|i| {
            rows.iter()
                .chain(std::iter::once(&header))
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows.iter()) {
        for (i, width) in widths.iter().enumerate() {
            out.push_str(&format!("{:<width$}  ", row[i], width = *width));
        }
        out.push_str(&row[3]);
        out.push('\n');
    }
    out
}
