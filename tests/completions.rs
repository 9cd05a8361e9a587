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

/// The subcommands the README documents (every `` `spotcheck NAME `` it mentions): the
/// expectation independent of the binary, so a command hidden from both `--help` and
/// the completion scripts is still missed.
fn documented_subcommands() -> std::collections::BTreeSet<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let names: std::collections::BTreeSet<String> = readme
        .split("`spotcheck ")
        .skip(1)
        .filter_map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase())
                .collect();
            (!name.is_empty()).then_some(name)
        })
        .collect();
    assert!(names.len() >= 10, "{names:?}");
    names
}

/// The shells `spotcheck completions` supports, as the README lists them.
fn documented_shells() -> Vec<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let (_, rest) = readme
        .split_once("`spotcheck completions ")
        .expect("the README documents completions");
    let list = rest.split('`').next().unwrap();
    let shells: Vec<String> = list.split('|').map(str::to_owned).collect();
    assert!(shells.len() >= 5, "{list}");
    shells
}

/// How each shell parses a script without running it, where the shell is installed.
fn syntax_check(shell: &str) -> Option<(&'static str, &'static [&'static str])> {
    match shell {
        "bash" => Some(("bash", &["-n"])),
        "zsh" => Some(("zsh", &["-n"])),
        "fish" => Some(("fish", &["--no-execute"])),
        "elvish" => Some(("elvish", &["-compileonly"])),
        _ => None,
    }
}

fn installed(command: &str) -> bool {
    Command::new(command)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Each documented shell's script has a completion branch for every documented
/// subcommand and offers every option of `run`; each shell that is installed parses its
/// own script (bash always: `.ci/run` runs on Debian), and a shell that is not (e.g.
/// PowerShell) gets its brackets and quotes balanced instead, with a visible note;
/// an unknown shell is a usage error.
#[test]
fn completion_scripts_cover_every_command_and_option_and_parse() {
    let documented = documented_subcommands();
    let commands = subcommands();
    let listed: std::collections::BTreeSet<String> = commands.iter().cloned().collect();
    assert_eq!(
        listed, documented,
        "`spotcheck --help` and the README must name the same subcommands"
    );
    let options = run_options();
    let shells = documented_shells();
    assert_eq!(shells, ["bash", "zsh", "fish", "powershell", "elvish"]);
    let dir = tempfile::tempdir().unwrap();
    for shell in &shells {
        let output = spotcheck(&["completions", shell]);
        assert_eq!(output.code, Some(0), "{shell}");
        let script = output.stdout;
        for command in &documented {
            let branch = match shell.as_str() {
                "bash" => format!("spotcheck,{command})"),
                "zsh" => format!("({command})"),
                "fish" => format!("-n \"__fish_spotcheck_using_subcommand {command}"),
                "elvish" => format!("&'spotcheck;{command}'= {{"),
                _ => format!("'spotcheck;{command}'"),
            };
            assert!(script.contains(&branch), "{shell} has no `{branch}`");
        }
        for option in &options {
            let offered = match shell.as_str() {
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
        match syntax_check(shell) {
            Some((command, args)) if shell == "bash" || installed(command) => {
                let path = dir.path().join(format!("spotcheck.{shell}"));
                std::fs::write(&path, &script).unwrap();
                let syntax = Command::new(command)
                    .args(args)
                    .arg(&path)
                    .output()
                    .unwrap();
                let stderr = String::from_utf8_lossy(&syntax.stderr);
                // elvish compiles `edit:` only in an interactive shell: outside one the
                // script parses and then names that variable as its only error.
                let elvish_outside_editor = shell == "elvish"
                    && !stderr.contains("Parse error")
                    && stderr.matches("Compilation error").count() == 1
                    && stderr.contains("cannot find variable $edit:completion:arg-completer");
                assert!(
                    syntax.status.success() || elvish_outside_editor,
                    "{shell} does not parse its script: {}{}",
                    String::from_utf8_lossy(&syntax.stdout),
                    String::from_utf8_lossy(&syntax.stderr)
                );
            }
            _ => {
                // No shell to parse it here: its brackets must at least balance
                // (PowerShell's script has no `case` labels that close without opening).
                for (open, close) in [('{', '}'), ('(', ')'), ('[', ']')] {
                    let count = |c: char| script.chars().filter(|&x| x == c).count();
                    assert_eq!(
                        count(open),
                        count(close),
                        "{shell}: unbalanced {open}{close}"
                    );
                }
                // Not `eprintln!`: libtest would hide it for a passing test.
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "NOTE (completions): `{shell}` is not installed; its script was checked for structure only"
                );
            }
        }
    }
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
