//! One SVG per scenario: throughput (median bar, lowest-to-highest run as a whisker) and p99
//! latency, one horizontal bar per server, coloured by family.

use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::report::{RunOutcome, ScenarioResult};
use super::servers::Family;

const OURS: RGBColor = RGBColor(31, 119, 180);
const APACHE: RGBColor = RGBColor(214, 39, 40);
const NGINX: RGBColor = RGBColor(44, 160, 44);
const BASELINE: RGBColor = RGBColor(127, 127, 127);

pub(crate) fn draw(result: &ScenarioResult, path: &Path) -> Result<()> {
    let height = 90 + 34 * result.results.len() as u32;
    let root = SVGBackend::new(path, (1000, height)).into_drawing_area();
    let svg = |e| anyhow!("drawing {}: {e:?}", path.display());
    root.fill(&WHITE).map_err(svg)?;
    let title = format!("{}: {}", result.scenario.name(), result.description);
    let root = root.titled(&title, ("sans-serif", 15)).map_err(svg)?;
    let (left, right) = root.split_horizontally(520);

    let bars: Vec<Bar> = result
        .results
        .iter()
        .map(|r| Bar {
            label: r.server.clone(),
            colour: match r.family {
                Family::Ours => OURS,
                Family::Apache => APACHE,
                Family::Nginx => NGINX,
                Family::Baseline => BASELINE,
            },
            throughput: r.throughput,
            p99: r.median.as_ref().and_then(|m| m.p99_ms),
            p99_runs: r
                .runs
                .iter()
                .filter_map(|o| match o {
                    RunOutcome::Measured(f) => f.p99_ms,
                    RunOutcome::Failed { .. } => None,
                })
                .collect(),
        })
        .collect();
    let throughput: Vec<Option<(f64, f64, f64)>> =
        bars.iter().map(|b| b.throughput.map(|[m, lo, hi]| (m, lo, hi))).collect();
    panel(
        &left,
        &bars,
        &throughput,
        &format!("{} (median; whisker: lowest to highest run)", result.unit),
        true,
    )
    .map_err(svg)?;
    let p99: Vec<Option<(f64, f64, f64)>> = bars
        .iter()
        .map(|b| {
            let lo = b.p99_runs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = b.p99_runs.iter().copied().fold(0.0, f64::max);
            b.p99.map(|m| (m, lo.min(m), hi.max(m)))
        })
        .collect();
    panel(&right, &bars, &p99, "p99 latency, ms (lower is better)", false).map_err(svg)?;
    root.present().map_err(svg)?;
    Ok(())
}

struct Bar {
    label: String,
    colour: RGBColor,
    throughput: Option<[f64; 3]>,
    p99: Option<f64>,
    p99_runs: Vec<f64>,
}

type DrawResult = std::result::Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// Horizontal bars, one per server from the top down, with a whisker from lowest to highest
/// run; a server with no figure (failed, or no request answered) gets a word instead of a bar.
fn panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    bars: &[Bar],
    values: &[Option<(f64, f64, f64)>],
    caption: &str,
    labels: bool,
) -> DrawResult {
    let top = values.iter().flatten().map(|v| v.2.max(v.0)).fold(0.0, f64::max);
    let x_max = if top > 0.0 { top * 1.15 } else { 1.0 };
    let n = bars.len();
    // Plotters' integer ranges include their end: 0..n-1 is n segments. Row 0 is drawn on top.
    let row = |i: usize| n - 1 - i;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 13))
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(if labels { 120 } else { 8 })
        .build_cartesian_2d(0.0..x_max, (0..n.saturating_sub(1)).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(r) if labels && *r < n => bars[row(*r)].label.clone(),
            _ => String::new(),
        })
        .x_labels(6)
        .x_label_formatter(&|x| match x_max {
            m if m >= 10_000.0 => format!("{:.0}k", x / 1000.0),
            m if m >= 10.0 => format!("{x:.0}"),
            m if m >= 1.0 => format!("{x:.1}"),
            _ => format!("{x:.2}"),
        })
        .draw()?;
    let drawn = || bars.iter().zip(values).enumerate().filter_map(|(i, (b, v))| v.map(|v| (row(i), b, v)));
    chart.draw_series(drawn().map(|(r, bar, v)| {
        let mut rect = Rectangle::new(
            [(0.0, SegmentValue::Exact(r)), (v.0, SegmentValue::Exact(r + 1))],
            bar.colour.filled(),
        );
        rect.set_margin(5, 5, 0, 0);
        rect
    }))?;
    chart.draw_series(drawn().filter(|(_, _, v)| v.2 > v.1).map(|(r, _, v)| {
        PathElement::new([(v.1, SegmentValue::CenterOf(r)), (v.2, SegmentValue::CenterOf(r))], BLACK)
    }))?;
    chart.draw_series(values.iter().enumerate().map(|(i, v)| {
        let (text, x) = match v {
            Some(v) if v.0 >= 100.0 => (format!("{:.0}", v.0), v.0.max(v.2)),
            Some(v) => (format!("{:.2}", v.0), v.0.max(v.2)),
            None => ("no figure".to_owned(), 0.0),
        };
        Text::new(text, (x + x_max * 0.01, SegmentValue::CenterOf(row(i))), ("sans-serif", 11))
    }))?;
    Ok(())
}
