//! Shared test helper: external programs some tests need (a browser, a schema
//! validator, the `openssl` and `curl` commands), and what happens when one is missing.
//!
//! A missing tool is never a silent pass. With `CI` set (`.ci/run` sets `CI=true`) the
//! test fails, naming the tool and the Debian package that provides it. Elsewhere the
//! test prints a skip line and returns early. The line goes straight to the process's
//! stderr: `cargo test` captures `println!` and `eprintln!` of a passing test and
//! shows them only when it fails, so a skip printed that way would look like a pass.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// An external program a test runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// Headless Chromium, to render the HTML report.
    Chromium,
    /// `xmllint`, to validate the JUnit report against a published XSD.
    Xmllint,
    /// The `openssl` command (`s_server`), a TLS 1.0/1.1 server to probe.
    Openssl,
    /// `curl`, to replay the exported curl commands.
    Curl,
    /// `python3`, a partner that verifies over `json.dumps` output.
    Python,
    /// `node`, a partner that verifies over `JSON.stringify` output.
    Node,
    /// `php`, a partner that verifies over `json_encode` output.
    Php,
}

impl Tool {
    /// The command name (for Chromium, the path Debian installs it at).
    pub fn command(self) -> &'static str {
        match self {
            Tool::Chromium => "/usr/bin/chromium",
            Tool::Xmllint => "xmllint",
            Tool::Openssl => "openssl",
            Tool::Curl => "curl",
            Tool::Python => "python3",
            Tool::Node => "node",
            Tool::Php => "php",
        }
    }

    /// The Debian package that installs it (what `.ci/run` installs).
    pub fn debian_package(self) -> &'static str {
        match self {
            Tool::Chromium => "chromium",
            Tool::Xmllint => "libxml2-utils",
            Tool::Openssl => "openssl",
            Tool::Curl => "curl",
            Tool::Python => "python3",
            Tool::Node => "nodejs",
            Tool::Php => "php-cli",
        }
    }

    /// The argument that makes it print its version and exit 0.
    fn version_arg(self) -> &'static str {
        match self {
            Tool::Openssl => "version",
            Tool::Chromium | Tool::Curl | Tool::Python | Tool::Node | Tool::Php => "--version",
            Tool::Xmllint => "--version",
        }
    }

    /// Whether it runs here (found on PATH, or at its path, and answers `--version`).
    pub fn installed(self) -> bool {
        let command = self.command();
        if command.starts_with('/') && !Path::new(command).exists() {
            return false;
        }
        Command::new(command)
            .arg(self.version_arg())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }
}

/// Whether the test may go on using `tool`. `true` when it is installed; otherwise
/// panics under `CI` (naming the tool and its Debian package), or prints a visible
/// `SKIPPED` line on stderr and returns `false` so the test can return early.
pub fn require_tool(tool: Tool) -> bool {
    if tool.installed() {
        return true;
    }
    let message = missing_message(tool);
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("{message}; CI is set, so this test fails instead of skipping");
    }
    // Not `eprintln!`: libtest would capture it and hide it for a passing test.
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(
        stderr,
        "SKIPPED ({}): {message}",
        std::thread::current().name().unwrap_or("a test")
    );
    false
}

/// What is missing and how to install it.
pub fn missing_message(tool: Tool) -> String {
    format!(
        "`{}` is not installed (Debian package `{}`; .ci/run installs it)",
        tool.command(),
        tool.debian_package()
    )
}
