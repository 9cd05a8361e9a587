//! Scenario files: one check per TOML file, its steps, and what must hold.
//!
//! - [`load_str`] / [`load_path`] / [`load_paths`] read files into the checked
//!   [`model`]; every mistake becomes a [`Problem`] with file, line, column, the
//!   offending text underlined, what was expected and a "did you mean".
//! - [`load_paths_with`] confines file access to a [`FileRoot`] and checks each
//!   scenario against the [`Limits`] (see [`budget`]); [`check_run_budget`] the run's.
//! - [`builtin()`] gives the built-in suites (the files under `scenarios/`).
//! - [`template`] parses `{{ … }}` at load time; the runner renders with a
//!   [`TemplateContext`].
//!
//! Format rules that keep error positions exact: the serde model (`raw`) uses no
//! `tag`/`untagged`/`flatten`, union fields have hand-written `Deserialize`s, values
//! needing semantic checks are `toml::Spanned`, and every table denies unknown keys.

mod booking;
pub mod budget;
pub mod builtin;
pub mod builtin_order;
pub mod diagnostic;
mod file_root;
mod ids;
pub mod json;
pub mod model;
pub mod observe;
pub mod overrides;
mod parse;
mod raw;
mod read;
pub mod schema;
pub mod status;
pub mod template;
mod toml_error;
mod validate;

pub use budget::{Budget, Limits};
pub use builtin::{builtin, with_builtin};
pub use diagnostic::{Problem, ScenarioError};
pub use file_root::{FileRoot, Refusal};
pub use ids::check_unique_ids;
pub use json::JsonTemplate;
pub use model::ObserveTarget;
pub use model::{
    Action, Authorization, BodyStyle, Capability, ExecStep, Expect, Observe, Origin, Precondition,
    Product, Scenario, SendSource, SendStep, SignatureSpec, SignatureToken, Step, StepRef, Tamper,
    TokenCredentials, TokenStep, Var,
};
pub use observe::check_origins;
pub use parse::load_str;
pub use read::{LoadOptions, check_run_budget, load_path, load_paths, load_paths_with};
pub use status::{StatusClass, StatusError, StatusExpect};
pub use template::{MapContext, RenderError, StepField, Template, TemplateContext, TextSize};
