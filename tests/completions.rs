//! Shell completions and the man page come from the CLI definition.

use crate::support::cli;

use std::process::Command;

use cli::{Run, Spotcheck};

/// `spotcheck ARGS…` within 60 s; its output must be UTF-8.
fn spotcheck(args: &[&str]) -> Run {
    Spotcheck::new(args).strict_utf8().run_blocking()
}

/// The subcommands `spotcheck --help` lists (without `help`), in order.
fn subcommands() -> Vec<String> {
    let help = spotcheck(&["--help"]).stdout;
    let (_, list) = help.split_once("Commands:\n").expect("a Commands section");
    let names: Vec<String> = list
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|name| name != "help")
        .collect();
    assert!(names.len() >= 10, "{help}");
    names
}

/// The long options `spotcheck run --help` lists.
fn run_options() -> Vec<String> {
    let help = spotcheck(&["run", "--help"]).stdout;
    let options: Vec<String> = help
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = l
                .strip_prefix("-")
                .and_then(|r| r.split_once(", "))
                .map_or(l, |(_, r)| r);
            l.strip_prefix("--")
                .and_then(|r| r.split([' ', '=']).next())
                .map(str::to_owned)
        })
        .collect();
    assert!(options.len() >= 20, "{help}");
    options
}

/// Each shell's script has a completion branch for every subcommand and offers every
/// option of `run`; bash parses its own script; an unknown shell is a usage error.
#[test]
fn completion_scripts_cover_every_command_and_option_and_bash_parses_its_own() {
    let commands = subcommands();
    let options = run_options();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let output = spotcheck(&["completions", shell]);
        assert_eq!(output.code, Some(0), "{shell}");
        let script = output.stdout;
        for command in &commands {
            let branch = match shell {
                "bash" => format!("spotcheck,{command})"),
                "zsh" => format!("({command})"),
                "fish" => format!("-n \"__fish_spotcheck_using_subcommand {command}"),
                _ => format!("'spotcheck;{command}'"),
            };
            assert!(script.contains(&branch), "{shell} has no `{branch}`");
        }
        for option in &options {
            let offered = match shell {
                "fish" => script.lines().any(|l| {
                    l.contains("-n \"__fish_spotcheck_using_subcommand run\" ")
                        && format!("{l} ").contains(&format!(" -l {option} "))
                }),
                "zsh" => [format!("--{option}["), format!("--{option}=[")]
                    .iter()
                    .any(|o| script.contains(o)),
                _ => script.contains(&format!("--{option}")),
            };
            assert!(offered, "{shell} does not offer run --{option}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spotcheck.bash");
    std::fs::write(&path, spotcheck(&["completions", "bash"]).stdout).unwrap();
    let syntax = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    assert_eq!(spotcheck(&["completions", "tcsh"]).code, Some(2));
}

/// The man page is roff, and its SUBCOMMANDS section names exactly the commands of
/// `--help`, in the same order, each as a page of its own (`spotcheck-run(1)`).
#[test]
fn man_page_is_roff_with_the_commands() {
    let output = spotcheck(&["man"]);
    assert_eq!(output.code, Some(0));
    let page = output.stdout;
    assert!(page.contains(".TH spotcheck 1"), "{page}");
    assert!(page.contains("Conformance harness and mock sender for Spotnana webhooks"));
    let (_, section) = page
        .split_once(".SH SUBCOMMANDS\n")
        .expect("a SUBCOMMANDS section");
    let section = section.split("\n.SH ").next().unwrap();
    let listed: Vec<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("spotcheck\\-")?.strip_suffix("(1)"))
        .filter(|name| *name != "help")
        .collect();
    assert_eq!(listed, subcommands(), "{section}");
}
