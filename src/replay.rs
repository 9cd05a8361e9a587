//! The one command that replays exactly one check: `spotcheck run --endpoint URL
//! --seed N --only ID` plus every flag that changes the bytes sent or the target.
//!
//! The signing secret is never part of it: it comes from the environment variable or
//! the `--secret-file` the run used, which the command names but never reads. The
//! front builds a [`Replay`] from its command line; the run's outcome carries it so
//! every report format can print a check's command.

use crate::check::CheckInfo;

/// The flags of a run that a replay must repeat (everything but `--seed` and `--only`).
///
/// Built by `spotcheck run` from its own arguments; reports turn it into one command
/// per failed or warned check with [`Replay::command`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replay {
    /// `--endpoint URL`; `None` when the run used the built-in reference receiver.
    pub endpoint: Option<String>,
    /// The other arguments, in order, as shell words already quoted
    /// (`["--ca-cert", "'my ca.pem'", …]`); see [`Replay::push`].
    pub args: Vec<String>,
    /// The run's `--ca-cert`, for `--export-curl`'s `--cacert`.
    pub ca_cert: Option<std::path::PathBuf>,
    /// The run's `--client-cert` and `--client-key`, for `--export-curl`'s `--cert`/`--key`.
    pub client_cert: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

impl Replay {
    /// The shell command that replays `check` with `seed`, arguments shell-quoted: the
    /// check alone, or the whole run for a check judged over the whole run.
    pub fn command_for(&self, seed: u64, check: &CheckInfo) -> String {
        if check.needs.whole_run {
            self.line(seed, None)
        } else {
            self.line(seed, Some(&check.id))
        }
    }

    /// The shell command that replays the check `check_id` alone with `seed`,
    /// arguments shell-quoted.
    pub fn command(&self, seed: u64, check_id: &str) -> String {
        self.line(seed, Some(check_id))
    }

    /// `spotcheck run … --seed N [--only ID] …`.
    fn line(&self, seed: u64, only: Option<&str>) -> String {
        let mut words: Vec<String> = vec!["spotcheck".into(), "run".into()];
        if let Some(endpoint) = &self.endpoint {
            words.push("--endpoint".into());
            words.push(endpoint.clone());
        }
        words.push("--seed".into());
        words.push(seed.to_string());
        if let Some(check_id) = only {
            words.push("--only".into());
            words.push(check_id.to_owned());
        }
        let mut line = words
            .iter()
            .map(|w| shell_quote(w))
            .collect::<Vec<_>>()
            .join(" ");
        for arg in &self.args {
            line.push(' ');
            line.push_str(arg);
        }
        line
    }

    /// Adds a flag and its value (quoted here).
    pub fn push(&mut self, flag: &str, value: &str) {
        self.args.push(shell_quote(flag));
        self.args.push(shell_quote(value));
    }

    /// Adds a flag without a value.
    pub fn push_flag(&mut self, flag: &str) {
        self.args.push(shell_quote(flag));
    }

    /// Adds `--header 'Name: value'`; a credential-bearing header's value becomes
    /// `"Name: $NAME"` (see [`header_env_name`]) so the command never holds it.
    pub fn push_header(&mut self, name: &str, value: &str) {
        self.args.push("--header".into());
        if crate::delivery::exchange::is_sensitive_header(name) {
            let safe = name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            self.args.push(if safe {
                format!("\"{name}: ${}\"", header_env_name(name))
            } else {
                shell_quote(&format!("{name}: <redacted>"))
            });
        } else {
            self.args.push(shell_quote(&format!("{name}: {value}")));
        }
    }
}

/// Quotes one word for a POSIX shell: unchanged when it holds only characters no shell
/// treats specially, else in single quotes (a `'` inside written `'\''`).
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@%+".contains(&b));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A header value as a replay may show it: a credential-bearing header's value becomes
/// a reference to an environment variable named after the header (`X-Api-Key` →
/// `$X_API_KEY`), which the user sets; other values are kept.
pub fn header_env_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(shell_quote("--seed"), "--seed");
        assert_eq!(
            shell_quote("https://127.0.0.1:8443/hook"),
            "https://127.0.0.1:8443/hook"
        );
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
    }

    #[test]
    fn command_has_seed_and_only_and_omits_the_reference_endpoint() {
        let replay = Replay {
            endpoint: None,
            ..Replay::default()
        };
        let mut replay = replay;
        replay.push("--envelope", "event");
        assert_eq!(
            replay.command(7, "signature.missing-rejected"),
            "spotcheck run --seed 7 --only signature.missing-rejected --envelope event"
        );
        let replay = Replay {
            endpoint: Some("https://x.example/h?a=1&b=2".into()),
            ..Replay::default()
        };
        let whole_run = CheckInfo {
            id: "retry.recovers-after-failure".into(),
            title: String::new(),
            level: crate::check::Level::Recommended,
            why: String::new(),
            fix: String::new(),
            tags: Vec::new(),
            needs: crate::check::Needs {
                whole_run: true,
                ..Default::default()
            },
        };
        assert_eq!(
            replay.command_for(1, &whole_run),
            "spotcheck run --endpoint 'https://x.example/h?a=1&b=2' --seed 1"
        );
    }

    #[test]
    fn sensitive_headers_become_env_references() {
        let mut replay = Replay::default();
        replay.push_header("X-Api-Key", "hunter2");
        replay.push_header("API-Version", "2.0");
        let line = replay.command(3, "a.b");
        assert!(!line.contains("hunter2"), "{line}");
        assert!(
            line.ends_with(r#"--header "X-Api-Key: $X_API_KEY" --header 'API-Version: 2.0'"#),
            "{line}"
        );
    }

    #[test]
    fn header_env_names() {
        assert_eq!(header_env_name("X-Api-Key"), "X_API_KEY");
        assert_eq!(header_env_name("Authorization"), "AUTHORIZATION");
    }
}
