//! The HTML form of a load report (`--report html=PATH`): the terminal summary and
//! three charts as inline SVG drawn with `plotters` (its SVG backend only): latency
//! percentiles over time, throughput and answers by status class over time, and the
//! latency histogram. The page shell (style, Content-Security-Policy: no script, no
//! remote load) is the run report's, [`super::html::page`].
//!
//! Stable hooks for tools and tests: `<p class="verdict …">`, `<pre class="summary">`
//! and `<figure class="chart" id="latency-over-time|throughput-over-time|latency-histogram">`
//! around each `<svg>`.

use hdrhistogram::Histogram;
use plotters::prelude::*;

use super::html::{attr, page};
use crate::load::LoadReport;
use crate::load::series::{CLASSES, Point, Timeline};

const WIDTH: u32 = 960;
const HEIGHT: u32 = 340;

const EXTRA_STYLE: &str = "
figure.chart { margin: 1.2em 0; }
figure.chart svg { max-width: 100%; height: auto; border: 1px solid #d0d7de; border-radius: 6px; }
figure.chart figcaption { color: #57606a; font-size: 0.9em; }
";

/// Colours of the latency lines (p50, p90, p99, max) and the status classes.
const LATENCY_COLOURS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(120, 120, 120),
];
const CLASS_COLOURS: [RGBColor; 5] = [
    RGBColor(44, 160, 44),
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
];

/// The report as one self-contained HTML document.
pub fn render(report: &LoadReport) -> String {
    let all_ok = report.requests > 0 && report.ok == report.requests;
    let class = if all_ok {
        "conformant"
    } else {
        "not-conformant"
    };
    let verdict = if all_ok {
        format!(
            "Every one of {} requests was answered 200 OK.",
            report.requests
        )
    } else {
        format!(
            "{} of {} requests were not answered 200 OK.",
            report.requests - report.ok,
            report.requests
        )
    };
    let mut body = format!(
        "<h1>Load report: {}</h1>\n<p class=\"verdict {class}\">{}</p>\n<pre class=\"summary\">{}</pre>\n",
        attr(&report.endpoint),
        attr(&verdict),
        attr(&super::load::render_text(report))
    );
    let latency_note = if report.rate.is_some() {
        "Latency counts from each request's scheduled send time (open model)."
    } else {
        "Latency counts from when each request was sent (closed model)."
    };
    match &report.timeline {
        Some(timeline) if !timeline.points.is_empty() => {
            body.push_str(&figure(
                "latency-over-time",
                &latency_over_time(timeline),
                &format!(
                    "Latency percentiles per {} s interval (log scale). {latency_note}",
                    timeline.interval_s
                ),
            ));
            body.push_str(&figure(
                "throughput-over-time",
                &throughput_over_time(timeline),
                &format!(
                    "Completed requests per second, in all and by status class, per {} s interval.",
                    timeline.interval_s
                ),
            ));
        }
        _ => body.push_str(
            "<p class=\"no-timeline\">No timeline: it is recorded during a run written with <code>--report html=PATH</code> (a merged report has none).</p>\n",
        ),
    }
    let histogram = report
        .histogram
        .as_ref()
        .and_then(|encoded| encoded.decode().ok());
    match histogram {
        Some(histogram) if !histogram.is_empty() => body.push_str(&figure(
            "latency-histogram",
            &latency_histogram(&histogram),
            &format!(
                "Requests by latency (log scale, ms), all {} requests. {latency_note}",
                histogram.len()
            ),
        )),
        _ => body.push_str(
            "<p class=\"no-histogram\">No latency histogram: no request completed.</p>\n",
        ),
    }
    page(
        &report.tool,
        &format!("spotcheck load report: {}", report.endpoint),
        class,
        EXTRA_STYLE,
        &body,
    )
}

fn figure(id: &str, svg: &str, caption: &str) -> String {
    format!(
        "<figure class=\"chart\" id=\"{id}\">\n{svg}\n<figcaption>{}</figcaption>\n</figure>\n",
        attr(caption)
    )
}

/// Draws into an SVG string; a drawing error (none is expected with fixed sizes)
/// leaves a note instead of a chart.
fn svg(
    draw: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> Result<(), String>,
) -> String {
    let mut out = String::new();
    let result = {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root).and_then(|()| root.present().map_err(|e| e.to_string()))
    };
    match result {
        Ok(()) => out,
        Err(err) => format!("<p>chart not drawn: {}</p>", attr(&err)),
    }
}

