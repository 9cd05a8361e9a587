//! The one redactor: every credential value of the run, masked wherever output goes.
//!
//! Masking by header *name* (`Authorization`, `X-Api-Key`, …) misses credentials that
//! travel under ordinary names: an Azure Functions key in `?code=…` or
//! `x-functions-key`, an API Management `Ocp-Apim-Subscription-Key`. So, as CI systems
//! mask secrets (GitHub Actions' `::add-mask::`), the run tells this registry every
//! credential *value* it holds, and the output edges (the terminal printers, the report
//! file writer, error messages) pass all text through [`text`] or [`bytes()`] before it
//! leaves the process.
//!
//! What is registered (see docs/security.md, "Redaction"):
//! - the signing secret: `whsec_…`, its Base64 body (padded and not), the key in hex;
//! - the OAuth client secret, and each OAuth token as it is issued (mid-run);
//! - every `--header` value;
//! - every query-parameter value of `--endpoint`, `--oauth-token-url`, `--state-url`.
//!
//! Short values. A value is masked wherever it appears only when it is at least
//! [`MIN_LEN`] characters long: shorter ones (`API-Version: 2.0`) would turn up in
//! unrelated text and mangle it. Short values are still masked in their own position:
//! a recorded header whose value is a registered credential ([`is_credential`], any
//! length), and a query parameter `name=value` (masked as that pair, any length).
//!
//! Matching ignores ASCII case (the key's hex may be printed in either case; masking
//! more never leaks) and also finds each value JSON-, HTML- and percent-escaped, the
//! forms the report formats write.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{LazyLock, RwLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// What a masked value is replaced with.
pub const MASK: &str = "***redacted***";

/// The shortest value masked wherever it appears. Eight characters: shorter values
/// (versions, flags, small numbers, short words) occur in ordinary output, and a
/// credential that short is guessable anyway; in their own position (a header's value,
/// a query parameter) values of any length are masked.
pub const MIN_LEN: usize = 8;

/// A set of credential values and what replaces each.
#[derive(Default)]
pub struct Redactor {
    /// Pattern → replacement (a bare value → [`MASK`], `name=value` → `name=MASK`).
    patterns: BTreeMap<String, String>,
    /// Every registered credential value, whatever its length (for [`Redactor::is_credential`]).
    exact: BTreeSet<String>,
    /// The automaton over `patterns`, rebuilt when one is added.
    automaton: Option<AhoCorasick>,
    /// Replacements in the automaton's pattern order.
    replacements: Vec<String>,
    /// Whether each pattern (same order) is a `name=value` pair.
    pairs: Vec<bool>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("values", &self.exact.len())
            .finish_non_exhaustive()
    }
}

impl Redactor {
    /// An empty redactor (masks nothing).
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// Registers a credential value: masked in its own position at any length, and
    /// everywhere (with its escaped forms) from [`MIN_LEN`] characters.
    pub fn add(&mut self, value: &str) {
        let value = value.trim();
        if value.is_empty() || value == MASK {
            return;
        }
        self.exact.insert(value.to_owned());
        if value.chars().count() >= MIN_LEN {
            for form in escaped_forms(value) {
                self.patterns.insert(form, MASK.to_owned());
            }
        }
        self.rebuild();
    }

    /// Registers the signing secret as the user gave it (`whsec_…`) and its key: the
    /// Base64 body padded and unpadded, and the key in hex (lower and upper case).
    pub fn add_signing_secret(&mut self, whsec: &str, key: &[u8]) {
        use base64::Engine;
        use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
        let whsec = whsec.trim();
        self.add(whsec);
        if let Some(body) = whsec.strip_prefix("whsec_") {
            self.add(body);
        }
        let padded = STANDARD.encode(key);
        self.add(&format!("whsec_{padded}"));
        self.add(&padded);
        let unpadded = STANDARD_NO_PAD.encode(key);
        self.add(&format!("whsec_{unpadded}"));
        self.add(&unpadded);
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        self.add(&hex);
        self.add(&hex.to_uppercase());
    }

    /// Registers every query-parameter value of `url` (raw and percent-decoded): the
    /// value alone from [`MIN_LEN`] characters, and the pair `name=value` at any length.
    pub fn add_url(&mut self, url: &str) {
        for (name, value) in query_pairs(url) {
            if value.is_empty() {
                continue;
            }
            self.add(value);
            self.patterns
                .insert(format!("{name}={value}"), format!("{name}={MASK}"));
            let decoded: String = form_urlencoded::parse(format!("x={value}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            if decoded != value {
                self.add(&decoded);
            }
        }
        self.rebuild();
    }

    /// Whether `value` is exactly a registered credential (any length): a recorded
    /// header holding one is masked in place.
    pub fn is_credential(&self, value: &str) -> bool {
        let value = value.trim();
        !value.is_empty() && self.exact.contains(value)
    }

    /// How many credential values are registered.
    pub fn len(&self) -> usize {
        self.exact.len()
    }

    /// Whether nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty()
    }

