//! `--shard auto` as CI runners use it: the binary run with each runner's index and
//! total in the environment (every other runner's variables removed), and with none.
//! `run` must pick the same share as the equivalent `--shard K/N` and say where it came
//! from; `load` must derive its seed from the share; nothing set is a setup error.

use crate::support::{self, cli};

use cli::{Run, Spotcheck};

/// Every variable `--shard auto` reads.
const SHARD_VARIABLES: [&str; 7] = [
    "CI_NODE_INDEX",
    "CI_NODE_TOTAL",
    "CIRCLE_NODE_INDEX",
    "CIRCLE_NODE_TOTAL",
    "BUILDKITE_PARALLEL_JOB",
    "BUILDKITE_PARALLEL_JOB_COUNT",
    "JOB_COMPLETION_INDEX",
];

/// Environment variables as `(name, value)`.
type Vars<'a> = &'a [(&'a str, &'a str)];

/// `spotcheck ARGS…` with the test secret, none of the runner variables but `vars`.
async fn with_runner_env(args: &[&str], vars: Vars<'_>) -> Run {
    let mut command = Spotcheck::new(args).secret(support::SECRET).no_color();
    for name in SHARD_VARIABLES {
        command = command.env_remove(name);
    }
    for (name, value) in vars {
        command = command.env(name, value);
    }
    command.run().await
}

/// The check ids of a `run` over the signature suite with this `--shard`.
async fn shard_ids(shard: &str, vars: Vars<'_>) -> (Run, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    let report = format!("json={}", path.display());
    let args = [
        "run",
        "--seed",
        "3",
        "--only",
        "signature.*",
        "--quiet",
        "--shard",
        shard,
        "--report",
        &report,
    ];
    let output = with_runner_env(&args, vars).await;
    assert_eq!(output.code, Some(0), "{}", output.all());
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let mut ids: Vec<String> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    (output, ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_takes_its_share_from_each_runner() {
    let cases: [(&str, Vars, &str, &str); 4] = [
        (
            "auto",
            &[("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "3")],
            "2/3",
            "shard 2/3 from GitLab CI (CI_NODE_INDEX=2, CI_NODE_TOTAL=3)",
        ),
        (
            "auto",
            &[("CIRCLE_NODE_INDEX", "0"), ("CIRCLE_NODE_TOTAL", "3")],
            "1/3",
            "shard 1/3 from CircleCI (CIRCLE_NODE_INDEX=0, CIRCLE_NODE_TOTAL=3)",
        ),
        (
            "auto",
            &[
                ("BUILDKITE_PARALLEL_JOB", "2"),
                ("BUILDKITE_PARALLEL_JOB_COUNT", "3"),
            ],
            "3/3",
            "shard 3/3 from Buildkite (BUILDKITE_PARALLEL_JOB=2, BUILDKITE_PARALLEL_JOB_COUNT=3)",
        ),
        (
            "auto/3",
            &[("JOB_COMPLETION_INDEX", "1")],
            "2/3",
            "shard 2/3 from a Kubernetes Indexed Job (JOB_COMPLETION_INDEX=1, total 3 from --shard auto/3)",
        ),
    ];
    let runs = cases.iter().map(|(arg, vars, fixed, said)| async move {
        let (auto, auto_ids) = shard_ids(arg, vars).await;
        let (_, fixed_ids) = shard_ids(fixed, &[]).await;
        (auto, auto_ids, fixed_ids, *fixed, *said)
    });
    let mut shares = std::collections::BTreeMap::new();
    for (auto, auto_ids, fixed_ids, fixed, said) in futures::future::join_all(runs).await {
        assert!(auto.stderr.contains(said), "{}", auto.all());
        assert!(!auto_ids.is_empty(), "{fixed}");
        assert_eq!(auto_ids, fixed_ids, "auto must pick the share {fixed}");
        shares.insert(fixed, auto_ids);
    }
    // Three runners, three different shares: no check runs twice.
    let all: Vec<&String> = shares.values().flatten().collect();
    let distinct: std::collections::BTreeSet<&String> = all.iter().copied().collect();
    assert_eq!((shares.len(), distinct.len()), (3, all.len()), "{shares:?}");
}

#[tokio::test]
async fn auto_without_a_runner_index_is_a_setup_error() {
    let output = with_runner_env(&["run", "--shard", "auto"], &[]).await;
    assert_eq!(output.code, Some(2), "{}", output.all());
    assert!(
        output
            .stderr
            .contains("--shard auto found no runner index in the environment"),
        "{}",
        output.all()
    );
    assert!(output.stderr.contains("CI_NODE_INDEX"), "{}", output.all());

    // A Kubernetes Indexed Job gives no total: auto alone cannot know N.
    let output = with_runner_env(
        &["run", "--shard", "auto"],
        &[("JOB_COMPLETION_INDEX", "0")],
    )
    .await;
    assert_eq!(output.code, Some(2), "{}", output.all());
    assert!(output.stderr.contains("--shard auto/N"), "{}", output.all());

    // An index outside the total.
    let output = with_runner_env(
        &["load", "--shard", "auto", "--requests", "1"],
        &[("CIRCLE_NODE_INDEX", "4"), ("CIRCLE_NODE_TOTAL", "4")],
    )
    .await;
    assert_eq!(output.code, Some(2), "{}", output.all());
    assert!(
        output.stderr.contains("the index must be 0 to 3"),
        "{}",
        output.all()
    );
}

#[tokio::test]
async fn load_picks_a_distinct_seed_per_runner() {
    let dir = tempfile::tempdir().unwrap();
    let mut seeds = Vec::new();
    for index in ["0", "2"] {
        let path = dir.path().join(format!("load-{index}.json"));
        let report = format!("json={}", path.display());
        let args = [
            "load",
            "--requests",
            "20",
            "--seed",
            "100",
            "--shard",
            "auto",
            "--quiet",
            "--report",
            &report,
        ];
        let vars = [("CIRCLE_NODE_INDEX", index), ("CIRCLE_NODE_TOTAL", "4")];
        let output = with_runner_env(&args, &vars).await;
        assert_eq!(output.code, Some(0), "{}", output.all());
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let seed = json["seed"].as_u64().unwrap();
        assert!(
            output.stdout.contains(&format!(", seed {seed}")),
            "{}",
            output.all()
        );
        assert!(output.stderr.contains("from CircleCI"), "{}", output.all());
        seeds.push(seed);
    }
    // Runner K of N sends with --seed + K − 1.
    assert_eq!(seeds, [100, 102]);
}
