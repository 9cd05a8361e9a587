//! The project file, `spotcheck.toml`: a partner's settings for `spotcheck run`
//! (endpoint, where the secret is, CA, subscription, headers, reports, timeout) kept
//! beside their code, so a CI job and a developer run the same thing. Flags override it.
//!
//! It is found by walking up from the working directory ([`discover`]), the way
//! nextest finds `.config/nextest.toml`: each folder is searched, and the walk stops
//! after the first folder holding `.git` (a repository's root; a file or a folder, so
//! worktrees count) or at the filesystem root.
//!
//! The file never holds a secret's value: only the name of the environment variable
//! that does (`secret_env`) or the path of a file that does (`secret_file`). A value
//! that looks like a signing secret (`whsec_…`) anywhere is an error, and the error
//! shows the line with the value masked.
//!
//! It is read with exact positions (toml's spanned document), so every mistake is a
//! [`Problem`] at `file:line:column` with what was expected and a hint, rendered as
//! scenario files' are.

use std::borrow::Cow;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::event::catalogue::closest;
use crate::event::subscription::{self, SubscribedType};
use crate::event::{EventType, Subscription};
use crate::scenario::diagnostic::{Problem, render_errors};

/// The file name looked for.
pub const FILE_NAME: &str = "spotcheck.toml";

/// The top-level keys.
pub const TOP_KEYS: &[&str] = &[
    "endpoint",
    "secret_env",
    "secret_file",
    "ca_cert",
    "timeout",
    "subscription",
    "headers",
    "reports",
    "min_coverage",
];
/// The keys of `[subscription]`.
pub const SUBSCRIPTION_KEYS: &[&str] = &["events", "organizations"];
/// The keys of `[reports]`: the report formats.
pub const REPORT_FORMATS: &[&str] = &crate::report::output::ReportFormat::NAMES;
/// `[subscription.events]` value for every operation of a type.
pub const EVERY_OPERATION: &str = "all";
/// The longest `timeout` (the same bound as `--timeout`).
pub use crate::wire::MAX_TIMEOUT;

/// What a project file sets; `None`/empty where it is silent. Paths are resolved
/// against the file's folder.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Project {
    /// The file read.
    pub path: PathBuf,
    /// `endpoint`.
    pub endpoint: Option<String>,
    /// `secret_env`: the environment variable holding the secret.
    pub secret_env: Option<String>,
    /// `secret_file`: the file holding the secret.
    pub secret_file: Option<PathBuf>,
    /// `ca_cert`.
    pub ca_cert: Option<PathBuf>,
    /// `timeout`: per delivery.
    pub timeout: Option<Duration>,
    /// `[subscription.events]`: the subscribed types and operations.
    pub events: Vec<SubscribedType>,
    /// `[subscription] organizations`.
    pub organizations: Vec<String>,
    /// `[headers]`: extra headers on every delivery, in file order.
    pub headers: Vec<(String, String)>,
    /// `[reports]`: `(format, path)` pairs, in file order (`-`: stdout).
    pub reports: Vec<(String, PathBuf)>,
    /// `min_coverage`: the coverage goals (`--min-coverage`'s grammar).
    pub min_coverage: Option<crate::coverage::MinCoverage>,
}

impl Project {
    /// The subscription the file describes (every event when it names none).
    pub fn subscription(&self) -> Subscription {
        Subscription::new(self.events.clone(), self.organizations.clone())
    }
}

/// Everything wrong with a project file. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectError {
    /// The problems, in file order.
    pub problems: Vec<Problem>,
}

impl ProjectError {
    /// Renders every problem as scenario errors are rendered (`file:line:column`, the
    /// line underlined, the help). ANSI colours only with `color`.
    pub fn render(&self, color: bool) -> String {
        render_errors(&self.problems, "project", color)
    }
}

