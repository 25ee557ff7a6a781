//! Medians over repetitions, ratios to the peers, and the tables: text on stdout,
//! `report.md` and `report.json` under the output directory.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::Options;
use super::procfs;
use super::scenarios::{Figures, Scenario, Sizes, Timing};
use super::servers::{Family, Mpm, ServerSpec};
use super::table::Table;

#[derive(serde::Serialize)]
#[serde(untagged)]
pub(crate) enum RunOutcome {
    Measured(Figures),
    Failed { error: String },
}

#[derive(serde::Serialize)]
pub(crate) struct ServerResult {
    pub(crate) server: String,
    pub(crate) family: Family,
    pub(crate) mpm: Option<Mpm>,
    pub(crate) runs: Vec<RunOutcome>,
    /// Each figure's median over the measured runs.
    pub(crate) median: Option<Figures>,
    /// The headline figure (req/s, or MB/s): median, lowest and highest run.
    pub(crate) throughput: Option<[f64; 3]>,
    /// (highest - lowest) / median of the headline figure, in percent.
    pub(crate) spread_pct: Option<f64>,
}

/// One of our servers against a peer: above 1 means ours is faster (throughput) or slower (p99).
#[derive(serde::Serialize)]
pub(crate) struct Ratio {
    pub(crate) server: String,
    pub(crate) peer: String,
    pub(crate) throughput: Option<f64>,
    pub(crate) p99: Option<f64>,
}

#[derive(serde::Serialize)]
pub(crate) struct ScenarioResult {
    pub(crate) scenario: Scenario,
    pub(crate) description: String,
    pub(crate) unit: &'static str,
    pub(crate) results: Vec<ServerResult>,
    pub(crate) ratios: Vec<Ratio>,
}

