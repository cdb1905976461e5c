//! Occurrences and outcomes over the window, in at most [`MAX_TIMELINE_BUCKETS`] bars.

use chrono::{DateTime, Duration, Utc};

use super::{Bucket, MAX_TIMELINE_BUCKETS, Timeline, mean_of, r3};
use crate::store::{Counts, HourBucket, TraceFacts, hour_of};

/// Bucket sizes in minutes, smallest first.
const BUCKET_SIZES: [i64; 12] = [1, 5, 15, 30, 60, 180, 360, 720, 1440, 2880, 10080, 43200];

fn empty(start: DateTime<Utc>) -> Bucket {
    Bucket {
        start,
        occurrences: 0,
        completed: 0,
        failed: 0,
        rolled_back: 0,
        in_progress: 0,
        mean_effectiveness: None,
    }
}

fn fill(b: &mut Bucket, c: &Counts, eff: &mut (f64, u64)) {
    b.occurrences += c.traces;
    b.completed += c.completed;
    b.failed += c.failed;
    b.rolled_back += c.rolled_back;
    b.in_progress += c.traces - c.finished();
    eff.0 += c.effectiveness_sum;
    eff.1 += c.effectiveness_count;
}

/// From the hour buckets (bars of an hour or more, aligned to the hour), or, for
/// windows short enough for smaller bars, from the signature's own facts when they
/// cover the whole window (`own`: None when the facts were capped).
pub fn timeline(
    buckets: &[&HourBucket],
    own: Option<&[&TraceFacts]>,
    start: DateTime<Utc>,
    window: Duration,
) -> Timeline {
    let window_min = window.num_minutes().max(1);
    let size = BUCKET_SIZES
        .iter()
        .copied()
        .find(|s| (window_min + s - 1) / s <= MAX_TIMELINE_BUCKETS)
        .unwrap_or(43200);
    let end = start + window;
    let (size, origin) = match own {
        Some(_) if size < 60 => (size, start),
        _ => (size.max(60), hour_of(start)),
    };
    let span = (end - origin).num_minutes().max(1);
    let n = ((span + size - 1) / size) as usize;
    let mut bars: Vec<Bucket> = (0..n)
        .map(|i| empty(origin + Duration::minutes(size * i as i64)))
        .collect();
    let mut eff: Vec<(f64, u64)> = vec![(0.0, 0); n];
    let index = |t: DateTime<Utc>| {
        ((t - origin).num_seconds() / (size * 60)).clamp(0, n as i64 - 1) as usize
    };
    match own {
        Some(facts) if size < 60 => {
            for t in facts {
                let i = index(t.action_timestamp);
                let c = Counts::of(t.execution_status, t.effectiveness);
                fill(&mut bars[i], &c, &mut eff[i]);
            }
        }
        _ => {
            for b in buckets {
                let i = index(b.hour);
                fill(&mut bars[i], &b.counts, &mut eff[i]);
            }
        }
    }
    for (b, (s, c)) in bars.iter_mut().zip(eff) {
        b.mean_effectiveness = mean_of(s, c).map(r3);
    }
    Timeline {
        bucket_minutes: size,
        buckets: bars,
    }
}