impl std::fmt::Display for ProjectError {
    /// One line per problem: `file:line:column: message`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}: {}", problem.location(), problem.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ProjectError {}

/// The project file for a command started in `start`: `spotcheck.toml` in `start` or
/// the nearest folder above it, not above a repository's root (a folder holding
/// `.git`) nor the filesystem root.
pub fn discover(start: &Path) -> Option<PathBuf> {
    for folder in start.ancestors() {
        let candidate = folder.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        if folder.join(".git").exists() {
            return None;
        }
    }
    None
}

/// Reads and checks the project file at `path`; `name` is how messages call it.
pub fn load(path: &Path) -> Result<Project, ProjectError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|err| ProjectError {
        problems: vec![Problem::file(&name, format!("cannot read {name}: {err}"))],
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut project = parse(&name, &text, base)?;
    project.path = path.to_path_buf();
    Ok(project)
}

/// Checks project-file `text`; `name` is the file name in messages, `base` the folder
/// relative paths are resolved against.
pub fn parse(name: &str, text: &str, base: &Path) -> Result<Project, ProjectError> {
    let shown: Arc<str> = Arc::from(mask_secrets(text));
    let document = DeTable::parse(text).map_err(|err| {
        let span = err.span().unwrap_or(0..0);
        let mut problem = Problem::at(name, &shown, span, err.message().trim(), "here");
        problem = problem.with_help("this is not valid TOML; see https://toml.io");
        ProjectError {
            problems: vec![problem],
        }
    })?;
    let mut reader = Reader {
        name,
        shown,
        base,
        problems: Vec::new(),
    };
    let project = reader.document(document.get_ref(), text);
    // The document's tables are not in file order: the problems are put back in it.
    reader
        .problems
        .sort_by_key(|p| p.labels.first().map_or(0, |(span, _)| span.start));
    if reader.problems.is_empty() {
        Ok(project)
    } else {
        Err(ProjectError {
            problems: reader.problems,
        })
    }
}

/// The text with every `whsec_…` value replaced by as many `*`, so a problem's
/// source line never shows a secret (byte offsets are kept).
fn mask_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("whsec_") {
        out.push_str(&rest[..at]);
        let secret = &rest[at..];
        let len = secret
            .find(|c: char| !(c.is_ascii_alphanumeric() || "_+/=-".contains(c)))
            .unwrap_or(secret.len());
        out.extend(std::iter::repeat_n('*', len));
        rest = &secret[len..];
    }
    out.push_str(rest);
    out
}

type Entry<'d> = (&'d Spanned<Cow<'d, str>>, &'d Spanned<DeValue<'d>>);

struct Reader<'a> {
    name: &'a str,
    /// The text as problems show it (secrets masked).
    shown: Arc<str>,
    base: &'a Path,
    problems: Vec<Problem>,
}

