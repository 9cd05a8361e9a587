//! Bad scenario input never panics: any text yields a scenario or a clean error
//! (proptest, in CI; `fuzz/` has the `cargo fuzz` target for longer runs), and
//! deep nesting, huge numbers and enormous `repeat`/`concurrency` are refused with
//! the limits documented in docs/limits.md.

use proptest::prelude::*;
use spotcheck::scenario::load_str;

/// A valid scenario to mutate.
const BASE: &str = r#"id = "fuzz.base"
title = "t"
level = "required"
why = "w"
fix = "f"

[vars]
pnr = "{{ random.pnr_id }}"

[[step]]
name = "first"
send = "PNR_V3/BOOKING_CREATED"
payload = { pnrId = "{{ pnr }}" }
expect = { status = 200, within = "2s" }
"#;

/// The error text of a scenario that must be refused.
fn refused(text: &str) -> String {
    match load_str("fuzz.toml", text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(err) => err.render(false),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_load_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        if let Err(err) = load_str("fuzz.toml", &text) {
            prop_assert!(!err.render(false).is_empty());
        }
    }

    #[test]
    fn mutated_scenarios_load_or_fail_cleanly(
        at in 0usize..BASE.len(),
        cut in 0usize..40,
        insert in "[\\[\\]{}=\"'.,#\\n a-z0-9_{}]{0,24}",
    ) {
        let mut text = BASE.as_bytes().to_vec();
        let end = (at + cut).min(text.len());
        text.splice(at..end, insert.bytes());
        let text = String::from_utf8_lossy(&text);
        if let Err(err) = load_str("fuzz.toml", &text) {
            prop_assert!(!err.render(false).is_empty());
        }
    }

    #[test]
    fn any_template_text_is_handled(template in "\\PC{0,64}") {
        let text = BASE.replace("{{ pnr }}", &template.replace(['"', '\\'], ""));
        let _ = load_str("fuzz.toml", &text);
    }
}

#[test]
fn the_base_scenario_loads() {
    load_str("fuzz.toml", BASE).unwrap();
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for depth in [100, 1_000, 100_000] {
        let arrays = format!(
            "{BASE}\n[extra]\nx = {}1{}\n",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        refused(&arrays);
        let tables = format!(
            "{BASE}\n[extra]\nx = {}1{}\n",
            "{ a = ".repeat(depth),
            " }".repeat(depth)
        );
        refused(&tables);
        let payload = BASE.replace(
            r#"payload = { pnrId = "{{ pnr }}" }"#,
            &format!(
                "payload = {}1{}",
                "{ a = ".repeat(depth),
                " }".repeat(depth)
            ),
        );
        let _ = load_str("fuzz.toml", &payload);
        let template = BASE.replace("{{ pnr }}", &"{{ ".repeat(depth));
        refused(&template);
    }
}

#[test]
fn huge_numbers_and_counts_are_refused_with_the_limit() {
    let with = |line: &str| BASE.replace("expect = {", &format!("{line}\nexpect = {{"));
    let message = refused(&with("repeat = 10001"));
    assert!(message.contains("10000"), "{message}");
    let message = refused(&with("concurrency = 257\nrepeat = 300"));
    assert!(message.contains("256"), "{message}");
    for huge in [
        "repeat = 99999999999999999999",
        "repeat = -1",
        "repeat = 1e300",
        "concurrency = 18446744073709551616",
        "repeat = inf",
    ] {
        refused(&with(huge));
    }
    let message = refused(&BASE.replace("within = \"2s\"", "within = \"99999999999999h\""));
    assert!(!message.is_empty());
    let message = refused(&BASE.replace("within = \"2s\"", "status = 99999999999"));
    assert!(!message.is_empty());
}