/// A white chart area with its caption, margins and axis label areas (the same for
/// every chart).
fn frame<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    caption: &str,
) -> Result<ChartBuilder<'a, 'b, SVGBackend<'b>>, String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut builder = ChartBuilder::on(root);
    builder
        .caption(caption, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64);
    Ok(builder)
}

fn x_range(timeline: &Timeline) -> std::ops::Range<f64> {
    let last = timeline.points.last().map_or(0, |p| p.t_s);
    0.0..(last + timeline.interval_s).max(1) as f64
}

/// Reads one figure of an interval.
type Measure = fn(&Point) -> f64;

fn latency_over_time(timeline: &Timeline) -> String {
    let series: [(&str, Measure); 4] = [
        ("p50", |p| p.p50_ms),
        ("p90", |p| p.p90_ms),
        ("p99", |p| p.p99_ms),
        ("max", |p| p.max_ms),
    ];
    let values = timeline
        .points
        .iter()
        .filter(|p| p.requests > 0)
        .flat_map(|p| series.iter().map(move |(_, get)| get(p)));
    let low = values.clone().fold(f64::INFINITY, f64::min).max(0.001);
    let high = values.fold(0.0, f64::max).max(low * 10.0);
    svg(|root| {
        let mut chart = frame(root, "Latency percentiles over time")?
            .build_cartesian_2d(x_range(timeline), (low / 1.5..high * 1.5).log_scale())
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("seconds into the run")
            .y_desc("latency (ms)")
            .draw()
            .map_err(|e| e.to_string())?;
        for ((name, get), colour) in series.iter().zip(LATENCY_COLOURS) {
            let points = timeline
                .points
                .iter()
                .filter(|p| p.requests > 0)
                .map(|p| (p.t_s as f64, get(p).max(low)));
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| e.to_string())
    })
}

fn throughput_over_time(timeline: &Timeline) -> String {
    let span = |p: &Point| {
        if p.requests > 0 {
            p.rps / p.requests as f64
        } else {
            0.0
        }
    };
    let high = timeline.points.iter().map(|p| p.rps).fold(1.0, f64::max) * 1.15;
    svg(|root| {
        let mut chart = frame(root, "Throughput and status over time")?
            .build_cartesian_2d(x_range(timeline), 0.0..high)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("seconds into the run")
            .y_desc("requests per second")
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(
                timeline.points.iter().map(|p| (p.t_s as f64, p.rps)),
                BLACK.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label("all")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.stroke_width(2)));
        for (index, (name, colour)) in CLASSES.iter().zip(CLASS_COLOURS).enumerate() {
            if timeline.points.iter().all(|p| p.classes[index] == 0) {
                continue;
            }
            // Each class's rate: its share of the interval's requests at its rate.
            let points = timeline
                .points
                .iter()
                .map(|p| (p.t_s as f64, p.classes[index] as f64 * span(p)));
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(|e| e.to_string())
    })
}

/// Bars of requests per latency band, the bands 25 % wide (log scale).
fn latency_histogram(histogram: &Histogram<u64>) -> String {
    let mut bars: Vec<(f64, f64, u64)> = Vec::new();
    let mut low_us = 1.0;
    for band in histogram.iter_log(1, 1.25) {
        let high_us = band.value_iterated_to() as f64;
        let count = band.count_since_last_iteration();
        if count > 0 {
            bars.push((low_us / 1000.0, high_us.max(low_us + 1.0) / 1000.0, count));
        }
        low_us = high_us;
    }
    let low = bars.first().map_or(0.001, |b| b.0).max(0.001);
    let high = bars.last().map_or(1.0, |b| b.1).max(low * 10.0);
    let top = bars.iter().map(|b| b.2).max().unwrap_or(1) as f64 * 1.1;
    svg(|root| {
        let mut chart = frame(root, "Latency histogram")?
            .build_cartesian_2d((low / 1.2..high * 1.2).log_scale(), 0.0..top)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("latency (ms)")
            .y_desc("requests")
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(bars.iter().map(|(from, to, count)| {
                Rectangle::new(
                    [(*from, 0.0), (*to, *count as f64)],
                    LATENCY_COLOURS[0].filled(),
                )
            }))
            .map_err(|e| e.to_string())?;
        Ok(())
    })
}
