//! The occurrences-and-outcomes chart of a pattern, as inline SVG rendered on the
//! server (no JavaScript needed): stacked bars per timeline bucket (completed, failed,
//! rolled back, in progress) on a real time axis that ends at the window's end ("now"),
//! and the mean effectiveness as a line on a 0..1 scale, broken where a bucket has no
//! assessed action. Every bucket has a tooltip (SVG `<title>`) with its exact figures;
//! the legend is the caption. Axis text is sized by CSS for narrow screens.

use chrono::{DateTime, Duration, Timelike, Utc};
use leptos::prelude::*;

use context_core::patterns::{Bucket, Timeline};

use crate::fmt;

const W: f64 = 720.0;
const H: f64 = 260.0;
const LEFT: f64 = 46.0;
const RIGHT: f64 = 46.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 36.0;
/// Most time-axis labels (they must fit at a phone's width with the larger text).
const MAX_TICKS: usize = 5;
/// Room kept free of tick labels next to the axis-end label, in viewBox units.
const END_GAP: f64 = 110.0;

/// Bar segments of one bucket: (class, label, count).
fn segments(b: &Bucket) -> [(&'static str, &'static str, u64); 4] {
    [
        ("c-ok", "completed", b.completed),
        ("c-bad", "failed", b.failed),
        ("c-warn", "rolled back", b.rolled_back),
        ("c-other", "in progress", b.in_progress),
    ]
}

/// A round "nice" maximum for the y axis.
pub fn nice_max(max: u64) -> u64 {
    match max {
        0..=4 => 4,
        5..=10 => 10,
        n => {
            let mag = 10u64.pow((n as f64).log10().floor() as u32);
            n.div_ceil(mag) * mag
        }
    }
}

