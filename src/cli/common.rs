//! Options shared by several commands.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::error::SetupError;
use crate::event::EnvelopeStyle;
use crate::signing::{Secret, SignatureFormat};
use crate::units::{self, DurationError};

/// Default environment variable holding the signing secret.
pub const DEFAULT_SECRET_ENV: &str = "SPOTNANA_WEBHOOK_SECRET";

/// Where the signing secret comes from (never a plain argument).
#[derive(Debug, Clone, Args)]
pub struct SecretArgs {
    /// Environment variable holding the `whsec_…` signing secret.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_SECRET_ENV)]
    pub secret_env: String,
    /// File holding the `whsec_…` signing secret (takes precedence over --secret-env).
    #[arg(long, value_name = "PATH")]
    pub secret_file: Option<PathBuf>,
}

impl SecretArgs {
    /// Loads the secret: from `--secret-file` if given, else from the environment
    /// variable. `Ok(None)` when neither is set. A malformed secret is an error that
    /// names its source, never its value.
    pub fn load(&self) -> Result<Option<Secret>, SetupError> {
        let secret = self.read()?;
        if let Some(secret) = &secret {
            // Masked in every output from here on (see crate::redact).
            crate::redact::register_signing_secret(&secret.expose_whsec(), secret.expose_key());
        }
        Ok(secret)
    }

    fn read(&self) -> Result<Option<Secret>, SetupError> {
        if let Some(path) = &self.secret_file {
            let text = std::fs::read_to_string(path).map_err(|err| {
                SetupError::new(format!(
                    "cannot read --secret-file {}: {err}",
                    path.display()
                ))
            })?;
            return Secret::parse(&text).map(Some).map_err(|err| {
                SetupError::new(format!(
                    "the secret in {} is malformed: {err}",
                    path.display()
                ))
                .with_hint("the file must hold one `whsec_<base64>` secret")
            });
        }
        match std::env::var(&self.secret_env) {
            Ok(text) => Secret::parse(&text).map(Some).map_err(|err| {
                SetupError::new(format!(
                    "the secret in environment variable {} is malformed: {err}",
                    self.secret_env
                ))
                .with_hint("set it to the `whsec_<base64>` secret Spotnana issued")
            }),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(SetupError::new(format!(
                "environment variable {} is not valid UTF-8",
                self.secret_env
            ))),
        }
    }

    /// The one rule every command that delivers follows: a partner's endpoint needs
    /// the partner's secret (required); the built-in reference receiver takes any, so
    /// without an endpoint the secret is optional (`None`: the command draws one).
    pub fn for_target(&self, has_endpoint: bool) -> Result<Option<Secret>, SetupError> {
        if has_endpoint {
            self.require().map(Some)
        } else {
            self.load()
        }
    }

    /// Loads the secret, which must be present.
    pub fn require(&self) -> Result<Secret, SetupError> {
        self.load()?.ok_or_else(|| {
            SetupError::new(format!(
                "no signing secret: environment variable {} is not set",
                self.secret_env
            ))
            .with_hint(format!(
                "export {}=whsec_… or pass --secret-file PATH",
                self.secret_env
            ))
        })
    }
}

/// How events are written (the two points the docs leave open).
#[derive(Debug, Clone, Args)]
pub struct FormatArgs {
    /// Signature token form: `v1,<base64>` or bare `<base64>`.
    #[arg(long, value_enum, default_value_t = SignatureFormat::V1)]
    pub signature_format: SignatureFormat,
    /// Event type field name in the envelope.
    #[arg(long, value_enum, default_value_t = EnvelopeStyle::EventType)]
    pub envelope: EnvelopeStyle,
}

/// The client certificate for endpoints that require mutual TLS.
#[derive(Debug, Clone, Default, Args)]
pub struct ClientCertArgs {
    /// PEM client certificate (leaf first, then intermediates) to present when the endpoint requires mutual TLS. Needs --client-key.
    #[arg(long, value_name = "PEM", requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// PEM private key of --client-cert (PKCS#8, RSA or EC). Needs --client-cert.
    #[arg(long, value_name = "PEM", requires = "client_cert")]
    pub client_key: Option<PathBuf>,
}

impl ClientCertArgs {
    /// The certificate and key files; `Ok(None)` when neither flag is given.
    pub fn files(&self) -> Result<Option<(PathBuf, PathBuf)>, SetupError> {
        match (&self.client_cert, &self.client_key) {
            (Some(cert), Some(key)) => Ok(Some((cert.clone(), key.clone()))),
            (None, None) => Ok(None),
            _ => Err(SetupError::new(
                "--client-cert and --client-key go together".to_owned(),
            )),
        }
    }

