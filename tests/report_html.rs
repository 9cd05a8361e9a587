//! The HTML sign-off report (`--report html=PATH`) as a user opens it: one
//! self-contained file (no external asset, no script), everything an endpoint sent
//! escaped, and rendered by a real headless browser (Debian's `chromium`): the DOM has
//! a row per check with its status, the verdict and each failure's replay command, and
//! a screenshot is drawn. The browser part is skipped, with a visible message, where
//! chromium is not installed, and fails instead under `CI` (`.ci/run` installs it).

use std::path::{Path, PathBuf};

use spotcheck::receiver::Flaw;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{self, chromium, cli};

/// What an endpoint may send back to attack the person reading the report.
const HOSTILE: &str = r#"<script>document.title="pwned"</script><img src=x onerror=alert(1)><a href="javascript:alert(2)">x</a>"#;

/// Runs `spotcheck run ARGS --report html=… --report markdown=…` and returns the
/// output, the HTML and the Markdown.
async fn run_html(dir: &Path, args: &[&str]) -> (cli::Run, String, String) {
    let html = dir.join("report.html");
    let markdown = dir.join("report.md");
    let html_arg = format!("html={}", html.display());
    let markdown_arg = format!("markdown={}", markdown.display());
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--report", &html_arg, "--report", &markdown_arg]);
    let output = support::spotcheck(&all).await;
    let read = |p: &Path| {
        std::fs::read_to_string(p)
            .unwrap_or_else(|err| panic!("{} missing ({err}): {}", p.display(), output.stderr))
    };
    let (h, m) = (read(&html), read(&markdown));
    (output, h, m)
}

/// The file needs nothing from the network or the disk: no linked style sheet, no
/// script, no remote font or image, and a policy forbidding them anyway.
fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for forbidden in [
        "<link", "<script", "<img", "<iframe", "<a ", "@import", "url(",
    ] {
        assert!(
            !lower.contains(forbidden),
            "`{forbidden}` in the HTML report"
        );
    }
    assert!(lower.starts_with("<!doctype html>"));
    assert!(lower.contains("<style>"));
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
}

/// A partner endpoint that answers every delivery 500 with markup in its body and a
/// header: the report shows it as text, never as markup.
#[tokio::test]
async fn hostile_answers_are_escaped() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("x-evil", "<script>alert(3)</script>")
                .set_body_string(HOSTILE),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("{}/hook", server.uri());
    let (output, html, markdown) = run_html(
        dir.path(),
        &[
            "run",
            "--endpoint",
            &endpoint,
            "--only",
            "delivery.status-200",
            "--seed",
            "5",
        ],
    )
    .await;
    assert_eq!(output.code, Some(1));
    assert!(
        markdown.contains(HOSTILE),
        "the Markdown quotes the answer verbatim"
    );
    assert_self_contained(&html);
    assert!(
        html.contains(r#"&lt;script&gt;document.title="pwned"&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&lt;a href="javascript:alert(2)"&gt;x&lt;/a&gt;"#),
        "{html}"
    );
    assert!(html.contains("x-evil: &lt;script&gt;alert(3)&lt;/script&gt;"));

    if let Some(dom) = chromium::dom(dir.path(), &dir.path().join("report.html")).await {
        assert!(!dom.contains("<script"), "no script element in the DOM");
        assert!(!dom.contains("<img"), "no image element in the DOM");
        assert!(dom.contains("<title>Spotnana webhook conformance report: http://127.0.0.1:"));
        assert_eq!(dom.matches("<tr class=\"check fail\"").count(), 1);
    }
}

/// A flawed receiver over HTTPS: two failures, two warnings; the browser's DOM holds a
/// row per check with its status, the verdict, and each problem's replay command.
#[tokio::test]
async fn chromium_renders_the_report() {
    let receiver = support::start(vec![
        Flaw::StrictFields,
        Flaw::RejectWith500,
        Flaw::NoTimestampCheck,
    ])
    .await;
    let url = receiver.running.webhook_url();
    let ca = receiver.ca.display().to_string();
    let dir = receiver.dir.path().to_path_buf();
    let (output, html, _) = run_html(
        &dir,
        &[
            "run",
            "--endpoint",
            &url,
            "--ca-cert",
            &ca,
            "--only",
            "delivery.status-200,delivery.unknown-fields-tolerated,signature.*",
            "--seed",
            "11",
        ],
    )
    .await;
    receiver.running.shutdown().await;
    assert_eq!(output.code, Some(1));
    assert_self_contained(&html);
    let Some(dom) = chromium::dom(&dir, &dir.join("report.html")).await else {
        return;
    };
    let rows = |status: &str| {
        dom.matches(&format!("<tr class=\"check {status}\""))
            .count()
    };
    let stdout = &output.stdout;
    assert_eq!(rows("fail"), 1, "{stdout}");
    assert!(rows("warn") >= 2, "{stdout}");
    assert!(rows("pass") >= 5, "{stdout}");
    assert!(dom.contains("<p class=\"verdict not-conformant\"><strong>NOT conformant</strong>"));
    assert!(dom.contains(
        "data-check-id=\"delivery.unknown-fields-tolerated\"><code class=\"language-sh\">spotcheck run --endpoint https://127.0.0.1:"
    ));
    assert_eq!(
        dom.matches("<pre class=\"repro\"").count(),
        rows("fail") + rows("warn")
    );
    assert_marks_need_no_font(&dom);

    let png = dir.join("report.png");
    if chromium::run(
        &dir,
        &["--screenshot", "--window-size=1200,1600"],
        &png,
        &dir.join("report.html"),
    )
    .await
    .is_some()
    {
        let bytes = std::fs::read(&png).expect("chromium wrote the screenshot");
        assert!(bytes.len() > 10_000, "a screenshot of a page, not a blank");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        if let Some(keep) = std::env::var_os("SPOTCHECK_KEEP_SCREENSHOT") {
            std::fs::copy(&png, PathBuf::from(keep)).unwrap();
        }
    }
}

/// The outcome cell of every check row, as the browser's DOM holds it, starts with a
/// mark the style sheet draws (`<span class="mark STATUS">`), and its text uses only
/// ASCII: a glyph every font has. An emoji mark (`✅ pass`, `⏭ skip`) needs a colour
/// emoji font, which Debian's headless chromium does not have: it drew an empty box.
fn assert_marks_need_no_font(dom: &str) {
    let mut cells = 0;
    for row in dom.split("<tr class=\"check ").skip(1) {
        let status = row.split(['"', ' ']).next().unwrap_or_default();
        let cell = row
            .split_once("<td>")
            .and_then(|(_, rest)| rest.split_once("</td>"))
            .map(|(cell, _)| cell)
            .unwrap_or_else(|| panic!("a row without cells: {row}"));
        let mark = format!("<span class=\"mark {status}\" aria-hidden=\"true\"></span>");
        assert!(cell.starts_with(&mark), "no drawn mark: {cell}");
        assert!(
            cell.is_ascii(),
            "the outcome cell needs a glyph outside ASCII: {cell:?}"
        );
        cells += 1;
    }
    assert!(cells > 0, "no check rows in the DOM");
}
