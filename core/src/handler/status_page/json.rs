//! `?json`, beyond httpd: the ?auto fields under the same names (spaces
//! removed), exact numbers instead of `%g` text, and the per-process and
//! (ExtendedStatus) per-worker details of the HTML page. Written by hand:
//! the core has no JSON dependency, and these values are only numbers,
//! booleans and strings.

use std::fmt::Write as _;

use super::{Async, Proc, Snapshot, TICKS_PER_SECOND, Worker, ht_time, show_time};
use crate::scoreboard::WorkerStatus;
use crate::server::ServerContext;

/// A JSON string literal.
pub(super) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON number (`null` where JSON has none).
fn number(v: f64) -> String {
    if v.is_finite() { format!("{v}") } else { "null".into() }
}

/// `{"k": v, ...}` from pairs whose values are already JSON.
fn object(fields: &[(&str, String)]) -> String {
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("{}:{v}", quote(k))).collect();
    format!("{{{}}}", body.join(","))
}

/// The whole document, one line.
pub(super) fn json(ctx: &ServerContext, s: &Snapshot, host: &str) -> String {
    let mut f: Vec<(&str, String)> = vec![
        ("ServerName", quote(host)),
        ("ServerVersion", quote(&crate::build_info::server_version(ctx.mpm))),
        ("ServerMPM", quote(ctx.mpm.name())),
        ("ServerBuilt", quote(&crate::build_info::built())),
        ("CurrentTime", quote(&ht_time(s.now))),
        ("RestartTime", quote(&ht_time(s.restart))),
        ("CurrentTimeUnix", s.now.to_string()),
        ("RestartTimeUnix", s.restart.to_string()),
        ("ParentServerConfigGeneration", s.config_generation.to_string()),
        ("ParentServerMPMGeneration", s.mpm_generation.to_string()),
        ("ServerUptimeSeconds", s.uptime.to_string()),
        ("ServerUptime", quote(show_time(s.uptime).trim_start())),
        ("Load1", number(s.load[0])),
        ("Load5", number(s.load[1])),
        ("Load15", number(s.load[2])),
        ("ExtendedStatus", s.extended.to_string()),
    ];
    if s.extended {
        let c = s.cpu;
        let secs = |ticks: u64| number(ticks as f64 / f64::from(TICKS_PER_SECOND));
        f.extend([
            ("TotalAccesses", s.count.to_string()),
            ("TotalkBytes", s.kbytes.to_string()),
            ("TotalDuration", s.duration_ms.to_string()),
            ("CPUUser", secs(c.user)),
            ("CPUSystem", secs(c.system)),
            ("CPUChildrenUser", secs(c.children_user)),
            ("CPUChildrenSystem", secs(c.children_system)),
        ]);
        if let Some(load) = s.cpu_load() {
            f.push(("CPULoad", number(load)));
        }
        f.push(("Uptime", s.uptime.to_string()));
        let (count, bytes, up) = (s.count as f64, (s.kbytes * 1024) as f64, f64::from(s.uptime));
        if s.uptime > 0 {
            f.push(("ReqPerSec", number(count / up)));
            f.push(("BytesPerSec", number(bytes / up)));
        }
        if s.count > 0 {
            f.push(("BytesPerReq", number(bytes / count)));
            f.push(("DurationPerReq", number(s.duration_ms as f64 / count)));
        }
    }
    f.extend([
        ("BusyWorkers", s.busy.to_string()),
        ("GracefulWorkers", s.graceful.to_string()),
        ("IdleWorkers", s.idle.to_string()),
    ]);
    if ctx.mpm == crate::mpm::MpmKind::Event {
        let a = Async::of(s);
        f.extend([
            ("Processes", a.procs.to_string()),
            ("Stopping", a.stopping.to_string()),
            ("ConnsTotal", a.connections.to_string()),
            ("ConnsAsyncWaitIO", a.wait_io.to_string()),
            ("ConnsAsyncWriting", a.write_completion.to_string()),
            ("ConnsAsyncKeepAlive", a.keep_alive.to_string()),
            ("ConnsAsyncClosing", a.lingering_close.to_string()),
        ]);
    }
    let board: String = s.stat.iter().filter(|&&c| c != b' ').map(|&c| c as char).collect();
    f.push(("Scoreboard", quote(&board)));
    let procs: Vec<String> = s.procs.iter().map(|p| proc_json(p, s.mpm_generation)).collect();
    f.push(("slots", format!("[{}]", procs.join(","))));
    if s.extended {
        let workers: Vec<String> = s.workers.iter().map(worker_json).collect();
        f.push(("workers", format!("[{}]", workers.join(","))));
    }
    let mut out = object(&f);
    out.push('\n');
    out
}

fn proc_json(p: &Proc, mpm_generation: u32) -> String {
    object(&[
        ("slot", p.slot.to_string()),
        ("pid", p.pid.to_string()),
        ("generation", p.generation.to_string()),
        ("old_generation", (p.generation != mpm_generation).to_string()),
        ("stopping", p.quiescing.to_string()),
        ("accepting", p.accepting.to_string()),
        ("busy", p.busy.to_string()),
        ("graceful", p.graceful.to_string()),
        ("idle", p.idle.to_string()),
        ("connections", p.connections.to_string()),
        ("wait_io", p.wait_io.to_string()),
        ("writing", p.write_completion.to_string()),
        ("keep_alive", p.keep_alive.to_string()),
        ("closing", p.lingering_close.to_string()),
    ])
}

fn worker_json(w: &Worker) -> String {
    let pid = if w.status == WorkerStatus::Dead { "null".to_string() } else { w.pid.to_string() };
    object(&[
        ("slot", w.slot.to_string()),
        ("thread", w.thread.to_string()),
        ("generation", w.generation.to_string()),
        ("pid", pid),
        ("status", quote(&w.status.as_char().to_string())),
        ("conn_accesses", w.conn_count.to_string()),
        ("child_accesses", w.my_access_count.to_string()),
        ("accesses", w.access_count.to_string()),
        ("cpu", number(w.cpu.total() as f64 / f64::from(TICKS_PER_SECOND))),
        ("seconds_since_used", w.since_used.to_string()),
        ("request_ms", w.req_ms.to_string()),
        ("duration_ms", w.duration_ms.to_string()),
        ("conn_bytes", w.conn_bytes.to_string()),
        ("child_bytes", w.my_bytes.to_string()),
        ("bytes", w.bytes.to_string()),
        ("client", quote(&w.client)),
        ("protocol", quote(&w.protocol)),
        ("vhost", quote(&w.vhost)),
        ("request", quote(&w.request)),
    ])
}