impl ScenarioResult {
    pub(crate) fn new(
        scenario: Scenario,
        (sizes, timing): (&Sizes, &Timing),
        servers: &[ServerSpec],
        runs: Vec<Vec<Result<Figures, String>>>,
    ) -> ScenarioResult {
        let results: Vec<ServerResult> = servers
            .iter()
            .zip(runs)
            .map(|(spec, runs)| {
                let measured: Vec<&Figures> = runs.iter().filter_map(|r| r.as_ref().ok()).collect();
                let median = (!measured.is_empty()).then(|| median_figures(&measured));
                let headline: Vec<f64> = measured.iter().map(|f| scenario.throughput(f)).collect();
                let throughput = median.as_ref().map(|m| {
                    let min = headline.iter().copied().fold(f64::INFINITY, f64::min);
                    let max = headline.iter().copied().fold(0.0, f64::max);
                    [scenario.throughput(m), min, max]
                });
                let spread_pct = throughput
                    .filter(|t| t[0] > 0.0 && measured.len() > 1)
                    .map(|[m, lo, hi]| (hi - lo) / m * 100.0);
                ServerResult {
                    server: spec.name.clone(),
                    family: spec.family,
                    mpm: spec.mpm,
                    runs: runs
                        .into_iter()
                        .map(|r| r.map_or_else(|error| RunOutcome::Failed { error }, RunOutcome::Measured))
                        .collect(),
                    median,
                    throughput,
                    spread_pct,
                }
            })
            .collect();
        let mut ratios = Vec::new();
        for ours in results.iter().filter(|r| r.family == Family::Ours) {
            let peers = results.iter().filter(|p| match p.family {
                Family::Apache | Family::Baseline => p.mpm == ours.mpm,
                Family::Nginx => true,
                Family::Ours => false,
            });
            for peer in peers {
                let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
                    (Some(a), Some(b)) if b > 0.0 => Some(a / b),
                    _ => None,
                };
                let p99 = |r: &ServerResult| r.median.as_ref().and_then(|m| m.p99_ms);
                ratios.push(Ratio {
                    server: ours.server.clone(),
                    peer: peer.server.clone(),
                    throughput: ratio(ours.throughput.map(|t| t[0]), peer.throughput.map(|t| t[0])),
                    p99: ratio(p99(ours), p99(peer)),
                });
            }
        }
        ScenarioResult {
            scenario,
            description: scenario.describe(sizes, timing),
            unit: scenario.unit(),
            results,
            ratios,
        }
    }

    fn ratio(&self, server: &str, family: Family) -> Option<&Ratio> {
        let peer_family = |name: &str| self.results.iter().find(|r| r.server == name).map(|r| r.family);
        self.ratios.iter().find(|r| r.server == server && peer_family(&r.peer) == Some(family))
    }

    /// One row per server: the medians, with ratios to the peers on our rows.
    pub(crate) fn table(&self) -> Table {
        let background = match self.scenario {
            Scenario::Idle => Some("idle open/early/never"),
            Scenario::Slow => Some("slow open/closed/never"),
            _ => None,
        };
        let mut headers = vec!["server", self.unit, "spread", "p50 ms", "p99 ms", "max ms", "errors"];
        headers.extend([
            "RSS MiB",
            "PSS MiB",
            "procs",
            "threads",
            "srv CPU",
            "srv µs/req",
            "cli CPU",
            "oth CPU",
        ]);
        headers.extend(background);
        headers.extend(["vs Apache", "vs nginx"]);
        let mut table = Table::new(format!("{}: {}", self.scenario.name(), self.description), &headers);
        for r in &self.results {
            let Some(m) = &r.median else {
                let error = r.runs.iter().find_map(|o| match o {
                    RunOutcome::Failed { error } => Some(error.lines().next().unwrap_or("").to_owned()),
                    RunOutcome::Measured(_) => None,
                });
                table.row(vec![r.server.clone(), format!("failed: {}", error.unwrap_or_default())]);
                continue;
            };
            let ms = |v: Option<f64>| v.map_or("-".into(), fmt_ms);
            let mut row = vec![
                r.server.clone(),
                fmt_rate(self.scenario.throughput(m)),
                r.spread_pct.map_or("-".into(), |s| format!("±{:.0}%", s / 2.0)),
                ms(m.p50_ms),
                ms(m.p99_ms),
                ms(m.max_ms),
                fmt_errors(&m.errors),
                format!("{:.1}", m.rss_mib),
                format!("{:.1}", m.pss_mib),
                m.processes.to_string(),
                m.threads.to_string(),
                format!("{:.2}", m.server_cpu),
                cpu_per_request(m),
                format!("{:.2}", m.client_cpu),
                format!("{:.2}", m.other_cpu),
            ];
            if background.is_some() {
                row.push(m.background.map_or("-".into(), |[a, b, c]| format!("{a}/{b}/{c}")));
            }
            for family in [Family::Apache, Family::Nginx] {
                let ratio = self.ratio(&r.server, family).and_then(|x| x.throughput);
                row.push(ratio.map_or(String::new(), |x| format!("{x:.2}×")));
            }
            table.row(row);
        }
        table
    }
}

/// The server's CPU time per completed request: what a request costs it, whether or not the
/// load generator kept it busy.
fn cpu_per_request(m: &Figures) -> String {
    if m.requests_per_s > 0.0 { format!("{:.0}", m.server_cpu / m.requests_per_s * 1e6) } else { "-".into() }
}

fn fmt_rate(v: f64) -> String {
    if v >= 100.0 { format!("{v:.0}") } else { format!("{v:.1}") }
}

fn fmt_ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn fmt_errors(errors: &BTreeMap<String, u64>) -> String {
    let kinds: Vec<String> =
        errors.iter().filter(|(_, n)| **n > 0).map(|(k, n)| format!("{n} {k}")).collect();
    if kinds.is_empty() { "0".into() } else { kinds.join(", ") }
}

