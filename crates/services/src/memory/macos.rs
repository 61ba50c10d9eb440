//! macOS's memory numbers, read in-process and left raw: sysctls by name through the `sysctl`
//! crate, and the inactive page count from host_statistics64 through `psutil` (no sysctl has
//! it). Nothing is decided here: `super` turns a `MacosReading` into a sample, tested on Linux
//! from recorded outputs. A sysctl that is missing (an Intel Mac has no `iogpu.*`) reads `None`.

use psutil::memory::os::unix::VirtualMemoryExt;
use sysctl::{Ctl, CtlValue, Sysctl};

use super::MacosReading;

/// Page size, page counts, the GPU's wired limit and the pressure level, now.
pub(super) fn read() -> Option<MacosReading> {
    let page_size = number("hw.pagesize").filter(|&size| size > 0)?;
    let inactive = psutil::memory::virtual_memory().ok()?.inactive();
    Some(MacosReading {
        page_size,
        total: number("hw.memsize")?,
        pages_free: number("vm.page_free_count")?,
        pages_speculative: number("vm.page_speculative_count")?,
        pages_inactive: inactive / page_size,
        pages_purgeable: number("vm.page_purgeable_count")?,
        wired_limit_mb: number("iogpu.wired_limit_mb"),
        pressure_level: pressure_level(),
    })
}

/// `kern.memorystatus_vm_pressure_level`: 1, 2 or 4.
pub(super) fn pressure_level() -> Option<u64> {
    number("kern.memorystatus_vm_pressure_level")
}

/// An integer sysctl, whatever its width; `None` when it is missing, negative or not a number.
fn number(name: &str) -> Option<u64> {
    match Ctl::new(name).ok()?.value().ok()? {
        CtlValue::Int(n) | CtlValue::S32(n) => u64::try_from(n).ok(),
        CtlValue::Long(n) | CtlValue::S64(n) => u64::try_from(n).ok(),
        CtlValue::Uint(n) | CtlValue::U32(n) => Some(u64::from(n)),
        CtlValue::Ulong(n) | CtlValue::U64(n) => Some(n),
        CtlValue::U16(n) => Some(u64::from(n)),
        CtlValue::U8(n) => Some(u64::from(n)),
        CtlValue::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}
