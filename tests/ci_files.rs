//! The GitHub Action (`action.yml`) and the GitLab component (`templates/spotcheck.yml`)
//! as far as they can run here: their inputs and outputs, and their shell steps run for
//! real against a fake release (an archive of the test binary with its SHA-256, served
//! by stand-ins for `gh` and `wget`) and the reference receiver. Hosted runners and
//! GitLab itself cannot run here; actionlint checks the rest in `.ci/run`.

use crate::support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use yaml_rust2::{Yaml, YamlLoader};

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

fn keys(yaml: &Yaml) -> Vec<String> {
    yaml.as_hash()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect()
}

/// The release target of this machine, as the action and the component name it.
fn linux_target() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "aarch64-unknown-linux-musl",
        _ => "x86_64-unknown-linux-musl",
    }
}

/// A release directory as the release workflow leaves it for this machine's target:
/// `spotcheck-TARGET.tar.gz` (a `spotcheck` that runs the test binary) and
/// `spotcheck-TARGET.sha256` (sha256sum's output, as taiki-e/upload-rust-binary-action
/// writes it).
fn fake_release(dir: &Path) -> PathBuf {
    let release = dir.join("release");
    let stage = dir.join("stage");
    std::fs::create_dir_all(&release).unwrap();
    std::fs::create_dir_all(&stage).unwrap();
    // The archived `spotcheck` hands over to the test binary: packing the 200 MB debug
    // build would take most of a minute and prove nothing more.
    script(
        &stage.join("spotcheck"),
        &format!(
            "#!/bin/sh\nexec '{}' \"$@\"\n",
            env!("CARGO_BIN_EXE_spotcheck")
        ),
    );
    let archive = format!("spotcheck-{}.tar.gz", linux_target());
    let tar = Command::new("tar")
        .arg("-czf")
        .arg(release.join(&archive))
        .arg("-C")
        .arg(&stage)
        .arg("spotcheck")
        .status()
        .unwrap();
    assert!(tar.success());
    let sum = Command::new("sha256sum")
        .arg(&archive)
        .current_dir(&release)
        .output()
        .unwrap();
    assert!(sum.status.success());
    let sums = format!("spotcheck-{}.sha256", linux_target());
    std::fs::write(release.join(sums), sum.stdout).unwrap();
    release
}

/// A fake release in `dir` and a folder holding the stand-in `name` (a shell script that
/// serves from `$FAKE_RELEASE` and logs to `$FAKE_LOG`): `(release, fakes)`.
fn stand_in(dir: &Path, name: &str, body: &str) -> (PathBuf, PathBuf) {
    let release = fake_release(dir);
    let fakes = dir.join("fakes");
    std::fs::create_dir_all(&fakes).unwrap();
    script(&fakes.join(name), body);
    (release, fakes)
}