    /// `text` with every registered value masked.
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.mask(text.as_bytes()) {
            // Whole patterns (valid UTF-8) are replaced by ASCII: still UTF-8.
            Some(masked) => Cow::Owned(
                String::from_utf8(masked)
                    .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned()),
            ),
            None => Cow::Borrowed(text),
        }
    }

    /// `bytes` with every registered value masked.
    pub fn bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        match self.mask(bytes) {
            Some(masked) => Cow::Owned(masked),
            None => Cow::Borrowed(bytes),
        }
    }

    /// The masked copy of `haystack`, or `None` when nothing matched. A `name=value`
    /// pattern counts only where a parameter starts (not after a letter, digit, `_`,
    /// `-`, `.` or `%`), so `v=1` does not mask the end of `rev=1`; the search then goes
    /// on from the next byte, so a long value inside is still found.
    fn mask(&self, haystack: &[u8]) -> Option<Vec<u8>> {
        let automaton = self.automaton.as_ref()?;
        let mut out: Option<Vec<u8>> = None;
        let mut last = 0;
        let mut pos = 0;
        while pos < haystack.len() {
            let input = aho_corasick::Input::new(haystack).span(pos..haystack.len());
            let Some(found) = automaton.find(input) else {
                break;
            };
            let index = found.pattern().as_usize();
            let inside_a_name = found.start() > 0
                && matches!(haystack[found.start() - 1], b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' | b'.' | b'%');
            if self.pairs[index] && inside_a_name {
                pos = found.start() + 1;
                continue;
            }
            let masked = out.get_or_insert_with(|| Vec::with_capacity(haystack.len()));
            masked.extend_from_slice(&haystack[last..found.start()]);
            masked.extend_from_slice(self.replacements[index].as_bytes());
            last = found.end();
            pos = found.end();
        }
        let mut masked = out?;
        masked.extend_from_slice(&haystack[last..]);
        Some(masked)
    }

    fn rebuild(&mut self) {
        if self.patterns.is_empty() {
            self.automaton = None;
            self.replacements.clear();
            self.pairs.clear();
            return;
        }
        let patterns: Vec<&String> = self.patterns.keys().collect();
        // Leftmost-longest: `code=VALUE` wins over `VALUE` alone, a whole `whsec_…`
        // over its body.
        self.automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(true)
            .build(&patterns)
            .ok();
        self.replacements = self.patterns.values().cloned().collect();
        self.pairs = self.replacements.iter().map(|r| r != MASK).collect();
    }
}

/// The forms a value takes in the report formats: as is, JSON-escaped, HTML/XML-escaped
/// and percent-encoded (each only when it differs).
fn escaped_forms(value: &str) -> BTreeSet<String> {
    let mut forms = BTreeSet::new();
    forms.insert(value.to_owned());
    if let Ok(json) = serde_json::to_string(value) {
        forms.insert(json[1..json.len() - 1].to_owned());
    }
    for apostrophe in ["&#39;", "&#x27;", "&apos;"] {
        forms.insert(
            value
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .replace('\'', apostrophe),
        );
    }
    forms.insert(form_urlencoded::byte_serialize(value.as_bytes()).collect());
    forms.retain(|form| !form.is_empty());
    forms
}

/// The `name=value` pairs of a URL's query, as written (not decoded).
pub fn query_pairs(url: &str) -> Vec<(&str, &str)> {
    let Some((_, rest)) = url.split_once('?') else {
        return Vec::new();
    };
    let query = rest.split('#').next().unwrap_or_default();
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .collect()
}

/// The run's registry, shared by every output edge of the process.
static GLOBAL: LazyLock<RwLock<Redactor>> = LazyLock::new(|| RwLock::new(Redactor::new()));

fn with_global<T>(f: impl FnOnce(&mut Redactor) -> T) -> T {
    let mut guard = GLOBAL
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    f(&mut guard)
}

fn read_global<T>(f: impl FnOnce(&Redactor) -> T) -> T {
    let guard = GLOBAL
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    f(&guard)
}

/// Registers a credential value with the run's redactor (see [`Redactor::add`]);
/// values learned mid-run (an issued OAuth token) are masked from then on.
pub fn register(value: &str) {
    with_global(|r| r.add(value));
}

/// Registers the signing secret (see [`Redactor::add_signing_secret`]).
pub fn register_signing_secret(whsec: &str, key: &[u8]) {
    with_global(|r| r.add_signing_secret(whsec, key));
}

/// Registers a URL's query-parameter values (see [`Redactor::add_url`]).
pub fn register_url(url: &str) {
    with_global(|r| r.add_url(url));
}

/// Whether `value` is exactly a registered credential (see [`Redactor::is_credential`]).
pub fn is_credential(value: &str) -> bool {
    read_global(|r| r.is_credential(value))
}

/// `text` with every credential value of the run masked.
pub fn text(text: &str) -> Cow<'_, str> {
    read_global(|r| match r.text(text) {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        Cow::Owned(owned) => Cow::Owned(owned),
    })
}

