//! The machine's memory, sampled cheaply, and a model's peak estimated before it is loaded:
//! weights on disk × 1.3 plus an allowance for the context (KV cache), against what is
//! available once the models that will be unloaded are gone and, on Apple silicon, against the
//! GPU's wired-memory limit.
//!
//! "Available" is what a model can take without pushing apps out: on Linux sysinfo's figure
//! (the kernel's `MemAvailable`); on macOS free + speculative + inactive + purgeable pages, not
//! sysinfo's figure, which adds the active pages apps are using. On Apple silicon the weights
//! must also sit in memory the GPU may wire, at most `iogpu.wired_limit_mb` (0 means macOS's
//! default, see [`default_gpu_limit`]): a model over it does not load however much RAM is free.
//!
//! Memory pressure comes from the kernel: on macOS `kern.memorystatus_vm_pressure_level`
//! (1 normal, 2 warn, 4 critical), on Linux the pressure-stall information of
//! `/proc/pressure/memory` (share of the last 10 s in which some task waited for memory).
//!
//! macOS's numbers are read in `macos.rs`, which only reads; every decision is here and tested
//! on Linux from recorded `vm_stat` and `sysctl` outputs (`tests/fixtures/macos/`).

#[cfg(target_os = "macos")]
mod macos;

use serde::Serialize;

/// Peak memory over the weights' size on disk: runtime buffers, the compute graph.
pub const WEIGHTS_FACTOR: f64 = 1.3;
/// KV-cache allowance per token of context window.
pub const CONTEXT_BYTES_PER_TOKEN: u64 = 64 * 1024;
/// The context assumed when a model does not say.
pub const DEFAULT_CONTEXT: u64 = 4096;

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;

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
    pub fn from_macos_level(level: u64) -> Option<Pressure> {
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
    /// What a model can take without pushing apps out (see the module's paragraph).
    pub available: u64,
    pub used: u64,
    pub swap_total: u64,
    pub swap_used: u64,
    pub pressure: Option<Pressure>,
    /// Apple silicon's ceiling for GPU memory; `None` elsewhere (Linux, Intel Macs).
    pub gpu_limit: Option<GpuLimit>,
}

impl Memory {
    /// The most a model may need: what is available once `freed` bytes are released, and no
    /// more than the GPU may wire.
    pub fn room(&self, freed: u64) -> u64 {
        let ram = self.available.saturating_add(freed);
        self.gpu_limit.map_or(ram, |limit| ram.min(limit.bytes))
    }

    /// This sample with what macOS itself says: the available figure, the GPU's limit and the
    /// pressure level.
    pub fn with_macos(self, reading: &MacosReading) -> Memory {
        Memory {
            total: reading.total,
            available: reading.available().min(reading.total),
            pressure: reading.pressure_level.and_then(Pressure::from_macos_level),
            gpu_limit: reading
                .wired_limit_mb
                .map(|mb| GpuLimit::new(mb, reading.total)),
            ..self
        }
    }
}

/// How much memory the GPU may wire on Apple silicon: what Metal reports as the device's
/// `recommendedMaxWorkingSetSize`, and what llama.cpp, Ollama and MLX stay under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GpuLimit {
    pub bytes: u64,
    /// `iogpu.wired_limit_mb` as set; 0 is macOS's default ([`default_gpu_limit`]).
    pub wired_limit_mb: u64,
}

impl GpuLimit {
    /// The limit the sysctl `iogpu.wired_limit_mb` sets on a Mac with `total` bytes of RAM.
    pub fn new(wired_limit_mb: u64, total: u64) -> GpuLimit {
        GpuLimit {
            bytes: if wired_limit_mb == 0 {
                default_gpu_limit(total)
            } else {
                wired_limit_mb.saturating_mul(MIB)
            },
            wired_limit_mb,
        }
    }

    /// `10.7 GiB (iogpu.wired_limit_mb is 0: macOS's default)`, `14.0 GiB (iogpu.wired_limit_mb=14336)`.
    pub fn describe(&self) -> String {
        match self.wired_limit_mb {
            0 => format!(
                "{} (iogpu.wired_limit_mb is 0: macOS's default)",
                human(self.bytes)
            ),
            mb => format!("{} (iogpu.wired_limit_mb={mb})", human(self.bytes)),
        }
    }
}

/// RAM at or under which macOS lets the GPU wire two thirds of it, above which three quarters.
pub const DEFAULT_GPU_LIMIT_THRESHOLD: u64 = 36 * GIB;

