//! `spotcheck serve`.

use clap::Args;

use crate::error::SetupError;

/// Options of `spotcheck serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {}

/// Runs `spotcheck serve`.
pub async fn run(_args: ServeArgs) -> Result<u8, SetupError> {
    Err(SetupError::new("`serve` is not implemented yet"))
}
