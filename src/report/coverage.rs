//! How every format words a run's coverage (computed by [`crate::coverage`]): one line
//! at the end of the terminal summary, a section of the Markdown (and so HTML)
//! sign-off report with a table and a bar chart, and the note that a run fell short
//! of `--min-coverage`.

use std::fmt::Write as _;

use crate::coverage::{Coverage, Ratio, Shortfall};

/// The heading of the Markdown section; the HTML report draws its bars by it.
pub(crate) const COVERAGE_HEADING: &str = "Coverage";

/// The characters of a text bar: filled and empty tenths.
const FULL: char = '█';
const EMPTY: char = '░';

/// A ten-character bar for `percent` (each block a tenth, rounded down).
pub fn bar(percent: u32) -> String {
    let full = (percent.min(100) / 10) as usize;
    let mut text = String::with_capacity(30);
    text.extend(std::iter::repeat_n(FULL, full));
    text.extend(std::iter::repeat_n(EMPTY, 10 - full));
    text
}

/// Whether `text` is a bar [`bar`] drew (the HTML report replaces it with CSS).
pub(crate) fn is_bar(text: &str) -> bool {
    text.chars().count() == 10 && text.chars().all(|c| c == FULL || c == EMPTY)
}

/// The line the terminal summary ends with: `coverage: operations 14/18 accepted, …`.
pub fn terminal_line(coverage: &Coverage) -> String {
    let t = &coverage.totals;
    let mut line = format!(
        "coverage: operations {}/{} accepted",
        t.operations.covered, t.operations.total
    );
    if t.products.total > 0 {
        let _ = write!(
            line,
            ", products {}/{}",
            t.products.covered, t.products.total
        );
    }
    if t.enums.total > 0 {
        let _ = write!(line, ", enum values {}/{}", t.enums.covered, t.enums.total);
    }
    for schema in &coverage.schemas {
        let _ = write!(
            line,
            ", schema {} {}%",
            schema.event_type,
            schema.paths.percent()
        );
    }
    line
}

/// The sentence that says which `--min-coverage` goals were missed.
pub fn shortfall_note(shortfalls: &[Shortfall]) -> String {
    let parts: Vec<String> = shortfalls
        .iter()
        .map(|s| {
            format!(
                "{} {}% (at least {}% required)",
                s.key, s.reached_percent, s.required_percent
            )
        })
        .collect();
    format!(
        "below the minimum coverage (--min-coverage): {}; the run is not conformant even if every check passed",
        parts.join(", ")
    )
}

fn share(ratio: Ratio) -> String {
    format!("{} of {}", ratio.covered, ratio.total)
}

/// The Markdown section: the four shares with bars, the operations, products, branch
/// fields, the largest uncovered schema subtrees and what was proven.
pub fn markdown(coverage: &Coverage) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n## {COVERAGE_HEADING}\n");
    let _ = writeln!(
        out,
        "What the deliveries the endpoint accepted (answered 200, correctly signed) exercised.\n"
    );
    let _ = writeln!(
        out,
        "| Measure | Accepted | Share | Chart |\n| --- | --- | --- | --- |"
    );
    let t = &coverage.totals;
    let mut row = |name: String, ratio: Ratio| {
        let _ = writeln!(
            out,
            "| {name} | {} | {}% | {} |",
            share(ratio),
            ratio.percent(),
            bar(ratio.percent())
        );
    };
    row("Subscribed operations".into(), t.operations);
    if t.products.total > 0 {
        row("Product blocks (`PNR_V3`)".into(), t.products);
    }
    if t.enums.total > 0 {
        row("Published values of branch fields".into(), t.enums);
    }
    for schema in &coverage.schemas {
        row(
            format!("`{}` schema paths (`{}`)", schema.schema, schema.event_type),
            schema.paths,
        );
        row(
            format!(
                "`{}` schema enum values (`{}`)",
                schema.schema, schema.event_type
            ),
            schema.enum_values,
        );
    }

    let _ = writeln!(
        out,
        "\n| Event type | Operation | Subscribed | Sent | Accepted |\n| --- | --- | --- | --- | --- |"
    );
    for op in &coverage.operations {
        let _ = writeln!(
            out,
            "| `{}` | `{}` | {} | {} | {}{} |",
            op.event_type,
            op.operation,
            if op.subscribed { "yes" } else { "no" },
            op.sent,
            op.accepted,
            if op.subscribed && op.accepted == 0 {
                " (gap)"
            } else {
                ""
            }
        );
    }
    if !coverage.products.is_empty() {
        let products: Vec<String> = coverage
            .products
            .iter()
            .map(|p| format!("{} {} of {} sent", p.product, p.accepted, p.sent))
            .collect();
        let _ = writeln!(out, "\n**Products accepted.** {}.", products.join(", "));
    }
    if !coverage.enums.is_empty() {
        let _ = writeln!(
            out,
            "\n| Branch field | Values accepted | Published values never accepted |\n| --- | --- | --- |"
        );
        for field in &coverage.enums {
            let missing: Vec<String> = field
                .values
                .iter()
                .filter(|v| !v.accepted)
                .map(|v| format!("`{}`", v.value))
                .collect();
            let _ = writeln!(
                out,
                "| `{}` `{}` | {} | {} |",
                field.event_type,
                field.field,
                share(field.values_accepted),
                if missing.is_empty() {
                    "—".to_owned()
                } else {
                    missing.join(", ")
                }
            );
        }
    }
    for schema in &coverage.schemas {
        if schema.largest_uncovered.is_empty() {
            continue;
        }
        let subtrees: Vec<String> = schema
            .largest_uncovered
            .iter()
            .map(|s| format!("`{}` ({} paths)", s.path, s.paths))
            .collect();
        let _ = writeln!(
            out,
            "\n**Largest uncovered parts of `{}`.** {}.",
            schema.schema,
            subtrees.join(", ")
        );
    }
    let list = |items: &[String]| {
        if items.is_empty() {
            "none".to_owned()
        } else {
            items.join(", ")
        }
    };
    let _ = writeln!(
        out,
        "\n**Proven.** Signature forms: {}. Body styles: {}. TLS versions: {}.",
        list(&coverage.signature_variants),
        list(&coverage.body_styles),
        list(&coverage.tls_versions)
    );
    out
}

/// The style of the HTML bars (a bar is a `span.bar` holding a `span` as wide as the
/// share).
pub(crate) const HTML_STYLE: &str = ".bar{display:inline-block;width:10em;height:.8em;background:#e5e7eb;border-radius:2px;vertical-align:middle}.bar>span{display:block;height:100%;background:#2563eb;border-radius:2px}";

/// The HTML for a text bar: a CSS bar of the same share.
pub(crate) fn html_bar(text: &str) -> String {
    let tenths = text.chars().filter(|c| *c == FULL).count();
    format!(
        "<span class=\"bar\" role=\"img\" aria-label=\"{}0%\"><span style=\"width:{}0%\"></span></span>",
        tenths, tenths
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_has_a_block_per_tenth() {
        assert_eq!(bar(37), "███░░░░░░░");
        assert_eq!(bar(100), "██████████");
        assert!(is_bar(&bar(0)));
        assert!(html_bar(&bar(37)).contains("width:30%"));
    }
}