/// Each figure's median over the runs (latencies over the runs that completed a request).
fn median_figures(runs: &[&Figures]) -> Figures {
    let med = |get: &dyn Fn(&Figures) -> f64| median(runs.iter().map(|f| get(f)).collect());
    let med_opt = |get: &dyn Fn(&Figures) -> Option<f64>| {
        let values: Vec<f64> = runs.iter().filter_map(|f| get(f)).collect();
        (!values.is_empty()).then(|| median(values))
    };
    let mut errors = BTreeMap::new();
    for kind in runs.iter().flat_map(|f| f.errors.keys()) {
        let n = med(&|f| f.errors.get(kind).copied().unwrap_or(0) as f64);
        errors.insert(kind.clone(), n.round() as u64);
    }
    let background = runs[0]
        .background
        .map(|_| [0, 1, 2].map(|i| med(&|f| f.background.map_or(0.0, |b| b[i] as f64)).round() as u64));
    let mut notes: Vec<String> = runs.iter().flat_map(|f| f.notes.iter().cloned()).collect();
    notes.sort();
    notes.dedup();
    Figures {
        requests_per_s: med(&|f| f.requests_per_s),
        mb_per_s: med(&|f| f.mb_per_s),
        completed: med(&|f| f.completed as f64).round() as u64,
        p50_ms: med_opt(&|f| f.p50_ms),
        p99_ms: med_opt(&|f| f.p99_ms),
        max_ms: med_opt(&|f| f.max_ms),
        errors,
        rss_mib: med(&|f| f.rss_mib),
        pss_mib: med(&|f| f.pss_mib),
        processes: med(&|f| f.processes as f64).round() as u64,
        threads: med(&|f| f.threads as f64).round() as u64,
        server_cpu: med(&|f| f.server_cpu),
        client_cpu: med(&|f| f.client_cpu),
        other_cpu: med(&|f| f.other_cpu),
        background,
        notes,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[derive(serde::Serialize)]
struct Machine {
    cores: usize,
    cpu: String,
    kernel: String,
}

#[derive(serde::Serialize)]
struct Settings {
    servers: Vec<String>,
    repeat: usize,
    quick: bool,
    pin: bool,
    /// Where the `@base` servers came from.
    baseline: Option<std::path::PathBuf>,
    client_threads: usize,
    timing: Timing,
    sizes: Sizes,
}

#[derive(serde::Serialize)]
pub(crate) struct Report {
    generated: String,
    machine: Machine,
    settings: Settings,
    servers: Vec<ServerSpec>,
    skipped: Vec<String>,
    elapsed_s: f64,
    pub(crate) scenarios: Vec<ScenarioResult>,
}

impl Report {
    pub(crate) fn new(
        opts: &Options,
        sizes: &Sizes,
        servers: &[ServerSpec],
        skipped: Vec<String>,
        scenarios: Vec<ScenarioResult>,
        elapsed: Duration,
    ) -> Report {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("model name"))
                    .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let kernel =
            std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned();
        Report {
            generated: utc_now(),
            machine: Machine { cores: procfs::cores(), cpu, kernel },
            settings: Settings {
                servers: servers.iter().map(|s| s.name.clone()).collect(),
                repeat: opts.repeat,
                quick: opts.quick,
                pin: opts.pin,
                baseline: opts.baseline.clone(),
                client_threads: opts.client_threads,
                timing: opts.timing.clone(),
                sizes: sizes.clone(),
            },
            servers: servers.to_vec(),
            skipped,
            elapsed_s: elapsed.as_secs_f64(),
            scenarios,
        }
    }

    pub(crate) fn has_ratios(&self) -> bool {
        self.scenarios.iter().any(|s| !s.ratios.is_empty())
    }

    /// Rows: servers; columns: scenarios; cells: the headline figure and p99 latency.
    pub(crate) fn summary_table(&self) -> Table {
        let headers: Vec<String> =
            self.scenarios.iter().map(|s| format!("{} {} / p99", s.scenario.name(), s.unit)).collect();
        let mut all = vec!["server"];
        all.extend(headers.iter().map(String::as_str));
        let mut table = Table::new("at a glance (medians)".into(), &all);
        for (i, spec) in self.servers.iter().enumerate() {
            let mut row = vec![spec.name.clone()];
            for s in &self.scenarios {
                let cell = s.results.get(i).and_then(|r| r.median.as_ref()).map_or("failed".into(), |m| {
                    let p99 = m.p99_ms.map_or("-".into(), |p| format!("{} ms", fmt_ms(p)));
                    format!("{} / {p99}", fmt_rate(s.scenario.throughput(m)))
                });
                row.push(cell);
            }
            table.row(row);
        }
        table
    }

    /// Rows: each of our servers against each peer; columns: scenarios; cells: throughput ratio.
    pub(crate) fn ratio_table(&self) -> Table {
        self.ratios_by("throughput ratios (ours / peer; above 1: ours serves more)", |r| r.throughput)
    }

    fn ratios_by(&self, title: &str, pick: impl Fn(&Ratio) -> Option<f64>) -> Table {
        let mut headers = vec!["ours", "peer"];
        headers.extend(self.scenarios.iter().map(|s| s.scenario.name()));
        let mut table = Table::new(title.to_owned(), &headers);
        let pairs: Vec<(&str, &str)> = self
            .scenarios
            .iter()
            .flat_map(|s| s.ratios.iter().map(|r| (r.server.as_str(), r.peer.as_str())))
            .fold(Vec::new(), |mut v, p| {
                if !v.contains(&p) {
                    v.push(p);
                }
                v
            });
        for (ours, peer) in pairs {
            let mut row = vec![ours.to_owned(), peer.to_owned()];
            for s in &self.scenarios {
                let r = s.ratios.iter().find(|r| r.server == ours && r.peer == peer);
                row.push(r.and_then(&pick).map_or("-".into(), |x| format!("{x:.2}×")));
            }
            table.row(row);
        }
        table
    }

    pub(crate) fn write(&self, out: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self).context("serializing the report")?;
        std::fs::write(out.join("report.json"), json + "\n").context("writing report.json")?;
        std::fs::write(out.join("report.md"), self.markdown()).context("writing report.md")
    }

    fn markdown(&self) -> String {
        let s = &self.settings;
        let mut md = String::from("# MPM comparison\n\n");
        md += &format!(
            "{}, {} ({} cores), Linux {}.\n{} run(s) per figure, the median shown; each run: a fresh server, {} s warm-up, {} s measured; {} load generator thread(s){}.\n\n",
            self.generated,
            self.machine.cpu,
            self.machine.cores,
            self.machine.kernel,
            s.repeat,
            s.timing.warmup.as_secs_f64(),
            s.timing.duration.as_secs_f64(),
            s.client_threads,
            if s.pin { ", server pinned to CPU 0 and load generator to CPU 1" } else { ", nothing pinned" },
        );
        md += "Servers:\n\n";
        for spec in &self.servers {
            md += &format!("- `{}`: {}\n", spec.name, spec.version);
        }
        for line in &self.skipped {
            md += &format!("- {line}\n");
        }
        md += "\n## At a glance\n\n";
        md += &self.summary_table().to_markdown();
        md += "\n";
        md += HOW_TO_READ;
        for sc in &self.scenarios {
            md += &format!("\n## {}\n\n{}.\n\n", sc.scenario.name(), sc.description);
            md += &sc.table().to_markdown();
            md += &format!("\n![{0}]({0}.svg)\n", sc.scenario.name());
            let notes: Vec<String> = sc
                .results
                .iter()
                .flat_map(|r| {
                    let failed = r.runs.iter().filter_map(|o| match o {
                        RunOutcome::Failed { error } => {
                            Some(format!("{}: run failed: {}", r.server, error.replace('\n', " ")))
                        }
                        RunOutcome::Measured(_) => None,
                    });
                    let noted =
                        r.median.iter().flat_map(|m| m.notes.iter().map(|n| format!("{}: {n}", r.server)));
                    failed.chain(noted).collect::<Vec<_>>()
                })
                .collect();
            for n in notes {
                md += &format!("\n- {n}");
            }
            md += "\n";
        }
        md += "\n## Ratios\n\n";
        if !self.has_ratios() {
            return md + "None: neither Apache httpd nor nginx was measured.\n";
        }
        md += "Throughput, ours / peer (above 1: ours serves more):\n\n";
        md += &self.ratio_table().to_markdown();
        md += "\np99 latency, ours / peer (below 1: ours answers sooner):\n\n";
        md += &self.ratios_by("", |r| r.p99).to_markdown();
        md
    }

    /// Every scenario must have figures for each of our servers that was selected.
    pub(crate) fn check_ours_complete(&self) -> Result<()> {
        let missing: Vec<String> = self
            .scenarios
            .iter()
            .flat_map(|s| {
                s.results
                    .iter()
                    .filter(|r| r.family == Family::Ours && r.median.is_none())
                    .map(move |r| format!("{} in {}", r.server, s.scenario.name()))
            })
            .collect();
        if !missing.is_empty() {
            bail!("no figures for {}", missing.join(", "));
        }
        Ok(())
    }
}

