//! The one catalogue of checks: `scenarios list` lists the checks in the order `run`
//! makes them, and what a check needs and which diagnosis explains it are declared on
//! the check, never read from its id: a built-in copied under another id keeps its
//! diagnosis, and `--no-hmac` skips the checks that say `requires = ["hmac"]`.

use std::path::Path;

use serde_json::Value;
use spotcheck::receiver::Flaw;

use crate::support;

/// Copies the built-in scenario files to a temporary folder, giving the check `id`
/// the id `renamed` (the text is otherwise the built-in's).
fn builtins_with_renamed(id: &str, renamed: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut found = false;
    for (path, text) in spotcheck::scenario::builtin::FILES {
        // `SUITE/NN-NAME.toml` → `SUITE-NN-NAME.toml`: one folder, the same order.
        let target = dir.path().join(path.replace('/', "-"));
        let old = format!("id = \"{id}\"");
        let text = if text.contains(&old) {
            found = true;
            text.replace(&old, &format!("id = \"{renamed}\""))
        } else {
            (*text).to_owned()
        };
        std::fs::write(target, text).unwrap();
    }
    assert!(found, "no built-in holds {id}");
    dir
}

/// `spotcheck run --no-builtin --scenarios DIR --only ONLY EXTRA…` against a reference
/// receiver with these flaws: what the process did and its JSON report.
async fn run_custom(flaws: Vec<Flaw>, dir: &Path, only: &str, extra: &[&str]) -> Value {
    let receiver = support::start(flaws).await;
    let report = receiver.dir.path().join("report.json");
    let report_arg = format!("json={}", report.display());
    let url = receiver.running.webhook_url();
    let ca = receiver.ca.display().to_string();
    let scenarios = dir.display().to_string();
    let mut args = vec![
        "run",
        "--endpoint",
        &url,
        "--ca-cert",
        &ca,
        "--no-builtin",
        "--scenarios",
        &scenarios,
        "--only",
        only,
        "--seed",
        "19",
        "--report",
        &report_arg,
    ];
    args.extend_from_slice(extra);
    let output = support::spotcheck(&args).await;
    receiver.running.shutdown().await;
    assert!(matches!(output.code, Some(0 | 1)), "{}", output.all());
    serde_json::from_slice(&std::fs::read(&report).unwrap())
        .unwrap_or_else(|err| panic!("no JSON report ({err}):\n{}", output.all()))
}

#[tokio::test]
async fn a_builtin_under_another_id_keeps_its_diagnosis() {
    // The rotation diagnosis, declared by `diagnosis = "rotation"` in the file.
    let dir = builtins_with_renamed("signature.rotation-accepted", "mine.two-tokens");
    let report = run_custom(
        vec![Flaw::FirstTokenOnly],
        dir.path(),
        "mine.two-tokens",
        &[],
    )
    .await;
    let check = support::check(&report, "mine.two-tokens").expect("the renamed check ran");
    assert_eq!(check["status"], "fail", "{check}");
    assert_eq!(check["diagnosis"]["kind"], "rotation", "{check}");
    assert!(
        check["message"].as_str().unwrap().contains(
            "diagnosis: your endpoint checks only the first token of the signature header"
        ),
        "{check}"
    );

    // The allow-list diagnosis of unknown operations, likewise.
    let dir = builtins_with_renamed("delivery.unknown-operation-tolerated", "mine.new-ops");
    let report = run_custom(
        vec![Flaw::RejectUnknownOperations],
        dir.path(),
        "mine.new-ops",
        &[],
    )
    .await;
    let check = support::check(&report, "mine.new-ops").expect("the renamed check ran");
    assert_eq!(check["diagnosis"]["kind"], "allow-list", "{check}");
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .contains("an operation it does not know, but accepted the known"),
        "{check}"
    );
}

/// A check needs HMAC when it says `requires = ["hmac"]`, in whatever suite, and only
/// then: `--no-hmac` skips it (the rule is the catalogue's).
#[test]
fn no_hmac_skips_what_declares_hmac_whatever_its_suite() {
    use spotcheck::runner::catalogue::{Offered, Unmet, unmet};
    let file = |id: &str, requires: &str| {
        format!(
            "id = \"{id}\"\ntitle = \"t\"\nlevel = \"required\"\nwhy = \"w\"\nfix = \"f\"\n\
             {requires}\n[[step]]\nsend = \"each\"\n"
        )
    };
    let no_hmac = Offered {
        programs: false,
        state_url: false,
        hmac: false,
    };
    for (id, requires, skipped) in [
        ("custom.signed", "requires = [\"hmac\"]\n", true),
        ("signature.undeclared", "", false),
        ("signature.declared", "requires = [\"hmac\"]\n", true),
    ] {
        let scenario = spotcheck::scenario::load_str("case.toml", &file(id, requires))
            .unwrap_or_else(|err| panic!("{}", err.render(false)));
        assert_eq!(scenario.info.needs.hmac, skipped, "{id}");
        assert_eq!(
            unmet(&scenario, no_hmac),
            skipped.then_some(Unmet::Hmac),
            "{id}"
        );
        let with_hmac = Offered {
            hmac: true,
            ..no_hmac
        };
        assert_eq!(unmet(&scenario, with_hmac), None, "{id}");
    }
}

