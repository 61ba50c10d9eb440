//! Recent activity for the dashboard: the last requests' time to first token and decode speed,
//! and the last tool calls the policy blocked. Bounded ring buffers in memory; Prometheus
//! `/metrics` keeps the aggregates.

use std::{
    collections::VecDeque,
    sync::Mutex,
    time::{SystemTime, UNIX_EPOCH},
};

use serde::Serialize;

const RECENT_REQUESTS: usize = 100;
const RECENT_BLOCKED: usize = 50;

/// One finished model request.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sample {
    /// Unix milliseconds.
    pub at: u64,
    pub model: String,
    pub ttft_ms: Option<f64>,
    pub tokens_per_second: Option<f64>,
}

/// One tool call removed from an answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Blocked {
    pub at: u64,
    pub agent: String,
    pub tool: String,
    pub rule: String,
}

#[derive(Debug, Default)]
pub struct Activity {
    recent: Mutex<VecDeque<Sample>>,
    blocked: Mutex<VecDeque<Blocked>>,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

fn push<T>(buffer: &Mutex<VecDeque<T>>, item: T, bound: usize) {
    let mut buffer = buffer
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if buffer.len() == bound {
        buffer.pop_front();
    }
    buffer.push_back(item);
}

impl Activity {
    pub fn request(&self, sample: Sample) {
        push(&self.recent, sample, RECENT_REQUESTS);
    }

    pub fn blocked(&self, call: Blocked) {
        push(&self.blocked, call, RECENT_BLOCKED);
    }

    /// Oldest first.
    pub fn recent(&self) -> Vec<Sample> {
        self.recent
            .lock()
            .map(|buffer| buffer.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn recent_blocked(&self) -> Vec<Blocked> {
        self.blocked
            .lock()
            .map(|buffer| buffer.iter().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffers_keep_the_latest() {
        let activity = Activity::default();
        for at in 0..150 {
            activity.request(Sample {
                at,
                model: "m".into(),
                ttft_ms: None,
                tokens_per_second: None,
            });
        }
        let recent = activity.recent();
        assert_eq!(recent.len(), RECENT_REQUESTS);
        assert_eq!(recent.first().map(|s| s.at), Some(50));
        assert_eq!(recent.last().map(|s| s.at), Some(149));
    }
}
