//! The workloads, and one measured run: start a server, warm up, load it while sampling its
//! process tree, stop it, and turn what was seen into figures.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::load::{self, Active, Background, BackgroundKind, Plan};
use super::procfs::{self, Peaks};
use super::servers::{self, Launch, ServerSpec};
use super::tls::{self, Certificate};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Scenario {
    KeepAlive,
    Close,
    Idle,
    Large,
    Slow,
    #[serde(rename = "tls-keepalive")]
    TlsKeepAlive,
    #[serde(rename = "tls-close")]
    TlsClose,
    #[serde(rename = "tls-resume")]
    TlsResume,
}

/// The documents the scenarios fetch, written into the ServerRoot copy's htdocs.
pub(crate) const SMALL_FILE: (&str, usize) = ("1k.html", 1024);
pub(crate) const LARGE_FILE: (&str, usize) = ("1m.bin", 1024 * 1024);

/// httpd.conf's KeepAliveTimeout.
const KEEP_ALIVE_TIMEOUT: u32 = 5;

impl Scenario {
    pub(crate) const ALL: [Scenario; 8] = [
        Scenario::KeepAlive,
        Scenario::Close,
        Scenario::Idle,
        Scenario::Large,
        Scenario::Slow,
        Scenario::TlsKeepAlive,
        Scenario::TlsClose,
        Scenario::TlsResume,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Scenario::KeepAlive => "keepalive",
            Scenario::Close => "close",
            Scenario::Idle => "idle",
            Scenario::Large => "large",
            Scenario::Slow => "slow",
            Scenario::TlsKeepAlive => "tls-keepalive",
            Scenario::TlsClose => "tls-close",
            Scenario::TlsResume => "tls-resume",
        }
    }

    /// Whether the servers listen with TLS, and the load generator speaks it.
    pub(crate) fn tls(self) -> bool {
        matches!(self, Scenario::TlsKeepAlive | Scenario::TlsClose | Scenario::TlsResume)
    }

    pub(crate) fn parse(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }

    pub(crate) fn describe(self, sizes: &Sizes, timing: &Timing) -> String {
        match self {
            Scenario::KeepAlive => format!("{} connections, 1 KiB file, keep-alive", sizes.keepalive),
            Scenario::Close => {
                format!("{} concurrent clients, 1 KiB file, a new connection per request", sizes.close)
            }
            Scenario::Idle => format!(
                "{} idle keep-alive connections (one request each) held open while {} connections run keepalive",
                sizes.idle, sizes.idle_active
            ),
            Scenario::Large => format!(
                "{} connections, 1 MiB file, keep-alive, {}",
                sizes.large,
                if sizes.large_sendfile {
                    "sendfile on for all (EnableSendfile On; nginx: sendfile on)"
                } else {
                    "sendfile off for all (httpd's default: Apache and ours map the file; nginx reads it)"
                }
            ),
            Scenario::Slow => format!(
                "{} connections dribbling request heads (a byte every 250 ms), and after {} s a probe client fetching 1 KiB, a new connection per request",
                sizes.slow,
                timing.setup_limit.as_secs_f64()
            ),
            Scenario::TlsKeepAlive => format!(
                "{} connections, 1 KiB file, keep-alive, over TLS 1.3 ({})",
                sizes.keepalive,
                tls::PARAMETERS
            ),
            Scenario::TlsClose => format!(
                "{} concurrent clients, 1 KiB file, a new TLS 1.3 connection per request, each a full handshake ({}; the client never resumes a session)",
                sizes.close,
                tls::PARAMETERS
            ),
            Scenario::TlsResume => format!(
                "{} concurrent clients, 1 KiB file, a new TLS 1.3 connection per request, each resuming a session from a ticket the server sent earlier: PSK with a new key exchange, no certificate or signature ({})",
                sizes.close,
                tls::PARAMETERS
            ),
        }
    }

    /// What the headline figure counts.
    pub(crate) fn unit(self) -> &'static str {
        if self == Scenario::Large { "MB/s" } else { "req/s" }
    }

    /// The headline figure: MB/s for `large`, requests per second otherwise.
    pub(crate) fn throughput(self, f: &Figures) -> f64 {
        if self == Scenario::Large { f.mb_per_s } else { f.requests_per_s }
    }
}

/// Connection counts: the defaults, fewer background connections with `--quick`; and
/// how `large` sends its file.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Sizes {
    pub(crate) keepalive: usize,
    pub(crate) close: usize,
    pub(crate) idle: usize,
    pub(crate) idle_active: usize,
    pub(crate) large: usize,
    pub(crate) slow: usize,
    /// `large` with sendfile for every server (the issue's target is "at least as fast as
    /// Apache (sendfile)"); the other scenarios keep httpd.conf's EnableSendfile Off.
    pub(crate) large_sendfile: bool,
}

