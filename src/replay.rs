//! The one command that replays exactly one check: `spotcheck run --endpoint URL
//! --seed N --only ID` plus every flag that changes the bytes sent or the target; for
//! a check judged over the whole run, the run's own selection instead of `--only ID`.
//!
//! The signing secret is never part of it: it comes from the environment variable or
//! the `--secret-file` the run used, which the command names but never reads. Nor is
//! any other credential value: every `--header` value is read from
//! `$SPOTCHECK_HEADER_<NAME>` and every query-parameter value of `--endpoint`,
//! `--oauth-token-url` and `--state-url` from `$SPOTCHECK_ENDPOINT_<PARAM>`,
//! `$SPOTCHECK_OAUTH_TOKEN_URL_<PARAM>`, `$SPOTCHECK_STATE_URL_<PARAM>` (see
//! docs/security.md, "Redaction"), which the user sets before pasting the command. The
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
    /// The run's `--oauth-token-url` (set by [`Replay::push_url`]), so `--export-curl`
    /// names its query values `$SPOTCHECK_OAUTH_TOKEN_URL_…`.
    pub oauth_token_url: Option<String>,
    /// The run's `--state-url` (set by [`Replay::push_url`]).
    pub state_url: Option<String>,
    /// The run's selection (`--only`, `--skip`, `--tags`, `--shard`, `--no-builtin`) as
    /// shell words, repeated only by the replay of a whole-run check: which checks run
    /// decides which delivery fails first (see [`Replay::push_selection`]).
    pub selection: Vec<String>,
}

/// The prefix of the variables holding `--endpoint`'s query values.
pub const ENDPOINT_ENV: &str = "SPOTCHECK_ENDPOINT";
/// The prefix of the variables holding `--oauth-token-url`'s query values.
pub const OAUTH_TOKEN_URL_ENV: &str = "SPOTCHECK_OAUTH_TOKEN_URL";
/// The prefix of the variables holding `--state-url`'s query values.
pub const STATE_URL_ENV: &str = "SPOTCHECK_STATE_URL";
/// The prefix of the variables holding header values.
pub const HEADER_ENV: &str = "SPOTCHECK_HEADER";
/// The variable an exported token request reads the OAuth client secret from.
pub const OAUTH_CLIENT_SECRET_ENV: &str = "SPOTCHECK_OAUTH_CLIENT_SECRET";
/// The prefix for the query values of any other URL in an exported request.
pub const URL_ENV: &str = "SPOTCHECK_URL";

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
        // Words already quoted for the shell.
        let mut words: Vec<String> = vec!["spotcheck".into(), "run".into()];
        if let Some(endpoint) = &self.endpoint {
            words.push(shell_quote("--endpoint"));
            words.push(url_word(endpoint, ENDPOINT_ENV));
        }
        words.push("--seed".into());
        words.push(seed.to_string());
        match only {
            Some(check_id) => {
                words.push("--only".into());
                words.push(shell_quote(check_id));
            }
            None => words.extend(self.selection.iter().cloned()),
        }
        let mut line = words.join(" ");
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

    /// Adds a selection flag and its value (quoted here), repeated only when the whole
    /// run is replayed.
    pub fn push_selection(&mut self, flag: &str, value: &str) {
        self.selection.push(shell_quote(flag));
        self.selection.push(shell_quote(value));
    }

    /// Adds a selection flag without a value (`--no-builtin`).
    pub fn push_selection_flag(&mut self, flag: &str) {
        self.selection.push(shell_quote(flag));
    }

    /// Adds a flag without a value.
    pub fn push_flag(&mut self, flag: &str) {
        self.args.push(shell_quote(flag));
    }

    /// Adds `--header "Name: $SPOTCHECK_HEADER_NAME"`: every `--header` value may be a
    /// credential (`x-functions-key`, `Ocp-Apim-Subscription-Key` carry keys under
    /// ordinary names), so the command reads each from the environment, never holds it.
    pub fn push_header(&mut self, name: &str, _value: &str) {
        self.args.push("--header".into());
        self.args.push(header_word(name));
    }

    /// Adds a URL flag (`--oauth-token-url`, `--state-url`) whose query values are read
    /// from `$<prefix>_<PARAM>` (see [`url_word`]); remembers the URL for
    /// [`Replay::url_word`].
    pub fn push_url(&mut self, flag: &str, url: &str, prefix: &str) {
        self.args.push(shell_quote(flag));
        self.args.push(url_word(url, prefix));
        if prefix == OAUTH_TOKEN_URL_ENV {
            self.oauth_token_url = Some(url.to_owned());
        } else if prefix == STATE_URL_ENV {
            self.state_url = Some(url.to_owned());
        }
    }

    /// A URL of this run as a shell word, its query values as references to the
    /// variables of the flag it came from (matched on everything before the `?`):
    /// `--endpoint`'s, `--oauth-token-url`'s, `--state-url`'s, else `$SPOTCHECK_URL_…`.
    pub fn url_word(&self, url: &str) -> String {
        let base = |u: &str| u.split(['?', '#']).next().unwrap_or_default().to_owned();
        let wanted = base(url);
        let prefix = [
            (&self.endpoint, ENDPOINT_ENV),
            (&self.oauth_token_url, OAUTH_TOKEN_URL_ENV),
            (&self.state_url, STATE_URL_ENV),
        ]
        .into_iter()
        .find_map(|(known, prefix)| {
            known
                .as_deref()
                .is_some_and(|k| base(k) == wanted)
                .then_some(prefix)
        })
        .unwrap_or(URL_ENV);
        url_word(url, prefix)
    }
}

