//! Start-up hardening of the `spotcheck` process, which holds the signing secret,
//! OAuth client secrets and API keys in memory for its whole life.
//!
//! - **No core dump.** A crash (or `kill -QUIT`) must not write the process's memory,
//!   secrets included, to a `core` file in the working directory, the CI workspace or a
//!   crash collector: the core size limit is set to 0, soft and hard, so a program
//!   cannot raise it again; the limit is inherited by the programs `exec` steps run.
//! - **Not dumpable (Linux).** `PR_SET_DUMPABLE 0` makes `/proc/<pid>/environ`,
//!   `/proc/<pid>/mem` and `ptrace` unavailable to other processes of the same user, so
//!   a program run by an `exec` step (`--allow-exec`), whose own environment is
//!   scrubbed of secrets, cannot read them from its parent (`/proc/$PPID/environ`).
//!   A process with `CAP_SYS_PTRACE` (root) still can: no process can hide from it.
//!
//! The library never calls this by itself: it changes the whole process, which is the
//! binary's decision (`src/main.rs` calls it first thing).

/// What could not be hardened, with the system's account.
#[derive(Debug, thiserror::Error)]
pub enum HardeningError {
    /// `setrlimit(RLIMIT_CORE, 0)` failed.
    #[error("cannot turn off core dumps: {0}")]
    CoreLimit(#[source] std::io::Error),
    /// `prctl(PR_SET_DUMPABLE, 0)` failed.
    #[error("cannot make the process non-dumpable: {0}")]
    Dumpable(#[source] std::io::Error),
}

/// Turns core dumps off and (on Linux) makes the process non-dumpable. Each step is
/// tried; the first failure is returned.
pub fn harden_process() -> Result<(), HardeningError> {
    let core = no_core_dumps();
    let dumpable = not_dumpable();
    core.and(dumpable)
}

#[cfg(unix)]
fn no_core_dumps() -> Result<(), HardeningError> {
    let zero = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: setrlimit reads the struct it is given and nothing else.
    if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) } == 0 {
        Ok(())
    } else {
        Err(HardeningError::CoreLimit(std::io::Error::last_os_error()))
    }
}

#[cfg(not(unix))]
fn no_core_dumps() -> Result<(), HardeningError> {
    Ok(())
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn not_dumpable() -> Result<(), HardeningError> {
    // The kernel reads each argument as an unsigned long: pass them at that width.
    let zero: libc::c_ulong = 0;
    // SAFETY: PR_SET_DUMPABLE takes plain integers and touches no memory of ours.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, zero, zero, zero, zero) } == 0 {
        Ok(())
    } else {
        Err(HardeningError::Dumpable(std::io::Error::last_os_error()))
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn not_dumpable() -> Result<(), HardeningError> {
    Ok(())
}
