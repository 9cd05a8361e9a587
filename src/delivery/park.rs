//! Parked messages: what Spotnana keeps "for manual intervention" when every retry
//! failed, written as one JSON file per message so `spotcheck redeliver` can send it
//! again with its original webhook id.
//!
//! A parked file never holds the signing secret, nor the signature headers (each
//! redelivery is signed afresh). Custom headers whose name looks like a credential
//! (`Authorization`, `X-Api-Key`, names containing `token`…) are stored redacted and
//! must be given again with `--header` when redelivering.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::exchange::recorded_value;
use super::request::is_reserved;
use super::retry::{AttemptReport, RetryMessage};
use crate::signing::SignatureFormat;

/// The value stored for a header whose value was redacted.
pub const REDACTED: &str = "***redacted***";
/// The default folder parked messages are written to.
pub const DEFAULT_PARK_DIR: &str = "spotcheck-parked";
/// The format version written in every parked file.
pub const FORMAT_VERSION: u32 = 1;

/// Why a parked message could not be written, read or sent again.
#[derive(Debug, thiserror::Error)]
pub enum ParkError {
    /// The park folder could not be created.
    #[error("cannot create the park folder {}: {source}", dir.display())]
    CreateDir {
        /// The folder.
        dir: PathBuf,
        /// The file system's account.
        source: std::io::Error,
    },
    /// The message could not be serialized.
    #[error("cannot serialize the parked message: {0}")]
    Serialize(#[source] serde_json::Error),
    /// The file could not be written.
    #[error("cannot write the parked message to {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The file system's account.
        source: std::io::Error,
    },
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The file system's account.
        source: std::io::Error,
    },
    /// The file is not a parked message (not JSON, or not its fields).
    #[error("{} is not a parked message: {source}", path.display())]
    NotParked {
        /// The file.
        path: PathBuf,
        /// What the JSON reader found.
        source: serde_json::Error,
    },
    /// The file is another version of the format.
    #[error("{} is parked-message format {found}, this spotcheck reads format {FORMAT_VERSION}", path.display())]
    Version {
        /// The file.
        path: PathBuf,
        /// The version it says it is.
        found: u32,
    },
    /// The file has no webhook id to redeliver with.
    #[error("{} has an empty webhook_id", path.display())]
    EmptyId {
        /// The file.
        path: PathBuf,
    },
    /// A credential header was stored redacted and not given again.
    #[error("header `{name}` was redacted when the message was parked")]
    Redacted {
        /// The header's name.
        name: String,
    },
    /// Every name for this webhook id is taken ([`MAX_NAMES_PER_ID`]).
    #[error("cannot park in {}: {MAX_NAMES_PER_ID} files named {stem}*.json are there already", dir.display())]
    NoFreeName {
        /// The folder.
        dir: PathBuf,
        /// The file name's stem (the webhook id's safe characters).
        stem: String,
    },
    /// The stored Base64 body does not decode.
    #[error("the Base64 body does not decode ({0})")]
    Body(#[source] base64::DecodeError),
}

/// One parked message, as stored on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParkedMessage {
    /// The file format version ([`FORMAT_VERSION`]).
    pub spotcheck_parked: u32,
    /// `x-spotnana-webhook-id`, reused by every redelivery.
    pub webhook_id: String,
    /// Where the message was going.
    pub endpoint: String,
    /// When it was parked (RFC 3339, UTC).
    pub parked_at: String,
    /// Why it was parked.
    pub reason: String,
    /// The signature token form it was sent with.
    pub signature_format: SignatureFormat,
    /// The exact body.
    pub body: ParkedBody,
    /// The subscription's custom headers (credential values redacted). Content-Type,
    /// the signature headers and the B3 trace headers are not stored: they are set
    /// afresh on every delivery.
    pub headers: Vec<(String, String)>,
    /// Every attempt made before parking.
    pub attempts: Vec<ParkedAttempt>,
}

