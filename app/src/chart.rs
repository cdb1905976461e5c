//! The occurrences-and-outcomes chart of a pattern, as inline SVG (rendered on the
//! server; no JavaScript needed). Stacked bars per timeline bucket (completed, failed,
//! rolled back, in progress) and the mean effectiveness as a line on a 0..1 scale.

use leptos::prelude::*;

use context_core::patterns::Timeline;

use crate::fmt;

const W: f64 = 720.0;
const H: f64 = 240.0;
const LEFT: f64 = 36.0;
const RIGHT: f64 = 36.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// Bar segments of one bucket: (class, label, count).
fn segments(b: &context_core::patterns::Bucket) -> [(&'static str, &'static str, u64); 4] {
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

#[component]
pub fn TimelineChart(timeline: Timeline) -> impl IntoView {
    let buckets = timeline.buckets;
    let n = buckets.len().max(1) as f64;
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let max = nice_max(buckets.iter().map(|b| b.occurrences).max().unwrap_or(0));
    let slot = plot_w / n;
    let bar_w = (slot * 0.75).max(1.0);
    let y = move |v: f64| TOP + plot_h - v / max as f64 * plot_h;
    let total: u64 = buckets.iter().map(|b| b.occurrences).sum();
    let bucket_label = if timeline.bucket_minutes % 1440 == 0 {
        format!("{} day(s)", timeline.bucket_minutes / 1440)
    } else if timeline.bucket_minutes % 60 == 0 {
        format!("{} hour(s)", timeline.bucket_minutes / 60)
    } else {
        format!("{} minutes", timeline.bucket_minutes)
    };
    let desc = format!(
        "{total} occurrence(s) in {} buckets of {bucket_label}",
        buckets.len()
    );
    let line: String = buckets
        .iter()
        .enumerate()
        .filter_map(|(i, b)| {
            b.mean_effectiveness.map(|e| {
                format!(
                    "{:.1},{:.1}",
                    LEFT + slot * (i as f64 + 0.5),
                    TOP + plot_h - e * plot_h
                )
            })
        })
        .collect::<Vec<_>>()
        .join(" ");
    let first = buckets
        .first()
        .map(|b| fmt::ts(&b.start))
        .unwrap_or_default();
    let last = buckets
        .last()
        .map(|b| fmt::ts(&b.start))
        .unwrap_or_default();
    let bars = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
            let mut acc = 0u64;
            let title = format!(
                "{}: {} occurrence(s) — {} completed, {} failed, {} rolled back, {} in progress{}",
                fmt::ts(&b.start),
                b.occurrences,
                b.completed,
                b.failed,
                b.rolled_back,
                b.in_progress,
                b.mean_effectiveness
                    .map(|e| format!(", mean effectiveness {e:.2}"))
                    .unwrap_or_default()
            );
            let rects = segments(b)
                .into_iter()
                .filter(|(_, _, c)| *c > 0)
                .map(|(class, _, c)| {
                    let y0 = y((acc + c) as f64);
                    let hgt = y(acc as f64) - y0;
                    acc += c;
                    view! {
                        <rect class=class x=format!("{x:.1}") y=format!("{y0:.1}")
                            width=format!("{bar_w:.1}") height=format!("{hgt:.1}")/>
                    }
                })
                .collect_view();
            view! { <g class="bar"><title>{title}</title>{rects}</g> }
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
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-labelledby="chart-title chart-desc"
                 data-testid="timeline-chart" preserveAspectRatio="xMidYMid meet">
                <title id="chart-title">"Occurrences and outcomes over time"</title>
                <desc id="chart-desc">{desc.clone()}</desc>
                {grid}
                {bars}
                {(!line.is_empty()).then(|| view! { <polyline class="eff-line" points=line fill="none"/> })}
                <text class="axis" x=LEFT y=H - 8.0 text-anchor="start">{first}</text>
                <text class="axis" x=W - RIGHT y=H - 8.0 text-anchor="end">{last}</text>
            </svg>
            <figcaption>
                <span class="key"><i class="sw c-ok"></i>"completed"</span>
                <span class="key"><i class="sw c-bad"></i>"failed"</span>
                <span class="key"><i class="sw c-warn"></i>"rolled back"</span>
                <span class="key"><i class="sw c-other"></i>"in progress"</span>
                <span class="key"><i class="sw line"></i>"mean effectiveness (right axis, 0–1)"</span>
                <span class="muted">{format!(" · bars per {bucket_label}")}</span>
            </figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::nice_max;

    #[test]
    fn nice_axis_maximum() {
        assert_eq!(nice_max(0), 4);
        assert_eq!(nice_max(7), 10);
        assert_eq!(nice_max(11), 20);
        assert_eq!(nice_max(140), 200);
    }
}