impl Reader<'_> {
    fn problem(&mut self, span: Range<usize>, message: String, label: &str, help: String) {
        self.problems
            .push(Problem::at(self.name, &self.shown, span, message, label).with_help(help));
    }

    fn document(&mut self, table: &DeTable<'_>, text: &str) -> Project {
        let mut project = Project::default();
        // A `whsec_` with a body long enough to be a key (a comment's "whsec_…" is not).
        let secret = text.match_indices("whsec_").find_map(|(at, _)| {
            let len = text[at..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || "_+/=-".contains(c)))
                .unwrap_or(text.len() - at);
            (len >= "whsec_".len() + 8).then_some(at..at + len)
        });
        if let Some(span) = secret {
            self.problem(
                span,
                "a signing secret's value in the project file".to_owned(),
                "a secret (masked here)",
                "the project file says where the secret is, never what it is: \
                 secret_env = \"NAME\" (an environment variable) or secret_file = \"PATH\"; \
                 remove the value and rotate the secret if the file was shared"
                    .to_owned(),
            );
        }
        for (key, value) in in_order(table) {
            let entry: Entry<'_> = (key, value);
            match key.get_ref().as_ref() {
                "endpoint" => project.endpoint = self.endpoint(entry),
                "secret_env" => project.secret_env = self.env_name(entry),
                "secret_file" => project.secret_file = self.path(entry),
                "ca_cert" => project.ca_cert = self.path(entry),
                "timeout" => project.timeout = self.timeout(entry),
                "subscription" => self.subscription(entry, &mut project),
                "headers" => project.headers = self.headers(entry),
                "reports" => project.reports = self.reports(entry),
                "min_coverage" => project.min_coverage = self.min_coverage(entry),
                other => {
                    let help = if other == "secret" || other.contains("secret") {
                        format!(
                            "the project file never holds a secret, only where it is: \
                             secret_env or secret_file; keys are: {}",
                            TOP_KEYS.join(", ")
                        )
                    } else {
                        format!("keys are: {}", TOP_KEYS.join(", "))
                    };
                    self.unknown_key(key, "the project file", TOP_KEYS, help);
                }
            }
        }
        if project.secret_env.is_some() && project.secret_file.is_some() {
            let span = table
                .iter()
                .find(|(k, _)| k.get_ref() == "secret_file")
                .map_or(0..0, |(k, _)| k.span());
            self.problem(
                span,
                "both secret_env and secret_file".to_owned(),
                "one source only",
                "name the environment variable (secret_env) or the file (secret_file), not both"
                    .to_owned(),
            );
        }
        project
    }

    fn unknown_key(
        &mut self,
        key: &Spanned<Cow<'_, str>>,
        table: &str,
        keys: &[&str],
        help: String,
    ) {
        let given = key.get_ref().as_ref();
        let label = closest(given, keys.iter().copied())
            .map_or("unknown key".to_owned(), |s| format!("did you mean `{s}`?"));
        self.problem(
            key.span(),
            format!("unknown key `{given}` in {table}"),
            &label,
            help,
        );
    }

    /// The value as a string, or a problem saying what was expected.
    fn string<'d>(&mut self, (key, value): Entry<'d>, expected: &str) -> Option<&'d str> {
        match value.get_ref() {
            DeValue::String(text) => Some(text.as_ref()),
            other => {
                self.problem(
                    value.span(),
                    format!(
                        "`{}` is {}, expected {expected}",
                        key.get_ref(),
                        type_name(other)
                    ),
                    "wrong type",
                    format!("write {} = \"…\"", key.get_ref()),
                );
                None
            }
        }
    }

    fn endpoint(&mut self, entry: Entry<'_>) -> Option<String> {
        let text = self.string(entry, "a URL (https://…)")?;
        if !(text.starts_with("https://") || text.starts_with("http://")) {
            self.problem(
                entry.1.span(),
                format!("endpoint `{text}` is not an http(s) URL"),
                "not a URL",
                "write endpoint = \"https://partner.example/webhooks/spotnana\"".to_owned(),
            );
            return None;
        }
        Some(text.to_owned())
    }

    fn min_coverage(&mut self, entry: Entry<'_>) -> Option<crate::coverage::MinCoverage> {
        let text = self.string(entry, "coverage goals (\"operations=100%,schema=60%\")")?;
        match crate::coverage::MinCoverage::parse(text) {
            Ok(goals) => Some(goals),
            Err(err) => {
                self.problem(
                    entry.1.span(),
                    format!("min_coverage: {err}"),
                    "not coverage goals",
                    "write min_coverage = \"operations=100%,schema=60%\" (keys: operations, products, enums, schema)"
                        .to_owned(),
                );
                None
            }
        }
    }

    fn env_name(&mut self, entry: Entry<'_>) -> Option<String> {
        let text = self.string(entry, "the name of an environment variable")?;
        let valid = !text.is_empty()
            && !text.starts_with(|c: char| c.is_ascii_digit())
            && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            if !text.starts_with("whsec_") {
                self.problem(
                    entry.1.span(),
                    format!("`{text}` is not an environment variable name"),
                    "not a variable name",
                    "write the variable's name (letters, digits, _), e.g. secret_env = \"SPOTNANA_WEBHOOK_SECRET\""
                        .to_owned(),
                );
            }
            return None;
        }
        Some(text.to_owned())
    }

    fn path(&mut self, entry: Entry<'_>) -> Option<PathBuf> {
        let text = self.string(entry, "a path (relative to the project file's folder)")?;
        if text.is_empty() {
            self.problem(
                entry.1.span(),
                format!("`{}` is empty", entry.0.get_ref()),
                "empty",
                "write a path, relative to the folder of spotcheck.toml".to_owned(),
            );
            return None;
        }
        Some(self.resolve(text))
    }

    fn resolve(&self, text: &str) -> PathBuf {
        let path = Path::new(text);
        if path.is_absolute() || text == "-" {
            path.to_path_buf()
        } else {
            self.base.join(path)
        }
    }

    fn timeout(&mut self, entry: Entry<'_>) -> Option<Duration> {
        let spotnana = crate::wire::SPOTNANA_TIMEOUT_TEXT.as_str();
        let max = humantime::format_duration(MAX_TIMEOUT);
        let text = self.string(entry, &format!("a duration such as \"{spotnana}\""))?;
        let problem = match crate::units::parse_duration(text) {
            Ok(d) if d.is_zero() => "is zero".to_owned(),
            Ok(d) if d > MAX_TIMEOUT => format!("is longer than the {max} limit"),
            Ok(d) => return Some(d),
            Err(_) => "is not a duration".to_owned(),
        };
        self.problem(
            entry.1.span(),
            format!("timeout `{text}` {problem}"),
            "bad duration",
            format!(
                "write a duration above zero and at most {max}, e.g. timeout = \"{spotnana}\" (Spotnana's)"
            ),
        );
        None
    }

    fn table<'d>(&mut self, (key, value): Entry<'d>, example: &str) -> Option<&'d DeTable<'d>> {
        match value.get_ref() {
            DeValue::Table(table) => Some(table),
            other => {
                self.problem(
                    value.span(),
                    format!(
                        "`{}` is {}, expected a table",
                        key.get_ref(),
                        type_name(other)
                    ),
                    "wrong type",
                    format!("write it as a table, e.g. {example}"),
                );
                None
            }
        }
    }

    fn subscription(&mut self, entry: Entry<'_>, project: &mut Project) {
        let Some(table) = self.table(
            entry,
            "[subscription] with events = { PNR_V3 = [\"BOOKING_CREATED\"] }",
        ) else {
            return;
        };
        for (key, value) in in_order(table) {
            match key.get_ref().as_ref() {
                "events" => project.events = self.events((key, value)),
                "organizations" => project.organizations = self.organizations((key, value)),
                _ => self.unknown_key(
                    key,
                    "[subscription]",
                    SUBSCRIPTION_KEYS,
                    format!("[subscription] keys are: {}", SUBSCRIPTION_KEYS.join(", ")),
                ),
            }
        }
    }

    fn events(&mut self, entry: Entry<'_>) -> Vec<SubscribedType> {
        let Some(table) = self.table(
            entry,
            "[subscription.events] with PNR_V3 = [\"BOOKING_CREATED\", \"BOOKING_TICKETED\"] and TRAVELER_V2 = \"all\"",
        ) else {
            return Vec::new();
        };
        let mut types = Vec::new();
        for (key, value) in in_order(table) {
            let event_type = match subscription::parse_type(key.get_ref()) {
                Ok(event_type) => event_type,
                Err(err) => {
                    let label = err
                        .suggestion()
                        .map_or("unknown event type".to_owned(), |s| {
                            format!("did you mean `{s}`?")
                        });
                    self.problem(
                        key.span(),
                        format!(
                            "unknown event type `{}` in [subscription.events]",
                            key.get_ref()
                        ),
                        &label,
                        format!(
                            "event types are: {}",
                            EventType::ALL.map(|t| t.as_str()).join(", ")
                        ),
                    );
                    continue;
                }
            };
            if let Some(subscribed) = self.operations(event_type, value) {
                types.push(subscribed);
            }
        }
        types
    }

    fn operations(
        &mut self,
        event_type: EventType,
        value: &Spanned<DeValue<'_>>,
    ) -> Option<SubscribedType> {
        let help = || {
            format!(
                "write {event_type} = \"all\" or a list of its operations: {}",
                event_type.operations().join(", ")
            )
        };
        match value.get_ref() {
            DeValue::String(text) if text.as_ref() == EVERY_OPERATION => {
                Some(SubscribedType::every(event_type))
            }
            DeValue::Array(items) if !items.is_empty() => {
                let mut operations = Vec::new();
                for item in items.iter() {
                    let DeValue::String(text) = item.get_ref() else {
                        self.problem(
                            item.span(),
                            format!(
                                "an operation of {event_type} is {}, expected a string",
                                type_name(item.get_ref())
                            ),
                            "wrong type",
                            help(),
                        );
                        continue;
                    };
                    match subscription::parse_operation(event_type, text) {
                        Ok(operation) => operations.push(operation),
                        Err(err) => {
                            let label = err
                                .suggestion()
                                .map_or("unknown operation".to_owned(), |s| {
                                    format!("did you mean `{s}`?")
                                });
                            self.problem(
                                item.span(),
                                format!("unknown operation `{text}` for {event_type}"),
                                &label,
                                format!(
                                    "{event_type} operations are: {}",
                                    event_type.operations().join(", ")
                                ),
                            );
                        }
                    }
                }
                Some(SubscribedType {
                    event_type,
                    operations: Some(operations),
                })
            }
            other => {
                let what = match other {
                    DeValue::Array(_) => "an empty list".to_owned(),
                    DeValue::String(text) => format!("\"{text}\""),
                    other => type_name(other).to_owned(),
                };
                self.problem(
                    value.span(),
                    format!("{event_type} is {what}, expected \"all\" or a list of operations"),
                    "not a subscription",
                    help(),
                );
                None
            }
        }
    }

    fn organizations(&mut self, (key, value): Entry<'_>) -> Vec<String> {
        let help = "write organizations = [\"<organization id>\", …] (the ids Spotnana sends in audience.organizationId)";
        let DeValue::Array(items) = value.get_ref() else {
            self.problem(
                value.span(),
                format!(
                    "`{}` is {}, expected a list of organization ids",
                    key.get_ref(),
                    type_name(value.get_ref())
                ),
                "wrong type",
                help.to_owned(),
            );
            return Vec::new();
        };
        let mut orgs = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(text) if !text.trim().is_empty() => orgs.push(text.to_string()),
                other => self.problem(
                    item.span(),
                    format!(
                        "an organization id is {}, expected a non-empty string",
                        type_name(other)
                    ),
                    "not an organization id",
                    help.to_owned(),
                ),
            }
        }
        orgs
    }

    fn headers(&mut self, entry: Entry<'_>) -> Vec<(String, String)> {
        let Some(table) = self.table(entry, "[headers] with \"API-Version\" = \"2.0\"") else {
            return Vec::new();
        };
        let mut headers = Vec::new();
        for (key, value) in in_order(table) {
            let name = key.get_ref().as_ref();
            if !crate::wire::is_header_name(name) {
                self.problem(
                    key.span(),
                    format!("`{name}` is not a valid HTTP header name"),
                    "not a header name",
                    "a header name is letters, digits and !#$%&'*+-.^_`|~, e.g. \"API-Version\""
                        .to_owned(),
                );
                continue;
            }
            if crate::wire::is_reserved(name) {
                self.problem(
                    key.span(),
                    format!("`{name}` is a header spotcheck sets itself"),
                    "reserved",
                    format!(
                        "custom headers cannot set: {}",
                        crate::wire::RESERVED_HEADERS.join(", ")
                    ),
                );
                continue;
            }
            if let Some(text) = self.string((key, value), "the header's value as a string") {
                headers.push((name.to_owned(), text.to_owned()));
            }
        }
        headers
    }

    fn reports(&mut self, entry: Entry<'_>) -> Vec<(String, PathBuf)> {
        let Some(table) = self.table(entry, "[reports] with json = \"spotcheck.json\"") else {
            return Vec::new();
        };
        let mut reports = Vec::new();
        for (key, value) in in_order(table) {
            if !REPORT_FORMATS.contains(&key.get_ref().as_ref()) {
                self.unknown_key(
                    key,
                    "[reports]",
                    REPORT_FORMATS,
                    format!(
                        "report formats are: {} (each = a path, - for stdout)",
                        REPORT_FORMATS.join(", ")
                    ),
                );
                continue;
            }
            if let Some(path) = self.path((key, value)) {
                reports.push((key.get_ref().to_string(), path));
            }
        }
        reports
    }
}

