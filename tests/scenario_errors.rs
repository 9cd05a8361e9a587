//! What a user sees for each kind of mistake in a scenario file (insta snapshots in
//! `snapshots/`), plus `spotcheck scenarios check` exit codes.

use crate::support::cli;

use std::time::Duration;

use cli::Spotcheck;
use spotcheck::scenario::{self, check_unique_ids, load_str};

const HEAD: &str = r#"id = "custom.example"
title = "An example"
level = "required"
why = "Because."
fix = "Do it."
"#;

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
fn unknown_top_level_key_suggests_the_right_one() {
    snapshot(
        "unknown_top_level_key",
        "id = \"custom.example\"\ntitle = \"t\"\nlevl = \"required\"\nwhy = \"w\"\nfix = \"f\"\n",
    );
}

#[test]
fn unknown_step_key_suggests_the_right_one() {
    snapshot(
        "unknown_step_key",
        &format!("{HEAD}\n[[step]]\nsned = \"PNR_V3/BOOKING_CREATED\"\n"),
    );
}

#[test]
fn wrong_type_points_at_the_value() {
    snapshot(
        "wrong_type",
        &format!("{HEAD}\n[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nrepeat = \"three\"\n"),
    );
}

#[test]
fn bad_level_lists_the_levels() {
    snapshot(
        "bad_level",
        &HEAD.replace("\"required\"", "\"mandatory\"").replace(
            "fix = \"Do it.\"\n",
            "fix = \"Do it.\"\n\n[[step]]\nsend = \"each\"\n",
        ),
    );
}

#[test]
fn unknown_diagnosis_lists_the_diagnoses() {
    snapshot(
        "bad_diagnosis",
        &format!("{HEAD}diagnosis = \"rotaton\"\n\n[[step]]\nsend = \"each\"\n"),
    );
}

#[test]
fn unknown_capability_lists_the_capabilities() {
    snapshot(
        "bad_capability",
        &format!("{HEAD}requires = [\"hmca\"]\n\n[[step]]\nsend = \"each\"\n"),
    );
}

#[test]
fn unknown_event_type_suggests_the_closest() {
    snapshot(
        "unknown_event_type",
        &format!("{HEAD}\n[[step]]\nsend = \"PNR_V2/BOOKING_CREATED\"\n"),
    );
}

#[test]
fn unknown_operation_suggests_the_closest_and_the_envelope_escape() {
    snapshot(
        "unknown_operation",
        &format!("{HEAD}\n[[step]]\nsend = \"PNR_V3/BOOKING_TICKETTED\"\n"),
    );
}

#[test]
fn bad_duration_says_what_a_duration_looks_like() {
    snapshot(
        "bad_duration",
        &format!("{HEAD}\n[[step]]\nsleep = \"2 fortnights\"\n"),
    );
}

#[test]
fn bad_status_form_lists_accepted_forms() {
    snapshot(
        "bad_status_form",
        &format!(
            "{HEAD}\n[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nexpect = {{ status = \"not200\" }}\n"
        ),
    );
}

#[test]
fn undefined_variable_points_inside_the_string() {
    snapshot(
        "undefined_variable",
        &format!(
            "{HEAD}\n[vars]\npnr = \"{{{{ random.pnr_id }}}}\"\n\n[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\npayload = {{ pnrId = \"{{{{ pnrr }}}}\" }}\n"
        ),
    );
}

#[test]
fn undefined_step_name_lists_named_steps() {
    snapshot(
        "undefined_step",
        &format!(
            "{HEAD}\n[[step]]\nname = \"original\"\nsend = \"PNR_V3/BOOKING_CREATED\"\n\n[[step]]\nredeliver = \"orignal\"\n"
        ),
    );
}

#[test]
fn step_used_before_it_runs() {
    snapshot(
        "step_used_before_it_runs",
        &format!(
            "{HEAD}requires = [\"state\"]\n\n[[step]]\nobserve = \"GET {{{{ state_url }}}}/webhooks/{{{{ steps.later.webhook_id }}}}\"\n\n[[step]]\nname = \"later\"\nsend = \"PNR_V3/BOOKING_CREATED\"\n"
        ),
    );
}

