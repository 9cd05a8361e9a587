//! Shared test helper: runs the `spotcheck` binary as a user would, always within a
//! timeout, and collects its exit code, stdout and stderr.
//!
//! `cli::spotcheck(&args).await` covers the common case; [`Spotcheck`] adds environment
//! variables, stdin, a working directory, another timeout, strict UTF-8 and peak-memory
//! sampling. Stdin is empty (closed) unless given; the child is killed when the test
//! gives up on it; the environment is inherited apart from what is set or removed.
//! [`Spotcheck::spawn`] starts a long-running command (`spotcheck serve`, a run to
//! interrupt) as a [`Background`] process: its output lines are awaited with a
//! timeout, and it is killed when dropped.

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

/// How long a run may take unless [`Spotcheck::timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How long [`Background`] waits for a line it expects: generous, because on a loaded
/// machine a process can take seconds to start; reached only when the product is wrong.
pub const LINE_TIMEOUT: Duration = Duration::from_secs(30);

/// The signing secret the tests use (a vector secret from the shared vectors).
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// What one `spotcheck` process did.
#[derive(Debug)]
pub struct Run {
    /// The exit code (`None` if a signal ended it).
    pub code: Option<i32>,
    /// Standard output (lossy UTF-8 unless [`Spotcheck::strict_utf8`]).
    pub stdout: String,
    /// Standard error (lossy UTF-8 unless [`Spotcheck::strict_utf8`]).
    pub stderr: String,
    /// Wall time from start to exit.
    pub elapsed: Duration,
    /// Peak resident memory (VmHWM) in KiB, sampled while it ran; 0 unless
    /// [`Spotcheck::sample_peak_memory`].
    pub peak_kib: u64,
}

impl Run {
    /// Stdout, a newline, then stderr: for messages and for "never printed" checks.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// A `spotcheck` invocation being set up (builder); [`Spotcheck::run`] runs it.
#[derive(Debug, Clone)]
pub struct Spotcheck {
    args: Vec<OsString>,
    env: Vec<(OsString, Option<OsString>)>,
    stdin: Option<Vec<u8>>,
    dir: Option<PathBuf>,
    timeout: Duration,
    strict_utf8: bool,
    sample_memory: bool,
}

/// Runs `spotcheck ARGS…` (inherited environment, no stdin) within [`DEFAULT_TIMEOUT`].
pub async fn spotcheck<S: AsRef<OsStr>>(args: &[S]) -> Run {
    Spotcheck::new(args).run().await
}

impl Spotcheck {
    /// `spotcheck ARGS…` with the defaults: inherited environment (without proxy
    /// variables), empty stdin, the
    /// test's working directory, [`DEFAULT_TIMEOUT`], lossy UTF-8.
    pub fn new<I, S>(args: I) -> Spotcheck
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        // The proxy variables of the machine running the tests never reach the binary:
        // every test talks to loopback, and a proxy test sets its own.
        let env = [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
            "NO_PROXY",
            "no_proxy",
        ]
        .iter()
        .map(|name| (OsString::from(name), None))
        .collect();
        Spotcheck {
            args: args.into_iter().map(|a| a.as_ref().to_owned()).collect(),
            env,
            stdin: None,
            dir: None,
            timeout: DEFAULT_TIMEOUT,
            strict_utf8: false,
            sample_memory: false,
        }
    }