/// `scenarios list` lists every check in the order a run makes them: the run's catalogue.
#[test]
fn the_list_is_in_run_order() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_spotcheck"))
        .args(["scenarios", "list"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let listed: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    let run_order: Vec<String> =
        spotcheck::runner::check_infos(&spotcheck::scenario::builtin::builtin(), true)
            .into_iter()
            .map(|info| info.id)
            .collect();
    assert_eq!(listed, run_order);
    assert_eq!(
        listed.first().map(String::as_str),
        Some("tls.https-required")
    );
    assert_eq!(
        listed.last().map(String::as_str),
        Some("retry.recovers-after-failure")
    );
}

/// The diagnoses are declared by the built-ins that they explain (one each).
#[test]
fn builtins_declare_their_diagnoses_and_needs() {
    use spotcheck::check::DiagnosisKind;
    let builtins = spotcheck::scenario::builtin::builtin();
    let declaring = |kind: DiagnosisKind| -> Vec<&str> {
        builtins
            .iter()
            .filter(|s| s.info.diagnosis == Some(kind))
            .map(|s| s.info.id.as_str())
            .collect()
    };
    for (kind, id) in [
        (DiagnosisKind::Signature, "signature.valid-accepted"),
        (DiagnosisKind::Rotation, "signature.rotation-accepted"),
        (DiagnosisKind::BodyStyle, "signature.raw-body"),
        (
            DiagnosisKind::EventAllowList,
            "delivery.every-subscribed-event",
        ),
        (
            DiagnosisKind::UnknownOperation,
            "delivery.unknown-operation-tolerated",
        ),
        (DiagnosisKind::ClockSkew, "signature.clock-skew-tolerated"),
    ] {
        assert_eq!(declaring(kind), [id], "{kind:?}");
    }
    // A check that sends a signature other than a correct one judges the signature:
    // without HMAC it has nothing to judge, so it must say it needs HMAC.
    use spotcheck::scenario::model::{Action, SignatureSpec};
    for scenario in &builtins {
        let forges = scenario.steps.iter().any(|step| {
            matches!(&step.action, Action::Send(send)
                if !matches!(send.signature, SignatureSpec::Valid(_)))
        });
        if forges || scenario.suite() == "signature" {
            assert!(
                scenario.info.needs.hmac,
                "{}: sends a forged or missing signature (or judges signatures) but does not declare requires = [\"hmac\"]",
                scenario.info.id
            );
        }
    }
}

/// The certificate gate is one: when the certificate does not verify, a scenario and a
/// whole-run check are skipped with the same reason, and no delivery is made.
#[tokio::test]
async fn one_certificate_gate_for_scenarios_and_whole_run_checks() {
    let receiver = support::start(Vec::new()).await;
    let url = receiver.running.webhook_url();
    let report = receiver.dir.path().join("r.json");
    let report_arg = format!("json={}", report.display());
    // No --ca-cert: the generated CA is unknown to the system roots.
    let output = support::spotcheck(&[
        "run",
        "--endpoint",
        &url,
        "--only",
        "tls.certificate-valid,delivery.status-200,payload.schema-variants-accepted",
        "--report",
        &report_arg,
    ])
    .await;
    receiver.running.shutdown().await;
    assert_eq!(output.code, Some(1), "{}", output.all());
    let json: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let skipped = |id: &str| -> String {
        let check = support::check(&json, id).unwrap();
        assert_eq!(check["status"], "skip", "{check}");
        assert!(check["exchanges"].as_array().unwrap().is_empty(), "{check}");
        check["message"].as_str().unwrap().to_owned()
    };
    let scenario = skipped("delivery.status-200");
    assert_eq!(scenario, skipped("payload.schema-variants-accepted"));
    assert!(
        scenario.starts_with("the endpoint's TLS certificate does not verify (")
            && scenario.ends_with(
                "no delivery can succeed; delivery checks skipped (--insecure-continue runs them anyway)"
            ),
        "{scenario}"
    );
}