    /// Loads and checks the pair; `Ok(None)` when neither flag is given. Errors (exit 2)
    /// name the file and the problem, never the key.
    pub fn load(&self) -> Result<Option<crate::tls::ClientIdentity>, SetupError> {
        match self.files()? {
            Some((cert, key)) => Ok(Some(crate::tls::ClientIdentity::load(&cert, &key)?)),
            None => Ok(None),
        }
    }
}

/// Where and how deliveries go.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// The partner endpoint (https://…). Without it, the built-in reference receiver is started on loopback.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// PEM file with a private CA to trust for the endpoint's certificate.
    #[arg(long, value_name = "PEM")]
    pub ca_cert: Option<PathBuf>,
    /// Extra header on every delivery, `Name: value` (repeatable). Cannot override reserved headers.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Per-delivery timeout, connection set-up included (Spotnana uses 40 s).
    #[arg(long, value_name = "DURATION", default_value = crate::wire::SPOTNANA_TIMEOUT_TEXT.as_str(), value_parser = parse_timeout)]
    pub timeout: Duration,
    /// Client certificate for mutual TLS.
    #[command(flatten)]
    pub client_cert: ClientCertArgs,
    /// Name overrides and proxy.
    #[command(flatten)]
    pub route: super::route::RouteArgs,
}

impl TargetArgs {
    /// What `--endpoint`, `--ca-cert` and `--client-cert`/`--client-key` ask for, with
    /// `reference` the receiver to start when there is no endpoint; give it to
    /// [`crate::target::Target::build`].
    pub fn spec(
        &self,
        reference: crate::receiver::ReceiverConfig,
    ) -> Result<crate::target::TargetSpec, SetupError> {
        Ok(crate::target::TargetSpec {
            endpoint: self.endpoint.clone(),
            ca_cert: self.ca_cert.clone(),
            client_cert: self.client_cert.files()?,
            reference,
            routes: self.route.routes()?,
        })
    }
}

/// The longest `--timeout` accepted (see docs/limits.md).
pub use crate::wire::MAX_TIMEOUT;

/// Parses a per-delivery `--timeout`: a duration above zero and at most 10 minutes.
/// Zero would fail every delivery before it is sent; an enormous value would let a
/// silent endpoint hold the run forever.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let duration = parse_duration(text)?;
    let spotnana = crate::wire::SPOTNANA_TIMEOUT_TEXT.as_str();
    if duration.is_zero() {
        return Err(format!(
            "`{text}` is zero; give the endpoint time to answer, e.g. {spotnana} (Spotnana's timeout)"
        ));
    }
    if duration > MAX_TIMEOUT {
        return Err(format!(
            "`{text}` is longer than the {} limit; Spotnana waits {spotnana}, so e.g. {spotnana}",
            humantime::format_duration(MAX_TIMEOUT)
        ));
    }
    Ok(duration)
}

/// Parses a duration flag such as `40s`, `500ms`, `2m` with [`units::parse_duration`]
/// (the grammar scenario files use too), worded for a command line.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    units::parse_duration(text).map_err(|err| match err {
        DurationError::Malformed(cause) => {
            format!("`{text}` is not a duration ({cause}); write e.g. 40s, 500ms or 2m")
        }
        other => format!("`{text}` is not a duration: {other}"),
    })
}

/// Resolves `--shard` (reading the process environment for `auto`) and says on stderr
/// which share runs and where it came from, so a CI log shows it.
pub fn resolve_shard(
    arg: Option<super::shard::ShardArg>,
) -> Result<Option<crate::runner::filter::Shard>, SetupError> {
    let Some(arg) = arg else {
        return Ok(None);
    };
    let resolved = arg.resolve(|name| std::env::var(name).ok())?;
    errln!("{}", resolved.describe());
    Ok(Some(resolved.shard))
}

/// Parses `Name: value` header arguments.
pub fn parse_headers(raw: &[String]) -> Result<Vec<(String, String)>, SetupError> {
    parse_header_flag("--header", raw)
}

/// Parses `--state-header 'Name: value'` arguments: the read-back endpoint's own
/// credentials, sent only to the `--state-url` origin. Any name is allowed
/// (`Authorization` included: the state URL is not a delivery).
pub fn parse_state_headers(raw: &[String]) -> Result<Vec<(String, String)>, SetupError> {
    parse_header_flag("--state-header", raw)
}

/// How a replay command writes a `--state-header` (every value is a credential):
/// `"Name: $SPOTCHECK_STATE_HEADER_NAME"`, read from the environment (a name a shell
/// would read inside double quotes gets `'Name: <redacted>'`).
pub fn state_header_reference(name: &str) -> String {
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !plain {
        return crate::replay::shell_quote(&format!("{name}: <redacted>"));
    }
    let variable: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("\"{name}: $SPOTCHECK_STATE_HEADER_{variable}\"")
}

