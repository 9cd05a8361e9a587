//! The command lines users copy: every `--help` example and every `spotcheck …` line of
//! the CI recipes in docs/ci.md must parse with today's CLI (a renamed flag fails
//! here, not in a partner's pipeline), and the recipes must be valid YAML.

use clap::{CommandFactory, Parser};
use spotcheck::cli::Cli;
use yaml_rust2::{Yaml, YamlLoader};

/// Splits a documented command line into arguments, stopping at shell operators,
/// with CI expressions and variables replaced by plausible values.
fn words(line: &str) -> Vec<String> {
    let line = line
        .replace("${{ matrix.shard }}", "2")
        .replace("${{ matrix.runner }}", "3");
    let words = shlex::split(&line).unwrap_or_else(|| panic!("not shell words: {line}"));
    words
        .into_iter()
        .take_while(|w| !matches!(w.as_str(), "||" | "&&" | "|" | ">" | ">>" | ";"))
        .map(|w| {
            if w.starts_with('$') {
                "https://staging.partner.example/webhooks".to_owned()
            } else {
                w
            }
        })
        .collect()
}

fn assert_parses(line: &str, origin: &str) {
    let words = words(line);
    if let Err(err) = Cli::try_parse_from(&words) {
        panic!("{origin}: `{line}` does not parse:\n{err}");
    }
}

fn all_subcommands(command: &clap::Command, path: String, out: &mut Vec<(String, clap::Command)>) {
    for sub in command.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let name = format!("{path} {}", sub.get_name());
        out.push((name.clone(), sub.clone()));
        all_subcommands(sub, name, out);
    }
}

#[test]
fn every_subcommand_help_shows_an_example_that_parses() {
    let mut subcommands = Vec::new();
    all_subcommands(&Cli::command(), "spotcheck".to_owned(), &mut subcommands);
    assert!(subcommands.len() >= 15, "{}", subcommands.len());
    for (name, command) in subcommands {
        let help = command
            .get_after_help()
            .map(|h| h.to_string())
            .unwrap_or_else(|| panic!("`{name} --help` has no example"));
        let example = help
            .strip_prefix("Example:\n")
            .unwrap_or_else(|| panic!("`{name} --help` ends with {help:?}"));
        let example = example.replace("\\\n", " ");
        for line in example.lines().map(str::trim) {
            assert!(
                line.starts_with(&name),
                "`{name}` example runs another command: {line}"
            );
            assert_parses(line, &format!("`{name} --help`"));
        }
    }
}

fn strings(yaml: &Yaml, out: &mut Vec<String>) {
    match yaml {
        Yaml::String(s) => out.push(s.clone()),
        Yaml::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Yaml::Hash(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[test]
fn the_ci_recipes_are_yaml_and_their_spotcheck_commands_parse() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ci.md")).unwrap();
    let mut blocks = 0;
    let mut commands = Vec::new();
    let mut rest = doc.as_str();
    while let Some(start) = rest.find("```yaml\n") {
        let body = &rest[start + 8..];
        let end = body.find("```").expect("closed yaml block");
        let yaml = &body[..end];
        let parsed = YamlLoader::load_from_str(yaml)
            .unwrap_or_else(|err| panic!("docs/ci.md block {}: {err}\n{yaml}", blocks + 1));
        let mut texts = Vec::new();
        parsed.iter().for_each(|d| strings(d, &mut texts));
        for text in texts {
            // Folded (`>`) and plain multi-line scalars arrive as one line per command.
            for line in text.lines().map(str::trim) {
                if line.starts_with("spotcheck ") {
                    commands.push(line.to_owned());
                }
            }
        }
        blocks += 1;
        rest = &body[end + 3..];
    }
    assert!(blocks >= 4, "yaml blocks found: {blocks}");
    // run, shard, load, load merge (GitHub) and run (GitLab) at least.
    assert!(commands.len() >= 5, "{commands:?}");
    assert!(
        commands
            .iter()
            .any(|c| c.starts_with("spotcheck load merge"))
    );
    assert!(commands.iter().any(|c| c.contains("--shard")));
    for command in &commands {
        assert_parses(command, "docs/ci.md");
    }
}

#[test]
fn a_renamed_flag_would_be_caught() {
    // The check above is only worth something if a wrong flag fails to parse.
    assert!(
        Cli::try_parse_from(words("spotcheck run --endpoint $X --reports junit=a.xml")).is_err()
    );
    assert!(Cli::try_parse_from(words("spotcheck load merge")).is_err());
    assert!(Cli::try_parse_from(words("spotcheck load merge a.json || true")).is_ok());
}
