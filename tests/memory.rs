//! Memory that does not grow with the proof: raising `--variants` is how a partner
//! raises coverage, so `spotcheck run` against the built-in reference receiver must
//! keep its peak resident memory (nearly) flat as the count grows. Each payload is made
//! again when it is needed instead of kept, and an accepted delivery keeps its size and
//! excerpt, not its whole body (see docs/limits.md, "Memory").
//!
//! The guard is the growth of peak RSS per extra variant between two runs of the same
//! binary that differ only in `--variants`, so neither the machine, the build profile
//! nor the load matters: each run's peak is the kernel's own figure for that child
//! (`ru_maxrss` from `wait4`), and no time is measured.

use std::fs::File;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::cli::SECRET;

/// The two counts compared.
const FEW: usize = 10;
const MANY: usize = 400;

/// The most peak RSS may grow per extra variant, in KiB. What each variant must keep
/// (its exchange record for the reports: headers, 1 KiB excerpts, sizes; its recipe
/// and generator position) comes to about 3 KiB, and the allocator's slack to a few
/// more (about 6 KiB a variant in all, measured in a debug build). Keeping each
/// payload or body, as before, cost about 95 KiB a variant.
const KIB_PER_VARIANT: u64 = 24;

/// How long one run may take before it is killed (a debug build on a loaded
/// two-core machine takes about 10 s for `MANY`).
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// One finished run: its exit code, stdout and peak resident memory.
struct Measured {
    code: i32,
    stdout: String,
    peak_kib: u64,
}

/// Runs `spotcheck run` of the variants check alone against the built-in reference
/// receiver and reaps it with `wait4`, which gives that child's own peak RSS.
fn run_variants(count: usize) -> Measured {
    let dir = tempfile::tempdir().unwrap();
    let stdout_path = dir.path().join("stdout");
    let count_text = count.to_string();
    let mut command = Command::new(env!("CARGO_BIN_EXE_spotcheck"));
    command
        .args([
            "run",
            "--only",
            "payload.schema-variants-accepted",
            "--variants",
            &count_text,
            "--seed",
            "3",
        ])
        .env("SPOTNANA_WEBHOOK_SECRET", SECRET)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).unwrap())
        .stderr(Stdio::null());
    for proxy in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
        command.env_remove(proxy);
    }
    for proxy in ["ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"] {
        command.env_remove(proxy);
    }
    let child = command.spawn().expect("spotcheck starts");
    let pid = child.id() as libc::pid_t;
    let (done, finished) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let mut status = 0;
        // SAFETY: `rusage` is plain data, valid when zeroed; `wait4` fills it.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: waits for our own child, with pointers to live locals.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        let _ = done.send(());
        (reaped, status, usage.ru_maxrss)
    });
    if finished.recv_timeout(RUN_LIMIT).is_err() {
        // SAFETY: signals our own child, not yet reaped (the waiter has not returned).
        unsafe { libc::kill(pid, libc::SIGKILL) };
        panic!("spotcheck run --variants {count} did not finish within {RUN_LIMIT:?}");
    }
    let (reaped, status, max_rss) = waiter.join().unwrap();
    assert_eq!(reaped, pid, "wait4 reaped the run");
    // Reaped by `wait4`: the handle has nothing left to wait for.
    drop(child);
    assert!(libc::WIFEXITED(status), "the run ended by a signal");
    Measured {
        code: libc::WEXITSTATUS(status),
        stdout: std::fs::read_to_string(&stdout_path).unwrap(),
        // Linux gives `ru_maxrss` in KiB.
        peak_kib: max_rss as u64,
    }
}

#[test]
fn peak_memory_does_not_grow_with_the_variants() {
    let few = run_variants(FEW);
    let many = run_variants(MANY);
    for (count, run) in [(FEW, &few), (MANY, &many)] {
        assert_eq!(run.code, 0, "--variants {count}:\n{}", run.stdout);
        // The runs did what is measured: every variant delivered and counted.
        assert!(
            run.stdout
                .contains(&format!("all {count} variants generated")),
            "--variants {count}:\n{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("coverage: operations"),
            "{}",
            run.stdout
        );
        assert!(run.peak_kib > 0, "--variants {count}: no peak RSS");
    }
    let growth = many.peak_kib.saturating_sub(few.peak_kib);
    let per_variant = growth / (MANY - FEW) as u64;
    eprintln!(
        "peak RSS: --variants {FEW}: {} KiB, --variants {MANY}: {} KiB ({per_variant} KiB a variant)",
        few.peak_kib, many.peak_kib
    );
    assert!(
        per_variant <= KIB_PER_VARIANT,
        "peak RSS grew {growth} KiB from --variants {FEW} ({} KiB) to {MANY} ({} KiB): \
         {per_variant} KiB per variant, over the {KIB_PER_VARIANT} KiB bound",
        few.peak_kib,
        many.peak_kib
    );
}
