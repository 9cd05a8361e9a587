//! The flags of every command that loads scenario files (`run`, `scenarios check`,
//! `scenarios list`): where files may be read from (`--file-root`) and the caps a
//! scenario must fit (`--max-expansion`, `--max-delivery-body`, `--max-deliveries`,
//! `--max-scenario-bytes`, `--max-run-deliveries`, `--max-run-bytes`).

use std::path::PathBuf;

use clap::Args;

use crate::scenario::{Limits, LoadOptions};

/// Scenario file access and size caps.
#[derive(Debug, Clone, Args)]
pub struct ScenarioFileArgs {
    /// The folder scenario files and every file they name (`payload_file`) must be in
    /// (default: each scenario path's own folder); nothing outside it is read.
    #[arg(long, value_name = "DIR")]
    pub file_root: Option<PathBuf>,
    /// Most bytes one template or `[vars]` value of a scenario file may expand to.
    #[arg(long, value_name = "SIZE", default_value = "1MiB", value_parser = super::serve::parse_size)]
    pub max_expansion: usize,
    /// Most bytes of one delivery's body a scenario may make.
    #[arg(long, value_name = "SIZE", default_value = "32MiB", value_parser = super::serve::parse_size)]
    pub max_delivery_body: usize,
    /// Most deliveries one scenario may send (repeat and "each" counted).
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT.deliveries)]
    pub max_deliveries: u64,
    /// Most body bytes one scenario may send, all its deliveries together.
    #[arg(long, value_name = "SIZE", default_value = "128MiB", value_parser = super::serve::parse_size)]
    pub max_scenario_bytes: usize,
    /// Most deliveries all scenarios of a run may send together.
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT.run_deliveries)]
    pub max_run_deliveries: u64,
    /// Most body bytes all scenarios of a run may send together.
    #[arg(long, value_name = "SIZE", default_value = "512MiB", value_parser = super::serve::parse_size)]
    pub max_run_bytes: usize,
}

impl ScenarioFileArgs {
    /// The loader's options.
    pub fn options(&self) -> LoadOptions {
        LoadOptions {
            file_root: self.file_root.clone(),
            limits: self.limits(),
        }
    }

    /// The caps.
    pub fn limits(&self) -> Limits {
        Limits {
            expansion: self.max_expansion as u64,
            body: self.max_delivery_body as u64,
            deliveries: self.max_deliveries,
            bytes: self.max_scenario_bytes as u64,
            run_deliveries: self.max_run_deliveries,
            run_bytes: self.max_run_bytes as u64,
        }
    }

    /// The flags that differ from their defaults, for a replay command.
    pub fn replay_flags(&self) -> Vec<(&'static str, String)> {
        // Without `..`: a new flag does not compile until it is replayed here (the
        // caps are read through `limits`).
        let ScenarioFileArgs {
            file_root,
            max_expansion: _,
            max_delivery_body: _,
            max_deliveries: _,
            max_scenario_bytes: _,
            max_run_deliveries: _,
            max_run_bytes: _,
        } = self;
        let mut out = Vec::new();
        if let Some(root) = file_root {
            out.push(("--file-root", root.display().to_string()));
        }
        let d = Limits::DEFAULT;
        let l = self.limits();
        for (flag, value, default) in [
            ("--max-expansion", l.expansion, d.expansion),
            ("--max-delivery-body", l.body, d.body),
            ("--max-deliveries", l.deliveries, d.deliveries),
            ("--max-scenario-bytes", l.bytes, d.bytes),
            ("--max-run-deliveries", l.run_deliveries, d.run_deliveries),
            ("--max-run-bytes", l.run_bytes, d.run_bytes),
        ] {
            if value != default {
                out.push((flag, value.to_string()));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::ScenarioFileArgs;
    use crate::scenario::Limits;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        files: ScenarioFileArgs,
    }

    #[test]
    fn the_flag_defaults_are_the_documented_limits() {
        let cli = Cli::parse_from(["x"]);
        assert_eq!(cli.files.limits(), Limits::DEFAULT);
        assert!(cli.files.replay_flags().is_empty());
    }
}
