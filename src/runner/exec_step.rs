//! `exec` steps: running a partner-supplied program on an exchange.
//!
//! The program runs without a shell, in its own process group, with the exchange as
//! one JSON document on stdin ([`input_document`]) and `SPOTCHECK_*` variables in its
//! environment. Signing secrets are taken out of its environment. Its stdout is kept
//! up to [`STDOUT_LIMIT`] bytes and the rest drained and dropped; its stderr's last
//! [`STDERR_TAIL`] bytes are kept; so a program that writes gigabytes costs no memory.
//! Past its timeout the whole process group is killed. Nothing here panics or waits
//! longer than the timeout (plus a one-second grace for pipes a leftover child holds).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use crate::delivery::exchange::{Exchange, escape_controls};

/// The most stdout bytes kept (the rest is read and dropped).
pub const STDOUT_LIMIT: usize = 4096;
/// The most stderr bytes kept: the last ones.
pub const STDERR_TAIL: usize = 2048;
/// The longest note (first stdout line) shown for a passing program.
pub const NOTE_LIMIT: usize = 200;
/// The most request body bytes put on stdin (the rest is cut; `body_truncated` says so).
pub const REQUEST_BODY_LIMIT: usize = 1 << 20;
/// After the program exits, how long its pipes may stay open (held by a child it left).
const PIPE_GRACE: Duration = Duration::from_secs(1);

/// One program run.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The program (a path, or a name looked up on `PATH`).
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Written to its stdin, which is then closed.
    pub stdin: Vec<u8>,
    /// Variables added to its environment.
    pub env: Vec<(String, String)>,
    /// Variables removed from its environment (secrets).
    pub hide_env: Vec<OsString>,
    /// How long it may run.
    pub timeout: Duration,
}

/// How a program run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Exit status 0.
    Passed {
        /// Its stdout (capped, lossy UTF-8, control characters escaped).
        stdout: String,
    },
    /// Any other exit status, or a signal.
    Failed {
        /// `exit status 1`, `killed by signal 9`.
        status: String,
        /// Its stdout (capped, lossy UTF-8, control characters escaped).
        stdout: String,
        /// The end of its stderr (lossy UTF-8, control characters escaped).
        stderr_tail: String,
    },
    /// Still running at the timeout: killed with its process group.
    TimedOut,
    /// It could not be started (not found, not executable, …); says why.
    NotStarted(String),
}

impl Outcome {
    /// The first line of stdout, trimmed and cut to [`NOTE_LIMIT`] characters.
    pub fn note(&self) -> Option<String> {
        let Outcome::Passed { stdout } = self else {
            return None;
        };
        let line = stdout.lines().map(str::trim).find(|l| !l.is_empty())?;
        Some(cut_chars(line, NOTE_LIMIT))
    }
}

fn cut_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max).collect();
        cut.push('…');
        cut
    }
}

/// What the program's stdin document says besides the exchange.
#[derive(Debug, Clone)]
pub struct InputContext<'a> {
    /// The check id.
    pub check_id: &'a str,
    /// The step's name, if it has one.
    pub step_name: Option<&'a str>,
    /// The step's 1-based number.
    pub step_number: usize,
    /// The run's seed.
    pub seed: u64,
    /// The endpoint deliveries go to.
    pub endpoint: &'a str,
    /// The observation URL, if any.
    pub state_url: Option<&'a str>,
}

/// The JSON document a program reads on stdin (see docs/exec.md for its shape).
///
/// Secret-free: the signing secret is never part of an exchange, credential headers
/// (`Authorization`, …) are already redacted in exchange records, and a form body's
/// `client_secret` is redacted here.
pub fn input_document(ctx: &InputContext<'_>, exchange: Option<&Exchange>) -> Value {
    let webhook_id = exchange.and_then(|e| header(&e.request.headers, "x-spotnana-webhook-id"));
    json!({
        "check_id": ctx.check_id,
        "step": ctx.step_name,
        "step_number": ctx.step_number,
        "seed": ctx.seed,
        "endpoint": ctx.endpoint,
        "state_url": ctx.state_url,
        "webhook_id": webhook_id,
        "exchange": exchange.map(exchange_json),
    })
}

/// The `SPOTCHECK_*` variables of a program's environment.
pub fn environment(ctx: &InputContext<'_>, exchange: Option<&Exchange>) -> Vec<(String, String)> {
    let mut env = vec![
        ("SPOTCHECK_CHECK_ID".to_owned(), ctx.check_id.to_owned()),
        (
            "SPOTCHECK_STEP".to_owned(),
            ctx.step_name
                .map_or_else(|| ctx.step_number.to_string(), str::to_owned),
        ),
        ("SPOTCHECK_SEED".to_owned(), ctx.seed.to_string()),
        ("SPOTCHECK_ENDPOINT".to_owned(), ctx.endpoint.to_owned()),
    ];
    if let Some(url) = ctx.state_url {
        env.push(("SPOTCHECK_STATE_URL".to_owned(), url.to_owned()));
    }
    if let Some(id) = exchange.and_then(|e| header(&e.request.headers, "x-spotnana-webhook-id")) {
        env.push(("SPOTCHECK_WEBHOOK_ID".to_owned(), id));
    }
    if let Some(status) = exchange.and_then(Exchange::status) {
        env.push(("SPOTCHECK_STATUS".to_owned(), status.to_string()));
    }
    env
}

