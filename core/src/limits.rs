//! MPM sizing: each MPM's defaults and httpd's clamping rules, in httpd's
//! order and with its warnings (MPM-SPEC §2.1, §2.3, §1.5).
//!
//! `prefork_check_config` in prefork.c and `worker_check_config` /
//! `event_check_config` in worker.c / event.c do this in httpd; worker and
//! event share one function here because their rules are the same.

use crate::config::Settings;
use crate::mpm::MpmKind;

/// What a configuration yields for an MPM, after clamping.
#[derive(Debug, Clone, PartialEq)]
pub struct Capacity {
    pub mpm: MpmKind,
    pub server_limit: u32,
    /// 1 for prefork.
    pub thread_limit: u32,
    /// 1 for prefork.
    pub threads_per_child: u32,
    /// The MaxRequestWorkers value as configured after httpd's adjustments.
    pub max_request_workers: u32,
    /// Children that may serve at once: MaxRequestWorkers for prefork,
    /// MaxRequestWorkers / ThreadsPerChild (capped by ServerLimit) otherwise.
    pub max_children: u32,
    /// Children forked at start (StartServers, capped by `max_children`).
    pub start_children: u32,
    /// prefork only.
    pub min_spare_servers: u32,
    pub max_spare_servers: u32,
    /// worker and event only.
    pub min_spare_threads: u32,
    pub max_spare_threads: u32,
    /// event only (as configured; fractions below 1 act as 1).
    pub async_request_worker_factor: Option<f64>,
    pub max_connections_per_child: u32,
    /// Listener buckets (ListenCoresBucketsRatio).
    pub buckets: u32,
}

impl Capacity {
    /// Workers that can serve requests at once.
    pub fn total_workers(&self) -> u32 {
        self.max_children * self.threads_per_child
    }

    /// event: the most connections one child takes while all its workers are
    /// idle: `ThreadsPerChild + floor(AsyncRequestWorkerFactor) x ThreadsPerChild`
    /// (event.c truncates the factor in this test).
    pub fn connections_per_child(&self) -> Option<u32> {
        let factor = self.async_request_worker_factor?.max(1.0).floor() as u32;
        Some(self.threads_per_child + factor * self.threads_per_child)
    }
}

const PREFORK_MAX_SERVER_LIMIT: i64 = 200_000;
const THREADED_MAX_SERVER_LIMIT: i64 = 20_000;

fn max_thread_limit(mpm: MpmKind) -> i64 {
    match mpm {
        MpmKind::Event => 100_000,
        _ => 20_000,
    }
}

/// Clamps the MPM directives of `s` for `mpm`; returns the capacity and the
/// warnings httpd prints at startup (with its `WARNING:` prefix), in order.
/// `online_cpus` feeds ListenCoresBucketsRatio.
pub fn capacity(mpm: MpmKind, s: &Settings, online_cpus: u32) -> (Capacity, Vec<String>) {
    let buckets = match s.listen_cores_buckets_ratio {
        0 => 1,
        ratio => (online_cpus / ratio).max(1),
    };
    match mpm {
        MpmKind::Prefork => prefork(s, buckets),
        MpmKind::Worker | MpmKind::Event => threaded(mpm, s, buckets),
    }
}

