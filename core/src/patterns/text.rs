//! The sentences of an analysis: each finding's description and the summary. Every
//! word follows from a number next to it.

use chrono::{DateTime, Utc};

use super::detectors::{CASCADE_WINDOW_MINUTES, THRASH_GAP_MINUTES};
use super::{
    ActionStats, Detector, Evidence, MIN_ATTEMPTS, OSCILLATION_WINDOW_MINUTES, Oscillation,
    Recommendation, RecommendationStatus, Severity, Subject, Trend, TrendDirection,
};
use crate::store::TraceFacts;

fn cap(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `YYYY-MM-DD HH:MM UTC`.
pub fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn eff_words(ev: &Evidence) -> String {
    match ev.mean_effectiveness {
        Some(e) => format!(
            "mean effectiveness {e:.2} ({} of {} assessed)",
            ev.assessed, ev.action_count
        ),
        None => "effectiveness not assessed".to_string(),
    }
}

/// One sentence for a finding on the resource of `facts`.
pub fn describe(
    d: Detector,
    sev: Severity,
    ev: &Evidence,
    active: bool,
    facts: &[&TraceFacts],
) -> String {
    let resource = facts.first().map_or(String::from("the resource"), |t| {
        format!("{}/{}", t.kind, t.name)
    });
    let span = ev.span_minutes.round() as i64;
    let body = match d {
        Detector::ScaleOscillation => format!(
            "replicas changed direction {} within {span} min ({}), {}",
            plural(ev.events, "time", "times"),
            ev.replicas
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join("→"),
            eff_words(ev)
        ),
        Detector::ResourceThrashing => format!(
            "{} between increase_resources and scale_deployment among {} less than {THRASH_GAP_MINUTES} min apart (mean gap {:.0} min), {}",
            plural(ev.events, "switch", "switches"),
            plural(ev.action_count, "action", "actions"),
            ev.mean_gap_minutes.unwrap_or(0.0),
            eff_words(ev)
        ),
        Detector::IneffectiveLoop => format!(
            "{} ran {} in {span} min, {}",
            ev.action_types.join(", "),
            plural(ev.events, "time", "times"),
            eff_words(ev)
        ),
        Detector::CascadingFailure => format!(
            "{} of {} {} were followed within {CASCADE_WINDOW_MINUTES} min by other alerts on the resource ({}), {:.1} per action on average; the alert fired again after {:.0}% of them",
            ev.events,
            ev.action_count,
            if ev.action_count == 1 {
                format!("{} action", ev.action_types.join(", "))
            } else {
                format!("{} actions", ev.action_types.join(", "))
            },
            ev.new_alerts.join(", "),
            ev.mean_new_alerts.unwrap_or(0.0),
            ev.recurrence_rate.unwrap_or(0.0) * 100.0
        ),
    };
    let at = if active {
        format!("in the last {OSCILLATION_WINDOW_MINUTES} min")
    } else {
        format!(
            "in the {OSCILLATION_WINDOW_MINUTES} min up to {}",
            ev.last_at.map_or(String::from("?"), when)
        )
    };
    format!(
        "{} {} on {resource} {at}: {body}.",
        cap(sev.as_str()),
        d.name()
    )
}

#[allow(clippy::too_many_arguments)]
pub fn summary(
    subject: Option<&Subject>,
    window_label: &str,
    occurrences: u64,
    first_seen: Option<DateTime<Utc>>,
    rec: &Recommendation,
    actions: &[ActionStats],
    trend: &Trend,
    osc: &Oscillation,
) -> String {
    let Some(s) = subject else {
        return "No history for this signature; nothing has been tried yet.".into();
    };
    let mut out = format!(
        "{} on {}/{} {} fired {} in the last {window_label}{}",
        s.alert_name,
        s.namespace,
        s.kind,
        s.name,
        plural(occurrences, "time", "times"),
        first_seen.map_or(String::new(), |f| format!(" (first at {})", when(f)))
    );
    match (&rec.status, &rec.action_type) {
        (RecommendationStatus::Recommended, Some(a)) => {
            let st = actions.iter().find(|x| &x.action_type == a);
            out.push_str(&format!(
                "; recommended action: {a} (confidence {:.2}{})",
                rec.confidence,
                st.map_or(String::new(), |x| format!(
                    ", {} of {} attempts succeeded",
                    x.completed, x.attempts
                ))
            ));
        }
        (RecommendationStatus::Escalate, _) => out.push_str(
            "; escalate to a human: no action with enough history is both effective and stable",
        ),
        (RecommendationStatus::NoHistory, _) => out.push_str("; nothing has been tried yet"),
        _ => out.push_str(&format!(
            "; no recommendation yet (no action has {MIN_ATTEMPTS} finished attempts in the window)"
        )),
    }
    match trend.direction {
        TrendDirection::Improving => out.push_str("; effectiveness is improving"),
        TrendDirection::Declining => out.push_str("; effectiveness is declining"),
        _ => {}
    }
    out.push('.');
    if let Some(f) = osc.findings.iter().find(|f| f.active) {
        out.push_str(&format!(
            " Oscillating now: {} {} ({}); advised prevention: {}.",
            f.severity.as_str(),
            f.detector.name(),
            f.evidence.action_types.join(", "),
            f.prevention.as_str()
        ));
    } else if let Some(f) = osc.findings.first() {
        out.push_str(&format!(
            " Not oscillating now; earlier in the window: {} {} ({}) up to {}.",
            f.severity.as_str(),
            f.detector.name(),
            f.evidence.action_types.join(", "),
            f.evidence.last_at.map_or(String::from("?"), when)
        ));
    }
    if osc.sampled {
        out.push_str(&format!(
            " Oscillations were checked over the newest {} actions on the resource (since {}), not the whole window.",
            osc.checked_actions,
            osc.checked_from.map_or(String::from("?"), when)
        ));
    }
    out
}
