//! The `spotcheck` command: parse, call the library, map errors to exit codes.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(spotcheck::cli::main())
}
