//! The built-in suites: the embedded list is the `scenarios/` folder in report order,
//! every file loads, its id is its path, each has a why and a fix, the files on disk
//! are the ones embedded in the binary and the ones `scenarios list` prints, and the
//! model says what each check's steps do.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use spotcheck::event::random::rng;
use spotcheck::scenario::{
    Action, BodyStyle, MapContext, Precondition, Scenario, SendSource, SignatureSpec,
    SignatureToken, StatusClass, StatusExpect, StepField, Tamper, builtin, builtin::try_builtin,
    builtin_order::sort_key,
};
use spotcheck::signing::SignatureFormat;

/// The id a built-in file must hold: `scenarios/SUITE/NN-NAME.toml` holds `SUITE.NAME`
/// (the number only places the check in its suite's report order).
fn id_of_path(relative: &str) -> String {
    let (suite, file) = relative
        .strip_prefix("scenarios/")
        .and_then(|r| r.strip_suffix(".toml"))
        .and_then(|r| r.split_once('/'))
        .unwrap_or_else(|| panic!("{relative} is not scenarios/SUITE/FILE.toml"));
    let (_, name) = file
        .split_once('-')
        .filter(|(n, _)| n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| panic!("{relative}: the file name starts with a number, e.g. 01-"));
    assert!(!name.is_empty(), "{relative}");
    format!("{suite}.{name}")
}

/// The `*.toml` files in `scenarios/`, read at test time, as paths from the crate root
/// in report order. Anything else in the folder (a file outside a suite folder, a
/// nested folder) would not be embedded, so it fails here.
fn folder_in_report_order() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut found = Vec::new();
    for suite in std::fs::read_dir(&root).unwrap() {
        let suite = suite.unwrap();
        let suite_name = suite.file_name().into_string().unwrap();
        assert!(
            suite.file_type().unwrap().is_dir(),
            "scenarios/{suite_name}: put a check in a suite folder, scenarios/SUITE/NN-NAME.toml"
        );
        for file in std::fs::read_dir(suite.path()).unwrap() {
            let file = file.unwrap();
            let name = file.file_name().into_string().unwrap();
            assert!(
                file.file_type().unwrap().is_file() && name.ends_with(".toml"),
                "scenarios/{suite_name}/{name}: a suite folder holds only .toml checks"
            );
            found.push(format!("{suite_name}/{name}"));
        }
    }
    found.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    found
        .into_iter()
        .map(|r| format!("scenarios/{r}"))
        .collect()
}

fn get(id: &str) -> Scenario {
    builtin()
        .into_iter()
        .find(|s| s.info.id == id)
        .unwrap_or_else(|| panic!("no built-in {id}"))
}

fn sends(s: &Scenario) -> Vec<&spotcheck::scenario::SendStep> {
    s.steps
        .iter()
        .filter_map(|step| match &step.action {
            Action::Send(send) => Some(&**send),
            _ => None,
        })
        .collect()
}

/// The send steps a check judges: those that are not a precondition (a control).
fn judged(s: &Scenario) -> Vec<&spotcheck::scenario::SendStep> {
    s.steps
        .iter()
        .filter(|step| step.precondition.is_none())
        .filter_map(|step| match &step.action {
            Action::Send(send) => Some(&**send),
            _ => None,
        })
        .collect()
}

/// Adding a file to the folder is all a new check takes: the embedded list is exactly
/// the folder's files, in report order (suite, then file name), byte for byte.
#[test]
fn the_embedded_list_is_the_folder_in_report_order() {
    let folder = folder_in_report_order();
    let embedded: Vec<&str> = spotcheck::scenario::builtin::FILES
        .iter()
        .map(|(path, _)| *path)
        .collect();
    assert_eq!(embedded, folder);
    for (path, text) in spotcheck::scenario::builtin::FILES {
        let on_disk =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
        assert_eq!(*text, on_disk, "{path} differs from the embedded one");
    }
    // Checks come in the order of the files; the suites in the documented order.
    let ids: Vec<String> = try_builtin()
        .unwrap_or_else(|e| panic!("{}", e.render(false)))
        .into_iter()
        .map(|s| s.info.id)
        .collect();
    let from_paths: Vec<String> = folder.iter().map(|p| id_of_path(p)).collect();
    assert_eq!(ids, from_paths);
    assert_eq!(ids.first().map(String::as_str), Some("delivery.status-200"));
}

