//! The machine's memory, sampled cheaply, and a model's peak estimated before it is loaded:
//! weights on disk × 1.3 plus an allowance for the context (KV cache), against what is
//! available once the models that will be unloaded are gone.
//!
//! Memory pressure comes from the kernel: on macOS `kern.memorystatus_vm_pressure_level`
//! (1 normal, 2 warn, 4 critical), on Linux the pressure-stall information of
//! `/proc/pressure/memory` (share of the last 10 s in which some task waited for memory).

use serde::Serialize;

/// Peak memory over the weights' size on disk: runtime buffers, the compute graph.
pub const WEIGHTS_FACTOR: f64 = 1.3;
/// KV-cache allowance per token of context window.
pub const CONTEXT_BYTES_PER_TOKEN: u64 = 64 * 1024;
/// The context assumed when a model does not say.
pub const DEFAULT_CONTEXT: u64 = 4096;

/// How hard the kernel is working to find memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Pressure {
    Normal,
    Warn,
    Critical,
}

impl Pressure {
    /// macOS `kern.memorystatus_vm_pressure_level`.
    pub fn from_macos_level(level: u32) -> Option<Pressure> {
        match level {
            1 => Some(Pressure::Normal),
            2 => Some(Pressure::Warn),
            4 => Some(Pressure::Critical),
            _ => None,
        }
    }

    /// Linux PSI `some avg10` (percent of the last ten seconds some task stalled on memory).
    pub fn from_psi_avg10(avg10: f64) -> Pressure {
        if avg10 >= 40.0 {
            Pressure::Critical
        } else if avg10 >= 10.0 {
            Pressure::Warn
        } else {
            Pressure::Normal
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Pressure::Normal => "normal",
            Pressure::Warn => "warn",
            Pressure::Critical => "critical",
        }
    }
}

/// One sample, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    pub total: u64,
    pub available: u64,
    pub used: u64,
    pub swap_total: u64,
    pub swap_used: u64,
    pub pressure: Option<Pressure>,
}

/// Samples the machine's memory now (a few syscalls or /proc reads); `None` where the
/// platform cannot tell.
pub fn sample() -> Option<Memory> {
    let mut system = sysinfo::System::new().ok()?;
    system.refresh_memory();
    Some(Memory {
        total: system.total_memory(),
        available: system.available_memory(),
        used: system.used_memory(),
        swap_total: system.total_swap(),
        swap_used: system.used_swap(),
        pressure: pressure(),
    })
}

#[cfg(target_os = "macos")]
fn pressure() -> Option<Pressure> {
    let output = std::process::Command::new("/usr/sbin/sysctl")
        .args(["-n", "kern.memorystatus_vm_pressure_level"])
        .output()
        .ok()?;
    let level = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .ok()?;
    Pressure::from_macos_level(level)
}

#[cfg(not(target_os = "macos"))]
fn pressure() -> Option<Pressure> {
    let text = std::fs::read_to_string("/proc/pressure/memory").ok()?;
    parse_psi(&text).map(Pressure::from_psi_avg10)
}

/// `some avg10=0.00 avg60=0.00 avg300=0.00 total=0` → the `some` line's avg10.
pub fn parse_psi(text: &str) -> Option<f64> {
    let line = text.lines().find(|line| line.starts_with("some "))?;
    line.split_whitespace()
        .find_map(|field| field.strip_prefix("avg10="))?
        .parse()
        .ok()
}

/// A model's estimated peak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Estimate {
    pub weights: u64,
    pub context_allowance: u64,
    pub peak: u64,
}

/// Weights × 1.3 plus the context allowance.
pub fn estimate(weights: u64, context_window: Option<u64>) -> Estimate {
    let context_allowance = context_window
        .unwrap_or(DEFAULT_CONTEXT)
        .saturating_mul(CONTEXT_BYTES_PER_TOKEN);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an estimate: f64 has room for any memory size, the result is rounded up"
    )]
    let scaled = (weights as f64 * WEIGHTS_FACTOR).ceil() as u64;
    Estimate {
        weights,
        context_allowance,
        peak: scaled.saturating_add(context_allowance),
    }
}

/// `1.2 GiB`, `512 MiB`: sizes as a person reads them.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    #[expect(clippy::cast_precision_loss, reason = "for display")]
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_is_weights_times_1_3_plus_the_context() {
        let gib = 1024 * 1024 * 1024;
        let estimate = estimate(10 * gib, Some(32_768));
        assert_eq!(estimate.context_allowance, 2 * gib);
        assert_eq!(estimate.peak, 13 * gib + 2 * gib);
        assert_eq!(human(estimate.peak), "15.0 GiB");
        assert_eq!(human(512), "512 B");
    }

    #[test]
    fn pressure_levels_read_as_the_kernel_means_them() {
        assert_eq!(Pressure::from_macos_level(1), Some(Pressure::Normal));
        assert_eq!(Pressure::from_macos_level(2), Some(Pressure::Warn));
        assert_eq!(Pressure::from_macos_level(4), Some(Pressure::Critical));
        assert_eq!(Pressure::from_macos_level(3), None);
        let psi = "some avg10=12.50 avg60=3.00 avg300=1.00 total=123\nfull avg10=1.00 avg60=0.00 avg300=0.00 total=5\n";
        assert_eq!(parse_psi(psi), Some(12.5));
        assert_eq!(Pressure::from_psi_avg10(12.5), Pressure::Warn);
    }

    #[test]
    fn a_sample_of_this_machine_is_plausible() {
        let memory = sample().unwrap();
        assert!(memory.total > 0);
        assert!(memory.available <= memory.total);
    }
}