impl Sizes {
    pub(crate) fn new(quick: bool, large_sendfile: bool) -> Sizes {
        let (idle, slow) = if quick { (200, 50) } else { (2000, 500) };
        Sizes { keepalive: 50, close: 50, idle, idle_active: 20, large: 10, slow, large_sendfile }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Timing {
    #[serde(serialize_with = "seconds")]
    pub(crate) warmup: Duration,
    #[serde(serialize_with = "seconds")]
    pub(crate) duration: Duration,
    /// How long background connections may take to open before the active clients start.
    #[serde(serialize_with = "seconds")]
    pub(crate) setup_limit: Duration,
    #[serde(serialize_with = "seconds")]
    pub(crate) request_timeout: Duration,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Everything one run needs besides the server and scenario.
pub(crate) struct RunContext<'a> {
    pub(crate) server_root: &'a Path,
    pub(crate) runs_dir: &'a Path,
    pub(crate) sizes: &'a Sizes,
    pub(crate) timing: &'a Timing,
    pub(crate) client_threads: usize,
    pub(crate) pin: bool,
    /// Made once per run when a tls-* scenario is selected.
    pub(crate) certificate: Option<&'a Certificate>,
}

/// What one run of one scenario against one server measured. Latencies are None when no
/// request completed.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct Figures {
    pub(crate) requests_per_s: f64,
    pub(crate) mb_per_s: f64,
    pub(crate) completed: u64,
    pub(crate) p50_ms: Option<f64>,
    pub(crate) p99_ms: Option<f64>,
    pub(crate) max_ms: Option<f64>,
    pub(crate) errors: BTreeMap<String, u64>,
    /// Peak of the sum of VmRSS over the server's processes.
    pub(crate) rss_mib: f64,
    /// Peak of the sum of Pss: shared pages counted once.
    pub(crate) pss_mib: f64,
    pub(crate) processes: u64,
    pub(crate) threads: u64,
    /// CPU time per second of the measured window: 1.0 is one core busy.
    pub(crate) server_cpu: f64,
    /// The load generator's own, on the same scale: near its thread count, it is saturated.
    pub(crate) client_cpu: f64,
    /// The rest of the machine, on the same scale (kernel work for loopback traffic that is
    /// not charged to either side shows here too): well above 0.1, something else was running.
    pub(crate) other_cpu: f64,
    /// idle: connections held open, closed before KeepAliveTimeout, never answered;
    /// slow: connections still dribbling, closed by the server, never connected.
    pub(crate) background: Option<[u64; 3]>,
    pub(crate) notes: Vec<String>,
}

/// One run: start `spec`, load it with `scenario`, stop it.
pub(crate) fn measure(
    spec: &ServerSpec,
    scenario: Scenario,
    ctx: &RunContext<'_>,
    rep: usize,
) -> Result<Figures> {
    let (sizes, timing) = (ctx.sizes, ctx.timing);
    let mut notes = Vec::new();
    // Idle connections must outlive the run, or "closed early" would mean nothing: when the
    // run is longer than httpd.conf's KeepAliveTimeout, raise it, for every server alike.
    let needed = timing.setup_limit + timing.warmup + timing.duration + Duration::from_secs(1);
    let keep_alive_timeout = (scenario == Scenario::Idle && needed.as_secs() >= KEEP_ALIVE_TIMEOUT.into())
        .then(|| needed.as_secs() as u32 + 1);
    if let Some(t) = keep_alive_timeout {
        notes.push(format!("KeepAliveTimeout {t} (raised to outlast the run)"));
    }
    let run_dir = ctx.runs_dir.join(format!("{}-{}-{}", scenario.name(), spec.name, rep + 1));
    let sendfile = (scenario == Scenario::Large).then_some(sizes.large_sendfile);
    let certificate = match (scenario.tls(), ctx.certificate) {
        (true, None) => anyhow::bail!("{}: no certificate was made", scenario.name()),
        (true, Some(c)) => Some(c),
        (false, _) => None,
    };
    // A fresh client per run: a resuming client must not offer one server's ticket to the next.
    let client = certificate.map(|c| tls::Client::new(c, scenario == Scenario::TlsResume)).transpose()?;
    let launch = Launch {
        server_root: ctx.server_root,
        run_dir: &run_dir,
        keep_alive_timeout,
        sendfile,
        pin: ctx.pin,
        tls: certificate,
    };
    let mut server = servers::start(spec, &launch)?;

    let (small, large) = (format!("/{}", SMALL_FILE.0), format!("/{}", LARGE_FILE.0));
    let (active, background) = match scenario {
        Scenario::KeepAlive | Scenario::TlsKeepAlive => {
            (Active { connections: sizes.keepalive, path: small, keep_alive: true }, None)
        }
        Scenario::Close | Scenario::TlsClose | Scenario::TlsResume => {
            (Active { connections: sizes.close, path: small, keep_alive: false }, None)
        }
        Scenario::Idle => (
            Active { connections: sizes.idle_active, path: small.clone(), keep_alive: true },
            Some(Background { kind: BackgroundKind::Idle, connections: sizes.idle, path: small }),
        ),
        Scenario::Large => (Active { connections: sizes.large, path: large, keep_alive: true }, None),
        Scenario::Slow => (
            Active { connections: 1, path: small.clone(), keep_alive: false },
            Some(Background { kind: BackgroundKind::Slow, connections: sizes.slow, path: small }),
        ),
    };
    let plan = Plan {
        addr: server.addr,
        threads: ctx.client_threads,
        active,
        background,
        tls: client,
        setup_limit: timing.setup_limit,
        warmup: timing.warmup,
        duration: timing.duration,
        request_timeout: timing.request_timeout,
        keep_alive_timeout: Duration::from_secs(keep_alive_timeout.unwrap_or(KEEP_ALIVE_TIMEOUT).into()),
    };
    let run = load::start(plan);

    // Sample the server's tree through the measured window; CPU times at its two ends.
    let (from, to) = loop {
        if let Some(window) = run.clock.window(Instant::now()) {
            break window;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    std::thread::sleep(from.saturating_duration_since(Instant::now()));
    let first = procfs::sample_tree(server.pid);
    let client_start = procfs::own_cpu_seconds();
    let machine_start = procfs::machine_busy_seconds();
    let mut peaks = Peaks::default();
    peaks.add(&first);
    let mut last = first;
    while Instant::now() < to {
        std::thread::sleep(Duration::from_millis(100).min(to.saturating_duration_since(Instant::now())));
        last = procfs::sample_tree(server.pid);
        peaks.add(&last);
    }
    let client_cpu = procfs::own_cpu_seconds() - client_start;
    let machine_cpu = procfs::machine_busy_seconds() - machine_start;
    let client_threads = ctx.client_threads as f64;
    if client_cpu / timing.duration.as_secs_f64() >= 0.9 * client_threads {
        notes.push(format!(
            "load generator saturated ({client_threads} thread(s) busy): try --client-threads"
        ));
    }
    let tally = run.finish();
    if scenario.tls() && tally.completed > 0 {
        let share = tally.resumed as f64 / tally.completed as f64 * 100.0;
        notes.push(format!("{share:.0}% of the requests on a resumed TLS session"));
    }
    server.stop();
    notes.append(&mut server.stop_notes);
    // The access log is the same work for every server; its contents are not needed.
    let _ = std::fs::remove_file(run_dir.join("access_log"));
    let _ = std::fs::remove_file(ctx.server_root.join("logs/access_log"));

    let secs = timing.duration.as_secs_f64();
    let ms = |q: f64| (tally.completed > 0).then(|| tally.latency.value_at_quantile(q) as f64 / 1000.0);
    let mib = |kib: u64| kib as f64 / 1024.0;
    let background = matches!(scenario, Scenario::Idle | Scenario::Slow).then(|| {
        let b = tally.background;
        [b.open, b.closed_early, b.never_ready]
    });
    Ok(Figures {
        requests_per_s: tally.completed as f64 / secs,
        mb_per_s: tally.body_bytes as f64 / secs / 1e6,
        completed: tally.completed,
        p50_ms: ms(0.5),
        p99_ms: ms(0.99),
        max_ms: (tally.completed > 0).then(|| tally.latency.max() as f64 / 1000.0),
        errors: tally.errors.by_kind().into_iter().map(|(k, n)| (k.to_owned(), n)).collect(),
        rss_mib: mib(peaks.rss_kib),
        pss_mib: mib(peaks.pss_kib),
        processes: peaks.processes,
        threads: peaks.threads,
        server_cpu: (last.cpu_seconds - first.cpu_seconds).max(0.0) / secs,
        client_cpu: client_cpu / secs,
        other_cpu: (machine_cpu - client_cpu - (last.cpu_seconds - first.cpu_seconds)).max(0.0) / secs,
        background,
        notes,
    })
}