/// The GPU's limit when `iogpu.wired_limit_mb` is 0. Apple does not document it; Metal's
/// `recommendedMaxWorkingSetSize` as llama.cpp's and Ollama's logs print it gives 2/3 of the RAM
/// on small Macs and 3/4 on large ones:
/// - 16 GiB: 10922.67 MiB, 2/3 (abetlen/llama-cpp-python#687, ise-uiuc/magicoder#19);
/// - 32 GiB: 21845.34 MB, 2/3 (ollama/ollama#434, ggml-org/llama.cpp#2011);
/// - 64 GiB: 49152 MiB, 3/4 (ggml-org/llama.cpp#1870); 96 GiB: 73728 MB, 3/4 (llama.cpp#3213).
///
/// The 36 GiB boundary is the one commonly quoted (no log of a 36 or 48 GiB Mac was found to pin
/// it between 32 and 64). A 128 GiB Mac on macOS 26 reports 107.52 GiB, 84% (antirez/ds4#893,
/// which also shows `iogpu.wired_limit_mb=114688` giving exactly 112 GiB): on recent systems
/// the estimate may be low for large Macs, so a refusal over it can be forced.
pub fn default_gpu_limit(total: u64) -> u64 {
    if total <= DEFAULT_GPU_LIMIT_THRESHOLD {
        total / 3 * 2
    } else {
        total / 4 * 3
    }
}

/// What macOS says about memory, unprocessed: the numbers `vm_stat` and `sysctl` print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MacosReading {
    /// `hw.pagesize` (16384 on Apple silicon).
    pub page_size: u64,
    /// `hw.memsize`.
    pub total: u64,
    /// `vm.page_free_count`: vm_stat's "Pages free", speculative pages not included (XNU's
    /// host_statistics64 `free_count` includes them).
    pub pages_free: u64,
    /// `vm.page_speculative_count`: read ahead from files, not used yet; reclaimable at once.
    pub pages_speculative: u64,
    /// host_statistics64 `inactive_count` (no sysctl has it): not touched lately, reclaimable.
    pub pages_inactive: u64,
    /// `vm.page_purgeable_count`: caches apps marked as droppable.
    pub pages_purgeable: u64,
    /// `iogpu.wired_limit_mb`; `None` where the sysctl does not exist (Intel Macs).
    pub wired_limit_mb: Option<u64>,
    /// `kern.memorystatus_vm_pressure_level`.
    pub pressure_level: Option<u64>,
}

impl MacosReading {
    /// Free + speculative + inactive + purgeable pages, in bytes. Active and wired pages and the
    /// compressor's are in use, however sysinfo counts them.
    pub fn available(&self) -> u64 {
        self.pages_free
            .saturating_add(self.pages_speculative)
            .saturating_add(self.pages_inactive)
            .saturating_add(self.pages_purgeable)
            .saturating_mul(self.page_size)
    }
}

/// Samples the machine's memory now (a few syscalls or /proc reads, no process); `None` where
/// the platform cannot tell.
pub fn sample() -> Option<Memory> {
    let mut system = sysinfo::System::new().ok()?;
    system.refresh_memory();
    let memory = Memory {
        total: system.total_memory(),
        available: system.available_memory(),
        used: system.used_memory(),
        swap_total: system.total_swap(),
        swap_used: system.used_swap(),
        pressure: None,
        gpu_limit: None,
    };
    #[cfg(target_os = "macos")]
    let memory = match macos::read() {
        Some(reading) => memory.with_macos(&reading),
        None => memory,
    };
    #[cfg(not(target_os = "macos"))]
    let memory = Memory {
        pressure: pressure(),
        ..memory
    };
    Some(memory)
}

/// The pressure level alone: one sysctl on macOS, one /proc read on Linux.
#[cfg(target_os = "macos")]
pub fn pressure() -> Option<Pressure> {
    macos::pressure_level().and_then(Pressure::from_macos_level)
}

/// The pressure level alone: one sysctl on macOS, one /proc read on Linux.
#[cfg(not(target_os = "macos"))]
pub fn pressure() -> Option<Pressure> {
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

/// Why a model does not fit, with the numbers, and what would make it fit (besides forcing it,
/// which is the caller's to offer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub detail: String,
    pub remedy: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}; {}", self.detail, self.remedy)
    }
}

