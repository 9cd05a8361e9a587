//! The subscription as Spotnana configures it (event types with their operations,
//! organizations) from `--events`/`--org-id` and from the project file
//! `spotcheck.toml`: a run sends nothing outside it, counted at the reference
//! receiver's event log over loopback; a bad project file is an exit-2 error at
//! `file:line:column`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use spotcheck::receiver::{ReceiverConfig, RunningReceiver, TlsSetup};

use crate::support::{self, cli::Spotcheck};

/// A reference receiver logging every verified event to `dir/events.jsonl`.
async fn logging_receiver(dir: &Path) -> (RunningReceiver, PathBuf, PathBuf) {
    let log = dir.join("events.jsonl");
    let config = ReceiverConfig {
        state: true,
        log_path: Some(log.clone()),
        ..support::config()
    };
    let running = support::start_with(config, TlsSetup::Generated).await;
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, running.ca_pem.clone().unwrap()).unwrap();
    (running, log, ca)
}

/// `(eventType/operation, organizationId)` of every event the receiver logged.
fn logged(log: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|line| {
            let record: serde_json::Value = serde_json::from_str(line).unwrap();
            let text = |key: &str| record[key].as_str().unwrap_or("-").to_owned();
            (
                format!("{}/{}", text("eventType"), text("operation")),
                text("organizationId"),
            )
        })
        .collect()
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("report written")).expect("JSON")
}

fn run_in(dir: &Path, args: &[&str]) -> Spotcheck {
    Spotcheck::new(args)
        .secret(support::SECRET)
        .no_color()
        .current_dir(dir)
        .timeout(Duration::from_secs(90))
}

#[tokio::test]
async fn events_with_operations_send_only_those_operations() {
    let dir = tempfile::tempdir().unwrap();
    let (running, log, ca) = logging_receiver(dir.path()).await;
    let report = dir.path().join("r.json");
    let output = run_in(
        dir.path(),
        &[
            "run",
            "--endpoint",
            &running.webhook_url(),
            "--ca-cert",
            ca.to_str().unwrap(),
            "--seed",
            "5",
            "--no-project",
            "--events",
            "PNR_V3:BOOKING_CREATED+BOOKING_TICKETED",
            "--report",
            &format!("json={}", report.display()),
        ],
    )
    .run()
    .await;
    running.shutdown().await;
    assert_eq!(output.code, Some(0), "{}", output.all());
    let sent: Vec<String> = logged(&log).into_iter().map(|(kind, _)| kind).collect();
    let kinds: BTreeSet<&str> = sent.iter().map(String::as_str).collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            "PNR_V3/BOOKING_CREATED",
            "PNR_V3/BOOKING_TICKETED",
            "PNR_V3/BOOKING_TELEPORTED"
        ]),
        "the receiver got only the subscribed operations, and the one unknown operation"
    );
    let unknown = sent
        .iter()
        .filter(|kind| *kind == "PNR_V3/BOOKING_TELEPORTED")
        .count();
    assert_eq!(
        unknown, 1,
        "the unknown-operation check sends its one unknown operation"
    );
    let json = read_json(&report);
    assert_eq!(
        json["subscription"]["events"],
        serde_json::json!([{
            "type": "PNR_V3",
            "every_operation": false,
            "operations": ["BOOKING_CREATED", "BOOKING_TICKETED"]
        }])
    );
    support::schema::assert_schema_valid(&json);
    // Exactly the subscription: the control, then one event of each subscribed operation.
    let every = support::expect_check(&json, "delivery.every-subscribed-event");
    assert_eq!(every["status"], "pass", "{every}");
    assert_eq!(every["exchanges"].as_array().unwrap().len(), 1 + 2);
    // A check written with another operation of the type sends a subscribed one
    // instead, and says so.
    assert_eq!(support::status_of(&json, "delivery.fast-ack"), "pass");
    let fast_ack = support::message_of(&json, "delivery.fast-ack");
    assert!(
        fast_ack.contains(
            "(within the subscription: PNR_V3/BOOKING_CREATED sent for PNR_V3/BOOKING_UPDATED)"
        ),
        "{fast_ack}"
    );
}

