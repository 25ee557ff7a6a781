//! What a server costs, read from /proc: memory, processes, threads and CPU time summed over
//! its process tree (the pid we started and every descendant, found by ppid).

use std::collections::HashMap;

/// Linux reports CPU times in USER_HZ ticks, 100 per second on every architecture's user ABI.
const TICKS_PER_SECOND: f64 = 100.0;

/// One look at a process tree.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct TreeSample {
    pub(crate) processes: u64,
    /// Sum of every process's `Threads`.
    pub(crate) threads: u64,
    /// Sum of VmRSS: pages shared between a parent and its forked children count once per process.
    pub(crate) rss_kib: u64,
    /// Sum of Pss (smaps_rollup): each shared page split between its users, so it adds up.
    pub(crate) pss_kib: u64,
    /// user + system CPU seconds, including reaped children (cutime, cstime).
    pub(crate) cpu_seconds: f64,
}

/// The peaks over a run's samples.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Peaks {
    pub(crate) processes: u64,
    pub(crate) threads: u64,
    pub(crate) rss_kib: u64,
    pub(crate) pss_kib: u64,
}

impl Peaks {
    pub(crate) fn add(&mut self, s: &TreeSample) {
        self.processes = self.processes.max(s.processes);
        self.threads = self.threads.max(s.threads);
        self.rss_kib = self.rss_kib.max(s.rss_kib);
        self.pss_kib = self.pss_kib.max(s.pss_kib);
    }
}

/// `root` and its descendants.
pub(crate) fn tree(root: i32) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
            if let Some(ppid) = stat_fields(pid).and_then(|f| f.get(1).and_then(|p| p.parse().ok())) {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        if let Some(kids) = children.get(&out[i]) {
            out.extend(kids);
        }
        i += 1;
    }
    out
}

/// Sums over `root`'s tree; processes that vanish between listing and reading are skipped.
pub(crate) fn sample_tree(root: i32) -> TreeSample {
    let mut s = TreeSample::default();
    for pid in tree(root) {
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { continue };
        s.processes += 1;
        s.threads += status_value(&status, "Threads:").unwrap_or(0);
        s.rss_kib += status_value(&status, "VmRSS:").unwrap_or(0);
        if let Ok(rollup) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) {
            s.pss_kib += status_value(&rollup, "Pss:").unwrap_or(0);
        }
        s.cpu_seconds += cpu_seconds(&pid.to_string(), true);
    }
    s
}

/// CPU seconds this process (the load generator, with all its threads) has used.
pub(crate) fn own_cpu_seconds() -> f64 {
    cpu_seconds("self", false)
}

/// CPU seconds all CPUs of the machine have spent busy (neither idle nor waiting for I/O)
/// since boot, from /proc/stat: what neither the server nor the load generator used was
/// used by something else on the machine.
pub(crate) fn machine_busy_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(cpu) = stat.lines().next().and_then(|l| l.strip_prefix("cpu ")) else { return 0.0 };
    let ticks: Vec<u64> = cpu.split_whitespace().filter_map(|t| t.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is counted in user already).
    let busy: u64 =
        ticks.iter().take(8).enumerate().filter(|(i, _)| *i != 3 && *i != 4).map(|(_, t)| t).sum();
    busy as f64 / TICKS_PER_SECOND
}

/// How many CPUs this process may run on, as first asked: `compare` asks before `--pin`
/// narrows its own threads to one.
pub(crate) fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn cpu_seconds(pid: &str, with_children: bool) -> f64 {
    let Some(fields) = stat_fields(pid) else { return 0.0 };
    // Fields after the command: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
    let take = if with_children { 11..15 } else { 11..13 };
    let ticks: u64 = fields.get(take).unwrap_or(&[]).iter().filter_map(|t| t.parse::<u64>().ok()).sum();
    ticks as f64 / TICKS_PER_SECOND
}

/// The fields of /proc/<pid>/stat after the `(comm)`, which may itself hold spaces.
fn stat_fields(pid: impl std::fmt::Display) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

fn status_value(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_tree_is_measured() {
        let me = std::process::id() as i32;
        let s = sample_tree(me);
        assert!(s.processes >= 1 && s.threads >= 1, "{s:?}");
        assert!(s.rss_kib > 0 && s.pss_kib > 0, "{s:?}");
        assert!(tree(me).contains(&me));
        assert!(machine_busy_seconds() > 0.0);
    }

    #[test]
    fn status_values_are_read_in_kib() {
        let status = "Name:\tx\nVmRSS:\t    1234 kB\nThreads:\t7\n";
        assert_eq!(status_value(status, "VmRSS:"), Some(1234));
        assert_eq!(status_value(status, "Threads:"), Some(7));
        assert_eq!(status_value(status, "VmSwap:"), None);
    }
}