#[test]
fn two_actions_in_one_step() {
    snapshot(
        "two_actions",
        &format!("{HEAD}\n[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nsleep = \"2s\"\n"),
    );
}

#[test]
fn body_together_with_payload() {
    snapshot(
        "body_with_payload",
        &format!(
            "{HEAD}\n[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\npayload = {{ pnrId = \"1\" }}\nbody = '''{{\"x\": 1}}'''\n"
        ),
    );
}

#[test]
fn repeat_over_the_limit() {
    snapshot(
        "repeat_limit",
        &format!("{HEAD}\n[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nrepeat = 20000\n"),
    );
}

#[test]
fn toml_syntax_error() {
    snapshot(
        "toml_syntax",
        "id = \"custom.example\"\ntitle = \"unterminated\nlevel = \"required\"\n",
    );
}

#[test]
fn unclosed_template() {
    snapshot(
        "unclosed_template",
        &format!(
            "{HEAD}\n[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\norg_id = \"{{{{ random.org_id\"\n"
        ),
    );
}

#[test]
fn several_mistakes_are_all_reported_in_file_order() {
    snapshot(
        "several_mistakes",
        &format!(
            "{HEAD}\n[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nsignature = \"garbled\"\n\n[[step]]\nsleep = \"90s\"\n\n[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nheader = {{ \"Content-Type\" = \"text/plain\" }}\n"
        ),
    );
}

#[test]
fn duplicate_check_id_across_files_names_the_first() {
    let a = load_str("a.toml", &format!("{HEAD}\n[[step]]\nsend = \"each\"\n")).unwrap();
    let b = load_str("b.toml", &format!("{HEAD}\n[[step]]\nsend = \"each\"\n")).unwrap();
    let rendered = check_unique_ids(&[a, b]).unwrap_err().render(false);
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("duplicate_id", rendered);
    });
}

#[test]
fn user_file_cannot_reuse_a_builtin_id() {
    let text = format!("{HEAD}\n[[step]]\nsend = \"each\"\n")
        .replace("custom.example", "delivery.status-200");
    let user = load_str("mine.toml", &text).unwrap();
    let err = scenario::with_builtin(vec![user]).unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.starts_with("mine.toml:1:6: duplicate check id `delivery.status-200`"),
        "{shown}"
    );
    assert!(
        err.render(false)
            .contains("built-in check delivery.status-200")
    );
}

/// `spotcheck ARGS…` without colour, within 30 s: exit code (-1 if none), stdout, stderr.
fn spotcheck(args: &[&str]) -> (i32, String, String) {
    let run = Spotcheck::new(args)
        .no_color()
        .timeout(Duration::from_secs(30))
        .run_blocking();
    (run.code.unwrap_or(-1), run.stdout, run.stderr)
}

