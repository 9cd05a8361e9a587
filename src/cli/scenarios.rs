//! `spotcheck scenarios check|list`: lint scenario files and list every check.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::check::CheckInfo;
use crate::error::{SetupError, exit};
use crate::runner::catalogue::{Catalogue, Kind};
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
    #[command(
        after_help = "Example:\n  spotcheck scenarios check scenarios/ my-checks/refunds.toml"
    )]
    Check {
        /// Files or directories to check.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// The read-back URL `run` will get: absolute `observe` URLs must be on its origin
        /// (without it they are refused, as `run` without --state-url refuses them).
        #[arg(long, value_name = "URL")]
        state_url: Option<String>,
        /// Where files may be read from, and the size caps (as for `run`).
        #[command(flatten)]
        files: super::scenario_files::ScenarioFileArgs,
    },
    /// Print the JSON Schema of the scenario format (for editors: taplo, Tombi, VS Code).
    #[command(
        after_help = "Example:\n  spotcheck scenarios schema > spotcheck-scenario.schema.json"
    )]
    Schema {
        /// Print the schema of the project file (`spotcheck.toml`) instead.
        #[arg(long)]
        project: bool,
    },
    /// Write a commented starter scenario to NAME.toml (or to the path given).
    #[command(after_help = "Example:\n  spotcheck scenarios new refund-processed")]
    New {
        /// The check name (used in the id `custom.NAME`) or a path ending in .toml.
        #[arg(value_name = "NAME")]
        name: String,
    },
    /// List every check: built-in, TLS probe, and those in --scenarios files.
    #[command(after_help = "Example:\n  spotcheck scenarios list --scenarios my-checks/ --verbose")]
    List {
        /// Scenario files or directories to add to the built-in checks.
        #[arg(long = "scenarios", value_name = "PATH", num_args = 1..)]
        scenarios: Vec<PathBuf>,
        /// Where files may be read from, and the size caps (as for `run`).
        #[command(flatten)]
        files: super::scenario_files::ScenarioFileArgs,
        /// After the table, each check again with why it matters and how to fix a failure.
        #[arg(long, short)]
        verbose: bool,
    },
}

