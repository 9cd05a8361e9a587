//! `exec` steps: a partner program judges a step's exchange. Real scripts (written
//! here, `chmod +x`) run by the `spotcheck` binary against the reference receiver on
//! loopback HTTPS; what a user sees (status, message, exit code, time taken) is asserted,
//! and what the program received (stdin, environment) is read back from files it wrote.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use spotcheck::scenario::{self, load_str, schema};

use crate::support::{self, cli};

use cli::Spotcheck;
use support::SECRET;

const HEAD: &str = r#"id = "custom.exec-check"
title = "The partner stored the event"
level = "required"
why = "A 200 is not enough: the event must reach the database."
fix = "Store every verified event."
"#;

/// A temporary folder with scenario files and scripts.
struct Folder {
    dir: tempfile::TempDir,
}

impl Folder {
    fn new() -> Folder {
        Folder {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn script(&self, name: &str, body: &str) {
        let path = self.path(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn scenario(&self, name: &str, steps: &str) -> String {
        let path = self.path(name);
        std::fs::write(&path, format!("{HEAD}{steps}")).unwrap();
        path.display().to_string()
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_default()
    }
}

struct Run {
    output: cli::Run,
    report: serde_json::Value,
    elapsed: Duration,
}

impl Run {
    fn check(&self) -> &serde_json::Value {
        support::check(&self.report, "custom.exec-check").expect("the check is in the report")
    }
    fn status(&self) -> &str {
        self.check()["status"].as_str().unwrap()
    }
    fn message(&self) -> &str {
        self.check()["message"].as_str().unwrap()
    }
    fn stdout(&self) -> String {
        self.output.stdout.clone()
    }
}

/// Runs `spotcheck run` on `scenario` against a reference receiver (signing secret
/// [`SECRET`], also planted in `OTHER_WEBHOOK_KEY`), with `extra` arguments.
async fn run(folder: &Folder, scenario: &str, extra: &[&str]) -> Run {
    let receiver = support::start(Vec::new()).await;
    let report = folder.path("report.json");
    let report_arg = format!("json={}", report.display());
    let url = receiver.running.webhook_url();
    let ca = receiver.ca.display().to_string();
    let mut args = vec![
        "run",
        "--endpoint",
        &url,
        "--ca-cert",
        &ca,
        "--scenarios",
        scenario,
        "--no-builtin",
        "--only",
        "custom.*",
        "--seed",
        "7",
        "--header",
        "X-Api-Key: sekrit-api-key",
        "--report",
        &report_arg,
    ];
    args.extend_from_slice(extra);
    let output = Spotcheck::new(&args)
        .secret(SECRET)
        .env("OTHER_WEBHOOK_KEY", SECRET)
        .no_color()
        .timeout(Duration::from_secs(60))
        .run()
        .await;
    let elapsed = output.elapsed;
    receiver.running.shutdown().await;
    let report = std::fs::read(&report)
        .map(|b| serde_json::from_slice(&b).expect("report is JSON"))
        .unwrap_or(serde_json::Value::Null);
    Run {
        output,
        report,
        elapsed,
    }
}

#[tokio::test]
async fn exit_zero_passes_with_the_first_line_as_the_note() {
    let folder = Folder::new();
    folder.script(
        "check.sh",
        "cat > /dev/null\necho '  row found  '\necho second line",
    );
    let file = folder.scenario(
        "ok.toml",
        "[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nexec = [\"./check.sh\"]\n",
    );
    let run = run(&folder, &file, &["--allow-exec"]).await;
    assert_eq!(run.output.code, Some(0), "{}", run.stdout());
    assert_eq!(run.status(), "pass");
    assert!(
        run.message().ends_with("; check.sh: row found"),
        "{}",
        run.message()
    );
    assert!(!run.message().contains("second line"));
    assert!(run.stdout().contains("check.sh: row found"));
}

#[tokio::test]
async fn non_zero_exit_fails_with_the_program_output() {
    let folder = Folder::new();
    folder.script(
        "check.sh",
        "echo 'row missing'\necho 'psql: noise' >&2\nexit 1",
    );
    let file = folder.scenario(
        "fail.toml",
        "[[step]]\nname = \"first\"\nsend = \"PNR_V3/BOOKING_CREATED\"\nexec = [\"./check.sh\", \"--table\", \"events\"]\n",
    );
    let run = run(&folder, &file, &["--allow-exec"]).await;
    assert_eq!(run.output.code, Some(1));
    assert_eq!(run.status(), "fail");
    assert_eq!(
        run.message(),
        "step 1 (\"first\") (`./check.sh --table events`): exit status 1: row missing"
    );
    assert!(run.stdout().contains("exit status 1: row missing"));
    // The delivery it judged is in the report, as for any failure.
    assert_eq!(run.check()["exchanges"][0]["response"]["status"], 200);
}

#[tokio::test]
async fn silent_failure_shows_the_end_of_stderr() {
    let folder = Folder::new();
    folder.script(
        "check.sh",
        "echo 'psql: error: connection refused' >&2\nexit 2",
    );
    let file = folder.scenario(
        "stderr.toml",
        "[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nexec = [\"./check.sh\"]\n",
    );
    let run = run(&folder, &file, &["--allow-exec"]).await;
    assert_eq!(run.status(), "fail");
    assert!(
        run.message()
            .ends_with("exit status 2 (no output); stderr: psql: error: connection refused"),
        "{}",
        run.message()
    );
}

#[tokio::test]
async fn a_program_past_its_timeout_is_killed_with_its_children() {
    let folder = Folder::new();
    let pid_file = folder.path("sleep.pid");
    folder.script(
        "slow.sh",
        &format!("sleep 30 &\necho $! > '{}'\nwait", pid_file.display()),
    );
    let file = folder.scenario(
        "slow.toml",
        "[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nexec = [\"./slow.sh\"]\nexec_timeout = \"300ms\"\n",
    );
    let run = run(&folder, &file, &["--allow-exec"]).await;
    assert_eq!(run.output.code, Some(1));
    assert_eq!(run.status(), "fail");
    assert_eq!(
        run.message(),
        "step 1 (`./slow.sh`): exec timed out after 300ms"
    );
    assert!(
        run.elapsed < Duration::from_secs(5),
        "took {:?}",
        run.elapsed
    );
    // The script's own child (`sleep 30`) went with it: its process group was killed.
    let pid = folder.read("sleep.pid").trim().to_owned();
    assert!(!pid.is_empty(), "the script started its child");
    let deadline = Instant::now() + Duration::from_secs(3);
    while alive(&pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(&pid), "sleep {pid} still running");
}

/// Whether process `pid` is running (a zombie is not).
fn alive(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

#[tokio::test]
async fn without_allow_exec_the_check_is_skipped_and_nothing_runs() {
    let folder = Folder::new();
    folder.script("check.sh", "touch ran\nexit 1");
    let file = folder.scenario(
        "skip.toml",
        "[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nexec = [\"./check.sh\", \"db\"]\n",
    );
    let run = run(&folder, &file, &[]).await;
    assert_eq!(run.output.code, Some(0), "a skip does not fail the run");
    assert_eq!(run.status(), "skip");
    assert_eq!(
        run.message(),
        "runs a program (`./check.sh db`); pass --allow-exec to allow it"
    );
    assert!(run.check()["exchanges"].as_array().unwrap().is_empty());
    assert!(!folder.path("ran").exists());
    assert!(!Path::new("ran").exists());
}

#[tokio::test]
async fn the_program_gets_the_exchange_on_stdin_and_no_secret() {
    let folder = Folder::new();
    let dir = folder.dir.path().display().to_string();
    folder.script(
        "capture.sh",
        &format!("cat > '{dir}/stdin.json'\nenv > '{dir}/env.txt'\nprintf '%s\\n' \"$@\" > '{dir}/args.txt'"),
    );
    let file = folder.scenario(
        "capture.toml",
        "[vars]\ntable = \"webhook_events\"\n\n[[step]]\nname = \"booking\"\nsend = \"PNR_V3/BOOKING_CREATED\"\n\
         exec = [\"./capture.sh\", \"{{ table }}\", \"{{ steps.booking.webhook_id }}\"]\n",
    );
    let run = run(&folder, &file, &["--allow-exec"]).await;
    assert_eq!(run.status(), "pass", "{}", run.message());
    let stdin = folder.read("stdin.json");
    let input: serde_json::Value =
        serde_json::from_str(&stdin).expect("stdin is one JSON document");
    let sent_id = run.check()["exchanges"][0]["request"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h[0] == "x-spotnana-webhook-id")
        .map(|h| h[1].as_str().unwrap().to_owned())
        .expect("the delivery has a webhook id");
    assert_eq!(input["webhook_id"], sent_id.as_str());
    assert_eq!(input["check_id"], "custom.exec-check");
    assert_eq!(input["step"], "booking");
    assert_eq!(input["step_number"], 1);
    assert_eq!(input["seed"], 7);
    let exchange = &input["exchange"];
    assert_eq!(exchange["request"]["method"], "POST");
    assert_eq!(
        exchange["request"]["headers"]["x-spotnana-webhook-id"],
        sent_id.as_str()
    );
    assert_eq!(exchange["response"]["status"], 200);
    assert!(exchange["latency_ms"].as_f64().unwrap() > 0.0);
    let body: serde_json::Value =
        serde_json::from_str(exchange["request"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["eventType"], "PNR_V3");
    // Templates rendered in the arguments.
    assert_eq!(
        folder.read("args.txt"),
        format!("webhook_events\n{sent_id}\n")
    );
    // Secrets: the signing secret (wherever it was), the credential header.
    let env = folder.read("env.txt");
    let secret_body = SECRET.trim_start_matches("whsec_");
    for (what, text) in [("stdin", &stdin), ("environment", &env)] {
        assert!(!text.contains(secret_body), "the secret is in the {what}");
        assert!(
            !text.contains("sekrit-api-key"),
            "the api key is in the {what}"
        );
    }
    assert!(stdin.contains("***redacted***"));
    assert!(!env.contains("SPOTNANA_WEBHOOK_SECRET"));
    assert!(!env.contains("OTHER_WEBHOOK_KEY"));
    assert!(env.contains("SPOTCHECK_CHECK_ID=custom.exec-check\n"));
    assert!(env.contains(&format!("SPOTCHECK_WEBHOOK_ID={sent_id}\n")));
    assert!(env.contains("SPOTCHECK_STATUS=200\n"));
    assert!(env.contains("SPOTCHECK_STEP=booking\n"));
}

#[tokio::test]
async fn an_exec_step_alone_gets_the_most_recent_exchange_or_null() {
    let folder = Folder::new();
    let dir = folder.dir.path().display().to_string();
    folder.script("capture.sh", &format!("cat > \"{dir}/$1.json\""));
    let file = folder.scenario(
        "alone.toml",
        "[[step]]\nexec = [\"./capture.sh\", \"before\"]\n\n\
         [[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nsignature = \"garbage\"\nexpect = { status = \"4xx\" }\n\n\
         [[step]]\nname = \"after\"\nexec = [\"./capture.sh\", \"after\"]\n",
    );
    let run = run(&folder, &file, &["--allow-exec"]).await;
    assert_eq!(run.status(), "pass", "{}", run.message());
    let before: serde_json::Value = serde_json::from_str(&folder.read("before.json")).unwrap();
    assert_eq!(before["exchange"], serde_json::Value::Null);
    assert_eq!(before["webhook_id"], serde_json::Value::Null);
    assert_eq!(before["step"], serde_json::Value::Null);
    let after: serde_json::Value = serde_json::from_str(&folder.read("after.json")).unwrap();
    assert_eq!(after["step"], "after");
    assert_eq!(after["step_number"], 3);
    assert_eq!(after["exchange"]["response"]["status"], 401);
}

#[tokio::test]
async fn a_flood_of_output_is_capped_and_never_hangs() {
    let folder = Folder::new();
    folder.script(
        "flood.sh",
        "head -c 100000000 /dev/zero | tr '\\0' x\nexit 3",
    );
    let file = folder.scenario(
        "flood.toml",
        "[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nexec = [\"./flood.sh\"]\nexec_timeout = \"20s\"\n",
    );
    let run = run(&folder, &file, &["--allow-exec"]).await;
    assert_eq!(run.status(), "fail");
    let message = run.message();
    assert!(
        message.contains("exit status 3: xxxx"),
        "{}",
        &message[..80.min(message.len())]
    );
    assert!(message.ends_with("x…"));
    assert!(message.len() < 4096 + 100, "{} bytes", message.len());
}

#[tokio::test]
async fn a_missing_or_non_executable_program_fails_the_check_clearly() {
    let folder = Folder::new();
    std::fs::write(folder.path("plain.sh"), "#!/bin/sh\nexit 0\n").unwrap();
    let file = folder.scenario(
        "missing.toml",
        "[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nexec = [\"./nope.sh\"]\n",
    );
    let run1 = run(&folder, &file, &["--allow-exec"]).await;
    assert_eq!(run1.status(), "fail");
    let expected = format!(
        "step 1 (`./nope.sh`): cannot run the program: `{}` does not exist",
        folder.path("nope.sh").display()
    );
    assert_eq!(run1.message(), expected);
    let file = folder.scenario(
        "plain.toml",
        "[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nexec = [\"./plain.sh\"]\n",
    );
    let run2 = run(&folder, &file, &["--allow-exec"]).await;
    assert_eq!(run2.status(), "fail");
    assert!(
        run2.message().ends_with("is not executable (chmod +x it)"),
        "{}",
        run2.message()
    );
    let file = folder.scenario(
        "path.toml",
        "[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nexec = [\"no-such-program-spotcheck\"]\n",
    );
    let run3 = run(&folder, &file, &["--allow-exec"]).await;
    assert_eq!(run3.status(), "fail");
    assert!(
        run3.message()
            .ends_with("`no-such-program-spotcheck` is not on PATH")
    );
}

#[tokio::test]
async fn a_program_on_path_runs_with_arguments() {
    let folder = Folder::new();
    let file = folder.scenario(
        "path.toml",
        "[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nexec = [\"sh\", \"-c\", \"echo \\\"status $SPOTCHECK_STATUS\\\"\"]\n",
    );
    let run = run(&folder, &file, &["--allow-exec"]).await;
    assert_eq!(run.status(), "pass", "{}", run.message());
    assert!(
        run.message().ends_with("; sh: status 200"),
        "{}",
        run.message()
    );
}

/// Loads `text` as `case.toml`, expecting failure; returns the rendered errors (no colour).
fn errors(text: &str) -> String {
    match load_str("case.toml", text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(err) => err.render(false),
    }
}

fn snapshot(name: &str, text: &str) {
    let rendered = errors(text);
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!(name, rendered);
    });
}

#[test]
fn exec_as_a_string_asks_for_a_list() {
    snapshot(
        "exec_string",
        &format!(
            "{HEAD}\n[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nexec = \"./check-db.sh events\"\n"
        ),
    );
}

#[test]
fn exec_empty_asks_for_a_program() {
    snapshot("exec_empty", &format!("{HEAD}\n[[step]]\nexec = []\n"));
}

#[test]
fn exec_timeout_must_be_a_duration() {
    snapshot(
        "exec_timeout_bad",
        &format!(
            "{HEAD}\n[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nexec = [\"./check.sh\"]\nexec_timeout = \"soon\"\n"
        ),
    );
}

#[test]
fn misplaced_exec_keys_are_refused() {
    let cases = [
        (
            "[[step]]\nsleep = \"1s\"\nexec = [\"./x\"]\n",
            "`exec` does not apply to a `sleep` step",
        ),
        (
            "[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nexec_timeout = \"2s\"\n",
            "`exec_timeout` without `exec`",
        ),
        (
            "[[step]]\nexec = [\"./x\"]\nrepeat = 2\n",
            "`repeat` does not apply to an `exec` step",
        ),
        (
            "[[step]]\nexec = [\"./x\"]\nexpect = { status = 200 }\n",
            "an `exec` step has nothing to expect",
        ),
        (
            "[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nexec = [\"./x\"]\nexec_timeout = \"1h\"\n",
            "`exec_timeout` of 1h is over the limit",
        ),
        (
            "[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nexec = [\"{{ program }}\"]\n",
            "the program of `exec` cannot be a template",
        ),
        (
            "[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nexec = [\"./x\", \"{{ steps.later.webhook_id }}\"]\n[[step]]\nname = \"later\"\nsend = \"PNR_V3/BOOKING_CREATED\"\n",
            "step `later` runs later (step 2)",
        ),
    ];
    for (steps, message) in cases {
        let text = format!("{HEAD}{steps}");
        let rendered = errors(&text);
        assert!(rendered.contains(message), "{steps}\n{rendered}");
        assert!(rendered.contains("case.toml:"), "{rendered}");
    }
}

#[test]
fn a_relative_program_resolves_against_the_scenario_file() {
    let folder = Folder::new();
    let file = folder.scenario(
        "rel.toml",
        "[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nexec = [\"bin/check.sh\", \"x\"]\n\n\
         [[step]]\nexec = [\"psql\"]\nexec_timeout = \"2s\"\n",
    );
    let loaded = scenario::load_path(&file).unwrap();
    let programs: Vec<_> = loaded[0].exec_steps().collect();
    assert_eq!(programs[0].program, folder.path("bin/check.sh"));
    assert_eq!(programs[0].display, "bin/check.sh x");
    assert_eq!(programs[0].timeout, Duration::from_secs(10));
    assert_eq!(programs[1].program, Path::new("psql"));
    assert_eq!(programs[1].timeout, Duration::from_secs(2));
    assert!(loaded[0].runs_programs());
}

fn toml_to_json(text: &str) -> serde_json::Value {
    let value: toml::Value = toml::from_str(text).expect("valid TOML");
    serde_json::to_value(value).unwrap()
}

#[test]
fn the_schema_knows_exec() {
    let validator = jsonschema::validator_for(&schema::schema()).unwrap();
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/exec/processed.toml"
    ))
    .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&toml_to_json(&example))
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    for bad in [
        "exec = \"./x.sh\"",
        "exec = []",
        "exec = [\"./x\"]\nexec_timeout = \"soon\"",
    ] {
        let text = format!("{HEAD}[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\n{bad}\n");
        assert!(
            !validator.is_valid(&toml_to_json(&text)),
            "schema accepts {bad}"
        );
        assert!(load_str("bad.toml", &text).is_err(), "loader accepts {bad}");
    }
}

#[test]
fn the_database_example_passes_scenarios_check_and_says_it_runs_programs() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/exec/processed.toml");
    let output = Spotcheck::new(["scenarios", "check", example])
        .no_color()
        .run_blocking();
    let stdout = &output.stdout;
    assert_eq!(output.code, Some(0), "{stdout}{}", output.stderr);
    assert!(stdout.starts_with("ok: 1 check in 1 file\n"), "{stdout}");
    assert!(
        stdout.contains("runs programs: custom.event-stored ("),
        "{stdout}"
    );
    assert!(stdout.contains("`./check-db.sh`"), "{stdout}");
    assert!(
        stdout.contains("unless `spotcheck run` gets --allow-exec"),
        "{stdout}"
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/exec/check-db.sh");
    let mode = std::fs::metadata(&script).unwrap().permissions().mode();
    assert!(mode & 0o111 != 0, "check-db.sh is executable");
}
