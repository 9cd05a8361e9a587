//! `spotcheck sign`: the three signature headers of a body, as Spotnana would send them.

use std::path::PathBuf;

use clap::Args;

use super::common::{SecretArgs, read_input};
use crate::error::{SetupError, exit};
use crate::signing::{SignatureFormat, SignedHeaders, unix_now};

/// Options of `spotcheck sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The body, byte for byte as it will be sent (`-` or nothing: standard input).
    #[arg(value_name = "FILE|-")]
    pub file: Option<PathBuf>,
    /// The webhook id (default: a fresh UUID).
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// The Unix time in seconds (default: now).
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true)]
    pub timestamp: Option<i64>,
    /// Signature token form: `v1,<base64>` or bare `<base64>`.
    #[arg(long, value_enum, default_value_t = SignatureFormat::V1)]
    pub signature_format: SignatureFormat,
    /// Where the signing secret comes from.
    #[command(flatten)]
    pub secret: SecretArgs,
}

/// Runs `spotcheck sign`: prints `name: value` lines for the id, timestamp and signature.
pub async fn run(args: SignArgs) -> Result<u8, SetupError> {
    let secret = args.secret.require()?;
    if args.file.as_ref().is_none_or(|f| f.as_os_str() == "-")
        && std::io::IsTerminal::is_terminal(&std::io::stdin())
    {
        errln!("reading the body from standard input (end it with Ctrl-D)");
    }
    let body = read_input(args.file.as_deref().unwrap_or(std::path::Path::new("-")))?;
    let id = args
        .id
        .unwrap_or_else(|| uuid::Uuid::new_v4().hyphenated().to_string());
    let timestamp = args.timestamp.unwrap_or_else(unix_now);
    let headers = SignedHeaders::new(&[&secret], &id, timestamp, &body, args.signature_format);
    for (name, value) in headers.pairs() {
        outln!("{name}: {value}");
    }
    Ok(exit::CONFORMANT)
}