/// The variable named `<prefix>_<NAME>`: `name` upper-cased, every character but
/// ASCII letters and digits written `_` (`x-functions-key` → `X_FUNCTIONS_KEY`).
pub fn env_name(prefix: &str, name: &str) -> String {
    format!("{prefix}_{}", header_env_name(name))
}

/// `"Name: $SPOTCHECK_HEADER_NAME"`, quoted for the shell: a header whose value the
/// command reads from the environment.
pub fn header_word(name: &str) -> String {
    format!(
        "\"{}: ${}\"",
        double_quoted(name),
        env_name(HEADER_ENV, name)
    )
}

/// A URL as one shell word. Without query values it is [`shell_quote`]d; with them it
/// is double-quoted and each value is a reference to `$<prefix>_<PARAM>`
/// (`https://h/x?code=…` → `"https://h/x?code=$SPOTCHECK_ENDPOINT_CODE"`); a name seen
/// twice gets `_2`, `_3`… A parameter without a value is kept as written.
pub fn url_word(url: &str, prefix: &str) -> String {
    let Some((before, rest)) = url.split_once('?') else {
        return shell_quote(url);
    };
    let (query, fragment) = match rest.split_once('#') {
        Some((query, fragment)) => (query, Some(fragment)),
        None => (rest, None),
    };
    if !query
        .split('&')
        .any(|pair| pair.split_once('=').is_some_and(|(_, v)| !v.is_empty()))
    {
        return shell_quote(url);
    }
    let mut seen: Vec<String> = Vec::new();
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if !value.is_empty() => {
                let mut var = env_name(prefix, name);
                let count = seen.iter().filter(|v| **v == var).count();
                seen.push(var.clone());
                if count > 0 {
                    var = format!("{var}_{}", count + 1);
                }
                format!("{}=${var}", double_quoted(name))
            }
            _ => double_quoted(pair),
        })
        .collect();
    let mut word = format!("\"{}?{}", double_quoted(before), pairs.join("&"));
    if let Some(fragment) = fragment {
        word.push('#');
        word.push_str(&double_quoted(fragment));
    }
    word.push('"');
    word
}

/// `text` for inside a shell's double quotes: `\`, `"`, `$` and `` ` `` escaped.
pub fn double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
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

/// A header or parameter name as part of a variable name: upper-cased, every character
/// but ASCII letters and digits written `_` (`X-Api-Key` → `X_API_KEY`).
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
            diagnosis: None,
        };
        assert_eq!(
            replay.command_for(1, &whole_run),
            r#"spotcheck run --endpoint "https://x.example/h?a=$SPOTCHECK_ENDPOINT_A&b=$SPOTCHECK_ENDPOINT_B" --seed 1"#
        );
    }

    #[test]
    fn every_header_value_becomes_an_env_reference() {
        let mut replay = Replay::default();
        replay.push_header("X-Api-Key", "hunter2");
        replay.push_header("x-functions-key", "abc-secret");
        replay.push_header("API-Version", "2.0");
        let line = replay.command(3, "a.b");
        assert!(
            !line.contains("hunter2") && !line.contains("abc-secret"),
            "{line}"
        );
        assert!(
            line.ends_with(
                r#"--header "X-Api-Key: $SPOTCHECK_HEADER_X_API_KEY" --header "x-functions-key: $SPOTCHECK_HEADER_X_FUNCTIONS_KEY" --header "API-Version: $SPOTCHECK_HEADER_API_VERSION""#
            ),
            "{line}"
        );
    }

    #[test]
    fn query_values_become_env_references() {
        assert_eq!(
            url_word(
                "https://h.example/api/x?code=s3cr$t&flag&code=2#top",
                ENDPOINT_ENV
            ),
            r#""https://h.example/api/x?code=$SPOTCHECK_ENDPOINT_CODE&flag&code=$SPOTCHECK_ENDPOINT_CODE_2#top""#
        );
        assert_eq!(
            url_word("https://h.example/x?", ENDPOINT_ENV),
            "'https://h.example/x?'"
        );
        assert_eq!(
            url_word("https://h.example/x", ENDPOINT_ENV),
            "https://h.example/x"
        );
        let mut replay = Replay::default();
        replay.push_url(
            "--oauth-token-url",
            "https://h.example/token?tenant=t1",
            OAUTH_TOKEN_URL_ENV,
        );
        assert_eq!(
            replay.command(1, "a.b"),
            r#"spotcheck run --seed 1 --only a.b --oauth-token-url "https://h.example/token?tenant=$SPOTCHECK_OAUTH_TOKEN_URL_TENANT""#
        );
        assert_eq!(
            replay.url_word("https://h.example/token?tenant=***redacted***"),
            r#""https://h.example/token?tenant=$SPOTCHECK_OAUTH_TOKEN_URL_TENANT""#
        );
        assert_eq!(
            replay.url_word("https://other.example/?k=v"),
            r#""https://other.example/?k=$SPOTCHECK_URL_K""#
        );
    }

    #[test]
    fn double_quoting_escapes_what_expands() {
        assert_eq!(double_quoted(r#"a$b`c"d\e"#), r#"a\$b\`c\"d\\e"#);
    }

    #[test]
    fn header_env_names() {
        assert_eq!(header_env_name("X-Api-Key"), "X_API_KEY");
        assert_eq!(header_env_name("Authorization"), "AUTHORIZATION");
    }
}
