//! Errors that stop a command before it can judge an endpoint, and exit codes.

use std::fmt;

/// Process exit codes (a public contract: CI pipelines gate on them).
pub mod exit {
    /// Every required check passed (and, with `--strict`, no warning).
    pub const CONFORMANT: u8 = 0;
    /// The endpoint does not conform (or `send` did not get `200`).
    pub const NOT_CONFORMANT: u8 = 1;
    /// The run could not be set up: bad flag, bad scenario file, missing or malformed secret.
    pub const SETUP: u8 = 2;
    /// The run was interrupted (SIGINT, Ctrl-C); reports hold what was found so far.
    pub const INTERRUPTED: u8 = 130;
    /// The run was stopped by SIGTERM (CI cancellation, `timeout`, `docker stop`,
    /// Kubernetes); handled exactly like [`INTERRUPTED`], 128 + 15 as shells report it.
    pub const TERMINATED: u8 = 143;
    /// The run was stopped by SIGHUP (the terminal or SSH session closed); handled
    /// exactly like [`INTERRUPTED`], 128 + 1.
    pub const HUNG_UP: u8 = 129;
}

/// A problem with what the user gave (flags, files, secret): exit code 2.
///
/// The message says what is wrong and where; the hint says how to fix it. Neither
/// ever contains a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupError {
    /// What is wrong, and where.
    pub message: String,
    /// How to fix it, when there is something useful to say.
    pub hint: Option<String>,
}

impl SetupError {
    /// An error with a message only.
    pub fn new(message: impl Into<String>) -> SetupError {
        SetupError {
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> SetupError {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SetupError {}
