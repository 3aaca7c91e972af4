//! The duration chart of the details page: an SVG drawn on the server, one bar per run
//! (the last 100), lines at the median (p50) and the 95th percentile, failures marked.
//! The geometry is pure and tested; the drawing uses classes (styled by the page's
//! CSS, dark mode included) and no inline style, which the page's CSP forbids.

use maud::{Markup, html};

use super::history::quantile;
use super::words::seconds;

pub(super) const WIDTH: f64 = 640.0;
pub(super) const HEIGHT: f64 = 180.0;
/// Room for the axis labels on the left and below.
const LEFT: f64 = 56.0;
/// Room for the p50 and p95 labels on the right.
const RIGHT: f64 = 84.0;
const BOTTOM: f64 = 18.0;
const TOP: f64 = 8.0;

/// One run as the chart takes it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Point {
    pub seconds: f64,
    pub failed: bool,
    /// Where the bar links to (the run's page), and its label.
    pub href: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    pub failed: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Geometry {
    pub bars: Vec<Bar>,
    /// The top of the scale, in seconds.
    pub max: f64,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    /// The y of the p50 and p95 lines.
    pub p50_y: Option<f64>,
    pub p95_y: Option<f64>,
}

/// Bars left to right, oldest first; the scale runs from 0 to the longest run (or
/// 1 s when every run took no time).
pub(super) fn geometry(points: &[Point]) -> Geometry {
    let values: Vec<f64> = points.iter().map(|p| p.seconds.max(0.0)).collect();
    let max = values.iter().copied().fold(0.0_f64, f64::max);
    let max = if max > 0.0 { max } else { 1.0 };
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / points.len().max(1) as f64;
    let width = (slot * 0.8).max(1.0);
    let y_of = |v: f64| TOP + plot_h - (v / max) * plot_h;
    let bars = values
        .iter()
        .zip(points)
        .enumerate()
        .map(|(i, (v, p))| {
            // A zero-length run still shows as a sliver.
            let height = ((v / max) * plot_h).max(1.0);
            Bar {
                x: LEFT + i as f64 * slot + (slot - width) / 2.0,
                y: TOP + plot_h - height,
                width,
                height,
                failed: p.failed,
            }
        })
        .collect();
    let ok: Vec<f64> = values
        .iter()
        .zip(points)
        .filter(|(_, p)| !p.failed)
        .map(|(v, _)| *v)
        .collect();
    let p50 = quantile(&ok, 0.5);
    let p95 = quantile(&ok, 0.95);
    Geometry {
        bars,
        max,
        p50,
        p95,
        p50_y: p50.map(y_of),
        p95_y: p95.map(y_of),
    }
}

fn r(v: f64) -> String {
    format!("{:.1}", v)
}

