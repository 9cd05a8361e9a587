//! What is published has passed the checks: `.github/workflows/release.yml` and
//! `container.yml` call `ci.yml` and every publishing job waits for it, and `ci.yml`
//! runs `.ci/run` and checks the static musl release binary (`file`, `ldd`, a smoke
//! run). actionlint (run by `.ci/run`) checks the syntax; this checks the gating.

use yaml_rust2::{Yaml, YamlLoader};

fn workflow(name: &str) -> Yaml {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".github/workflows")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

/// The jobs `job` needs, directly.
fn needs(job: &Yaml) -> Vec<String> {
    match &job["needs"] {
        Yaml::String(one) => vec![one.clone()],
        Yaml::Array(many) => many
            .iter()
            .map(|n| n.as_str().unwrap().to_owned())
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether `job` waits for `ci`, directly or through the jobs it needs.
fn waits_for_ci(jobs: &yaml_rust2::yaml::Hash, job: &str) -> bool {
    needs(&jobs[&Yaml::String(job.to_owned())])
        .iter()
        .any(|n| n == "ci" || waits_for_ci(jobs, n))
}

#[test]
fn release_and_container_publish_only_after_ci_passes() {
    for name in ["release.yml", "container.yml"] {
        let workflow = workflow(name);
        let jobs = workflow["jobs"].as_hash().unwrap();
        let ci = &workflow["jobs"]["ci"];
        assert_eq!(
            ci["uses"].as_str(),
            Some("./.github/workflows/ci.yml"),
            "{name}: a `ci` job calls ci.yml"
        );
        for (job, _) in jobs {
            let job = job.as_str().unwrap();
            if job != "ci" {
                assert!(
                    waits_for_ci(jobs, job),
                    "{name}: job `{job}` does not wait for ci"
                );
            }
        }
    }
}

#[test]
fn ci_runs_the_checks_and_inspects_the_static_musl_binary() {
    let ci = workflow("ci.yml");
    assert!(
        !ci["on"]["workflow_call"].is_badvalue(),
        "ci.yml can be called by the release workflows"
    );
    let steps = |job: &str| -> String {
        ci["jobs"][job]["steps"]
            .as_vec()
            .unwrap_or_else(|| panic!("ci.yml has no job {job}"))
            .iter()
            .filter_map(|step| step["run"].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(steps("checks").contains(".ci/run"));
    let musl = steps("musl");
    for needed in [
        "--release --locked",
        "--target \"$TARGET\"",
        "file --brief",
        "statically linked",
        "ldd \"$bin\"",
        "not a dynamic executable",
        "--version",
        "run --seed 1",
    ] {
        assert!(
            musl.contains(needed),
            "the musl job lacks `{needed}`:\n{musl}"
        );
    }
    assert_eq!(
        ci["jobs"]["musl"]["env"]["TARGET"].as_str(),
        Some("x86_64-unknown-linux-musl")
    );
}
