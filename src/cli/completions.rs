//! `spotcheck completions SHELL` and `spotcheck man`: generated from the CLI definition,
//! so they cannot drift from the flags. The definition is handed in by `cli/mod.rs`
//! (which declares these commands), so this file does not import its parent back.

use clap::Args;

use crate::error::SetupError;

/// Options of `spotcheck completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell or elvish.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Prints the completion script for a shell.
///
/// Example: `spotcheck completions bash > /etc/bash_completion.d/spotcheck`.
pub async fn run(args: CompletionsArgs, mut command: clap::Command) -> Result<u8, SetupError> {
    clap_complete::generate(
        args.shell,
        &mut command,
        "spotcheck",
        &mut std::io::stdout(),
    );
    Ok(crate::exit::CONFORMANT)
}

/// Options of `spotcheck man`.
#[derive(Debug, Args)]
pub struct ManArgs {}

/// Prints the man page (roff).
///
/// Example: `spotcheck man > spotcheck.1 && man ./spotcheck.1`.
pub async fn run_man(_args: ManArgs, command: clap::Command) -> Result<u8, SetupError> {
    let page = clap_mangen::Man::new(command);
    let mut out = Vec::new();
    page.render(&mut out)
        .map_err(|err| SetupError::new(format!("cannot render the man page: {err}")))?;
    std::io::Write::write_all(&mut std::io::stdout(), &out)
        .map_err(|err| SetupError::new(format!("cannot write the man page: {err}")))?;
    Ok(crate::exit::CONFORMANT)
}