#[test]
fn check_command_exits_2_with_every_error_and_0_when_clean() {
    let dir = tempfile::tempdir().unwrap();
    let good = format!("{HEAD}\n[[step]]\nsend = \"each\"\n");
    std::fs::write(dir.path().join("good.toml"), &good).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/again.toml"), &good).unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        format!("{HEAD}\n[[step]]\nsend = \"PNR_V3/BOOKING_TICKETTED\"\nsleep = \"fast\"\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a scenario").unwrap();

    let (code, stdout, stderr) = spotcheck(&["scenarios", "check", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains("bad.toml:9:1]"), "{stderr}");
    assert!(
        stderr.contains("step 1 has two actions: `send` and `sleep`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("duplicate check id `custom.example`"),
        "{stderr}"
    );
    assert!(stderr.contains("2 errors in 2 scenario files"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no colour when not a terminal: {stderr}"
    );

    let good_path = dir.path().join("good.toml");
    let (code, stdout, _) = spotcheck(&["scenarios", "check", good_path.to_str().unwrap()]);
    assert_eq!((code, stdout.as_str()), (0, "ok: 1 check in 1 file\n"));

    let (code, _, stderr) = spotcheck(&["scenarios", "check", "/nonexistent/dir"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("/nonexistent/dir: cannot read"), "{stderr}");
}

#[test]
fn list_command_shows_probe_builtin_and_user_checks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    std::fs::write(&path, format!("{HEAD}\n[[step]]\nsend = \"each\"\n")).unwrap();
    let (code, stdout, stderr) =
        spotcheck(&["scenarios", "list", "--scenarios", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("ID "), "{stdout}");
    // In the order `run` makes them: header, TLS probe checks, built-ins, the user's,
    // then the runner's payload.schema-variants-accepted and retry.recovers-after-failure.
    let builtins = spotcheck::scenario::builtin::builtin().len();
    assert_eq!(lines.len(), 1 + 9 + builtins + 1 + 2, "{stdout}");
    assert!(lines[9].starts_with("tls.mozilla-intermediate") && lines[9].contains("(probe)"));
    assert!(lines[10].contains("(built-in)"), "{stdout}");
    let n = lines.len();
    assert!(
        lines[n - 2].starts_with("payload.schema-variants-accepted")
            && lines[n - 2].contains("(run)")
    );
    assert!(
        lines[n - 1].starts_with("retry.recovers-after-failure") && lines[n - 1].contains("(run)")
    );
    assert!(lines[1].starts_with("tls.https-required") && lines[1].contains("(probe)"));
    assert!(stdout.contains("signature.rejection-is-4xx") && stdout.contains("recommended"));
    let last = lines[n - 3];
    assert!(
        last.starts_with("custom.example")
            && last.contains("mine.toml")
            && last.ends_with("An example"),
        "{last}"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    /// No input makes the loader panic: cut and splice a real file anywhere.
    #[test]
    fn loader_never_panics_on_damaged_files(cut in 0usize..2000, junk in "[ -~\\n{}\\[\\]\"'=é]{0,12}") {
        let text = spotcheck::scenario::builtin::FILES[23].1;
        let mut cut = cut.min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let damaged = format!("{}{}{}", &text[..cut], junk, &text[cut..]);
        if let Err(err) = load_str("fuzz.toml", &damaged) {
            let shown = err.render(false);
            proptest::prop_assert!(shown.contains("fuzz.toml"));
        }
    }
}

#[test]
fn payload_file_is_read_relative_to_the_scenario_and_must_be_a_json_object() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(
        dir.path().join("data/pnr.json"),
        r#"{"pnrId": "1234567890"}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("data/list.json"), "[1, 2]").unwrap();
    let scenario = |file: &str| {
        format!("{HEAD}\n[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\npayload_file = \"{file}\"\n")
    };
    let path = dir.path().join("ok.toml");
    std::fs::write(&path, scenario("data/pnr.json")).unwrap();
    let loaded = scenario::load_path(&path).unwrap();
    let scenario::Action::Send(send) = &loaded[0].steps[0].action else {
        panic!("a send step")
    };
    assert_eq!(
        send.payload_file,
        Some(serde_json::json!({"pnrId": "1234567890"}))
    );

    std::fs::write(&path, scenario("data/list.json")).unwrap();
    let shown = scenario::load_path(&path).unwrap_err().to_string();
    assert!(
        shown.ends_with("list.json` is not a JSON object"),
        "{shown}"
    );
    std::fs::write(&path, scenario("data/missing.json")).unwrap();
    let shown = scenario::load_path(&path).unwrap_err().to_string();
    assert!(shown.contains("ok.toml:9:16: cannot read `"), "{shown}");
}

/// The B3 trace headers are Spotnana's, fresh per delivery: a scenario that sets one
/// by hand is told so where it wrote it, instead of the header being dropped unsent.
#[test]
fn a_trace_header_set_by_hand_is_refused_where_it_is_written() {
    let rendered = errors(&format!(
        "{HEAD}\n[[step]]\nsend = \"PNR_V3/BOOKING_CREATED\"\nheader = {{ X-B3-TraceId = \"abc\" }}\n"
    ));
    assert!(
        rendered.contains("`X-B3-TraceId` is a reserved header"),
        "{rendered}"
    );
    assert!(rendered.contains("case.toml:9:"), "{rendered}");
}