#[test]
fn every_builtin_loads_with_its_path_as_id_a_why_and_a_fix() {
    let all = try_builtin().unwrap_or_else(|e| panic!("{}", e.render(false)));
    assert!(!all.is_empty());
    for s in &all {
        assert!(s.origin.builtin, "{}", s.info.id);
        assert!(
            s.info.why.len() > 20 && s.info.fix.len() > 20,
            "{} needs a why and a fix",
            s.info.id
        );
        assert!(
            !s.info.title.is_empty() && !s.steps.is_empty(),
            "{}",
            s.info.id
        );
        assert_eq!(s.info.id, id_of_path(&s.origin.file));
        assert!(
            s.origin
                .text
                .starts_with("#:schema ../../docs/scenario.schema.json\n")
        );
    }
}

/// Each file under scenarios/ is embedded byte for byte at the same path, its id is its
/// path (`scenarios/SUITE/NN-NAME.toml` holds `SUITE.NAME`), and `scenarios list` prints
/// exactly these ids and those of the checks written in code (the TLS probe's and the
/// whole-run recovery check).
#[test]
fn files_on_disk_are_the_embedded_ones_and_the_listed_ones() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let from_disk =
        spotcheck::scenario::load_path(root).unwrap_or_else(|e| panic!("{}", e.render(false)));
    let embedded: BTreeMap<&str, &str> = spotcheck::scenario::builtin::FILES
        .iter()
        .copied()
        .collect();
    let mut on_disk = BTreeMap::new();
    for scenario in &from_disk {
        let relative = Path::new(&scenario.origin.file)
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or_else(|_| panic!("{} is under the crate", scenario.origin.file))
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            scenario.info.id,
            id_of_path(&relative),
            "{relative} holds another id"
        );
        on_disk.insert(relative, scenario.origin.text.to_string());
    }
    assert_eq!(
        on_disk.keys().map(String::as_str).collect::<Vec<_>>(),
        embedded.keys().copied().collect::<Vec<_>>(),
        "the same files"
    );
    for (path, text) in &on_disk {
        assert_eq!(
            text.as_str(),
            embedded[path.as_str()],
            "{path} differs from the embedded one"
        );
    }

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_spotcheck"))
        .args(["scenarios", "list"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let listed: BTreeSet<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    let expected: BTreeSet<String> = from_disk
        .iter()
        .map(|s| s.info.id.clone())
        .chain(
            spotcheck::tls_probe::check_infos()
                .into_iter()
                .map(|info| info.id),
        )
        .chain([
            spotcheck::runner::variants::info().id,
            spotcheck::runner::recovery::info().id,
        ])
        .collect();
    assert_eq!(listed, expected);
}

#[test]
fn refusal_checks_send_a_control_then_expect_not_2xx() {
    for (id, attack) in [
        ("signature.missing-rejected", SignatureSpec::Missing),
        ("signature.invalid-rejected", SignatureSpec::Garbage),
        (
            "signature.wrong-secret-rejected",
            SignatureSpec::WrongSecret,
        ),
    ] {
        let s = get(id);
        let steps = sends(&s);
        assert_eq!(steps[0].signature, SignatureSpec::Valid(None), "{id}");
        assert_eq!(s.steps[0].expect.status, Some(StatusExpect::Code(200)));
        assert_eq!(steps[1].signature, attack, "{id}");
        assert_eq!(
            s.steps[1].expect.status,
            Some(StatusExpect::Class(StatusClass::NotSuccess))
        );
    }
    let stale = get("signature.stale-timestamp-rejected");
    assert_eq!(sends(&stale)[1].timestamp.unwrap().whole_seconds(), -600);
    let future = get("signature.future-timestamp-rejected");
    assert_eq!(sends(&future)[1].timestamp.unwrap().whole_seconds(), 600);
    let body = get("signature.tampered-body-rejected");
    assert_eq!(sends(&body)[1].tamper, Some(Tamper::Body));
    let four = get("signature.rejection-is-4xx");
    assert!(
        four.steps
            .iter()
            .all(|s| s.expect.status == Some(StatusExpect::Class(StatusClass::ClientError)))
    );
}

#[test]
fn tampered_id_replays_the_first_step() {
    let s = get("signature.tampered-id-rejected");
    let steps = sends(&s);
    assert!(
        matches!(&steps[1].source, SendSource::Replay(r) if r.index == 0 && r.name == "original")
    );
    assert_eq!(steps[1].tamper, Some(Tamper::Id));
}

#[test]
fn signature_variants() {
    let rotation = get("signature.rotation-accepted");
    let tokens: Vec<_> = judged(&rotation)
        .iter()
        .map(|s| s.signature.clone())
        .collect();
    assert_eq!(
        tokens,
        vec![
            SignatureSpec::Tokens(vec![SignatureToken::Valid(None), SignatureToken::StaleKey]),
            SignatureSpec::Tokens(vec![SignatureToken::StaleKey, SignatureToken::Valid(None)]),
        ]
    );
    let formats: Vec<_> = judged(&get("signature.format-tolerant"))
        .iter()
        .map(|s| s.signature.clone())
        .collect();
    assert_eq!(
        formats,
        vec![
            SignatureSpec::Valid(Some(SignatureFormat::Bare)),
            SignatureSpec::Valid(Some(SignatureFormat::V1))
        ]
    );
    let styles: Vec<_> = judged(&get("signature.raw-body"))
        .iter()
        .map(|s| s.body_style)
        .collect();
    assert_eq!(
        styles,
        [
            Some(BodyStyle::Pretty),
            Some(BodyStyle::Reordered),
            Some(BodyStyle::EscapedUnicode),
            Some(BodyStyle::FloatForms),
            None, // compact, with raw non-ASCII text in the payload
        ]
    );
}

#[test]
fn delivery_checks() {
    assert_eq!(
        judged(&get("delivery.every-subscribed-event"))[0].source,
        SendSource::EachSubscribed
    );
    let fast = get("delivery.fast-ack");
    assert_eq!(
        fast.steps[0].expect.p95_within,
        Some(Duration::from_secs(1))
    );
    assert!(judged(&fast)[0].repeat >= 10);
    let burst = judged(&get("delivery.concurrent-burst"))[0].clone();
    assert!(burst.repeat > 1 && burst.concurrency == burst.repeat);
    assert_eq!(
        judged(&get("delivery.large-payload"))[0].large,
        Some(300 * 1024)
    );
    let unknown = get("delivery.unknown-fields-tolerated");
    let step = judged(&unknown)[0];
    assert!(step.envelope.is_some() && step.payload.is_some());
    let op = get("delivery.unknown-operation-tolerated");
    let env = judged(&op)[0].envelope.as_ref().unwrap();
    let rendered = env.render(&MapContext::default(), &mut rng(1)).unwrap();
    assert_eq!(
        rendered,
        serde_json::json!({"operation": "BOOKING_TELEPORTED"})
    );
    let trace = get("delivery.trace-headers-tolerated");
    let names: Vec<&str> = judged(&trace)[0]
        .headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(names, ["API-Version", "X-Partner-Route", "X-B3-Sampled"]);
}

#[test]
fn observation_checks_need_state_and_render_their_urls() {
    for id in [
        "retry.duplicate-processed-once",
        "ordering.newest-timestamp-wins",
    ] {
        assert!(get(id).needs_state(), "{id}");
    }
    assert_eq!(builtin().iter().filter(|s| s.needs_state()).count(), 2);

    let dup = get("retry.duplicate-processed-once");
    assert!(matches!(&sends(&dup)[1].source, SendSource::Redeliver(r) if r.index == 0));
    let Action::Observe(observe) = &dup.steps[3].action else {
        panic!("step 4 observes")
    };
    let mut ctx = MapContext {
        state_url: Some("http://127.0.0.1:1/state".into()),
        ..MapContext::default()
    };
    ctx.steps
        .insert(("original".into(), StepField::WebhookId), "wh_1".into());
    assert_eq!(
        observe.url.render(&ctx, &mut rng(3)).unwrap(),
        "http://127.0.0.1:1/state/webhooks/wh_1"
    );
    assert_eq!(dup.steps[3].expect.within, Some(Duration::from_secs(5)));
    let (pointer, value) = &dup.steps[3].expect.json[0];
    assert_eq!(
        (pointer.as_str(), value.render(&ctx, &mut rng(3)).unwrap()),
        ("/processed", serde_json::json!(1))
    );

    // Both sends are one booking (one PNR told twice); the observation reads the PNR
    // the newer step sent.
    let newest = get("ordering.newest-timestamp-wins");
    let [newer, older] = sends(&newest)[..] else {
        panic!("two sends")
    };
    assert_eq!(older.message_time.unwrap().whole_seconds(), -60);
    assert_eq!(newer.booking.as_deref(), Some("b1"));
    assert_eq!(older.booking.as_deref(), Some("b1"));
    let Action::Observe(observe) = &newest.steps[3].action else {
        panic!("step 4 observes")
    };
    ctx.steps
        .insert(("newer".into(), StepField::PnrId), "1234567890".into());
    assert_eq!(
        observe.url.render(&ctx, &mut rng(9)).unwrap(),
        "http://127.0.0.1:1/state/pnrs/1234567890"
    );
}

#[test]
fn interleaved_organizations_use_distinct_seeded_ids() {
    let s = get("ordering.interleaved-organizations");
    let ctx = MapContext::default();
    let vars = s.resolve_vars(&ctx, &mut rng(42)).unwrap();
    assert_eq!(
        vars,
        s.resolve_vars(&ctx, &mut rng(42)).unwrap(),
        "same seed, same ids"
    );
    let mut ids: Vec<&String> = vars.iter().map(|(_, v)| v).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);
}