/// Variables a program must not see: the named ones (the run's `--secret-env` and
/// OAuth secret variables) and any whose value is a `whsec_…` signing secret.
pub fn hidden_variables(named: &[String]) -> Vec<OsString> {
    let mut hidden: Vec<OsString> = named.iter().map(OsString::from).collect();
    for (name, value) in std::env::vars_os() {
        let looks_secret = value
            .as_encoded_bytes()
            .trim_ascii_start()
            .starts_with(b"whsec_");
        if looks_secret && !hidden.contains(&name) {
            hidden.push(name);
        }
    }
    hidden
}

fn header(headers: &[(String, String)], name: &str) -> Option<String> {
    crate::wire::header(headers, name).map(str::to_owned)
}

fn headers_json(headers: &[(String, String)]) -> Value {
    let mut map = Map::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        match map.get_mut(&name) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(value);
            }
            _ => {
                map.insert(name, Value::String(value.clone()));
            }
        }
    }
    Value::Object(map)
}

fn exchange_json(exchange: &Exchange) -> Value {
    let request = &exchange.request;
    let body = &request.body[..request.body.len().min(REQUEST_BODY_LIMIT)];
    let mut body_text = String::from_utf8_lossy(body).into_owned();
    let is_form = header(&request.headers, "content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        body_text = crate::delivery::oauth::redact_form(&body_text);
    }
    let response = exchange.response.as_ref().map(|r| {
        json!({
            "status": r.status,
            "reason": r.reason,
            "headers": headers_json(&r.headers),
            "body": String::from_utf8_lossy(&r.body),
            "body_truncated": r.body_truncated,
        })
    });
    let error = exchange
        .error
        .as_ref()
        .map(|e| json!({ "class": e.class.as_str(), "message": e.message }));
    json!({
        "request": {
            "method": request.method,
            "url": request.url,
            "headers": headers_json(&request.headers),
            "body": body_text,
            "body_bytes": request.body.len(),
            "body_truncated": request.body.len() > REQUEST_BODY_LIMIT,
        },
        "response": response,
        "error": error,
        "latency_ms": (exchange.duration.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
    })
}

/// Kept output of one pipe: the first `limit` bytes (stdout) or the last (stderr).
#[derive(Debug)]
struct Capture {
    bytes: Vec<u8>,
    limit: usize,
    keep_tail: bool,
    dropped: bool,
}

impl Capture {
    fn new(limit: usize, keep_tail: bool) -> Capture {
        Capture {
            bytes: Vec::new(),
            limit,
            keep_tail,
            dropped: false,
        }
    }

    fn push(&mut self, chunk: &[u8]) {
        if self.keep_tail {
            self.bytes.extend_from_slice(chunk);
            if self.bytes.len() > self.limit {
                let extra = self.bytes.len() - self.limit;
                self.bytes.drain(..extra);
                self.dropped = true;
            }
        } else {
            let room = self.limit.saturating_sub(self.bytes.len());
            self.bytes
                .extend_from_slice(&chunk[..chunk.len().min(room)]);
            self.dropped |= chunk.len() > room;
        }
    }

    fn text(&self) -> String {
        let text = escape_controls(&String::from_utf8_lossy(&self.bytes));
        match (self.dropped, self.keep_tail) {
            (false, _) => text,
            (true, true) => format!("…{text}"),
            (true, false) => format!("{text}…"),
        }
    }
}

/// Reads a pipe to its end, keeping what `capture` keeps.
async fn drain(mut pipe: impl AsyncRead + Unpin, capture: Arc<Mutex<Capture>>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if let Ok(mut c) = capture.lock() {
                    c.push(&buf[..n]);
                }
            }
        }
    }
}

/// Kills the program's process group when dropped while armed (the program has not
/// been waited for: a timeout, or the run was interrupted). The group id is the
/// leader's pid, which cannot be reused before the leader is reaped.
struct GroupKill {
    pgid: Option<u32>,
}

impl GroupKill {
    fn disarm(&mut self) {
        self.pgid = None;
    }
}

