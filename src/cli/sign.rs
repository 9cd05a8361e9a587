//! `spotcheck sign`.

use clap::Args;

use crate::error::SetupError;

/// Options of `spotcheck sign`.
#[derive(Debug, Args)]
pub struct SignArgs {}

/// Runs `spotcheck sign`.
pub async fn run(_args: SignArgs) -> Result<u8, SetupError> {
    Err(SetupError::new("`sign` is not implemented yet"))
}