/// A table's entries in file order (the parsed table is sorted by key, and the order
/// of headers is the order they are sent in).
fn in_order<'d>(table: &'d DeTable<'d>) -> Vec<Entry<'d>> {
    let mut entries: Vec<Entry<'d>> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
}

fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// The JSON Schema of the project file (draft 2020-12), from the same key tables and
/// the event catalogue as the reader, for editors.
pub fn schema() -> Value {
    let path =
        |description: &str| json!({ "type": "string", "minLength": 1, "description": description });
    let events: serde_json::Map<String, Value> = EventType::ALL
        .iter()
        .map(|t| {
            (
                t.as_str().to_owned(),
                json!({
                    "description": format!("{t}: \"all\" (every operation) or the operations subscribed."),
                    "oneOf": [
                        { "const": EVERY_OPERATION },
                        { "type": "array", "minItems": 1, "items": { "enum": t.operations() } },
                    ],
                }),
            )
        })
        .collect();
    let reports: serde_json::Map<String, Value> = REPORT_FORMATS
        .iter()
        .map(|f| {
            (
                (*f).to_owned(),
                path(&format!(
                    "Where the {f} report goes (relative to this file's folder; - for stdout)."
                )),
            )
        })
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://spotcheck.invalid/project.schema.json",
        "title": "spotcheck project file (spotcheck.toml)",
        "description": "Settings for `spotcheck run`, found upward from the working directory; flags override them. Paths are relative to this file's folder. Never a secret's value: only where it is (secret_env or secret_file). See the README's \"Project file\".",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "endpoint": { "type": "string", "pattern": "^https?://", "description": "The partner endpoint (--endpoint)." },
            "secret_env": { "type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "description": "The environment variable holding the whsec_… secret (--secret-env); its name, never its value." },
            "secret_file": path("The file holding the whsec_… secret (--secret-file)."),
            "ca_cert": path("PEM file with a private CA to trust (--ca-cert)."),
            "timeout": { "type": "string", "description": "Per-delivery timeout (--timeout), above zero and at most 10m, e.g. \"40s\"." },
            "subscription": {
                "type": "object",
                "additionalProperties": false,
                "description": "What the endpoint subscribed to on Spotnana's onboarding form (--events, --org-id).",
                "properties": {
                    "events": {
                        "type": "object",
                        "additionalProperties": false,
                        "description": "Each subscribed event type with \"all\" or its operations; none: every type.",
                        "properties": events,
                    },
                    "organizations": {
                        "type": "array",
                        "items": { "type": "string", "minLength": 1 },
                        "description": "The organization filter: every delivery goes to one of these (the first is the run's own).",
                    },
                },
            },
            "headers": {
                "type": "object",
                "description": "Extra headers on every delivery (--header), e.g. \"API-Version\" = \"2.0\".",
                "propertyNames": { "pattern": "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" },
                "additionalProperties": { "type": "string" },
            },
            "reports": {
                "type": "object",
                "additionalProperties": false,
                "description": "Report files to write (--report FORMAT=PATH).",
                "properties": reports,
            },
            "min_coverage": {
                "type": "string",
                "pattern": "^ *(operations|products|enums|schema) *= *[0-9]{1,3} *%? *( *, *(operations|products|enums|schema) *= *[0-9]{1,3} *%? *)*$",
                "description": "Coverage goals (--min-coverage), comma-separated KEY=PERCENT with KEY one of operations, products, enums, schema, e.g. \"operations=100%,schema=60%\": a run below them is not conformant (exit 1, reason below-min-coverage).",
            },
        },
    })
}