/// Time-axis ticks strictly inside `(start, end)`: whole multiples (in UTC) of the
/// smallest step giving at most [`MAX_TICKS`], each with its label (`18:00`, or the
/// date `Dec 04` at midnight and for steps of a day or more).
pub fn time_ticks(start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<(DateTime<Utc>, String)> {
    const STEPS_MIN: [i64; 13] = [
        1, 5, 15, 30, 60, 180, 360, 720, 1440, 2880, 10_080, 20_160, 43_200,
    ];
    let span = (end - start).num_minutes().max(1);
    let step = STEPS_MIN
        .iter()
        .copied()
        .find(|s| span / s <= MAX_TICKS as i64)
        .unwrap_or(43_200);
    let step_s = step * 60;
    let mut t = (start.timestamp().div_euclid(step_s) + 1) * step_s;
    let mut out = Vec::new();
    while t < end.timestamp() {
        if let Some(tt) = DateTime::from_timestamp(t, 0) {
            let label = if step >= 1440 || (tt.hour() == 0 && tt.minute() == 0) {
                tt.format("%b %d").to_string()
            } else {
                tt.format("%H:%M").to_string()
            };
            out.push((tt, label));
        }
        t += step_s;
    }
    out
}

/// The effectiveness line as runs of consecutive buckets that have a value: each run
/// is one polyline, so a bucket without assessed actions leaves a gap.
pub fn line_runs(values: &[Option<f64>]) -> Vec<Vec<(usize, f64)>> {
    let mut runs: Vec<Vec<(usize, f64)>> = Vec::new();
    let mut cur: Vec<(usize, f64)> = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(e) => cur.push((i, *e)),
            None if !cur.is_empty() => runs.push(std::mem::take(&mut cur)),
            None => {}
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs
}

fn bucket_label(minutes: i64) -> String {
    if minutes % 1440 == 0 {
        let d = minutes / 1440;
        if d == 1 {
            "day".into()
        } else {
            format!("{d} days")
        }
    } else if minutes % 60 == 0 {
        let h = minutes / 60;
        if h == 1 {
            "hour".into()
        } else {
            format!("{h} hours")
        }
    } else {
        format!("{minutes} minutes")
    }
}

#[component]
pub fn TimelineChart(
    timeline: Timeline,
    /// The window the chart spans (the axis runs from start to end).
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// Render time: the axis end is labelled "now" when it is within a minute of it.
    now: DateTime<Utc>,
) -> impl IntoView {
    let buckets = timeline.buckets;
    let size = Duration::minutes(timeline.bucket_minutes.max(1));
    // The axis starts at the first bucket (aligned to the hour, so maybe before `start`).
    let t0 = buckets.first().map(|b| b.start.min(start)).unwrap_or(start);
    let t1 = end.max(t0 + Duration::minutes(1));
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let span = (t1 - t0).num_seconds().max(1) as f64;
    let x = move |t: DateTime<Utc>| {
        LEFT + ((t - t0).num_seconds() as f64 / span).clamp(0.0, 1.0) * plot_w
    };
    let max = nice_max(buckets.iter().map(|b| b.occurrences).max().unwrap_or(0));
    let y = move |v: f64| TOP + plot_h - v / max as f64 * plot_h;
    let total: u64 = buckets.iter().map(|b| b.occurrences).sum();
    let per = bucket_label(timeline.bucket_minutes);
    let desc = format!(
        "{total} occurrence(s) from {} to {}, in bars per {per}",
        fmt::ts(&t0),
        fmt::ts(&t1)
    );
    let range = |b: &Bucket| {
        let e = (b.start + size).min(t1);
        if b.start.date_naive() == e.date_naive() {
            format!(
                "{}–{} UTC",
                b.start.format("%Y-%m-%d %H:%M"),
                e.format("%H:%M")
            )
        } else {
            format!(
                "{}–{} UTC",
                b.start.format("%Y-%m-%d %H:%M"),
                e.format("%Y-%m-%d %H:%M")
            )
        }
    };
    let bars = buckets
        .iter()
        .map(|b| {
            let x0 = x(b.start);
            let x1 = x(b.start + size);
            let slot = (x1 - x0).max(0.5);
            let bar_w = (slot * 0.8).max(1.0);
            let bx = x0 + (slot - bar_w) / 2.0;
            let mut acc = 0u64;
            let title = if b.occurrences == 0 {
                format!("{}: no occurrence", range(b))
            } else {
                format!(
                    "{}: {} occurrence(s): {} completed, {} failed, {} rolled back, {} in progress{}",
                    range(b),
                    b.occurrences,
                    b.completed,
                    b.failed,
                    b.rolled_back,
                    b.in_progress,
                    b.mean_effectiveness
                        .map(|e| format!("; mean effectiveness {e:.2}"))
                        .unwrap_or_default()
                )
            };
            let rects = segments(b)
                .into_iter()
                .filter(|(_, _, c)| *c > 0)
                .map(|(class, _, c)| {
                    let y0 = y((acc + c) as f64);
                    let hgt = y(acc as f64) - y0;
                    acc += c;
                    view! {
                        <rect class=class x=format!("{bx:.1}") y=format!("{y0:.1}")
                            width=format!("{bar_w:.1}") height=format!("{hgt:.1}")/>
                    }
                })
                .collect_view();
            view! {
                <g class="bar" data-occurrences=b.occurrences>
                    <title>{title}</title>
                    <rect class="hit" x=format!("{x0:.1}") y=TOP width=format!("{slot:.1}") height=plot_h/>
                    {rects}
                </g>
            }
        })
        .collect_view();
    let effs: Vec<Option<f64>> = buckets.iter().map(|b| b.mean_effectiveness).collect();
    let cx = |i: usize| {
        let b = &buckets[i];
        (x(b.start) + x(b.start + size)) / 2.0
    };
    let ey = move |e: f64| TOP + plot_h - e.clamp(0.0, 1.0) * plot_h;
    let lines = line_runs(&effs)
        .into_iter()
        .map(|run| {
            let pts = run
                .iter()
                .map(|(i, e)| format!("{:.1},{:.1}", cx(*i), ey(*e)))
                .collect::<Vec<_>>()
                .join(" ");
            let dots = run
                .iter()
                .map(|(i, e)| {
                    view! {
                        <circle class="eff-dot" cx=format!("{:.1}", cx(*i)) cy=format!("{:.1}", ey(*e)) r="3">
                            <title>{format!("{}: mean effectiveness {e:.2}", range(&buckets[*i]))}</title>
                        </circle>
                    }
                })
                .collect_view();
            view! {
                {(run.len() > 1).then(|| view! { <polyline class="eff-line" points=pts fill="none"/> })}
                {dots}
            }
        })
        .collect_view();
    let grid = [0.0, 0.5, 1.0]
        .into_iter()
        .map(|f| {
            let yy = TOP + plot_h - f * plot_h;
            let count = (max as f64 * f).round() as u64;
            view! {
                <line class="grid" x1=LEFT y1=format!("{yy:.1}") x2=W - RIGHT y2=format!("{yy:.1}")/>
                <text class="axis" x=LEFT - 6.0 y=format!("{:.1}", yy + 4.0) text-anchor="end">{count}</text>
                <text class="axis eff" x=W - RIGHT + 6.0 y=format!("{:.1}", yy + 4.0) text-anchor="start">{format!("{f:.1}")}</text>
            }
        })
        .collect_view();
    let end_x = x(t1);
    let start_x = x(t0);
    let end_label = if (now - t1).num_seconds().abs() <= 60 {
        "now".to_string()
    } else {
        fmt::ts(&t1)
    };
    let ticks = time_ticks(t0, t1)
        .into_iter()
        .filter(|(t, _)| {
            let tx = x(*t);
            tx - start_x > 30.0 && end_x - tx > END_GAP
        })
        .map(|(t, label)| {
            let tx = x(t);
            view! {
                <line class="tick" x1=format!("{tx:.1}") y1=TOP + plot_h x2=format!("{tx:.1}") y2=TOP + plot_h + 5.0/>
                <text class="axis time" x=format!("{tx:.1}") y=H - 10.0 text-anchor="middle">{label}</text>
            }
        })
        .collect_view();
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-labelledby="chart-title chart-desc"
                 data-testid="timeline-chart" preserveAspectRatio="xMidYMid meet">
                <title id="chart-title">"Occurrences and outcomes over time"</title>
                <desc id="chart-desc">{desc}</desc>
                {grid}
                <line class="axis-line" x1=LEFT y1=TOP + plot_h x2=W - RIGHT y2=TOP + plot_h/>
                {bars}
                {lines}
                {ticks}
                <line class="tick" x1=format!("{end_x:.1}") y1=TOP + plot_h x2=format!("{end_x:.1}") y2=TOP + plot_h + 5.0/>
                <text class="axis time end" x=format!("{end_x:.1}") y=H - 10.0 text-anchor="end" data-testid="axis-end">{end_label}</text>
            </svg>
            <figcaption>
                <span class="key"><i class="sw c-ok"></i>"completed"</span>
                <span class="key"><i class="sw c-bad"></i>"failed"</span>
                <span class="key"><i class="sw c-warn"></i>"rolled back"</span>
                <span class="key"><i class="sw c-other"></i>"in progress"</span>
                <span class="key"><i class="sw line"></i>"mean effectiveness (right axis, 0–1; gaps: nothing assessed)"</span>
                <span class="muted">{format!("Bars per {per}; time axis in UTC; hover a bar for its figures.")}</span>
            </figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_axis_maximum() {
        assert_eq!(nice_max(0), 4);
        assert_eq!(nice_max(7), 10);
        assert_eq!(nice_max(11), 20);
        assert_eq!(nice_max(140), 200);
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn ticks_are_round_times_inside_the_window() {
        // 24 h from 13:20: 6-hour steps at 18:00, 00:00 (a date), 06:00, 12:00.
        let ticks = time_ticks(t("2026-12-03T13:20:00Z"), t("2026-12-04T13:20:00Z"));
        let labels: Vec<&str> = ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["18:00", "Dec 04", "06:00", "12:00"]);
        // 30 days: weekly steps, dates only.
        let ticks = time_ticks(t("2026-11-04T13:20:00Z"), t("2026-12-04T13:20:00Z"));
        assert!(ticks.len() <= MAX_TICKS && ticks.len() >= 3, "{ticks:?}");
        assert!(ticks.iter().all(|(_, l)| l.len() == 6 && l.contains(' ')));
        // 7 days: 2-day steps.
        let ticks = time_ticks(t("2026-11-27T13:20:00Z"), t("2026-12-04T13:20:00Z"));
        assert_eq!(ticks.len(), 3);
    }

    #[test]
    fn the_line_breaks_at_buckets_without_a_value() {
        let runs = line_runs(&[
            Some(0.5),
            Some(0.6),
            None,
            None,
            Some(0.9),
            None,
            Some(0.1),
            Some(0.2),
        ]);
        assert_eq!(
            runs,
            vec![
                vec![(0, 0.5), (1, 0.6)],
                vec![(4, 0.9)],
                vec![(6, 0.1), (7, 0.2)]
            ]
        );
        assert!(line_runs(&[None, None]).is_empty());
    }
}