/// The chart, or a sentence when there is no run with a duration yet.
pub(super) fn render(points: &[Point]) -> Markup {
    if points.is_empty() {
        return html! { p.muted { "No finished run with a start yet: the chart shows runs whose start and end were both pinged (" code { "hb run" } " does both)." } };
    }
    let g = geometry(points);
    let failed = points.iter().filter(|p| p.failed).count();
    let title = format!(
        "Durations of the last {} runs: median {}, 95th percentile {}, longest {}, {} failed",
        points.len(),
        g.p50.map(seconds).unwrap_or_else(|| "unknown".into()),
        g.p95.map(seconds).unwrap_or_else(|| "unknown".into()),
        seconds(g.max),
        failed
    );
    let base = HEIGHT - BOTTOM;
    html! {
        figure.chart {
            // A group, not an image: each bar is a link to its run.
            svg viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="group" aria-labelledby="chart-title" {
                title #chart-title { (title) }
                line.axis x1=(LEFT) y1=(r(base)) x2=(WIDTH - RIGHT) y2=(r(base)) {}
                line.axis x1=(LEFT) y1=(TOP) x2=(LEFT) y2=(r(base)) {}
                text.tick x=(LEFT - 4.0) y=(TOP + 8.0) text-anchor="end" { (seconds(g.max)) }
                text.tick x=(LEFT - 4.0) y=(r(base)) text-anchor="end" { "0" }
                @for (bar, p) in g.bars.iter().zip(points) {
                    a href=(p.href) aria-label=(p.label) {
                        rect class=(if bar.failed { "bar fail" } else { "bar" })
                            x=(r(bar.x)) y=(r(bar.y)) width=(r(bar.width)) height=(r(bar.height)) {
                            title { (p.label) }
                        }
                        @if bar.failed {
                            // A cross above a failed run: the mark is a shape, not colour alone.
                            path.failmark d=(format!(
                                "M{x0} {y0} L{x1} {y1} M{x0} {y1} L{x1} {y0}",
                                x0 = r(bar.x + bar.width / 2.0 - 3.0),
                                x1 = r(bar.x + bar.width / 2.0 + 3.0),
                                y0 = r((bar.y - 9.0).max(0.0)),
                                y1 = r((bar.y - 3.0).max(6.0)),
                            )) {}
                        }
                    }
                }
                @if let (Some(y), Some(v)) = (g.p95_y, g.p95) {
                    line.p95 x1=(LEFT) y1=(r(y)) x2=(WIDTH - RIGHT) y2=(r(y)) {}
                    text.tick x=(WIDTH - RIGHT + 4.0) y=(r((y + 4.0).max(TOP + 4.0))) { "p95 " (seconds(v)) }
                }
                @if let (Some(y), Some(v)) = (g.p50_y, g.p50) {
                    line.p50 x1=(LEFT) y1=(r(y)) x2=(WIDTH - RIGHT) y2=(r(y)) {}
                    // Below the p95 label when the two lines are close.
                    @let y50 = match g.p95_y { Some(y95) if (y - y95).abs() < 14.0 => y95 + 18.0, _ => y + 4.0 };
                    text.tick x=(WIDTH - RIGHT + 4.0) y=(r(y50.min(base))) { "p50 " (seconds(v)) }
                }
            }
            figcaption {
                "Last " (points.len()) " runs, oldest on the left. Bars are run durations; "
                span.key-p50 { "dashed: median (p50)" } ", "
                span.key-p95 { "dotted: 95th percentile" } "; "
                "a cross marks a failed run (" (failed) ")."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(seconds: f64, failed: bool) -> Point {
        Point {
            seconds,
            failed,
            href: "/r".into(),
            label: "run".into(),
        }
    }

    #[test]
    fn bars_scale_to_the_longest_run_and_lines_sit_at_p50_and_p95() {
        let mut points: Vec<Point> = (1..=20).map(|i| point(f64::from(i), false)).collect();
        points.push(point(40.0, true));
        let g = geometry(&points);
        assert_eq!(g.bars.len(), 21);
        assert_eq!(g.max, 40.0);
        let plot_h = HEIGHT - TOP - BOTTOM;
        // The longest bar reaches the top; bars stand on the baseline.
        let tallest = &g.bars[20];
        assert!((tallest.y - TOP).abs() < 1e-9 && tallest.failed);
        for b in &g.bars {
            assert!(((b.y + b.height) - (TOP + plot_h)).abs() < 1e-9);
            assert!(b.x >= LEFT && b.x + b.width <= WIDTH - RIGHT + 1e-9);
        }
        // Left to right, evenly.
        assert!(g.bars.windows(2).all(|w| w[1].x > w[0].x));
        // Percentiles of the successful runs only.
        assert_eq!(g.p50, Some(10.0));
        assert_eq!(g.p95, Some(19.0));
        let y10 = TOP + plot_h - 10.0 / 40.0 * plot_h;
        assert!((g.p50_y.unwrap() - y10).abs() < 1e-9);
        assert!(g.p95_y.unwrap() < g.p50_y.unwrap(), "p95 is drawn higher");
    }

    #[test]
    fn zero_length_runs_and_no_success_still_draw() {
        let g = geometry(&[point(0.0, false), point(0.0, true)]);
        assert_eq!(g.max, 1.0);
        assert!(g.bars.iter().all(|b| b.height >= 1.0));
        let g = geometry(&[point(5.0, true)]);
        assert_eq!((g.p50, g.p95), (None, None));
        let svg = render(&[point(2.0, false), point(3.0, true)]).into_string();
        assert!(svg.contains("<title id=\"chart-title\">"));
        assert!(svg.contains("class=\"bar fail\"") && svg.contains("failmark"));
        assert!(!svg.contains("style="), "no inline style under the CSP");
        assert!(render(&[]).into_string().contains("No finished run"));
    }
}