/// The one reading of a `Name: value` argument (`--header`, `--state-header`): name
/// and value split at the first `:`, each trimmed; `None` without a `:`. Whether the
/// name is a header name is checked by [`parse_headers`].
pub fn split_header(item: &str) -> Option<(&str, &str)> {
    let (name, value) = item.split_once(':')?;
    Some((name.trim(), value.trim()))
}

/// Parses `Name: value` arguments of `flag`; a malformed one is shown cut short (it
/// may hold a credential).
fn parse_header_flag(flag: &str, raw: &[String]) -> Result<Vec<(String, String)>, SetupError> {
    raw.iter()
        .map(|item| {
            let (name, value) = split_header(item).ok_or_else(|| {
                SetupError::new(format!("{flag} `{}` has no `:`", redact_header_arg(item)))
                    .with_hint(format!("write {flag} 'Name: value'"))
            })?;
            if !crate::wire::is_header_name(name) {
                return Err(SetupError::new(format!(
                    "{flag} name `{name}` is not a valid HTTP header name"
                )));
            }
            Ok((name.to_owned(), value.to_owned()))
        })
        .collect()
}

fn redact_header_arg(item: &str) -> String {
    // A malformed header argument may still hold a credential: show only its start.
    let shown: String = item.chars().take(12).collect();
    if shown.len() < item.len() {
        format!("{shown}…")
    } else {
        shown
    }
}

/// Reads a file or, for `-`, standard input, as raw bytes.
pub fn read_input(path: &std::path::Path) -> Result<Vec<u8>, SetupError> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
            .map_err(|err| SetupError::new(format!("cannot read standard input: {err}")))?;
        Ok(buf)
    } else {
        std::fs::read(path)
            .map_err(|err| SetupError::new(format!("cannot read {}: {err}", path.display())))
    }
}

/// The command-line spelling of a `ValueEnum` value.
pub(super) fn value_name<T: clap::ValueEnum>(value: &T) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_owned())
        .unwrap_or_default()
}

fn path_text(path: &std::path::Path) -> String {
    path.display().to_string()
}

// Replay: each argument struct adds its own flags to a replay command, destructured
// without `..` so that a new flag does not compile until it is handled here.

impl TargetArgs {
    /// `--ca-cert`, the client certificate, `--header` (as variable references),
    /// `--timeout` when not Spotnana's, and the route flags. The endpoint is the
    /// replay's own field.
    pub(super) fn replay_into(&self, replay: &mut crate::replay::Replay) {
        let TargetArgs {
            endpoint: _,
            ca_cert,
            headers,
            timeout,
            client_cert,
            route,
        } = self;
        if let Some(ca) = ca_cert {
            replay.push("--ca-cert", &path_text(ca));
        }
        client_cert.replay_into(replay);
        for (name, value) in parse_headers(headers).unwrap_or_default() {
            replay.push_header(&name, &value);
        }
        if *timeout != crate::delivery::client::SPOTNANA_TIMEOUT {
            replay.push(
                "--timeout",
                &humantime::format_duration(*timeout).to_string(),
            );
        }
        route.replay_into(replay);
    }
}

impl ClientCertArgs {
    /// `--client-cert` and `--client-key`, both or neither.
    pub(super) fn replay_into(&self, replay: &mut crate::replay::Replay) {
        let ClientCertArgs {
            client_cert,
            client_key,
        } = self;
        if let (Some(cert), Some(key)) = (client_cert, client_key) {
            replay.push("--client-cert", &path_text(cert));
            replay.push("--client-key", &path_text(key));
            replay.client_cert = Some((cert.clone(), key.clone()));
        }
    }
}

impl SecretArgs {
    /// Where the secret comes from (never its value).
    pub(super) fn replay_into(&self, replay: &mut crate::replay::Replay) {
        let SecretArgs {
            secret_env,
            secret_file,
        } = self;
        if let Some(file) = secret_file {
            replay.push("--secret-file", &path_text(file));
        } else if secret_env != DEFAULT_SECRET_ENV {
            replay.push("--secret-env", secret_env);
        }
    }
}

impl FormatArgs {
    /// The signature and envelope forms, when not the defaults.
    pub(super) fn replay_into(&self, replay: &mut crate::replay::Replay) {
        let FormatArgs {
            signature_format,
            envelope,
        } = self;
        if *signature_format != SignatureFormat::V1 {
            replay.push("--signature-format", &value_name(signature_format));
        }
        if *envelope != EnvelopeStyle::EventType {
            replay.push("--envelope", &value_name(envelope));
        }
    }
}
