//! The `spotcheck` command: harden the process, parse, call the library, map errors to
//! exit codes.

fn main() -> std::process::ExitCode {
    // First, before any secret is read: no core dump, no /proc/<pid>/environ or ptrace
    // for other processes of the user (see spotcheck::hardening). A failure is said
    // and the command still runs: refusing to work would help no one.
    if let Err(err) = spotcheck::hardening::harden_process() {
        eprintln!("warning: {err}");
    }
    std::process::ExitCode::from(spotcheck::cli::main())
}