/// The body of a parked message: UTF-8 text when it is, Base64 otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "encoding", rename_all = "lowercase")]
pub enum ParkedBody {
    /// The body as text (its bytes are exactly the UTF-8 of `text`).
    #[serde(rename = "utf-8")]
    Utf8 {
        /// The body.
        text: String,
    },
    /// The body as standard Base64.
    Base64 {
        /// The body.
        data: String,
    },
}

impl ParkedBody {
    /// Stores `body` as text when it is valid UTF-8, as Base64 otherwise.
    pub fn of(body: &[u8]) -> ParkedBody {
        match std::str::from_utf8(body) {
            Ok(text) => ParkedBody::Utf8 {
                text: text.to_owned(),
            },
            Err(_) => ParkedBody::Base64 {
                data: STANDARD.encode(body),
            },
        }
    }

    /// The exact body bytes, or why the stored Base64 is unusable.
    pub fn bytes(&self) -> Result<Bytes, ParkError> {
        match self {
            ParkedBody::Utf8 { text } => Ok(Bytes::from(text.clone().into_bytes())),
            ParkedBody::Base64 { data } => STANDARD
                .decode(data.trim())
                .map(Bytes::from)
                .map_err(ParkError::Body),
        }
    }
}

/// A summary of one attempt made before parking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParkedAttempt {
    /// 1-based attempt number.
    pub attempt: usize,
    /// Offset from the first attempt on Spotnana's (unscaled) schedule, in milliseconds.
    pub offset_ms: u64,
    /// When it was sent (Unix milliseconds).
    pub started_at_ms: i64,
    /// The `x-spotnana-webhook-timestamp` it carried.
    pub timestamp: i64,
    /// The HTTP status, if an answer came.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<u16>,
    /// `500 Internal Server Error`, `timeout: no answer within 40s`, …
    pub outcome: String,
    /// Answer time in milliseconds.
    pub latency_ms: u64,
}

impl ParkedMessage {
    /// The parked form of `message` after `attempts`.
    pub fn new(message: &RetryMessage, attempts: &[AttemptReport], reason: &str) -> ParkedMessage {
        ParkedMessage {
            spotcheck_parked: FORMAT_VERSION,
            webhook_id: message.webhook_id.clone(),
            endpoint: message.endpoint.clone(),
            parked_at: crate::event::envelope::format_timestamp(time::OffsetDateTime::now_utc()),
            reason: reason.to_owned(),
            signature_format: message.format,
            body: ParkedBody::of(&message.body),
            headers: message
                .custom_headers
                .iter()
                .filter(|(name, _)| !is_reserved(name))
                .map(|(name, value)| (name.clone(), recorded_value(name, value)))
                .collect(),
            attempts: attempts
                .iter()
                .map(|a| ParkedAttempt {
                    attempt: a.number,
                    offset_ms: a.offset.as_millis() as u64,
                    started_at_ms: a.exchange.started_at_ms,
                    timestamp: a.timestamp,
                    status: a.exchange.status(),
                    outcome: a.exchange.outcome_text(),
                    latency_ms: a.exchange.duration.as_millis() as u64,
                })
                .collect(),
        }
    }

    /// The message to send again: stored headers with `overrides` (given again by the
    /// user) replacing those of the same name. A redacted header that is not given
    /// again is an error naming it. `endpoint` replaces the stored one when given.
    pub fn to_message(
        &self,
        endpoint: Option<&str>,
        overrides: &[(String, String)],
    ) -> Result<RetryMessage, ParkError> {
        let mut headers: Vec<(String, String)> = Vec::new();
        for (name, value) in &self.headers {
            if let Some((_, given)) = overrides.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
                headers.push((name.clone(), given.clone()));
            } else if value == REDACTED {
                // Credential-named headers and every `--header` value (see
                // crate::redact) are stored masked: the user gives them again.
                return Err(ParkError::Redacted { name: name.clone() });
            } else {
                headers.push((name.clone(), value.clone()));
            }
        }
        for (name, value) in overrides {
            if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                headers.push((name.clone(), value.clone()));
            }
        }
        Ok(RetryMessage {
            endpoint: endpoint.unwrap_or(&self.endpoint).to_owned(),
            webhook_id: self.webhook_id.clone(),
            body: self.body.bytes()?,
            format: self.signature_format,
            custom_headers: headers,
        })
    }
}

