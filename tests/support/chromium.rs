//! Shared test helper: headless Chromium (Debian's `chromium`) rendering an HTML
//! report, as a reader's browser would. Where chromium is not installed the helpers
//! return `None` after a visible skip, and fail under `CI` (see `tools::require_tool`;
//! `.ci/run` installs it).

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use super::tools::{self, Tool};

/// The DOM chromium builds from the file (`--dump-dom`); `None` (and a message) when
/// chromium is not installed and the test may skip it.
pub async fn dom(dir: &Path, html: &Path) -> Option<String> {
    let output = run(dir, &["--dump-dom"], &dir.join("unused.png"), html).await?;
    let dom = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        dom.contains("<main>"),
        "chromium printed no DOM: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(dom)
}

/// Runs headless chromium on `html` (60 s at most, its own profile folder, nothing
/// fetched from the network); `--screenshot` in `args` writes `png`. `None` when it
/// is not installed and the test may skip it.
pub async fn run(dir: &Path, args: &[&str], png: &Path, html: &Path) -> Option<Output> {
    if !tools::require_tool(Tool::Chromium) {
        return None;
    }
    let profile = tempfile::tempdir_in(dir).unwrap();
    let mut command = tokio::process::Command::new(Tool::Chromium.command());
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args.iter().map(|a| {
            if *a == "--screenshot" {
                format!("--screenshot={}", png.display())
            } else {
                (*a).to_owned()
            }
        }))
        .arg(format!("file://{}", html.display()))
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("chromium finishes within 60 s")
        .expect("chromium runs");
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(output)
}