#[test]
fn scenarios_list_verbose_gives_every_check_its_why_and_fix() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_spotcheck"))
        .args(["scenarios", "list", "--verbose"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let (table, details) = text.split_once("\n\n").expect("table, then details");
    let ids: Vec<&str> = table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    for id in [
        "tls.forward-secrecy",
        "tls.no-weak-ciphers",
        "tls.mozilla-intermediate",
    ] {
        assert!(ids.contains(&id), "{id} missing from the table");
    }
    // Every check of the table comes back with a non-empty why and fix.
    for id in &ids {
        let block = details
            .split("\n\n")
            .find(|b| b.starts_with(&format!("{id} (")))
            .unwrap_or_else(|| panic!("no details for {id}"));
        let lines: Vec<&str> = block.lines().collect();
        assert!(lines[1].len() > "  why: ".len() + 10, "{block}");
        assert!(lines[1].starts_with("  why: "), "{block}");
        assert!(
            lines[2].starts_with("  fix: ") && lines[2].len() > 17,
            "{block}"
        );
    }
}

#[test]
fn each_check_judges_its_own_subject_behind_named_preconditions() {
    let all = builtin();
    let known: Vec<String> = all
        .iter()
        .map(|s| s.info.id.clone())
        .chain(
            spotcheck::tls_probe::check_infos()
                .into_iter()
                .map(|i| i.id),
        )
        .collect();
    let status_200 = Precondition {
        status: StatusExpect::Code(200),
        see: Some("delivery.status-200".into()),
    };
    for s in &all {
        // Every file says what it judges, right under the schema line.
        assert!(
            s.origin
                .text
                .lines()
                .nth(1)
                .unwrap()
                .starts_with("# Judges: "),
            "{} does not say what it judges",
            s.info.id
        );
        for step in &s.steps {
            if let Some(see) = step.precondition.as_ref().and_then(|p| p.see.as_ref()) {
                assert!(known.contains(see), "{}: unknown check {see}", s.info.id);
                assert_ne!(see, &s.info.id, "{} refers to itself", s.info.id);
            }
        }
    }
    // Time only: no status judged.
    for id in ["delivery.latency", "delivery.fast-ack"] {
        for step in &get(id).steps {
            assert_eq!(
                step.expect.status,
                Some(StatusExpect::Class(StatusClass::Any)),
                "{id}"
            );
        }
    }
    // A refusal means something only after a correctly signed control got 200.
    for id in [
        "signature.missing-rejected",
        "signature.invalid-rejected",
        "signature.wrong-secret-rejected",
        "signature.tampered-body-rejected",
        "signature.tampered-id-rejected",
        "signature.stale-timestamp-rejected",
        "signature.future-timestamp-rejected",
    ] {
        let s = get(id);
        assert_eq!(s.steps[0].precondition.as_ref(), Some(&status_200), "{id}");
        assert!(
            s.steps[1..].iter().all(|step| step.precondition.is_none()),
            "{id}"
        );
    }
    // The code of a refusal is judged only once the forgery was refused at all.
    for step in &get("signature.rejection-is-4xx").steps {
        assert_eq!(
            step.precondition.as_ref().map(|p| &p.status),
            Some(&StatusExpect::Class(StatusClass::NotSuccess))
        );
    }
    // Accepting a signature is any 2xx; the exact 200 is delivery.status-200's.
    assert_eq!(
        get("signature.valid-accepted").steps[0].expect.status,
        Some(StatusExpect::Class(StatusClass::Success))
    );
}