/// The schema as pretty JSON with a final newline (`scenarios schema --project`).
pub fn render_schema() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).expect("schemas serialize");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Project {
        parse("spotcheck.toml", text, Path::new("/p")).unwrap_or_else(|e| panic!("{e}"))
    }

    fn errors(text: &str) -> String {
        parse("spotcheck.toml", text, Path::new("/p"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_full_file_reads_with_paths_relative_to_its_folder() {
        let project = parse_ok(
            "endpoint = \"https://h.example/w\"\nsecret_file = \"s/whsec.txt\"\nca_cert = \"/abs/ca.pem\"\n\
             timeout = \"5s\"\n[subscription]\norganizations = [\"o1\", \"o2\"]\n\
             [subscription.events]\nPNR_V3 = [\"BOOKING_TICKETED\", \"BOOKING_CREATED\"]\nTRAVELER_V2 = \"all\"\n\
             [headers]\n\"API-Version\" = \"2.0\"\n[reports]\njson = \"out/r.json\"\nhtml = \"-\"\n",
        );
        assert_eq!(project.secret_file, Some(PathBuf::from("/p/s/whsec.txt")));
        assert_eq!(project.ca_cert, Some(PathBuf::from("/abs/ca.pem")));
        assert_eq!(project.timeout, Some(Duration::from_secs(5)));
        assert_eq!(
            project.subscription().events_arg(),
            "PNR_V3:BOOKING_CREATED+BOOKING_TICKETED,TRAVELER_V2"
        );
        assert_eq!(project.organizations, ["o1", "o2"]);
        assert_eq!(project.headers, [("API-Version".into(), "2.0".into())]);
        assert_eq!(
            project.reports,
            [
                ("json".into(), PathBuf::from("/p/out/r.json")),
                ("html".into(), PathBuf::from("-"))
            ]
        );
    }

    #[test]
    fn min_coverage_reads_as_goals_and_a_wrong_key_is_located() {
        let project = parse_ok("min_coverage = \"operations=100%, schema=60%\"\n");
        let goals = project.min_coverage.expect("goals");
        assert_eq!(goals.operations, Some(100));
        assert_eq!(goals.schema, Some(60));
        let text = errors("min_coverage = \"paths=10%\"\n");
        assert!(text.contains("unknown coverage key `paths`"), "{text}");
    }

    #[test]
    fn mistakes_are_located_and_say_what_was_expected() {
        let text = "endpoint = \"https://h.example/w\"\ntimeout = \"soon\"\n[subscription.events]\nPNR_V3 = [\"BOOKING_TICKETTED\"]\n";
        let err = errors(text);
        assert!(
            err.contains("spotcheck.toml:2:11: timeout `soon` is not a duration"),
            "{err}"
        );
        assert!(
            err.contains("spotcheck.toml:4:11: unknown operation `BOOKING_TICKETTED` for PNR_V3"),
            "{err}"
        );
        let err = errors("endpiont = \"https://x\"\n");
        assert!(
            err.contains("spotcheck.toml:1:1: unknown key `endpiont`"),
            "{err}"
        );
    }

    #[test]
    fn a_secret_value_is_refused_and_never_shown() {
        let text = "secret = \"whsec_c2VjcmV0c2VjcmV0\"\n";
        let err = parse("spotcheck.toml", text, Path::new("/p")).unwrap_err();
        let rendered = err.render(false);
        assert!(!rendered.contains("c2VjcmV0c2VjcmV0"), "{rendered}");
        assert!(rendered.contains("a signing secret's value"), "{rendered}");
    }

    #[test]
    fn discovery_walks_up_and_stops_at_a_repository_root() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let deep = repo.join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "").unwrap();
        // Above the repository: not found once the repository root holds .git.
        std::fs::create_dir(repo.join(".git")).unwrap();
        assert_eq!(discover(&deep), None);
        std::fs::write(repo.join(FILE_NAME), "").unwrap();
        assert_eq!(discover(&deep), Some(repo.join(FILE_NAME)));
    }
}
