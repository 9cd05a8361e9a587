//! The `spotcheck` process keeps its secrets to itself: an `exec` program (run with
//! `--allow-exec`, its own environment scrubbed) cannot read the signing secret from
//! its parent's `/proc/$PPID/environ`, and no core dump can be written (core size
//! limit 0, which the program inherits too).
//!
//! A process with `CAP_SYS_PTRACE` reads any other process's memory whatever it does,
//! so when the tests run as root, spotcheck runs as `nobody` here: the program is then
//! what the threat model says, a program of the same (unprivileged) user.

#![cfg(target_os = "linux")]

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::support::{SECRET, cli};

/// The id of the unprivileged `nobody` user and group.
const NOBODY: u32 = 65534;

#[tokio::test]
async fn an_exec_program_cannot_read_the_secret_of_its_parent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    // Writable by the unprivileged user spotcheck may run as.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = path.display();
    let script = path.join("probe.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n\
             tr '\\0' ' ' < /proc/$PPID/cmdline > '{out}/parent-cmdline'\n\
             cat /proc/$PPID/limits > '{out}/parent-limits'\n\
             if cat /proc/$PPID/environ > '{out}/parent-environ' 2>/dev/null; \
             then echo read > '{out}/environ-status'; \
             else echo refused > '{out}/environ-status'; fi\n\
             ulimit -c > '{out}/own-core-limit'\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let scenario = path.join("probe.toml");
    std::fs::write(
        &scenario,
        "id = \"custom.parent-secret\"\ntitle = \"A program looks at its parent\"\n\
         level = \"required\"\nwhy = \"test\"\nfix = \"test\"\n\n\
         [[step]]\nname = \"booking\"\nsend = \"PNR_V3/BOOKING_CREATED\"\nexec = [\"./probe.sh\"]\n",
    )
    .unwrap();

    let mut command = cli::Spotcheck::new(["run", "--no-builtin", "--allow-exec"])
        .args(["--only", "custom.*", "--seed", "3", "--color", "never"])
        .arg("--scenarios")
        .arg(&scenario)
        .secret(SECRET)
        .current_dir(path)
        .command();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        command.uid(NOBODY).gid(NOBODY);
    }
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("spotcheck finishes")
        .expect("spotcheck runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let read = |name: &str| std::fs::read_to_string(path.join(name)).unwrap_or_default();

    // The program did run, as a child of spotcheck.
    let parent = read("parent-cmdline");
    assert!(parent.contains("spotcheck run"), "parent: {parent:?}");
    // It could not read its parent's environment, so not the secret in it.
    assert_eq!(read("environ-status"), "refused\n");
    let secret_key = SECRET.trim_start_matches("whsec_");
    assert!(!read("parent-environ").contains(secret_key));
    // No core dump: spotcheck's limit is 0 (soft and hard), and so is the program's.
    let limits = read("parent-limits");
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>();
    assert_eq!(
        core,
        ["Max", "core", "file", "size", "0", "0", "bytes"],
        "{limits}"
    );
    assert_eq!(read("own-core-limit"), "0\n");
}
