//! What every part of the validator uses: the scenario model, spans, units and
//! diagnostics.

pub(super) use std::collections::HashMap;
pub(super) use std::ops::Range;
pub(super) use std::path::Path;
pub(super) use std::sync::Arc;
pub(super) use std::time::Duration;

pub(super) use toml::Spanned;

pub(super) use crate::check::{CheckInfo, DiagnosisKind, Level};
pub(super) use crate::event::catalogue::closest;
pub(super) use crate::event::{EventKind, UnknownEvent};
pub(super) use crate::signing::SignatureFormat;
pub(super) use crate::units::{Offset, SizeError, format_size, parse_duration, parse_size};

pub(super) use crate::scenario::budget::{self, Budget, JsonSize, Limits};
pub(super) use crate::scenario::diagnostic::Problem;
pub(super) use crate::scenario::file_root::{FileRoot, Refusal};
pub(super) use crate::scenario::json::{JsonKind, JsonNode, JsonTemplate, OneOrMany, OrderedTable};
pub(super) use crate::scenario::model::ObserveTarget;
pub(super) use crate::scenario::model::{
    Action, Authorization, BodyStyle, Capability, ExecStep, Expect, Observe, Origin, Precondition,
    Product, RESERVED_HEADERS, Scenario, SendSource, SendStep, SignatureSpec, SignatureToken, Step,
    StepRef, Tamper, TokenCredentials, TokenStep, Var, limits,
};
pub(super) use crate::scenario::raw::{RawExpect, RawPrecondition, RawScenario, RawStep};
pub(super) use crate::scenario::status::StatusExpect;
pub(super) use crate::scenario::template::{Expr, StepField, Template, TextSize, is_identifier};