impl Drop for GroupKill {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(pgid) = self.pgid.and_then(|p| i32::try_from(p).ok())
            && pgid > 1
        {
            // SAFETY: kill(2) takes plain integers and touches no memory. A negative
            // pid names the process group the program leads (process_group(0) below);
            // it is still unreaped, so the id cannot belong to anyone else.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
}

fn describe_spawn_error(program: &Path, err: &std::io::Error) -> String {
    let shown = program.display();
    let is_path = program.components().count() > 1 || program.is_absolute();
    match err.kind() {
        std::io::ErrorKind::NotFound if is_path => format!("`{shown}` does not exist"),
        std::io::ErrorKind::NotFound => format!("`{shown}` is not on PATH"),
        std::io::ErrorKind::PermissionDenied => {
            format!("`{shown}` is not executable (chmod +x it)")
        }
        _ => format!("cannot run `{shown}`: {err}"),
    }
}

/// Starts the program, retrying briefly on "text file busy" (a script written just
/// before, whose descriptor another process's fork still holds).
async fn spawn(command: &mut tokio::process::Command) -> std::io::Result<tokio::process::Child> {
    const ETXTBSY: i32 = 26;
    let mut tries = 0;
    loop {
        match command.spawn() {
            Err(err) if err.raw_os_error() == Some(ETXTBSY) && tries < 20 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            other => return other,
        }
    }
}

/// Runs the program to its outcome, within its timeout.
pub async fn run(invocation: Invocation) -> Outcome {
    let deadline = tokio::time::Instant::now() + invocation.timeout;
    let mut command = tokio::process::Command::new(&invocation.program);
    command
        .args(&invocation.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    for name in &invocation.hide_env {
        command.env_remove(name);
    }
    // The program sees what a report would: every credential value of the run masked.
    for (name, value) in &invocation.env {
        command.env(name, crate::redact::text(value).as_ref());
    }
    let mut child = match spawn(&mut command).await {
        Ok(child) => child,
        Err(err) => return Outcome::NotStarted(describe_spawn_error(&invocation.program, &err)),
    };
    let mut guard = GroupKill { pgid: child.id() };
    let stdout = Arc::new(Mutex::new(Capture::new(STDOUT_LIMIT, false)));
    let stderr = Arc::new(Mutex::new(Capture::new(STDERR_TAIL, true)));
    let mut tasks = tokio::task::JoinSet::new();
    if let Some(mut pipe) = child.stdin.take() {
        let input = crate::redact::bytes(&invocation.stdin).into_owned();
        // A program that never reads its stdin must not block the run: write from a
        // task, ignore a closed pipe, stop at the deadline.
        tasks.spawn(async move {
            let _ = pipe.write_all(&input).await;
            let _ = pipe.shutdown().await;
        });
    }
    let mut readers = tokio::task::JoinSet::new();
    if let Some(pipe) = child.stdout.take() {
        readers.spawn(drain(pipe, Arc::clone(&stdout)));
    }
    if let Some(pipe) = child.stderr.take() {
        readers.spawn(drain(pipe, Arc::clone(&stderr)));
    }
    let status = match tokio::time::timeout_at(deadline, child.wait()).await {
        Ok(Ok(status)) => status,
        Ok(Err(err)) => {
            return Outcome::NotStarted(format!(
                "cannot wait for `{}`: {err}",
                invocation.program.display()
            ));
        }
        // Dropping `guard` kills the group; `child` (kill_on_drop) the leader too.
        Err(_) => return Outcome::TimedOut,
    };
    guard.disarm();
    // The pipes close at exit, unless a child the program left behind holds them.
    let grace = deadline
        .saturating_duration_since(tokio::time::Instant::now())
        .min(PIPE_GRACE);
    let _ = tokio::time::timeout(grace, async {
        while readers.join_next().await.is_some() {}
    })
    .await;
    readers.abort_all();
    tasks.abort_all();
    let stdout = stdout.lock().map(|c| c.text()).unwrap_or_default();
    let stderr_tail = stderr.lock().map(|c| c.text()).unwrap_or_default();
    if status.success() {
        return Outcome::Passed { stdout };
    }
    Outcome::Failed {
        status: describe_status(status),
        stdout,
        stderr_tail,
    }
}

fn describe_status(status: std::process::ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    status.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_keeps_the_head_or_the_tail() {
        let mut head = Capture::new(4, false);
        head.push(b"abc");
        head.push(b"def");
        assert_eq!(head.text(), "abcd…");
        let mut tail = Capture::new(4, true);
        tail.push(b"abc");
        tail.push(b"def");
        assert_eq!(tail.text(), "…cdef");
        let mut small = Capture::new(8, false);
        small.push(b"ok\x1b[0m");
        assert_eq!(small.text(), "ok\\u{1b}[0m");
    }

    #[test]
    fn note_is_the_first_non_empty_line_cut_short() {
        let passed = Outcome::Passed {
            stdout: "\n  row found  \nmore\n".into(),
        };
        assert_eq!(passed.note().as_deref(), Some("row found"));
        let long = Outcome::Passed {
            stdout: "x".repeat(500),
        };
        assert_eq!(long.note().unwrap().chars().count(), NOTE_LIMIT + 1);
        assert_eq!(Outcome::TimedOut.note(), None);
    }

    #[test]
    fn spawn_errors_say_what_is_wrong() {
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(
            describe_spawn_error(Path::new("/x/check.sh"), &missing),
            "`/x/check.sh` does not exist"
        );
        assert_eq!(
            describe_spawn_error(Path::new("check-db"), &missing),
            "`check-db` is not on PATH"
        );
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert!(describe_spawn_error(Path::new("/x/a"), &denied).contains("chmod +x"));
    }
}
