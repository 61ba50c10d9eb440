//! Percentiles of a run: the samples sorted once, nearest-rank percentiles, in milliseconds.

use serde::Serialize;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub count: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Summary {
    /// From samples in nanoseconds.
    pub fn of(mut nanos: Vec<u64>) -> Summary {
        if nanos.is_empty() {
            return Summary::default();
        }
        nanos.sort_unstable();
        let ms = |value: u64| value as f64 / 1e6;
        let rank = |p: f64| {
            let index = ((p * nanos.len() as f64).ceil() as usize).clamp(1, nanos.len()) - 1;
            ms(nanos[index])
        };
        let sum: u128 = nanos.iter().map(|&value| u128::from(value)).sum();
        Summary {
            count: nanos.len(),
            p50_ms: rank(0.50),
            p90_ms: rank(0.90),
            p99_ms: rank(0.99),
            max_ms: ms(nanos[nanos.len() - 1]),
            mean_ms: sum as f64 / nanos.len() as f64 / 1e6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Summary;

    #[test]
    fn nearest_rank_percentiles() {
        let summary = Summary::of((1..=100).rev().map(|ms| ms * 1_000_000).collect());
        assert_eq!(
            (
                summary.p50_ms,
                summary.p90_ms,
                summary.p99_ms,
                summary.max_ms
            ),
            (50.0, 90.0, 99.0, 100.0)
        );
        assert_eq!(Summary::of(vec![]).count, 0);
    }
}
