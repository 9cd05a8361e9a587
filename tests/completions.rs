//! Shell completions and the man page come from the CLI definition.

#[path = "support/cli.rs"]
mod cli;

use std::process::Command;

use cli::{Run, Spotcheck};

/// `spotcheck ARGS…` within 60 s; its output must be UTF-8.
fn spotcheck(args: &[&str]) -> Run {
    Spotcheck::new(args).strict_utf8().run_blocking()
}

#[test]
fn completion_scripts_name_every_command_and_bash_parses_its_own() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let output = spotcheck(&["completions", shell]);
        assert_eq!(output.code, Some(0), "{shell}");
        let script = output.stdout;
        for command in ["run", "send", "serve", "verify", "tls", "scenarios"] {
            assert!(script.contains(command), "{shell} lacks {command}");
        }
        assert!(script.contains("signature-format"), "{shell}");
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

#[test]
fn man_page_is_roff_with_the_commands() {
    let output = spotcheck(&["man"]);
    assert_eq!(output.code, Some(0));
    let page = output.stdout;
    assert!(page.contains(".TH spotcheck 1"), "{page}");
    assert!(page.contains("Conformance harness and mock sender for Spotnana webhooks"));
    assert!(
        page.contains("spotcheck\\-run(1)") || page.contains("run"),
        "{page}"
    );
}