fn prefork(s: &Settings, nb: u32) -> (Capacity, Vec<String>) {
    let mut warn = Vec::new();
    let mut server_limit = s.server_limit.unwrap_or(256);
    if server_limit > PREFORK_MAX_SERVER_LIMIT {
        warn.push(format!(
            "WARNING: ServerLimit of {server_limit} exceeds compile-time limit of \
             {PREFORK_MAX_SERVER_LIMIT} servers, decreasing to {PREFORK_MAX_SERVER_LIMIT}."
        ));
        server_limit = PREFORK_MAX_SERVER_LIMIT;
    } else if server_limit < 1 {
        warn.push(format!("WARNING: ServerLimit of {server_limit} not allowed, increasing to 1."));
        server_limit = 1;
    }
    let mut mrw = s.max_request_workers.unwrap_or(256);
    if mrw > server_limit {
        warn.push(format!(
            "WARNING: MaxRequestWorkers of {mrw} exceeds ServerLimit value of {server_limit} \
             servers, decreasing MaxRequestWorkers to {server_limit}. To increase, please see \
             the ServerLimit directive."
        ));
        mrw = server_limit;
    } else if mrw < 1 {
        warn.push(format!("WARNING: MaxRequestWorkers of {mrw} not allowed, increasing to 1."));
        mrw = 1;
    }
    let mut start = s.start_servers.unwrap_or(5);
    if start < 1 {
        warn.push(format!("WARNING: StartServers of {start} not allowed, increasing to 1."));
        start = 1;
    }
    let mut min_spare = s.min_spare_servers.unwrap_or(5);
    if min_spare < 1 {
        warn.push(format!(
            "WARNING: MinSpareServers of {min_spare} not allowed, increasing to 1 to avoid \
             almost certain server failure. Please read the documentation."
        ));
        min_spare = 1;
    }
    let nb = i64::from(nb);
    // The silent bucket minimums of §1.5, applied when the MPM runs.
    mrw = mrw.max(nb);
    start = start.max(nb);
    min_spare = min_spare.max(nb);
    let max_spare = s.max_spare_servers.unwrap_or(10).max(min_spare + nb);
    let cap = Capacity {
        mpm: MpmKind::Prefork,
        server_limit: to_u32(server_limit),
        thread_limit: 1,
        threads_per_child: 1,
        max_request_workers: to_u32(mrw),
        max_children: to_u32(mrw),
        start_children: to_u32(start.min(mrw)),
        min_spare_servers: to_u32(min_spare),
        max_spare_servers: to_u32(max_spare),
        min_spare_threads: 0,
        max_spare_threads: 0,
        async_request_worker_factor: None,
        max_connections_per_child: to_u32(s.max_connections_per_child.max(0)),
        buckets: to_u32(nb),
    };
    (cap, warn)
}

fn threaded(mpm: MpmKind, s: &Settings, nb: u32) -> (Capacity, Vec<String>) {
    let mut warn = Vec::new();
    let mut server_limit = s.server_limit.unwrap_or(16);
    if server_limit > THREADED_MAX_SERVER_LIMIT {
        warn.push(format!(
            "WARNING: ServerLimit of {server_limit} exceeds compile-time limit of \
             {THREADED_MAX_SERVER_LIMIT} servers, decreasing to {THREADED_MAX_SERVER_LIMIT}."
        ));
        server_limit = THREADED_MAX_SERVER_LIMIT;
    } else if server_limit < 1 {
        warn.push(format!("WARNING: ServerLimit of {server_limit} not allowed, increasing to 1."));
        server_limit = 1;
    }
    let max_threads = max_thread_limit(mpm);
    let mut thread_limit = s.thread_limit.unwrap_or(64);
    if thread_limit > max_threads {
        warn.push(format!(
            "WARNING: ThreadLimit of {thread_limit} exceeds compile-time limit of {max_threads} \
             threads, decreasing to {max_threads}."
        ));
        thread_limit = max_threads;
    } else if thread_limit < 1 {
        warn.push(format!("WARNING: ThreadLimit of {thread_limit} not allowed, increasing to 1."));
        thread_limit = 1;
    }
    let mut tpc = s.threads_per_child.unwrap_or(25);
    if tpc > thread_limit {
        warn.push(format!(
            "WARNING: ThreadsPerChild of {tpc} exceeds ThreadLimit of {thread_limit} threads, \
             decreasing to {thread_limit}. To increase, please see the ThreadLimit directive."
        ));
        tpc = thread_limit;
    } else if tpc < 1 {
        warn.push(format!("WARNING: ThreadsPerChild of {tpc} not allowed, increasing to 1."));
        tpc = 1;
    }
    // The MaxRequestWorkers default is fixed before the files are read, so a
    // changed ThreadsPerChild alone can trigger the rounding below (§2.1).
    let mut mrw = s.max_request_workers.unwrap_or(400);
    if mrw < tpc {
        warn.push(format!(
            "WARNING: MaxRequestWorkers of {mrw} is less than ThreadsPerChild of {tpc}, \
             increasing to {tpc}. MaxRequestWorkers must be at least as large as the number of \
             threads in a single server."
        ));
        mrw = tpc;
    }
    let mut process_limit = mrw / tpc;
    if mrw % tpc != 0 {
        let rounded = process_limit * tpc;
        warn.push(format!(
            "WARNING: MaxRequestWorkers of {mrw} is not an integer multiple of ThreadsPerChild \
             of {tpc}, decreasing to nearest multiple {rounded}, for a maximum of \
             {process_limit} servers."
        ));
        mrw = rounded;
    }
    if process_limit > server_limit {
        warn.push(format!(
            "WARNING: MaxRequestWorkers of {mrw} would require {process_limit} servers and would \
             exceed ServerLimit of {server_limit}, decreasing to {}. To increase, please see the \
             ServerLimit directive.",
            server_limit * tpc
        ));
        // httpd lowers the process limit, not the stored MaxRequestWorkers.
        process_limit = server_limit;
    }
    let mut start = s.start_servers.unwrap_or(3);
    if start < 1 {
        warn.push(format!("WARNING: StartServers of {start} not allowed, increasing to 1."));
        start = 1;
    }
    let mut min_spare = s.min_spare_threads.unwrap_or(75);
    if min_spare < 1 {
        warn.push(format!(
            "WARNING: MinSpareThreads of {min_spare} not allowed, increasing to 1 to avoid \
             almost certain server failure. Please read the documentation."
        ));
        min_spare = 1;
    }
    let nb = i64::from(nb);
    // The silent bucket minimums of §1.5.
    process_limit = process_limit.max(nb);
    start = start.max(nb);
    min_spare = min_spare.max(tpc * (nb - 1) + nb);
    let max_spare = s.max_spare_threads.unwrap_or(250).max(min_spare + (tpc + 1) * nb);
    let cap = Capacity {
        mpm,
        server_limit: to_u32(server_limit),
        thread_limit: to_u32(thread_limit),
        threads_per_child: to_u32(tpc),
        max_request_workers: to_u32(mrw),
        max_children: to_u32(process_limit),
        start_children: to_u32(start.min(process_limit)),
        min_spare_servers: 0,
        max_spare_servers: 0,
        min_spare_threads: to_u32(min_spare),
        max_spare_threads: to_u32(max_spare),
        async_request_worker_factor: match mpm {
            MpmKind::Event => Some(s.async_request_worker_factor.unwrap_or(2.0)),
            _ => None,
        },
        max_connections_per_child: to_u32(s.max_connections_per_child.max(0)),
        buckets: to_u32(nb),
    };
    (cap, warn)
}