/// The most names [`write()`] tries for one webhook id (`<id>.json`, `<id>-2.json`, …)
/// before giving up: far beyond any real park folder, and a bound on the loop.
pub const MAX_NAMES_PER_ID: u32 = 1_000_000;

/// Writes `parked` into `dir` (created if needed) as `<webhook id>.json`, atomically
/// and without ever replacing a file: the message is written and synced to a
/// temporary file, then moved to the first free name of `<id>.json`, `<id>-2.json`,
/// `<id>-3.json`… with a no-clobber rename (`renameat2(RENAME_NOREPLACE)`, or a hard
/// link where that is missing), so two writers racing for a name never overwrite each
/// other: the loser moves on to the next name. The folder is synced after the rename,
/// so the name survives a crash. Returns the path.
pub fn write(dir: &Path, parked: &ParkedMessage) -> Result<PathBuf, ParkError> {
    std::fs::create_dir_all(dir).map_err(|source| ParkError::CreateDir {
        dir: dir.to_owned(),
        source,
    })?;
    let mut json = serde_json::to_vec_pretty(parked).map_err(ParkError::Serialize)?;
    json.push(b'\n');
    let stem = file_stem(&parked.webhook_id);
    let write_error = |path: &Path| {
        let path = path.to_owned();
        move |source| ParkError::Write { path, source }
    };
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(write_error(dir))?;
    temp.write_all(&json).map_err(write_error(temp.path()))?;
    temp.as_file()
        .sync_all()
        .map_err(write_error(temp.path()))?;
    for n in 1..=MAX_NAMES_PER_ID {
        let path = if n == 1 {
            dir.join(format!("{stem}.json"))
        } else {
            dir.join(format!("{stem}-{n}.json"))
        };
        match temp.persist_noclobber(&path) {
            Ok(_) => {
                sync_dir(dir).map_err(write_error(dir))?;
                return Ok(path);
            }
            Err(err) if err.error.kind() == std::io::ErrorKind::AlreadyExists => {
                temp = err.file;
            }
            Err(err) => return Err(write_error(&path)(err.error)),
        }
    }
    Err(ParkError::NoFreeName {
        dir: dir.to_owned(),
        stem,
    })
}

/// Makes a rename in `dir` durable (the folder's entry list reaches the disk).
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Folders cannot be opened for syncing here; the rename is as durable as the
/// platform makes it.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Reads a parked message file; errors name the file and the problem.
pub fn read(path: &Path) -> Result<ParkedMessage, ParkError> {
    let bytes = std::fs::read(path).map_err(|source| ParkError::Read {
        path: path.to_owned(),
        source,
    })?;
    let parked: ParkedMessage =
        serde_json::from_slice(&bytes).map_err(|source| ParkError::NotParked {
            path: path.to_owned(),
            source,
        })?;
    if parked.spotcheck_parked != FORMAT_VERSION {
        return Err(ParkError::Version {
            path: path.to_owned(),
            found: parked.spotcheck_parked,
        });
    }
    if parked.webhook_id.trim().is_empty() {
        return Err(ParkError::EmptyId {
            path: path.to_owned(),
        });
    }
    Ok(parked)
}

