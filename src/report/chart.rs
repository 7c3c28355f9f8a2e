//! `equity.svg`: each account's equity (above) and drawdown from its peak
//! (below) over the run, with buy-and-hold BTC beside them when the data has
//! BTC — one picture a trader reads without zooming.

use std::path::Path;

use anyhow::{Context, anyhow};
use dataflows::model::TimeMs;
use plotters::prelude::*;

const DAY_MS: f64 = 86_400_000.0;

/// One line of the chart: a name and its (time, equity) points.
pub struct Series<'a> {
    pub name: &'a str,
    pub points: &'a [(TimeMs, f64)],
}

/// Drawdown from the running peak, as a negative percentage.
fn drawdown(points: &[(TimeMs, f64)]) -> Vec<(TimeMs, f64)> {
    let mut peak = f64::MIN;
    points
        .iter()
        .map(|(t, v)| {
            peak = peak.max(*v);
            (*t, if peak > 0.0 { (v / peak - 1.0) * 100.0 } else { 0.0 })
        })
        .collect()
}

pub fn write(path: &Path, series: &[Series], start: TimeMs) -> anyhow::Result<()> {
    let mut svg = String::new();
    draw(&mut svg, series, start).map_err(|e| anyhow!("cannot draw {}: {e}", path.display()))?;
    std::fs::write(path, svg).with_context(|| format!("cannot write {}", path.display()))
}

fn draw(svg: &mut String, series: &[Series], start: TimeMs) -> Result<(), Box<dyn std::error::Error>> {
    let all = || series.iter().flat_map(|s| s.points.iter());
    let days = |t: TimeMs| t.saturating_sub(start) as f64 / DAY_MS;
    let x_end = all().map(|(t, _)| days(*t)).fold(1.0, f64::max);
    let (lo, hi) = all().fold((f64::MAX, f64::MIN), |(lo, hi), (_, v)| (lo.min(*v), hi.max(*v)));
    let (lo, hi) = if lo > hi { (0.0, 1.0) } else { (lo, hi) };
    let pad = ((hi - lo) * 0.05).max(hi.abs() * 0.001).max(1.0);
    let downs: Vec<Vec<(TimeMs, f64)>> = series.iter().map(|s| drawdown(s.points)).collect();
    let deepest = downs.iter().flatten().map(|(_, d)| *d).fold(-1.0, f64::min);

    let root = SVGBackend::with_string(svg, (1200, 800)).into_drawing_area();
    root.fill(&WHITE)?;
    let (upper, lower) = root.split_vertically(520);
    let start_day = chrono::DateTime::from_timestamp_millis(start as i64)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let x_desc = format!("days since {start_day} (UTC)");

    let mut equity = ChartBuilder::on(&upper)
        .caption("Equity (USD)", ("sans-serif", 26))
        .margin(16)
        .x_label_area_size(36)
        .y_label_area_size(90)
        .build_cartesian_2d(0.0..x_end, (lo - pad)..(hi + pad))?;
    equity.configure_mesh().x_desc(x_desc.as_str()).label_style(("sans-serif", 16)).draw()?;
    for (i, s) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        equity
            .draw_series(LineSeries::new(s.points.iter().map(|(t, v)| (days(*t), *v)), color.stroke_width(2)))?
            .label(s.name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3)));
    }
    equity
        .configure_series_labels()
        .label_font(("sans-serif", 16))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;

    let mut dd = ChartBuilder::on(&lower)
        .caption("Drawdown from peak (%)", ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(36)
        .y_label_area_size(90)
        .build_cartesian_2d(0.0..x_end, (deepest * 1.1)..0.5)?;
    dd.configure_mesh().x_desc(x_desc.as_str()).label_style(("sans-serif", 16)).draw()?;
    for (i, d) in downs.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        dd.draw_series(LineSeries::new(d.iter().map(|(t, v)| (days(*t), *v)), color.stroke_width(2)))?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawdown_is_measured_from_the_running_peak() {
        let d = drawdown(&[(0, 100.0), (1, 120.0), (2, 90.0), (3, 130.0)]);
        assert_eq!(d.iter().map(|x| x.1).collect::<Vec<_>>(), vec![0.0, 0.0, -25.0, 0.0]);
    }

    #[test]
    fn the_chart_names_every_series_and_draws_empty_runs() {
        let a = [(0, 100.0), (86_400_000, 110.0), (2 * 86_400_000, 105.0)];
        let mut svg = String::new();
        draw(
            &mut svg,
            &[Series { name: "consensus", points: &a }, Series { name: "BTC buy-and-hold", points: &[] }],
            0,
        )
        .unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("consensus") && svg.contains("BTC buy-and-hold"), "{svg}");
        assert!(svg.contains("Drawdown from peak"));
        let mut empty = String::new();
        draw(&mut empty, &[], 0).unwrap();
        assert!(empty.contains("Equity"));
    }
}