/// Runs `spotcheck scenarios …`: prints problems to stderr and returns exit 2 when a file is wrong.
pub async fn run(args: ScenariosArgs) -> Result<u8, SetupError> {
    match args.command {
        ScenariosCommand::New { name } => write_starter(&name),
        ScenariosCommand::Schema { project } => {
            if project {
                out!("{}", crate::project::render_schema());
            } else {
                out!("{}", scenario::schema::render());
            }
            Ok(exit::CONFORMANT)
        }
        ScenariosCommand::Check {
            paths,
            state_url,
            files,
        } => {
            // The project file too: named among the paths, or found from here.
            let projects = super::project::files_to_check(&paths);
            let mut bad_project = false;
            for path in &projects {
                match crate::project::load(path) {
                    Ok(_) => outln!("ok: project file {}", path.display()),
                    Err(err) => {
                        errout!("{}", err.render(stderr_color()));
                        bad_project = true;
                    }
                }
            }
            let scenario_paths: Vec<PathBuf> = paths
                .into_iter()
                .filter(|p| !projects.contains(p))
                .collect();
            let code = if scenario_paths.is_empty() {
                exit::CONFORMANT
            } else {
                check_scenarios(&scenario_paths, &files, state_url.as_deref())?
            };
            Ok(if bad_project { exit::SETUP } else { code })
        }
        ScenariosCommand::List {
            scenarios,
            files,
            verbose,
        } => {
            let user = if scenarios.is_empty() {
                Vec::new()
            } else {
                match scenario::load_paths_with(&scenarios, &files.options()) {
                    Ok(user) => user,
                    Err(err) => {
                        print_error(&err);
                        return Ok(exit::SETUP);
                    }
                }
            };
            match scenario::with_builtin(user) {
                Ok(all) => {
                    out!("{}", list_table(&all, verbose));
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

/// `scenarios check` over scenario files: the count, the programs note and the
/// warnings, or every mistake (exit 2).
fn check_scenarios(
    paths: &[PathBuf],
    files: &super::scenario_files::ScenarioFileArgs,
    state_url: Option<&str>,
) -> Result<u8, SetupError> {
    Ok(match load_checked(paths, files, state_url)? {
        Ok(found) => {
            let files = count_files(&found);
            outln!(
                "ok: {} {} in {files} {}",
                found.len(),
                if found.len() == 1 { "check" } else { "checks" },
                if files == 1 { "file" } else { "files" }
            );
            out!("{}", programs_note(&found));
            print_warnings(&found);
            exit::CONFORMANT
        }
        Err(err) => {
            print_error(&err);
            exit::SETUP
        }
    })
}

/// Loads the files as `run --scenarios` would, and refuses what `run` would refuse:
/// each scenario's caps, then the run's (with the built-in suites, as `run` runs them),
/// then every `observe` URL held to the `--state-url` origin.
fn load_checked(
    paths: &[PathBuf],
    files: &super::scenario_files::ScenarioFileArgs,
    state_url: Option<&str>,
) -> Result<Result<Vec<Scenario>, ScenarioError>, SetupError> {
    if let Some(url) = state_url {
        scenario::observe::origin_of(url)
            .map_err(|err| SetupError::new(format!("--state-url: {err}")))?;
    }
    Ok(
        scenario::load_paths_with(paths, &files.options()).and_then(|found| {
            scenario::check_run_budget(&found, true, &files.limits())?;
            scenario::check_origins(&found, state_url)?;
            Ok(found)
        }),
    )
}

/// Prints, on stderr, the scenarios' warnings (payload overrides Spotnana's schema
/// rejects) with their `file:line:column`; they never change the exit code.
pub fn print_warnings(scenarios: &[Scenario]) {
    let warnings: Vec<scenario::Problem> = scenarios
        .iter()
        .flat_map(|s| s.warnings.iter().cloned())
        .collect();
    errout!(
        "{}",
        scenario::diagnostic::render_warnings(&warnings, stderr_color())
    );
}

/// For `scenarios check`: which checks run programs (`exec` steps), one line each,
/// so a reviewer sees it before `spotcheck run --allow-exec`. Empty when none do.
pub fn programs_note(found: &[Scenario]) -> String {
    let mut out = String::new();
    for scenario in found.iter().filter(|s| s.runs_programs()) {
        let commands: Vec<String> = scenario
            .exec_steps()
            .map(|e| format!("`{}`", e.display))
            .collect();
        out.push_str(&format!(
            "runs programs: {} ({}): {}\n",
            scenario.info.id,
            scenario.origin.file,
            commands.join(", ")
        ));
    }
    if !out.is_empty() {
        out.push_str(
            "checks that run programs are skipped unless `spotcheck run` gets --allow-exec\n",
        );
    }
    out
}

fn count_files(found: &[Scenario]) -> usize {
    let mut files: Vec<&str> = found.iter().map(|s| s.origin.file.as_str()).collect();
    files.sort_unstable();
    files.dedup();
    files.len()
}

/// Prints scenario errors to stderr, in colour only on a terminal without `NO_COLOR`.
pub fn print_error(err: &ScenarioError) {
    errout!("{}", err.render(stderr_color()));
}

/// Colour on stderr: a terminal and no `NO_COLOR`.
fn stderr_color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// The `list` table: every check in the order `run` makes them (the run's catalogue:
/// the TLS probe checks, `scenarios` — built-ins, then user files — then the runner's
/// whole-run checks). `verbose` adds each check's why and fix under it.
pub fn list_table(scenarios: &[Scenario], verbose: bool) -> String {
    // (id, level, source, title, why, fix), from the one catalogue, so the list cannot
    // drift from the run.
    let rows: Vec<[String; 6]> = Catalogue::new(scenarios, true)
        .entries()
        .iter()
        .map(|entry| {
            let source = match entry {
                Kind::Tls(_) => "(probe)".to_owned(),
                Kind::WholeRun(_) => "(run)".to_owned(),
                Kind::Scenario(s) if s.origin.builtin => "(built-in)".to_owned(),
                Kind::Scenario(s) => s.origin.file.clone(),
            };
            let info: &CheckInfo = entry.info();
            [
                info.id.clone(),
                info.level.as_str().to_owned(),
                source,
                info.title.clone(),
                info.why.clone(),
                info.fix.clone(),
            ]
        })
        .collect();
    let header = ["ID", "LEVEL", "SOURCE", "TITLE"].map(str::to_owned);
    let widths: Vec<usize> = (0..3)
        .map(|i| {
            rows.iter()
                .map(|r| &r[i])
                .chain(&header[..3])
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        for (cell, width) in cells.iter().zip(&widths) {
            out.push_str(&format!("{cell:<width$}  ", width = *width));
        }
        out.push_str(&cells[3]);
        out.push('\n');
    };
    line(&header);
    for r in &rows {
        line(&r[..4]);
    }
    if verbose {
        // Again, each check followed by its why and fix (the table stays scannable).
        out.push('\n');
        for r in &rows {
            out.push_str(&format!(
                "{} ({}): {}\n  why: {}\n  fix: {}\n\n",
                r[0], r[1], r[3], r[4], r[5]
            ));
        }
    }
    out
}

/// The starter scenario `scenarios new` writes (it loads cleanly: a test checks it).
pub const STARTER: &str = include_str!("../scenario/starter.toml");

fn write_starter(name: &str) -> Result<u8, SetupError> {
    let path = if name.ends_with(".toml") {
        PathBuf::from(name)
    } else {
        PathBuf::from(format!("{name}.toml"))
    };
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("check")
        .to_owned();
    if stem.is_empty()
        || !stem
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(SetupError::new(format!(
            "`{stem}` cannot be a check name: use lowercase letters, digits and `-`"
        )));
    }
    let text = STARTER.replace("custom.NAME", &format!("custom.{stem}"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|err| {
            SetupError::new(format!("cannot create {}: {err}", path.display()))
                .with_hint("scenarios new never overwrites a file; pick another name")
        })?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .map_err(|err| SetupError::new(format!("cannot write {}: {err}", path.display())))?;
    outln!(
        "wrote {} (id custom.{stem}); run it with: spotcheck run --scenarios {}",
        path.display(),
        path.display()
    );
    Ok(exit::CONFORMANT)
}
