//! `spotcheck verify`.

use clap::Args;

use crate::error::SetupError;

/// Options of `spotcheck verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {}

/// Runs `spotcheck verify`.
pub async fn run(_args: VerifyArgs) -> Result<u8, SetupError> {
    Err(SetupError::new("`verify` is not implemented yet"))
}