const HOW_TO_READ: &str = "\
## How to read

- Each row is one server; figures are medians over the runs.
- Throughput is requests per second (MB/s of body for `large`) over the measured window; *spread* is half the range between the slowest and fastest run, relative to the median.
- Latency runs from the request's first byte (or its connect, for a new connection) to the response's last byte.
- Errors count, by kind, what went wrong in the window: `connect` (refused), `reset` (closed before a whole head), `short_body`, `timeout` (no answer in 2 s, or still none at the end of the run), `status` (not 200), `parse`, `tls` (a failed handshake, a record the client refused, an alert).
- RSS sums VmRSS over the server's processes, counting shared pages once per process; PSS splits them, so it adds up; procs and threads are peaks.
- `srv CPU` and `cli CPU` are CPU seconds per second of the window (1.00 is one core): a load generator near its thread count is saturated, and then the figures measure the client.
- `srv µs/req` is the server's CPU time per completed request (`srv CPU` over req/s): its cost per request even when the load generator, not the server, set the pace.
- `oth CPU` is the rest of the machine on the same scale: well above 0.1, something else ran during the window and the figures are disturbed.
- For `idle`: idle connections still open at the end / closed by the server before KeepAliveTimeout / never answered. For `slow`: slow clients still connected / closed by the server / never connected.
- The tls-* scenarios: every server gets the same certificate (ECDSA P-256, made for the run) and the same handshake (TLS 1.3, X25519, TLS_AES_128_GCM_SHA256); the load generator's own handshake work shows in `cli CPU`.
- `vs Apache` and `vs nginx` divide our throughput by that of Apache's same MPM, or of nginx.
";

/// `YYYY-MM-DD HH:MM UTC`, from the system clock (days to civil date as in Howard Hinnant's
/// `civil_from_days`).
fn utc_now() -> String {
    let secs =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        let f = |rps, p99| Figures { requests_per_s: rps, p99_ms: p99, ..Figures::default() };
        let (a, b, c) = (f(10.0, Some(1.0)), f(30.0, None), f(20.0, Some(3.0)));
        let m = median_figures(&[&a, &b, &c]);
        assert_eq!((m.requests_per_s, m.p99_ms), (20.0, Some(2.0)));
    }

    #[test]
    fn date_is_civil() {
        let d = utc_now();
        assert!(d.len() == 20 && d.ends_with(" UTC") && d.starts_with("20"), "{d}");
    }
}