#[tokio::test]
async fn a_check_judging_what_was_processed_is_skipped_outside_the_subscription() {
    let dir = tempfile::tempdir().unwrap();
    let (running, log, ca) = logging_receiver(dir.path()).await;
    let report = dir.path().join("r.json");
    let output = run_in(
        dir.path(),
        &[
            "run",
            "--endpoint",
            &running.webhook_url(),
            "--ca-cert",
            ca.to_str().unwrap(),
            "--state-url",
            &running.state_url(),
            "--no-project",
            "--events",
            "TRAVELER_V2",
            "--only",
            "ordering.newest-timestamp-wins",
            "--report",
            &format!("json={}", report.display()),
        ],
    )
    .run()
    .await;
    running.shutdown().await;
    assert_eq!(output.code, Some(0), "{}", output.all());
    let json = read_json(&report);
    assert_eq!(
        support::status_of(&json, "ordering.newest-timestamp-wins"),
        "skip"
    );
    let message = support::message_of(&json, "ordering.newest-timestamp-wins");
    assert!(
        message.contains("outside the subscription (TRAVELER_V2)")
            && message.contains("judges what the endpoint processed"),
        "{message}"
    );
    assert!(logged(&log).is_empty(), "nothing was sent");
}

#[tokio::test]
async fn repeated_org_ids_are_the_only_organizations_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (running, log, ca) = logging_receiver(dir.path()).await;
    let report = dir.path().join("r.json");
    let output = run_in(
        dir.path(),
        &[
            "run",
            "--endpoint",
            &running.webhook_url(),
            "--ca-cert",
            ca.to_str().unwrap(),
            "--seed",
            "6",
            "--no-project",
            "--org-id",
            "org-alpha",
            "--org-id",
            "org-beta",
            "--report",
            &format!("json={}", report.display()),
        ],
    )
    .run()
    .await;
    running.shutdown().await;
    assert_eq!(output.code, Some(0), "{}", output.all());
    let orgs: BTreeSet<String> = logged(&log).into_iter().map(|(_, org)| org).collect();
    assert_eq!(
        orgs,
        BTreeSet::from(["org-alpha".to_owned(), "org-beta".to_owned()]),
        "every delivery carried one of the subscribed organizations"
    );
    let json = read_json(&report);
    assert_eq!(
        json["subscription"]["organizations"],
        serde_json::json!(["org-alpha", "org-beta"])
    );
    assert_eq!(
        support::status_of(&json, "ordering.interleaved-organizations"),
        "pass"
    );
}

#[tokio::test]
async fn unknown_types_and_operations_are_exit_2_naming_the_catalogue() {
    for (events, expected) in [
        (
            "PNR_V3:BOOKING_TICKETTED",
            "unknown operation `BOOKING_TICKETTED` for PNR_V3",
        ),
        ("PNR_V4:BOOKING_CREATED", "unknown event type `PNR_V4`"),
        ("TRAVELER_V2:", "an empty operation for TRAVELER_V2"),
    ] {
        let output = support::spotcheck(&["run", "--no-project", "--events", events]).await;
        assert_eq!(output.code, Some(2), "{events}: {}", output.stderr);
        assert!(output.stderr.contains(expected), "{}", output.stderr);
        assert!(
            output.stderr.contains("TYPE:OPERATION+OPERATION"),
            "{}",
            output.stderr
        );
    }
}

