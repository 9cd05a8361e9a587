//! `spotcheck send`.

use clap::Args;

use crate::error::SetupError;

/// Options of `spotcheck send`.
#[derive(Debug, Args)]
pub struct SendArgs {}

/// Runs `spotcheck send`.
pub async fn run(_args: SendArgs) -> Result<u8, SetupError> {
    Err(SetupError::new("`send` is not implemented yet"))
}