/// Whether a model with this estimate fits once `freed` bytes are released: within the RAM
/// available and, on Apple silicon, within what the GPU may wire. `Ok` says the numbers.
pub fn fit(estimate: &Estimate, memory: &Memory, freed: u64) -> Result<String, Refusal> {
    let available = memory.available.saturating_add(freed);
    let mut detail = format!(
        "needs about {} (weights {} × 1.3 + {} for the context), {} available{}",
        human(estimate.peak),
        human(estimate.weights),
        human(estimate.context_allowance),
        human(available),
        if freed > 0 {
            format!(" once {} is unloaded", human(freed))
        } else {
            String::new()
        }
    );
    if let Some(limit) = memory.gpu_limit {
        detail.push_str(&format!(", GPU limit {}", limit.describe()));
    }
    let over_ram = estimate.peak > available;
    let over_gpu = memory
        .gpu_limit
        .is_some_and(|limit| estimate.peak > limit.bytes);
    if !over_ram && !over_gpu {
        return Ok(detail);
    }
    let mut remedies = Vec::new();
    if estimate.peak > memory.total {
        remedies.push("it is larger than this machine's memory: pick a smaller model".to_owned());
    } else {
        if over_ram {
            remedies.push("free memory".to_owned());
        }
        if over_gpu {
            let gib = estimate.peak.div_ceil(GIB);
            remedies.push(format!(
                "raise the GPU's limit to at least {gib} GiB with `sudo sysctl iogpu.wired_limit_mb={}` (it lasts until the Mac restarts)",
                gib * 1024
            ));
        }
    }
    Err(Refusal {
        detail,
        remedy: remedies.join(" and "),
    })
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
    use std::collections::BTreeMap;

    use expect_test::{Expect, expect};

    use super::*;

    #[test]
    fn the_peak_is_weights_times_1_3_plus_the_context() {
        let estimate = estimate(10 * GIB, Some(32_768));
        assert_eq!(estimate.context_allowance, 2 * GIB);
        assert_eq!(estimate.peak, 13 * GIB + 2 * GIB);
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
        #[cfg(not(target_os = "macos"))]
        assert_eq!(memory.gpu_limit, None);
    }

    // ---- macOS, from what its commands print (tests/fixtures/macos/README.md) ----

    const VM_STAT: &str = include_str!("../tests/fixtures/macos/vm_stat-16gib.txt");
    const SYSCTL: &str = include_str!("../tests/fixtures/macos/sysctl-16gib.txt");

    /// `vm_stat`: the header's page size and each "Pages …:   123." line, by name.
    fn parse_vm_stat(text: &str) -> (u64, BTreeMap<String, u64>) {
        let mut lines = text.lines();
        let page_size = lines
            .next()
            .and_then(|header| header.split("page size of ").nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|size| size.parse().ok())
            .unwrap();
        let counts = lines
            .filter_map(|line| {
                let (name, value) = line.rsplit_once(':')?;
                let value = value.trim().trim_end_matches('.').parse().ok()?;
                Some((name.trim().trim_matches('"').to_owned(), value))
            })
            .collect();
        (page_size, counts)
    }

    /// `sysctl a b c`: `name: value` lines.
    fn parse_sysctl(text: &str) -> BTreeMap<String, u64> {
        text.lines()
            .filter_map(|line| {
                let (name, value) = line.split_once(": ")?;
                Some((name.to_owned(), value.trim().parse().ok()?))
            })
            .collect()
    }

    /// The reading `macos::read` makes, from the recorded outputs: the sysctls by name, and the
    /// inactive count (host_statistics64 in the code) from vm_stat's "Pages inactive".
    fn recorded_reading(vm_stat: &str, sysctl: &str) -> MacosReading {
        let (page_size, pages) = parse_vm_stat(vm_stat);
        let sysctl = parse_sysctl(sysctl);
        assert_eq!(sysctl["hw.pagesize"], page_size);
        MacosReading {
            page_size: sysctl["hw.pagesize"],
            total: sysctl["hw.memsize"],
            pages_free: sysctl["vm.page_free_count"],
            pages_speculative: sysctl["vm.page_speculative_count"],
            pages_inactive: pages["Pages inactive"],
            pages_purgeable: sysctl["vm.page_purgeable_count"],
            wired_limit_mb: sysctl.get("iogpu.wired_limit_mb").copied(),
            pressure_level: sysctl.get("kern.memorystatus_vm_pressure_level").copied(),
        }
    }

    /// What sysinfo's `used_memory` and swap would add; irrelevant to the decisions.
    fn sysinfo_part(total: u64) -> Memory {
        Memory {
            total,
            available: 0,
            used: 0,
            swap_total: 0,
            swap_used: 0,
            pressure: None,
            gpu_limit: None,
        }
    }

    fn recorded_mac() -> Memory {
        let reading = recorded_reading(VM_STAT, SYSCTL);
        sysinfo_part(reading.total).with_macos(&reading)
    }

    #[test]
    fn a_16_gib_mac_has_free_speculative_inactive_and_purgeable_pages_available() {
        let (page_size, pages) = parse_vm_stat(VM_STAT);
        let reading = recorded_reading(VM_STAT, SYSCTL);
        let memory = recorded_mac();
        // vm_stat's "Pages free" leaves the speculative pages out, as vm.page_free_count does.
        assert_eq!(reading.pages_free, pages["Pages free"]);
        assert_eq!(
            memory.available,
            (pages["Pages free"]
                + pages["Pages speculative"]
                + pages["Pages inactive"]
                + pages["Pages purgeable"])
                * page_size
        );
        // sysinfo's figure, (active + inactive + free incl. speculative) × page size, counts the
        // pages apps are using.
        let sysinfo_available = (pages["Pages active"]
            + pages["Pages inactive"]
            + pages["Pages free"]
            + pages["Pages speculative"])
            * page_size;
        expect![[r#"
            total 16.0 GiB, available 8.3 GiB (sysinfo would say 11.6 GiB), GPU limit 10.7 GiB (iogpu.wired_limit_mb is 0: macOS's default), pressure normal"#]]
        .assert_eq(&format!(
            "total {}, available {} (sysinfo would say {}), GPU limit {}, pressure {}",
            human(memory.total),
            human(memory.available),
            human(sysinfo_available),
            memory.gpu_limit.unwrap().describe(),
            memory.pressure.unwrap().as_str()
        ));
        assert_eq!(memory.gpu_limit.unwrap().bytes, 16 * GIB / 3 * 2);
    }

    fn check_gpu_limit(rows: &[(u64, u64)], expect: Expect) {
        let table: Vec<String> = rows
            .iter()
            .map(|&(ram_gib, wired_limit_mb)| {
                format!(
                    "{ram_gib:>3} GiB, wired_limit_mb {wired_limit_mb:>6} → {}",
                    human(GpuLimit::new(wired_limit_mb, ram_gib * GIB).bytes)
                )
            })
            .collect();
        expect.assert_eq(&table.join("\n"));
    }

    #[test]
    fn the_gpu_limit_is_the_sysctl_or_macos_default_for_the_ram() {
        check_gpu_limit(
            &[
                (8, 0),
                (16, 0),
                (32, 0),
                (36, 0),
                (48, 0),
                (64, 0),
                (96, 0),
                (128, 0),
                (16, 14_336),
                (64, 57_344),
            ],
            expect![[r#"
                  8 GiB, wired_limit_mb      0 → 5.3 GiB
                 16 GiB, wired_limit_mb      0 → 10.7 GiB
                 32 GiB, wired_limit_mb      0 → 21.3 GiB
                 36 GiB, wired_limit_mb      0 → 24.0 GiB
                 48 GiB, wired_limit_mb      0 → 36.0 GiB
                 64 GiB, wired_limit_mb      0 → 48.0 GiB
                 96 GiB, wired_limit_mb      0 → 72.0 GiB
                128 GiB, wired_limit_mb      0 → 96.0 GiB
                 16 GiB, wired_limit_mb  14336 → 14.0 GiB
                 64 GiB, wired_limit_mb  57344 → 56.0 GiB"#]],
        );
    }

    fn check_fit(memory: &Memory, weights: u64, context: u64, freed: u64, expect: Expect) {
        let verdict = match fit(&estimate(weights, Some(context)), memory, freed) {
            Ok(detail) => format!("fits: {detail}"),
            Err(refusal) => format!("refused: {refusal}"),
        };
        expect.assert_eq(&verdict);
    }

    #[test]
    fn on_the_16_gib_mac_a_14_gib_model_is_refused_for_the_gpu_limit_even_with_ram() {
        let mac = recorded_mac();
        // 10.5 GiB of weights × 1.3 + 256 MiB of context: about 14 GiB. 8.3 GiB are available,
        // and 6 GiB more once the resident model is unloaded: the RAM is there, the GPU's
        // 10.7 GiB is not.
        check_fit(
            &mac,
            10 * GIB + GIB / 2,
            4096,
            6 * GIB,
            expect![[
                r#"refused: needs about 13.9 GiB (weights 10.5 GiB × 1.3 + 256.0 MiB for the context), 14.3 GiB available once 6.0 GiB is unloaded, GPU limit 10.7 GiB (iogpu.wired_limit_mb is 0: macOS's default); raise the GPU's limit to at least 14 GiB with `sudo sysctl iogpu.wired_limit_mb=14336` (it lasts until the Mac restarts)"#
            ]],
        );
        // With the limit raised as the message says, it fits.
        let raised = recorded_reading(
            VM_STAT,
            &SYSCTL.replace("iogpu.wired_limit_mb: 0", "iogpu.wired_limit_mb: 14336"),
        );
        check_fit(
            &sysinfo_part(raised.total).with_macos(&raised),
            10 * GIB + GIB / 2,
            4096,
            6 * GIB,
            expect![
                "fits: needs about 13.9 GiB (weights 10.5 GiB × 1.3 + 256.0 MiB for the context), 14.3 GiB available once 6.0 GiB is unloaded, GPU limit 14.0 GiB (iogpu.wired_limit_mb=14336)"
            ],
        );
    }

    #[test]
    fn on_the_16_gib_mac_the_ram_and_the_gpu_limit_each_refuse_with_their_remedy() {
        let mac = recorded_mac();
        check_fit(
            &mac,
            5 * GIB,
            8192,
            0,
            expect![
                "fits: needs about 7.0 GiB (weights 5.0 GiB × 1.3 + 512.0 MiB for the context), 8.3 GiB available, GPU limit 10.7 GiB (iogpu.wired_limit_mb is 0: macOS's default)"
            ],
        );
        // Over what is available now, under the GPU's limit: only freeing memory helps.
        check_fit(
            &mac,
            7 * GIB,
            4096,
            0,
            expect![
                "refused: needs about 9.4 GiB (weights 7.0 GiB × 1.3 + 256.0 MiB for the context), 8.3 GiB available, GPU limit 10.7 GiB (iogpu.wired_limit_mb is 0: macOS's default); free memory"
            ],
        );
        // Over both.
        check_fit(
            &mac,
            9 * GIB,
            4096,
            0,
            expect![
                "refused: needs about 12.0 GiB (weights 9.0 GiB × 1.3 + 256.0 MiB for the context), 8.3 GiB available, GPU limit 10.7 GiB (iogpu.wired_limit_mb is 0: macOS's default); free memory and raise the GPU's limit to at least 12 GiB with `sudo sysctl iogpu.wired_limit_mb=12288` (it lasts until the Mac restarts)"
            ],
        );
        // Larger than the Mac: neither helps.
        check_fit(
            &mac,
            14 * GIB,
            4096,
            0,
            expect![
                "refused: needs about 18.5 GiB (weights 14.0 GiB × 1.3 + 256.0 MiB for the context), 8.3 GiB available, GPU limit 10.7 GiB (iogpu.wired_limit_mb is 0: macOS's default); it is larger than this machine's memory: pick a smaller model"
            ],
        );
        assert_eq!(mac.room(6 * GIB), 16 * GIB / 3 * 2);
        assert_eq!(mac.room(0), mac.available);
    }

    #[test]
    fn on_linux_only_the_ram_counts() {
        let linux = Memory {
            total: 32 * GIB,
            available: 4 * GIB,
            used: 28 * GIB,
            swap_total: 0,
            swap_used: 0,
            pressure: None,
            gpu_limit: None,
        };
        check_fit(
            &linux,
            10 * GIB,
            8192,
            0,
            expect![
                "refused: needs about 13.5 GiB (weights 10.0 GiB × 1.3 + 512.0 MiB for the context), 4.0 GiB available; free memory"
            ],
        );
        check_fit(
            &linux,
            10 * GIB,
            8192,
            12 * GIB,
            expect![
                "fits: needs about 13.5 GiB (weights 10.0 GiB × 1.3 + 512.0 MiB for the context), 16.0 GiB available once 12.0 GiB is unloaded"
            ],
        );
        assert_eq!(linux.room(12 * GIB), 16 * GIB);
        expect![[r#"{"total":34359738368,"available":4294967296,"used":30064771072,"swapTotal":0,"swapUsed":0,"pressure":null,"gpuLimit":null}"#]]
            .assert_eq(&serde_json::to_string(&linux).unwrap());
        expect![[r#"{"bytes":11453246122,"wiredLimitMb":0}"#]]
            .assert_eq(&serde_json::to_string(&recorded_mac().gpu_limit).unwrap());
    }
}