fn to_u32(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(f: impl FnOnce(&mut Settings)) -> Settings {
        let mut s = Settings::default();
        f(&mut s);
        s
    }

    #[test]
    fn defaults_match_httpd() {
        let (p, w) = capacity(MpmKind::Prefork, &Settings::default(), 2);
        assert!(w.is_empty());
        assert_eq!((p.server_limit, p.max_children, p.start_children), (256, 256, 5));
        assert_eq!((p.min_spare_servers, p.max_spare_servers), (5, 10));
        let (e, w) = capacity(MpmKind::Event, &Settings::default(), 2);
        assert!(w.is_empty());
        assert_eq!((e.server_limit, e.thread_limit, e.threads_per_child), (16, 64, 25));
        assert_eq!((e.max_children, e.total_workers(), e.start_children), (16, 400, 3));
        assert_eq!((e.min_spare_threads, e.max_spare_threads), (75, 250));
        assert_eq!(e.connections_per_child(), Some(75));
        let (w_cap, _) = capacity(MpmKind::Worker, &Settings::default(), 2);
        assert_eq!(w_cap.connections_per_child(), None);
    }

    #[test]
    fn threads_per_child_30_rounds_the_default_400() {
        let (c, w) = capacity(MpmKind::Worker, &with(|s| s.threads_per_child = Some(30)), 2);
        assert_eq!(
            w,
            ["WARNING: MaxRequestWorkers of 400 is not an integer multiple of ThreadsPerChild of \
              30, decreasing to nearest multiple 390, for a maximum of 13 servers."]
        );
        assert_eq!((c.max_request_workers, c.max_children), (390, 13));
    }

    #[test]
    fn max_request_workers_above_server_limit_times_threads_is_lowered() {
        let (c, w) = capacity(MpmKind::Event, &with(|s| s.max_request_workers = Some(1000)), 2);
        assert_eq!(
            w,
            ["WARNING: MaxRequestWorkers of 1000 would require 40 servers and would exceed \
              ServerLimit of 16, decreasing to 400. To increase, please see the ServerLimit \
              directive."]
        );
        assert_eq!((c.max_children, c.total_workers()), (16, 400));
    }

    #[test]
    fn threaded_clamps_in_httpd_order() {
        let s = with(|s| {
            s.server_limit = Some(0);
            s.thread_limit = Some(200_000);
            s.threads_per_child = Some(0);
            s.max_request_workers = Some(0);
            s.start_servers = Some(0);
            s.min_spare_threads = Some(0);
        });
        let (c, w) = capacity(MpmKind::Event, &s, 2);
        assert_eq!(
            w,
            [
                "WARNING: ServerLimit of 0 not allowed, increasing to 1.",
                "WARNING: ThreadLimit of 200000 exceeds compile-time limit of 100000 threads, decreasing to 100000.",
                "WARNING: ThreadsPerChild of 0 not allowed, increasing to 1.",
                "WARNING: MaxRequestWorkers of 0 is less than ThreadsPerChild of 1, increasing to 1. MaxRequestWorkers must be at least as large as the number of threads in a single server.",
                "WARNING: StartServers of 0 not allowed, increasing to 1.",
                "WARNING: MinSpareThreads of 0 not allowed, increasing to 1 to avoid almost certain server failure. Please read the documentation.",
            ]
        );
        assert_eq!((c.server_limit, c.threads_per_child, c.max_children), (1, 1, 1));
        // Worker's compile-time thread limit is lower than event's.
        let (_, w) = capacity(MpmKind::Worker, &with(|s| s.thread_limit = Some(30_000)), 2);
        assert_eq!(
            w[0],
            "WARNING: ThreadLimit of 30000 exceeds compile-time limit of 20000 threads, decreasing to 20000."
        );
    }

    #[test]
    fn threads_per_child_above_thread_limit() {
        let (c, w) = capacity(MpmKind::Worker, &with(|s| s.threads_per_child = Some(100)), 2);
        assert_eq!(
            w[0],
            "WARNING: ThreadsPerChild of 100 exceeds ThreadLimit of 64 threads, decreasing to 64. \
             To increase, please see the ThreadLimit directive."
        );
        assert_eq!(c.threads_per_child, 64);
    }

    #[test]
    fn prefork_clamps() {
        let (c, w) = capacity(MpmKind::Prefork, &with(|s| s.max_request_workers = Some(300)), 2);
        assert_eq!(
            w,
            ["WARNING: MaxRequestWorkers of 300 exceeds ServerLimit value of 256 servers, \
              decreasing MaxRequestWorkers to 256. To increase, please see the ServerLimit \
              directive."]
        );
        assert_eq!(c.max_children, 256);
        let (c, w) = capacity(MpmKind::Prefork, &with(|s| s.min_spare_servers = Some(0)), 2);
        assert!(w[0].starts_with("WARNING: MinSpareServers of 0 not allowed, increasing to 1"));
        assert_eq!((c.min_spare_servers, c.max_spare_servers), (1, 10));
        let (_, w) = capacity(MpmKind::Prefork, &with(|s| s.server_limit = Some(300_000)), 2);
        assert!(w[0].starts_with("WARNING: ServerLimit of 300000 exceeds compile-time limit of 200000"));
    }

    #[test]
    fn spare_maximums_are_raised_silently() {
        let s = with(|s| {
            s.min_spare_servers = Some(20);
            s.max_spare_servers = Some(5);
        });
        let (c, w) = capacity(MpmKind::Prefork, &s, 2);
        assert!(w.is_empty());
        assert_eq!(c.max_spare_servers, 21);
        let s = with(|s| s.max_spare_threads = Some(10));
        let (c, w) = capacity(MpmKind::Worker, &s, 2);
        assert!(w.is_empty());
        assert_eq!(c.max_spare_threads, 75 + 26);
    }

    #[test]
    fn start_servers_capped_by_process_limit() {
        let s = with(|s| {
            s.start_servers = Some(10);
            s.max_request_workers = Some(50);
        });
        let (c, _) = capacity(MpmKind::Event, &s, 2);
        assert_eq!((c.max_children, c.start_children), (2, 2));
    }

    #[test]
    fn fractional_worker_factor_acts_as_one() {
        let (c, _) = capacity(MpmKind::Event, &with(|s| s.async_request_worker_factor = Some(0.5)), 2);
        assert_eq!(c.connections_per_child(), Some(50));
        let (c, _) = capacity(MpmKind::Event, &with(|s| s.async_request_worker_factor = Some(2.9)), 2);
        assert_eq!(c.connections_per_child(), Some(75));
    }

    #[test]
    fn buckets_from_ratio() {
        let (c, _) = capacity(MpmKind::Worker, &with(|s| s.listen_cores_buckets_ratio = 1), 4);
        assert_eq!(c.buckets, 4);
        assert_eq!(c.start_children, 4);
        let (c, _) = capacity(MpmKind::Worker, &with(|s| s.listen_cores_buckets_ratio = 8), 4);
        assert_eq!(c.buckets, 1);
    }
}