#[tokio::test]
async fn the_project_file_is_found_from_a_subfolder_and_flags_override_it() {
    let dir = tempfile::tempdir().unwrap();
    let (running, log, _) = logging_receiver(dir.path()).await;
    let sub = dir.path().join("services/hooks");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    // Paths relative to the file's folder; the secret by name only.
    std::fs::write(
        dir.path().join("spotcheck.toml"),
        format!(
            "endpoint = \"{}\"\nca_cert = \"ca.pem\"\nsecret_env = \"PROJECT_SECRET\"\ntimeout = \"20s\"\n\
             [subscription]\norganizations = [\"org-project\"]\n\
             [subscription.events]\nPNR_V3 = [\"BOOKING_CREATED\"]\n\
             [headers]\n\"API-Version\" = \"2.0\"\n\
             [reports]\njson = \"out/report.json\"\n",
            running.webhook_url()
        ),
    )
    .unwrap();
    let output = Spotcheck::new(["run", "--seed", "7", "--only", "delivery.*"])
        .env("PROJECT_SECRET", support::SECRET)
        .env_remove("SPOTNANA_WEBHOOK_SECRET")
        .no_color()
        .current_dir(&sub)
        .timeout(Duration::from_secs(90))
        .run()
        .await;
    assert_eq!(output.code, Some(0), "{}", output.all());
    assert!(
        output.stderr.contains("project file: "),
        "{}",
        output.stderr
    );
    let json = read_json(&dir.path().join("out/report.json"));
    assert_eq!(json["endpoint"], running.webhook_url());
    assert_eq!(
        json["subscription"],
        serde_json::json!({
            "events": [{ "type": "PNR_V3", "every_operation": false, "operations": ["BOOKING_CREATED"] }],
            "organizations": ["org-project"]
        })
    );
    let sent = logged(&log);
    assert!(!sent.is_empty());
    // Every event is the subscribed operation (or delivery.unknown-operation-tolerated's
    // one unknown operation), for the file's organization.
    assert!(
        sent.iter().all(|(kind, org)| {
            ["PNR_V3/BOOKING_CREATED", "PNR_V3/BOOKING_TELEPORTED"].contains(&kind.as_str())
                && org == "org-project"
        }),
        "{sent:?}"
    );

    // Flags win: another subscription and another report path.
    let flag_report = dir.path().join("flag.json");
    let output = Spotcheck::new([
        "run",
        "--seed",
        "7",
        "--only",
        "delivery.status-200",
        "--events",
        "TRAVELER_V2",
        "--org-id",
        "org-flag",
        "--report",
        &format!("json={}", flag_report.display()),
    ])
    .env("PROJECT_SECRET", support::SECRET)
    .env_remove("SPOTNANA_WEBHOOK_SECRET")
    .no_color()
    .current_dir(&sub)
    .timeout(Duration::from_secs(90))
    .run()
    .await;
    running.shutdown().await;
    assert_eq!(output.code, Some(0), "{}", output.all());
    let json = read_json(&flag_report);
    assert_eq!(json["subscription"]["events"][0]["type"], "TRAVELER_V2");
    assert_eq!(
        json["subscription"]["organizations"],
        serde_json::json!(["org-flag"])
    );
    // delivery.status-200 is written with PNR_V3/BOOKING_CREATED, outside the flags'
    // subscription: a subscribed event stands in.
    assert_eq!(support::status_of(&json, "delivery.status-200"), "pass");
    assert!(
        support::message_of(&json, "delivery.status-200")
            .contains("TRAVELER_V2/CREATE sent for PNR_V3/BOOKING_CREATED"),
        "{json}"
    );
}

const BAD_PROJECT: &str = "endpoint = \"https://partner.example/hooks\"\n\
timeout = \"soon\"\n\
secret_env = \"whsec_c2VjcmV0LXZhbHVlLWhlcmU=\"\n\
\n\
[subscription.events]\n\
PNR_V3 = [\"BOOKING_CREATED\", \"BOOKING_TICKETTED\"]\n\
TRAVELR_V2 = \"all\"\n\
\n\
[reports]\n\
xml = \"out.xml\"\n";

#[tokio::test]
async fn a_bad_project_file_is_exit_2_at_file_line_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spotcheck.toml"), BAD_PROJECT).unwrap();
    let check = run_in(dir.path(), &["scenarios", "check", "spotcheck.toml"])
        .run()
        .await;
    assert_eq!(check.code, Some(2), "{}", check.all());
    let rendered = check.stderr.clone();
    assert!(
        !rendered.contains("c2VjcmV0"),
        "the secret is never shown: {rendered}"
    );
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("subscription__bad_project_file", rendered);
    });
    // `run` refuses the same file with the same errors, before anything is sent.
    let run = run_in(dir.path(), &["run", "--project", "spotcheck.toml"])
        .run()
        .await;
    assert_eq!(run.code, Some(2), "{}", run.all());
    assert!(
        run.stderr.contains("spotcheck.toml:6:30") && run.stderr.contains("BOOKING_TICKETTED"),
        "{}",
        run.stderr
    );
}