/// A file name made of the id's safe characters (letters, digits, `-`, `_`, `.`).
fn file_stem(id: &str) -> String {
    let stem: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if stem.is_empty() {
        "message".to_owned()
    } else {
        stem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &[u8]) -> RetryMessage {
        RetryMessage {
            endpoint: "https://partner.test/hook".into(),
            webhook_id: "evt/../1".into(),
            body: Bytes::copy_from_slice(body),
            format: SignatureFormat::Bare,
            custom_headers: vec![
                ("API-Version".into(), "2.0".into()),
                ("X-Api-Key".into(), "k-123".into()),
            ],
        }
    }

    #[test]
    fn round_trip_keeps_bytes_and_redacts_credentials() {
        let dir = tempfile::tempdir().unwrap();
        for body in [
            &b"{\"a\": \"\\u00e9 \xc3\xa9\"}"[..],
            &b"\xff\x00binary"[..],
        ] {
            let parked = ParkedMessage::new(&message(body), &[], "test");
            let path = write(dir.path(), &parked).unwrap();
            assert!(path.starts_with(dir.path()));
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(!text.contains("k-123"), "{text}");
            let back = read(&path).unwrap();
            assert_eq!(back, parked);
            let err = back.to_message(None, &[]).unwrap_err();
            assert!(
                matches!(&err, ParkError::Redacted { name } if name == "X-Api-Key"),
                "{err}"
            );
            let again = back
                .to_message(
                    Some("http://127.0.0.1:1/"),
                    &[("x-api-key".into(), "k-9".into())],
                )
                .unwrap();
            assert_eq!(&again.body[..], body);
            assert_eq!(again.webhook_id, "evt/../1");
            assert_eq!(again.endpoint, "http://127.0.0.1:1/");
            assert_eq!(again.format, SignatureFormat::Bare);
            assert_eq!(
                again.custom_headers,
                vec![
                    ("API-Version".to_owned(), "2.0".to_owned()),
                    ("X-Api-Key".to_owned(), "k-9".to_owned())
                ]
            );
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 2);
        assert!(names.contains(&"evt____1.json".to_owned()), "{names:?}");
        assert!(names.contains(&"evt____1-2.json".to_owned()), "{names:?}");
    }

    /// The file names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn existing_files_are_never_replaced_not_even_the_ten_thousandth() {
        let dir = tempfile::tempdir().unwrap();
        let mut parked = ParkedMessage::new(&message(b"{}"), &[], "test");
        parked.webhook_id = "evt-1".into();
        // 9,999 files are there already: evt-1.json, evt-1-2.json … evt-1-9999.json,
        // each holding its own name.
        std::fs::write(dir.path().join("evt-1.json"), "evt-1.json").unwrap();
        for n in 2..10_000 {
            let name = format!("evt-1-{n}.json");
            std::fs::write(dir.path().join(&name), &name).unwrap();
        }
        let path = write(dir.path(), &parked).unwrap();
        assert_eq!(path, dir.path().join("evt-1-10000.json"));
        assert_eq!(read(&path).unwrap(), parked);
        let ninth = dir.path().join("evt-1-9999.json");
        assert_eq!(std::fs::read_to_string(ninth).unwrap(), "evt-1-9999.json");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("evt-1.json")).unwrap(),
            "evt-1.json"
        );
        assert_eq!(names(dir.path()).len(), 10_000, "no temporary file is left");
    }

    #[test]
    fn racing_writers_of_one_id_each_get_their_own_file() {
        let dir = tempfile::tempdir().unwrap();
        const WRITERS: usize = 8;
        const EACH: usize = 25;
        let barrier = std::sync::Barrier::new(WRITERS);
        let paths: Vec<PathBuf> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..WRITERS)
                .map(|writer| {
                    let (dir, barrier) = (dir.path(), &barrier);
                    scope.spawn(move || {
                        barrier.wait();
                        (0..EACH)
                            .map(|i| {
                                let reason = format!("writer {writer} message {i}");
                                let parked = ParkedMessage::new(&message(b"{}"), &[], &reason);
                                write(dir, &parked).unwrap()
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        // Every write got a name of its own, and every file holds what its writer wrote.
        let mut distinct = paths.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), WRITERS * EACH);
        assert_eq!(names(dir.path()).len(), WRITERS * EACH);
        let mut reasons: Vec<String> = paths.iter().map(|p| read(p).unwrap().reason).collect();
        reasons.sort();
        reasons.dedup();
        assert_eq!(reasons.len(), WRITERS * EACH);
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        std::fs::write(&path, "{\"webhook_id\": 3}").unwrap();
        let err = read(&path).unwrap_err();
        assert!(
            err.to_string().contains("x.json is not a parked message"),
            "{err}"
        );
        let bad = ParkedBody::Base64 { data: "@@".into() };
        assert!(
            bad.bytes()
                .unwrap_err()
                .to_string()
                .contains("does not decode")
        );
    }
}
