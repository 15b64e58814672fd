//! What the benchmarks read off the machine they run on: pinning, CPU time, peak
//! memory, load and CPU model. Each benchmark uses part of it.

#![allow(dead_code)]

/// Pinning and CPU time, straight from the C library (no crate for two calls).
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
pub mod sys {
    use std::time::Duration;

    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }

    extern "C" {
        fn sched_setaffinity(pid: i32, cpusetsize: usize, mask: *const u64) -> i32;
        fn sched_getcpu() -> i32;
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }

    const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;

    /// Pins the calling thread, and so every thread and child process started after, to `cpu`.
    pub fn pin(cpu: usize) -> bool {
        let mut mask = [0u64; 16];
        if cpu >= 64 * mask.len() {
            return false;
        }
        mask[cpu / 64] |= 1 << (cpu % 64);
        // SAFETY: the mask is a valid cpu_set_t of 1024 bits that outlives the call.
        unsafe { sched_setaffinity(0, std::mem::size_of_val(&mask), mask.as_ptr()) == 0 }
    }

    pub fn current_cpu() -> Option<usize> {
        // SAFETY: no arguments, no memory.
        usize::try_from(unsafe { sched_getcpu() }).ok()
    }

    /// CPU time of the whole process (every thread), user and system.
    pub fn cpu_time() -> Option<Duration> {
        let mut t = Timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `t` is a valid timespec for the call to fill.
        let ok = unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut t) } == 0;
        ok.then(|| Duration::new(t.tv_sec as u64, t.tv_nsec as u32))
    }
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
pub mod sys {
    pub fn pin(_: usize) -> bool {
        false
    }
    pub fn current_cpu() -> Option<usize> {
        None
    }
    pub fn cpu_time() -> Option<std::time::Duration> {
        None
    }
}

/// A line of /proc/self/status in kB (`VmHWM`, `VmRSS`).
pub fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?;
    line[field.len() + 1..].trim().trim_end_matches("kB").trim().parse().ok()
}

pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}