    /// Appends one more argument (e.g. a path that is not UTF-8 text).
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Spotcheck {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Appends more arguments.
    pub fn args<I, S>(mut self, args: I) -> Spotcheck
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Spotcheck {
        self.env
            .push((name.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    /// Removes an environment variable the test process may have.
    pub fn env_remove(mut self, name: impl AsRef<OsStr>) -> Spotcheck {
        self.env.push((name.as_ref().to_owned(), None));
        self
    }

    /// Sets `SPOTNANA_WEBHOOK_SECRET`.
    pub fn secret(self, secret: &str) -> Spotcheck {
        self.env("SPOTNANA_WEBHOOK_SECRET", secret)
    }

    /// Sets `NO_COLOR=1`.
    pub fn no_color(self) -> Spotcheck {
        self.env("NO_COLOR", "1")
    }

    /// Feeds these bytes on stdin, then closes it.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Spotcheck {
        self.stdin = Some(bytes.into());
        self
    }

    /// Runs in this working directory.
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Spotcheck {
        self.dir = Some(dir.into());
        self
    }

    /// Kills the process and fails the test after `limit` instead of [`DEFAULT_TIMEOUT`].
    pub fn timeout(mut self, limit: Duration) -> Spotcheck {
        self.timeout = limit;
        self
    }

    /// Fails the test if stdout or stderr is not valid UTF-8.
    pub fn strict_utf8(mut self) -> Spotcheck {
        self.strict_utf8 = true;
        self
    }

    /// Samples the process's peak resident memory into [`Run::peak_kib`] (Linux).
    pub fn sample_peak_memory(mut self) -> Spotcheck {
        self.sample_memory = true;
        self
    }

    /// The configured command (stdout and stderr piped, killed on drop), not started.
    pub fn command(&self) -> tokio::process::Command {
        let mut command = tokio::process::Command::from(self.std_command());
        command.kill_on_drop(true);
        command
    }

    /// The configured command for `std::process` (stdout and stderr piped), not started.
    fn std_command(&self) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_spotcheck"));
        command
            .args(&self.args)
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in &self.env {
            match value {
                Some(value) => command.env(name, value),
                None => command.env_remove(name),
            };
        }
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        command
    }

    /// Starts it in the background (stdin closed): see [`Background`].
    pub fn spawn(self) -> Background {
        let mut child = self.std_command().spawn().expect("spotcheck starts");
        Background {
            stdout: lines(child.stdout.take().expect("stdout is piped")),
            stderr: lines(child.stderr.take().expect("stderr is piped")),
            child,
            args: self.args,
            seen: Vec::new(),
        }
    }

    /// Runs it to the end; panics (killing it) if it outlives the timeout.
    pub async fn run(self) -> Run {
        let started = Instant::now();
        let mut child = self.command().spawn().expect("spotcheck starts");
        if let Some(bytes) = self.stdin.clone() {
            let mut stdin = child.stdin.take().expect("stdin is piped");
            // A program that exits without reading stdin is not an error here.
            tokio::spawn(async move {
                let _ = stdin.write_all(&bytes).await;
            });
        }
        let peak = Arc::new(AtomicU64::new(0));
        let sampler = match (self.sample_memory, child.id()) {
            (true, Some(pid)) => {
                let peak = peak.clone();
                Some(tokio::spawn(async move {
                    loop {
                        if let Some(kib) = vm_hwm_kib(pid) {
                            peak.fetch_max(kib, Ordering::Relaxed);
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }))
            }
            _ => None,
        };
        let output = tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "spotcheck {:?} did not finish within {:?} (it hung)",
                    self.args, self.timeout
                )
            })
            .expect("spotcheck runs");
        if let Some(sampler) = sampler {
            sampler.abort();
        }
        Run {
            code: output.status.code(),
            stdout: self.text("stdout", output.stdout),
            stderr: self.text("stderr", output.stderr),
            elapsed: started.elapsed(),
            peak_kib: peak.load(Ordering::Relaxed),
        }
    }

    /// [`Spotcheck::run`] for synchronous tests (on a runtime of its own; do not call
    /// from inside a tokio runtime).
    pub fn run_blocking(self) -> Run {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
            .block_on(self.run())
    }

    fn text(&self, stream: &str, bytes: Vec<u8>) -> String {
        if self.strict_utf8 {
            String::from_utf8(bytes)
                .unwrap_or_else(|e| panic!("spotcheck {:?}: {stream} is not UTF-8: {e}", self.args))
        } else {
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }
}

/// `VmHWM` (peak resident set) of a process, in KiB.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A `spotcheck` process running in the background ([`Spotcheck::spawn`]). The test
/// waits for the lines it prints (each wait bounded by [`LINE_TIMEOUT`]) instead of
/// sleeping; the process is killed when this is dropped, however the test ends.
///
/// The waits block the calling thread: in a `#[tokio::test]` nothing else on that
/// runtime runs meanwhile, so wait only for what another process produces.
pub struct Background {
    child: std::process::Child,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    args: Vec<OsString>,
    /// Stdout lines already read, for the message when an expected line never comes.
    seen: Vec<String>,
}

/// Reads lines from a pipe on a thread of its own, so they can be awaited with a timeout.
fn lines(pipe: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Background {
    /// The process id (to send it a signal).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The next stdout line; panics if none comes within [`LINE_TIMEOUT`].
    pub fn next_line(&mut self, what: &str) -> String {
        let line = next(&self.stdout, &self.args, what, &self.seen);
        self.seen.push(line.clone());
        line
    }

    /// The next stderr line; panics if none comes within [`LINE_TIMEOUT`].
    pub fn next_stderr_line(&mut self, what: &str) -> String {
        next(&self.stderr, &self.args, what, &self.seen)
    }

    /// Reads stdout up to the first line `wanted` accepts and returns what it makes of
    /// it; panics if none comes within [`LINE_TIMEOUT`] (or the process ends first).
    pub fn wait_for<T>(&mut self, what: &str, mut wanted: impl FnMut(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + LINE_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match self.stdout.recv_timeout(left) {
                Ok(line) => line,
                Err(err) => panic!(
                    "spotcheck {:?} printed no {what} line within {LINE_TIMEOUT:?} ({}); \
                     stdout so far:\n{}",
                    self.args,
                    match err {
                        mpsc::RecvTimeoutError::Timeout => "still running",
                        mpsc::RecvTimeoutError::Disconnected => "its stdout closed",
                    },
                    self.seen.join("\n")
                ),
            };
            let found = wanted(&line);
            self.seen.push(line);
            if let Some(found) = found {
                return found;
            }
        }
    }

    /// The URL from `spotcheck serve`'s `listening on URL` line.
    pub fn listening_url(&mut self) -> String {
        self.wait_for("`listening on`", |line| {
            line.strip_prefix("listening on ")
                .map(|url| url.trim().to_owned())
        })
    }

    /// Stdout lines that arrive within `quiet` of each other (what it printed so far).
    pub fn drain(&mut self, quiet: Duration) -> Vec<String> {
        let mut lines = Vec::new();
        while let Ok(line) = self.stdout.recv_timeout(quiet) {
            self.seen.push(line.clone());
            lines.push(line);
        }
        lines
    }

    /// Waits for it to exit by itself (within `limit`) and returns its exit code and
    /// the rest of its stdout and stderr.
    pub fn wait(mut self, limit: Duration) -> (Option<i32>, String, String) {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "spotcheck {:?} did not exit within {limit:?}",
                self.args
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        // The pipes close at exit; the reader threads then end their channels.
        (status.code(), rest(&self.stdout), rest(&self.stderr))
    }

    /// Kills it and returns everything it printed on stdout (the lines already read
    /// included) and on stderr (what was not read yet).
    pub fn kill(mut self) -> (String, String) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut stdout = self.seen.join("\n");
        stdout.push('\n');
        stdout.push_str(&rest(&self.stdout));
        (stdout, rest(&self.stderr))
    }
}

/// What is left on a channel until its pipe closes (at exit), one line per line.
fn rest(rx: &mpsc::Receiver<String>) -> String {
    let mut text = String::new();
    while let Ok(line) = rx.recv_timeout(LINE_TIMEOUT) {
        text.push_str(&line);
        text.push('\n');
    }
    text
}

fn next(rx: &mpsc::Receiver<String>, args: &[OsString], what: &str, seen: &[String]) -> String {
    rx.recv_timeout(LINE_TIMEOUT).unwrap_or_else(|_| {
        panic!(
            "spotcheck {args:?} printed no {what} line within {LINE_TIMEOUT:?}; stdout so far:\n{}",
            seen.join("\n")
        )
    })
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