/// `PATH` with the stand-ins in `fakes` first.
fn path_with(fakes: &Path) -> String {
    format!(
        "{}:{}",
        fakes.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Writes an executable shell script.
fn script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn run_shell<K: AsRef<std::ffi::OsStr>>(shell: &str, body: &str, env: &[(K, String)]) -> Output {
    let mut command = Command::new(shell);
    command
        .arg("-c")
        .arg(body)
        .env_remove("SPOTNANA_WEBHOOK_SECRET");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "status {:?}\n{}{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `NAME=value` lines of a `$GITHUB_OUTPUT`-style file.
fn outputs(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn the_action_takes_the_documented_inputs_and_never_a_secret() {
    let action = &YamlLoader::load_from_str(&repo_file("action.yml")).unwrap()[0];
    assert_eq!(
        keys(&action["inputs"]),
        ["endpoint", "version", "args", "reports", "repository"]
    );
    assert_eq!(
        keys(&action["outputs"]),
        ["junit", "markdown", "json", "exit-code"]
    );
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    let text = repo_file("action.yml");
    assert!(!text.contains("inputs.secret") && !text.contains("SPOTNANA_WEBHOOK_SECRET:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_action_installs_the_release_checks_its_sum_and_runs() {
    if !cfg!(target_os = "linux") {
        eprintln!("SKIPPED: the action's steps are run on Linux here");
        return;
    }
    let action = &YamlLoader::load_from_str(&repo_file("action.yml")).unwrap()[0];
    let steps = action["runs"]["steps"].as_vec().unwrap();
    let install = steps[0]["run"].as_str().unwrap();
    let run = steps[1]["run"].as_str().unwrap();

    let dir = tempfile::tempdir().unwrap();
    // `gh release download [TAG] --repo R --clobber --pattern A --pattern B`, from `release`.
    let (release, fakes) = stand_in(
        dir.path(),
        "gh",
        "#!/bin/sh\necho \"$*\" >> \"$FAKE_LOG\"\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = --pattern ]; then shift; cp \"$FAKE_RELEASE/$1\" .; fi\n  shift\ndone\n",
    );
    let runner_temp = dir.path().join("runner-temp");
    std::fs::create_dir_all(&runner_temp).unwrap();
    let github_path = dir.path().join("github-path");
    let log = dir.path().join("gh.log");
    let path = path_with(&fakes);
    let arch = if std::env::consts::ARCH == "aarch64" {
        "ARM64"
    } else {
        "X64"
    };
    let install_env = |version: &str| {
        vec![
            ("PATH", path.clone()),
            ("FAKE_RELEASE", release.display().to_string()),
            ("FAKE_LOG", log.display().to_string()),
            ("VERSION", version.to_owned()),
            ("REPOSITORY", String::new()),
            ("GH_TOKEN", "test-token".to_owned()),
            ("RUNNER_OS", "Linux".to_owned()),
            ("RUNNER_ARCH", arch.to_owned()),
            ("RUNNER_TEMP", runner_temp.display().to_string()),
            ("GITHUB_PATH", github_path.display().to_string()),
            (
                "GITHUB_ACTION_PATH",
                "/home/runner/work/_actions/partner-tools/spotcheck/v1".to_owned(),
            ),
        ]
    };
    let installed = run_shell("bash", install, &install_env("v9.9.9"));
    assert!(installed.status.success(), "{}", text(&installed));
    // The repository comes from where the action was used; the tag is passed through.
    let asked = std::fs::read_to_string(&log).unwrap();
    assert!(
        asked.starts_with("release download v9.9.9 --repo partner-tools/spotcheck "),
        "{asked}"
    );
    let bin = std::fs::read_to_string(&github_path).unwrap();
    let bin = PathBuf::from(bin.trim());
    assert!(bin.join("spotcheck").is_file(), "{}", bin.display());
    assert!(String::from_utf8_lossy(&installed.stdout).contains("spotcheck 0."));

    // A tampered archive fails the checksum: nothing is installed from it.
    let archive = release.join(format!("spotcheck-{}.tar.gz", linux_target()));
    let mut bytes = std::fs::read(&archive).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&archive, bytes).unwrap();
    let tampered = run_shell("bash", install, &install_env("latest"));
    assert!(!tampered.status.success(), "{}", text(&tampered));
    assert!(text(&tampered).contains("FAILED"), "{}", text(&tampered));

    // The run step against the reference receiver: reports where the outputs say, and
    // the exit code passed on.
    let receiver = support::start(Vec::new()).await;
    let reports = dir.path().join("reports");
    let github_output = dir.path().join("github-output");
    let run_env = vec![
        ("PATH", format!("{}:{path}", bin.display())),
        ("ENDPOINT", receiver.running.webhook_url()),
        (
            "ARGS",
            format!(
                "--ca-cert '{}' --only \"signature.*\" --quiet",
                receiver.ca.display()
            ),
        ),
        ("REPORTS", reports.display().to_string()),
        ("GITHUB_OUTPUT", github_output.display().to_string()),
        ("SPOTNANA_WEBHOOK_SECRET", support::SECRET.to_owned()),
    ];
    let ran = tokio::task::spawn_blocking({
        let run = run.to_owned();
        move || run_shell("bash", &run, &run_env)
    })
    .await
    .unwrap();
    assert!(ran.status.success(), "{}", text(&ran));
    let out = outputs(&github_output);
    assert_eq!(out["exit-code"], "0", "{out:?}");
    for name in ["junit", "markdown", "json"] {
        let path = Path::new(&out[name]);
        assert!(
            std::fs::metadata(path).is_ok_and(|m| m.len() > 0),
            "{name}: {}",
            path.display()
        );
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out["json"]).unwrap()).unwrap();
    assert!(
        json["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["id"].as_str().unwrap().starts_with("signature.")),
        "the quoted glob of `args` reached spotcheck as one argument"
    );
}

/// The GitLab component with its inputs put in, as GitLab does before running it.
fn gitlab_job(inputs: &[(&str, &str)]) -> Yaml {
    let mut text = repo_file("templates/spotcheck.yml");
    for (name, value) in inputs {
        text = text.replace(&format!("$[[ inputs.{name} ]]"), value);
    }
    let docs = YamlLoader::load_from_str(&text).unwrap();
    docs[1]["spotcheck"].clone()
}

#[test]
fn the_gitlab_component_declares_its_inputs_and_the_junit_report() {
    let text = repo_file("templates/spotcheck.yml");
    let docs = YamlLoader::load_from_str(&text).unwrap();
    let inputs = keys(&docs[0]["spec"]["inputs"]);
    for name in ["endpoint", "version", "args", "reports", "repository"] {
        assert!(inputs.iter().any(|i| i == name), "{name} in {inputs:?}");
    }
    assert!(!inputs.iter().any(|i| i.contains("secret")), "{inputs:?}");
    let job = &docs[1]["$[[ inputs.job ]]"];
    assert_eq!(
        job["artifacts"]["reports"]["junit"].as_str(),
        Some("$[[ inputs.reports ]]/spotcheck.xml")
    );
    assert_eq!(job["artifacts"]["when"].as_str(), Some("always"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gitlab_component_installs_the_release_and_runs() {
    if !cfg!(target_os = "linux") {
        eprintln!("SKIPPED: the component's script is run on Linux here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // `wget -q URL`: the file named by the URL, from `release`.
    let (release, fakes) = stand_in(
        dir.path(),
        "wget",
        "#!/bin/sh\nfor url; do case \"$url\" in -*) ;; *) echo \"$url\" >> \"$FAKE_LOG\"; cp \"$FAKE_RELEASE/${url##*/}\" . ;; esac; done\n",
    );
    let receiver = support::start(Vec::new()).await;
    let reports = dir.path().join("reports");
    let args = format!(
        "--ca-cert '{}' --only \"signature.*\" --quiet",
        receiver.ca.display()
    );
    let reports_text = reports.display().to_string();
    let endpoint = receiver.running.webhook_url();
    let job = gitlab_job(&[
        ("job", "spotcheck"),
        ("endpoint", &endpoint),
        ("version", "v9.9.9"),
        ("repository", "partner-tools/spotcheck"),
        ("reports", &reports_text),
        ("args", &args),
    ]);
    // GitLab runs the script items in one shell, with the job's variables set.
    let body: Vec<&str> = job["script"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|item| item.as_str().unwrap())
        .collect();
    let body = body.join("\n");
    let mut env: Vec<(String, String)> = job["variables"]
        .as_hash()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_owned(),
                v.as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let log = dir.path().join("wget.log");
    env.extend(
        [
            ("PATH", path_with(&fakes)),
            ("FAKE_RELEASE", release.display().to_string()),
            ("FAKE_LOG", log.display().to_string()),
            ("SPOTNANA_WEBHOOK_SECRET", support::SECRET.to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let ran = tokio::task::spawn_blocking(move || run_shell("sh", &body, &env))
        .await
        .unwrap();
    assert!(ran.status.success(), "{}", text(&ran));
    let asked = std::fs::read_to_string(&log).unwrap();
    assert!(
        asked.starts_with(&format!(
            "https://github.com/partner-tools/spotcheck/releases/download/v9.9.9/spotcheck-{}.tar.gz\n",
            linux_target()
        )),
        "{asked}"
    );
    let junit = job["artifacts"]["reports"]["junit"].as_str().unwrap();
    assert!(
        std::fs::read_to_string(junit).is_ok_and(|x| x.contains("<testsuites")),
        "{junit}"
    );
    assert!(reports.join("spotcheck.md").is_file());
}

/// The action's run step as a reviewer meets it: against a receiver with a flaw (it
/// accepts a missing signature, and does not refuse future timestamps), the Markdown
/// sign-off report lands in `$GITHUB_STEP_SUMMARY` and each failed or warned check is
/// one annotation on stdout; a credential given in `args` appears in neither.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_action_writes_the_summary_and_one_annotation_per_finding() {
    if !cfg!(target_os = "linux") {
        eprintln!("SKIPPED: the action's steps are run on Linux here");
        return;
    }
    let action = &YamlLoader::load_from_str(&repo_file("action.yml")).unwrap()[0];
    let run = action["runs"]["steps"][1]["run"]
        .as_str()
        .unwrap()
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_spotcheck"), bin.join("spotcheck")).unwrap();
    let receiver = support::start(vec![
        spotcheck::receiver::Flaw::AcceptMissingSignature,
        spotcheck::receiver::Flaw::NoFutureTimestampCheck,
    ])
    .await;
    let reports = dir.path().join("reports");
    let summary = dir.path().join("step-summary.md");
    // The runner creates the summary file empty; a step appends to it.
    std::fs::write(&summary, "").unwrap();
    let credential = "sk_live_annotation_credential_4711";
    let run_env = vec![
        (
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        ),
        ("ENDPOINT", receiver.running.webhook_url()),
        (
            "ARGS",
            format!(
                "--ca-cert '{}' --only \"signature.*\" --quiet --header 'X-Partner-Key: {credential}'",
                receiver.ca.display()
            ),
        ),
        ("REPORTS", reports.display().to_string()),
        (
            "GITHUB_OUTPUT",
            dir.path().join("github-output").display().to_string(),
        ),
        ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
        ("SPOTNANA_WEBHOOK_SECRET", support::SECRET.to_owned()),
    ];
    let ran = tokio::task::spawn_blocking(move || run_shell("bash", &run, &run_env))
        .await
        .unwrap();
    // A required check failed: the step fails with spotcheck's exit code.
    assert_eq!(ran.status.code(), Some(1), "{}", text(&ran));
    let stdout = String::from_utf8_lossy(&ran.stdout).into_owned();

    // The summary is the Markdown sign-off report, byte for byte.
    let markdown = std::fs::read_to_string(reports.join("spotcheck.md")).unwrap();
    let written = std::fs::read_to_string(&summary).unwrap();
    assert!(!markdown.is_empty());
    assert_eq!(written, markdown);
    assert!(written.contains("signature.missing-rejected"), "{written}");

    // One annotation per failed or warned check, in the report's order.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reports.join("spotcheck.json")).unwrap()).unwrap();
    let expected: Vec<String> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| {
            let level = match c["status"].as_str().unwrap() {
                "fail" | "error" => "error",
                "warn" => "warning",
                _ => return None,
            };
            Some(format!("::{level} title={}::", c["id"].as_str().unwrap()))
        })
        .collect();
    let annotations: Vec<&str> = stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(annotations.len(), expected.len(), "{stdout}");
    for (line, start) in annotations.iter().zip(&expected) {
        assert!(line.starts_with(start.as_str()), "{line} / {start}");
        assert!(line.len() > start.len(), "an empty finding: {line}");
    }
    assert!(
        expected.contains(&"::error title=signature.missing-rejected::".to_owned()),
        "{expected:?}"
    );
    assert!(
        expected.contains(&"::warning title=signature.future-timestamp-rejected::".to_owned()),
        "{expected:?}"
    );

    let key = support::SECRET.strip_prefix("whsec_").unwrap();
    for (name, output) in [("summary", &written), ("stdout", &stdout)] {
        assert!(!output.contains(credential), "{name} shows the credential");
        assert!(!output.contains(key), "{name} shows the secret");
    }
    assert!(
        markdown.contains("X-Partner-Key"),
        "the header is in the report (its value masked)"
    );
}

#[test]
fn the_gitlab_component_exposes_the_markdown_report_in_merge_requests() {
    let job = gitlab_job(&[("job", "spotcheck"), ("reports", "spotcheck-reports")]);
    let artifacts = &job["artifacts"];
    assert_eq!(
        artifacts["expose_as"].as_str(),
        Some("spotcheck sign-off report")
    );
    let paths: Vec<&str> = artifacts["paths"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    // GitLab refuses globs with `expose_as`; a folder must end with `/`.
    assert_eq!(
        paths,
        ["spotcheck-reports/spotcheck.md", "spotcheck-reports/"]
    );
    assert!(paths.iter().all(|p| !p.contains('*')));
}
