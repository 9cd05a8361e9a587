//! The engine's events, as a front sees them: a run against the reference receiver
//! (over loopback) with a sink that records every event, compared with the report the
//! engine returns.

use std::time::Duration;

use spotcheck::check::CheckResult;
use spotcheck::event::EnvelopeStyle;
use spotcheck::runner::filter::CheckFilter;
use spotcheck::runner::{self, Cancel, RunEvent, RunOptions, RunPlan, RunSink};
use spotcheck::signing::SignatureFormat;
use spotcheck::target::TargetSpec;

/// An event as recorded, owned.
#[derive(Debug, Clone)]
enum Recorded {
    RunStarted { reference_receiver: bool, seed: u64 },
    ScenariosStarted(usize),
    Started(String),
    Finished(CheckResult),
    ScenariosFinished,
    Diagnosed(CheckResult),
    Interrupted,
    RunFinished { checks: usize },
}

#[derive(Default)]
struct RecordingSink(Vec<Recorded>);

impl RunSink for RecordingSink {
    fn event(&mut self, event: RunEvent<'_>) {
        self.0.push(match event {
            RunEvent::RunStarted {
                reference_receiver,
                seed,
                ..
            } => Recorded::RunStarted {
                reference_receiver,
                seed,
            },
            RunEvent::ScenariosStarted { total } => Recorded::ScenariosStarted(total),
            RunEvent::CheckStarted(info) => Recorded::Started(info.id.clone()),
            RunEvent::CheckFinished(result) => Recorded::Finished(result.clone()),
            RunEvent::ScenariosFinished => Recorded::ScenariosFinished,
            RunEvent::CheckDiagnosed(result) => Recorded::Diagnosed(result.clone()),
            RunEvent::Interrupted(_) => Recorded::Interrupted,
            RunEvent::RunFinished(report) => Recorded::RunFinished {
                checks: report.checks.len(),
            },
        });
    }
}

fn options(seed: u64) -> RunOptions {
    RunOptions {
        target: TargetSpec::default(),
        headers: Vec::new(),
        timeout: Duration::from_secs(10),
        secret: None,
        format: SignatureFormat::V1,
        envelope: EnvelopeStyle::EventType,
        builtin: true,
        seed: Some(seed),
        subscription: spotcheck::event::Subscription::all(),
        state_url: None,
        state_headers: Vec::new(),
        strict: false,
        insecure_continue: false,
        jobs: 4,
        oauth: None,
        no_hmac: false,
        retry_time_scale: runner::recovery::DEFAULT_TIME_SCALE,
        variants: 3,
        allow_exec: false,
        exec_hide_env: Vec::new(),
        diagnose: true,
        min_coverage: Default::default(),
    }
}

/// A result as every report format sees it.
fn json(result: &CheckResult) -> serde_json::Value {
    serde_json::to_value(result).expect("a check result serializes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sink_sees_the_run_start_each_check_finish_once_and_the_run_finish_last() {
    spotcheck::init_crypto();
    let only: Vec<String> = ["tls.*", "signature.*", "delivery.*", "retry.*", "payload.*"]
        .map(String::from)
        .to_vec();
    let plan = RunPlan {
        options: options(7),
        scenarios: spotcheck::scenario::with_builtin(Vec::new()).expect("built-in scenarios"),
        filter: CheckFilter::new(&only, &[], &[]).expect("globs"),
    };
    let (_trigger, cancel) = Cancel::new();
    let mut sink = RecordingSink::default();
    let report = runner::run(plan, &mut sink, &cancel)
        .await
        .expect("the run sets up");
    let events = sink.0;
    assert!(report.checks.len() > 10, "{} checks", report.checks.len());

    // Run started first, run finished last, nothing interrupted.
    match events.first() {
        Some(Recorded::RunStarted {
            reference_receiver,
            seed,
        }) => {
            assert!(*reference_receiver);
            assert_eq!(*seed, 7);
        }
        other => panic!("first event: {other:?}"),
    }
    match events.last() {
        Some(Recorded::RunFinished { checks }) => assert_eq!(*checks, report.checks.len()),
        other => panic!("last event: {other:?}"),
    }
    assert!(!events.iter().any(|e| matches!(e, Recorded::Interrupted)));
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(
                e,
                Recorded::RunStarted { .. } | Recorded::RunFinished { .. }
            ))
            .count(),
        2
    );

    // One finished event per check, after its start, with the report's result (a
    // diagnosis attached later is told as its own event).
    let finished: Vec<&CheckResult> = events
        .iter()
        .filter_map(|e| match e {
            Recorded::Finished(result) => Some(result),
            _ => None,
        })
        .collect();
    assert_eq!(finished.len(), report.checks.len());
    for check in &report.checks {
        let id = &check.info.id;
        let position = |wanted: &dyn Fn(&Recorded) -> bool| events.iter().position(wanted);
        let finishes: Vec<usize> = events
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e, Recorded::Finished(r) if &r.info.id == id))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(finishes.len(), 1, "{id} finished {} times", finishes.len());
        let started = position(&|e| matches!(e, Recorded::Started(s) if s == id))
            .unwrap_or_else(|| panic!("{id} never started"));
        assert!(started < finishes[0], "{id} finished before it started");
        let last_told = events
            .iter()
            .rev()
            .find_map(|e| match e {
                Recorded::Finished(r) | Recorded::Diagnosed(r) if &r.info.id == id => Some(r),
                _ => None,
            })
            .expect("told");
        assert_eq!(json(last_told), json(check), "{id}");
    }

    // The scenario phase is bracketed, and counts the scenarios it runs.
    let scenarios_started = events
        .iter()
        .position(|e| matches!(e, Recorded::ScenariosStarted(_)))
        .expect("the scenarios ran");
    let scenarios_finished = events
        .iter()
        .position(|e| matches!(e, Recorded::ScenariosFinished))
        .expect("the scenarios finished");
    assert!(scenarios_started < scenarios_finished);
    let Recorded::ScenariosStarted(total) = &events[scenarios_started] else {
        unreachable!()
    };
    let between = events[scenarios_started..scenarios_finished]
        .iter()
        .filter(|e| matches!(e, Recorded::Finished(_)))
        .count();
    assert_eq!(between, *total);
    let scenario_ids = report
        .checks
        .iter()
        .filter(|c| !c.info.id.starts_with("tls.") && !c.info.needs.whole_run)
        .filter(|c| c.info.id != runner::variants::CHECK_ID)
        .count();
    assert_eq!(*total, scenario_ids);
}