#[test]
fn committed_project_schema_is_the_generated_one_and_takes_the_example() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/project.schema.json"
    ))
    .expect("docs/project.schema.json is committed");
    assert_eq!(
        spotcheck::project::render_schema(),
        committed,
        "regenerate with: cargo run -- scenarios schema --project > docs/project.schema.json"
    );
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/spotcheck.example.toml"
    ))
    .expect("docs/spotcheck.example.toml");
    let validator = jsonschema::validator_for(&spotcheck::project::schema()).unwrap();
    let value: toml::Value = toml::from_str(&example).unwrap();
    let instance = serde_json::to_value(value).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    spotcheck::project::parse("spotcheck.example.toml", &example, Path::new("."))
        .unwrap_or_else(|err| panic!("{err}"));
    let bad: toml::Value = toml::from_str(BAD_PROJECT).unwrap();
    assert!(!validator.is_valid(&serde_json::to_value(bad).unwrap()));
}

#[tokio::test]
async fn send_delivers_one_event_per_repeated_org_id() {
    let output = support::spotcheck(&[
        "send",
        "PNR_V3/BOOKING_CREATED",
        "--seed",
        "1",
        "--org-id",
        "org-one",
        "--org-id",
        "org-two",
    ])
    .await;
    assert_eq!(output.code, Some(0), "{}", output.all());
    // The in-process receiver's log line of each event names its organization.
    let orgs: Vec<&str> = output
        .stdout
        .lines()
        .filter_map(|line| line.split("  org=").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    assert_eq!(orgs, ["org-one", "org-two"], "{}", output.stdout);
}

#[tokio::test]
async fn a_typed_flag_wins_over_the_project_file_even_at_its_default_value() {
    let dir = tempfile::tempdir().unwrap();
    let partner = refusing_partner().await;
    std::fs::write(
        dir.path().join("spotcheck.toml"),
        format!(
            "endpoint = \"{}/hook\"\nsecret_env = \"PROJECT_ONLY_VAR\"\ntimeout = \"3s\"\n",
            partner.uri()
        ),
    )
    .unwrap();
    let only = ["run", "--only", "delivery.status-200", "--seed", "1"];
    // The file names a variable that is not set: exit 2, naming it.
    let output = run_in(dir.path(), &only)
        .env_remove("PROJECT_ONLY_VAR")
        .run()
        .await;
    assert_eq!(output.code, Some(2), "{}", output.all());
    assert!(
        output.stderr.contains("PROJECT_ONLY_VAR"),
        "{}",
        output.stderr
    );
    // `--secret-env SPOTNANA_WEBHOOK_SECRET` (the default's value, typed) wins: the run
    // gets as far as the partner's 500, with the file's timeout in the replay command.
    let mut args = only.to_vec();
    args.extend(["--secret-env", "SPOTNANA_WEBHOOK_SECRET"]);
    let output = run_in(dir.path(), &args).run().await;
    assert_eq!(output.code, Some(1), "{}", output.all());
    assert!(output.stdout.contains("--timeout 3s"), "{}", output.stdout);
}

#[tokio::test]
async fn a_header_from_the_project_file_is_redacted_like_a_flag() {
    let dir = tempfile::tempdir().unwrap();
    let partner = refusing_partner().await;
    std::fs::write(
        dir.path().join("spotcheck.toml"),
        format!(
            "endpoint = \"{}/hook\"\ntimeout = \"2s\"\n\
             [headers]\n\"X-Partner-Tag\" = \"tagvalue-5f3a9c1e7b\"\n",
            partner.uri()
        ),
    )
    .unwrap();
    let output = run_in(
        dir.path(),
        &[
            "run",
            "--only",
            "delivery.status-200",
            "--verbose",
            "--export-curl",
        ],
    )
    .run()
    .await;
    assert_eq!(output.code, Some(1), "{}", output.all());
    // The header was sent (the partner saw its value) and shown only masked.
    let requests = partner.received_requests().await.unwrap();
    assert!(
        requests.iter().any(|r| r
            .headers
            .get("x-partner-tag")
            .is_some_and(|v| v == "tagvalue-5f3a9c1e7b")),
        "the project file's header was not sent"
    );
    assert!(
        !output.all().contains("tagvalue-5f3a9c1e7b"),
        "{}",
        output.all()
    );
}

/// A partner on loopback that answers every delivery 500: the run reaches it and fails
/// `delivery.status-200` (exit 1), so the failure's replay command and request are shown.
async fn refusing_partner() -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(500))
        .mount(&server)
        .await;
    server
}