/// `bytes` with every credential value of the run masked.
pub fn bytes(bytes: &[u8]) -> Cow<'_, [u8]> {
    read_global(|r| match r.bytes(bytes) {
        Cow::Borrowed(_) => Cow::Borrowed(bytes),
        Cow::Owned(owned) => Cow::Owned(owned),
    })
}

/// A writer that holds what is written and passes it, redacted, to `inner` on
/// `flush` (and when dropped): a value split over two `write` calls is still masked.
pub struct Masked<W: std::io::Write> {
    inner: W,
    held: Vec<u8>,
}

impl<W: std::io::Write> Masked<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Masked<W> {
        Masked {
            inner,
            held: Vec::new(),
        }
    }
}

impl<W: std::io::Write> std::io::Write for Masked<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.held.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let held = std::mem::take(&mut self.held);
        self.inner.write_all(&bytes(&held))?;
        self.inner.flush()
    }
}

impl<W: std::io::Write> Drop for Masked<W> {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}

/// Standard output through the run's redactor (see [`Masked`]).
pub fn stdout() -> Masked<std::io::StdoutLock<'static>> {
    Masked::new(std::io::stdout().lock())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn values_are_masked_everywhere_short_ones_only_in_place() {
        let mut r = Redactor::new();
        r.add("CANARY-key-0123");
        r.add("2.0");
        assert_eq!(r.text("x CANARY-key-0123 y"), "x ***redacted*** y");
        assert_eq!(r.text("API-Version 2.0"), "API-Version 2.0");
        assert!(r.is_credential("2.0"));
        assert!(!r.is_credential("2.1"));
        // Case is ignored, escaped forms are found.
        assert_eq!(r.text("canary-KEY-0123"), MASK);
    }

    #[test]
    fn escaped_forms_are_masked() {
        let mut r = Redactor::new();
        r.add(r#"a"b<c>&d e/f"#);
        for form in [
            r#"a\"b<c>&d e/f"#,
            "a&quot;b&lt;c&gt;&amp;d e/f",
            "a%22b%3Cc%3E%26d+e%2Ff",
        ] {
            assert_eq!(r.text(form), MASK, "{form}");
        }
    }

    #[test]
    fn query_values_are_masked_as_pairs_and_values() {
        let mut r = Redactor::new();
        r.add_url("https://h.example/api/x?code=abc&key=a%2Fb-0123456&flag=&v");
        assert_eq!(
            r.text("https://h.example/api/x?code=abc&key=a%2Fb-0123456&flag=&v"),
            "https://h.example/api/x?code=***redacted***&key=***redacted***&flag=&v"
        );
        // Long values alone, raw and decoded; short ones only as their pair, where a
        // parameter starts.
        assert_eq!(r.text("a/b-0123456 abc"), "***redacted*** abc");
        assert_eq!(
            r.text("xcode=abc &code=abc"),
            "xcode=abc &code=***redacted***"
        );
        assert_eq!(
            r.text("xkey=a%2Fb-0123456"),
            "xkey=***redacted***",
            "a long value inside a skipped pair is still found"
        );
    }

    #[test]
    fn the_signing_secret_in_every_form() {
        let mut r = Redactor::new();
        let key = b"0123456789abcdef-key";
        r.add_signing_secret("whsec_MDEyMzQ1Njc4OWFiY2RlZi1rZXk", key);
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        for form in [
            "whsec_MDEyMzQ1Njc4OWFiY2RlZi1rZXk".to_owned(),
            "whsec_MDEyMzQ1Njc4OWFiY2RlZi1rZXk=".to_owned(),
            "MDEyMzQ1Njc4OWFiY2RlZi1rZXk".to_owned(),
            hex.clone(),
            hex.to_uppercase(),
        ] {
            assert_eq!(r.text(&format!("<{form}>")), format!("<{MASK}>"), "{form}");
        }
    }

    #[test]
    fn a_value_split_over_writes_is_masked_on_flush() {
        use std::io::Write as _;
        register("canary-split-over-two-writes");
        let mut sink = Vec::new();
        {
            let mut out = Masked::new(&mut sink);
            out.write_all(b"key canary-split-").unwrap();
            out.write_all(b"over-two-writes end\n").unwrap();
        }
        assert_eq!(String::from_utf8(sink).unwrap(), "key ***redacted*** end\n");
    }

    proptest! {
        /// Whatever surrounds a registered value, it never survives masking.
        #[test]
        fn a_registered_value_never_survives(
            value in "[A-Za-z0-9_-]{8,40}",
            before in "[ -~]{0,40}",
            after in "[ -~]{0,40}",
        ) {
            prop_assume!(!MASK.to_ascii_lowercase().contains(&value.to_ascii_lowercase()));
            let mut r = Redactor::new();
            r.add(&value);
            let text = format!("{before}{value}{after}");
            let masked = r.text(&text);
            prop_assert!(!masked.to_ascii_lowercase().contains(&value.to_ascii_lowercase()));
        }
    }
}
