//! `cargo xtask compare`: our three MPMs side by side, with Apache httpd's and nginx when
//! installed, under the same workloads in one run.
//!
//! Flow: build the release binaries ([`servers::ours`]), copy shared-conf to a scratch
//! ServerRoot with the scenarios' files, then for each scenario and each repetition start every
//! server in turn ([`scenarios::measure`]: start, warm up, load with [`load`], sample
//! [`procfs`], stop), and finally print and write the [`report`] and the [`chart`]s.

mod chart;
mod http;
mod load;
mod procfs;
mod report;
mod scenarios;
mod servers;
mod table;
mod tally;
mod tls;
mod transport;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use scenarios::{LARGE_FILE, RunContext, SMALL_FILE, Scenario, Sizes, Timing};
use servers::{Family, ServerSpec};

const USAGE: &str = "\
Usage: cargo xtask compare [options]

Builds prefork-server, worker-server and event-server in release mode and runs the
same workloads against each, and against Apache httpd (each MPM) and nginx when
installed; prints a table and writes report.md, report.json and one SVG chart per
scenario.

Options:
  --servers LIST      comma-separated server names, or the groups ours, apache, all
                      (default all): prefork-server, worker-server, event-server,
                      apache-prefork, apache-worker, apache-event, nginx
  --scenarios LIST    comma-separated: keepalive, close, idle, large, slow, tls-keepalive,
                      tls-close, tls-resume (default all); the tls-* ones need the openssl
                      command (it makes their certificate)
  --duration SECS     measured seconds per run (default 1.2; --quick 0.3)
  --warmup SECS       unmeasured seconds of load before each run (default 0.5; --quick 0.2)
  --repeat N          runs per server and scenario, the median reported (default 3; --quick 1)
  --quick             short runs, one repetition, fewer idle and slow connections
  --sendfile on|off   how `large` sends its file, for every server (default on): EnableSendfile
                      On (nginx: sendfile on), or httpd's default Off (Apache and ours then
                      map the file, nginx reads and writes it); other scenarios keep Off
  --pin               server on CPU 0, load generator on CPU 1
  --baseline DIR      also run our servers as built in DIR (another checkout's target/release),
                      named <server>@base, beside each of ours: before and after in one run
  --client-threads N  load generator threads (default 1)
  --out DIR           where the reports go (default target/compare)
";

pub(crate) struct Options {
    servers: Vec<String>,
    scenarios: Vec<Scenario>,
    /// `--scenarios` was given: what it names must run.
    scenarios_named: bool,
    timing: Timing,
    repeat: usize,
    quick: bool,
    pin: bool,
    large_sendfile: bool,
    baseline: Option<PathBuf>,
    client_threads: usize,
    out: Option<PathBuf>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let quick = args.iter().any(|a| a == "--quick");
        let mut o = Options {
            servers: vec!["all".into()],
            scenarios: Scenario::ALL.to_vec(),
            scenarios_named: false,
            timing: Timing {
                warmup: Duration::from_secs_f64(if quick { 0.2 } else { 0.5 }),
                duration: Duration::from_secs_f64(if quick { 0.3 } else { 1.2 }),
                setup_limit: Duration::from_secs_f64(if quick { 0.5 } else { 2.0 }),
                request_timeout: Duration::from_secs(2),
            },
            repeat: if quick { 1 } else { 3 },
            quick,
            pin: false,
            large_sendfile: true,
            baseline: None,
            client_threads: 1,
            out: None,
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = || it.next().with_context(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "--quick" => {}
                "--pin" => o.pin = true,
                "--sendfile" => {
                    o.large_sendfile = match value()?.as_str() {
                        "on" => true,
                        "off" => false,
                        v => bail!("--sendfile {v}: on or off"),
                    }
                }
                "--servers" => o.servers = value()?.split(',').map(str::to_owned).collect(),
                "--scenarios" => {
                    o.scenarios_named = true;
                    o.scenarios = value()?
                        .split(',')
                        .map(|s| Scenario::parse(s).with_context(|| format!("unknown scenario '{s}'")))
                        .collect::<Result<_>>()?
                }
                "--duration" => o.timing.duration = seconds(arg, value()?)?,
                "--warmup" => o.timing.warmup = seconds(arg, value()?)?,
                "--repeat" => o.repeat = count(arg, value()?)?,
                "--client-threads" => o.client_threads = count(arg, value()?)?,
                "--baseline" => o.baseline = Some(std::path::absolute(value()?)?),
                // Absolute: servers run from their own directories and are given paths in it.
                "--out" => o.out = Some(std::path::absolute(value()?)?),
                other => bail!("unknown option '{other}'\n\n{USAGE}"),
            }
        }
        Ok(o)
    }

    /// Picks from `available` the servers `--servers` names.
    fn select(&self, available: &[ServerSpec]) -> Result<Vec<ServerSpec>> {
        let mut picked: Vec<ServerSpec> = Vec::new();
        for want in &self.servers {
            let matches: Vec<&ServerSpec> = available
                .iter()
                .filter(|s| match want.as_str() {
                    "all" => true,
                    "ours" => s.family == Family::Ours,
                    "apache" => s.family == Family::Apache,
                    name => s.name == name,
                })
                .collect();
            let known = ["all", "ours", "apache", "nginx"].contains(&want.as_str())
                || want.starts_with("apache-")
                || want.ends_with("-server");
            if matches.is_empty() && !known {
                bail!("unknown server '{want}'\n\n{USAGE}");
            }
            for s in matches {
                if !picked.iter().any(|p| p.name == s.name) {
                    picked.push(s.clone());
                }
            }
        }
        Ok(picked)
    }

    fn wants_ours(&self) -> bool {
        self.servers.iter().any(|s| s == "all" || s == "ours" || s.ends_with("-server"))
    }
}

fn seconds(arg: &str, v: &str) -> Result<Duration> {
    let s: f64 = v.parse().with_context(|| format!("{arg} {v}"))?;
    if !(s > 0.0 && s < 3600.0) {
        bail!("{arg} {v}: not a number of seconds between 0 and 3600");
    }
    Ok(Duration::from_secs_f64(s))
}

fn count(arg: &str, v: &str) -> Result<usize> {
    match v.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => bail!("{arg} {v}: not a positive whole number"),
    }
}

pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return Ok(());
    }
    let mut opts = Options::parse(args)?;
    let started = Instant::now();
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    if cfg!(debug_assertions) {
        return rerun_optimized(root, &target_dir, args);
    }
    let out = opts.out.clone().unwrap_or_else(|| target_dir.join("compare"));
    if opts.pin && procfs::cores() < 2 {
        bail!("--pin needs two CPUs; this process may use {}", procfs::cores());
    }
    ctrlc::set_handler(|| {
        eprintln!("\ncompare: interrupted, stopping the servers");
        servers::stop_all_registered();
        std::process::exit(130);
    })
    .context("installing the Ctrl-C handler")?;

    if opts.wants_ours() {
        build(root, &["prefork-server", "worker-server", "event-server"])?;
    }
    let (peers, skipped) = servers::peers();
    let mut available = servers::ours(&target_dir);
    available.extend(peers);
    let mut selected = opts.select(&available)?;
    if let Some(dir) = &opts.baseline {
        // Each baseline right after its own server, so the two run back to back.
        for base in servers::baseline(dir, &selected)? {
            let at = selected.iter().position(|s| s.name == base.name.trim_end_matches("@base"));
            selected.insert(at.map_or(selected.len(), |i| i + 1), base);
        }
    }
    for line in &skipped {
        println!("{line}");
    }
    if selected.is_empty() {
        bail!("no server to compare");
    }

    // Last run's reports would pass for this run's if it stopped early.
    for stale in ["report.md", "report.json"]
        .into_iter()
        .map(String::from)
        .chain(Scenario::ALL.iter().map(|s| format!("{}.svg", s.name())))
    {
        let _ = std::fs::remove_file(out.join(stale));
    }
    let work = out.join("work");
    let server_root = prepare_server_root(root, &work)?;
    let sizes = Sizes::new(opts.quick, opts.large_sendfile);
    let certificate = certificate(&mut opts, &work)?;
    let ctx = RunContext {
        server_root: &server_root,
        runs_dir: &work.join("runs"),
        sizes: &sizes,
        timing: &opts.timing,
        client_threads: opts.client_threads,
        pin: opts.pin,
        certificate: certificate.as_ref(),
    };
    if opts.pin {
        servers::set_affinity(1)?;
    }
    let mut results = Vec::new();
    for &scenario in &opts.scenarios {
        eprintln!("\n{}: {}", scenario.name(), scenario.describe(&sizes, &opts.timing));
        let mut runs: Vec<Vec<Result<scenarios::Figures, String>>> = vec![Vec::new(); selected.len()];
        for rep in 0..opts.repeat {
            // Alternate the servers, starting each repetition one server further on, so none
            // always runs first (or right after the same neighbour).
            for k in 0..selected.len() {
                let i = (k + rep) % selected.len();
                let spec = &selected[i];
                let outcome = scenarios::measure(spec, scenario, &ctx, rep).map_err(|e| format!("{e:#}"));
                match &outcome {
                    Ok(f) => eprintln!(
                        "  {:<13} {}/{} {:<15} {:>10.0} {}",
                        scenario.name(),
                        rep + 1,
                        opts.repeat,
                        spec.name,
                        scenario.throughput(f),
                        scenario.unit()
                    ),
                    Err(e) => eprintln!(
                        "  {} {}/{} {}: failed: {e}",
                        scenario.name(),
                        rep + 1,
                        opts.repeat,
                        spec.name
                    ),
                }
                runs[i].push(outcome);
            }
        }
        let result = report::ScenarioResult::new(scenario, (&sizes, &opts.timing), &selected, runs);
        print!("\n{}", result.table().to_text());
        results.push(result);
    }

    let report = report::Report::new(&opts, &sizes, &selected, skipped, results, started.elapsed());
    std::fs::create_dir_all(&out)?;
    print!("\n{}", report.summary_table().to_text());
    if report.has_ratios() {
        print!("\n{}", report.ratio_table().to_text());
    } else {
        println!("\nno ratios: neither Apache httpd nor nginx was measured");
    }
    report.write(&out)?;
    for s in &report.scenarios {
        chart::draw(s, &out.join(format!("{}.svg", s.scenario.name())))?;
    }
    println!(
        "\nwrote {}/report.md, report.json and one SVG per scenario ({:.0?})",
        out.display(),
        started.elapsed()
    );
    report.check_ours_complete()
}

/// One certificate for every server and every TLS scenario of the run. Without the openssl
/// command, the tls-* scenarios are left out when they were not asked for by name.
fn certificate(opts: &mut Options, work: &Path) -> Result<Option<tls::Certificate>> {
    if !opts.scenarios.iter().any(|s| s.tls()) {
        return Ok(None);
    }
    match tls::generate(&work.join("tls")) {
        Ok(c) => Ok(Some(c)),
        Err(e) if tls::missing_openssl(&e) && !opts.scenarios_named => {
            println!("tls-keepalive, tls-close, tls-resume: skipped, the openssl command is not installed");
            opts.scenarios.retain(|s| !s.tls());
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn build(root: &Path, packages: &[&str]) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    cmd.current_dir(root).args(["build", "--release"]);
    for p in packages {
        cmd.args(["-p", p]);
    }
    let status = cmd.status().context("running cargo build --release")?;
    if !status.success() {
        bail!("cargo build --release -p {} failed ({status})", packages.join(" -p "));
    }
    Ok(())
}

/// `cargo xtask` runs a debug build, whose load generator spends about twice the CPU per
/// request of an optimized one (measured: keepalive against event-server went from 10k to
/// 24k req/s on 2 cores), CPU taken from the servers it measures. So the measuring is done
/// by an optimized xtask, built on the spot (a separate `cargo build`, so the servers' own
/// release build keeps its features and cache).
fn rerun_optimized(root: &Path, target_dir: &Path, args: &[String]) -> Result<()> {
    use std::os::unix::process::CommandExt;
    build(root, &["xtask"])?;
    let optimized = target_dir.join("release/xtask");
    let error = std::process::Command::new(&optimized).arg("compare").args(args).exec();
    Err(error).with_context(|| format!("running {}", optimized.display()))
}

/// A copy of shared-conf as ServerRoot (httpd.conf, mime.types, htdocs, an empty logs/), plus
/// the scenarios' files, so that nothing is written into the source tree.
fn prepare_server_root(root: &Path, work: &Path) -> Result<PathBuf> {
    if work.exists() {
        std::fs::remove_dir_all(work).with_context(|| format!("removing {}", work.display()))?;
    }
    let source = root.join("shared-conf");
    let server_root = work.join("root");
    std::fs::create_dir_all(server_root.join("logs"))?;
    std::fs::create_dir_all(server_root.join("htdocs"))?;
    std::fs::copy(source.join("mime.types"), server_root.join("mime.types")).context("copying mime.types")?;
    let conf = std::fs::read_to_string(source.join("httpd.conf")).context("reading httpd.conf")?;
    std::fs::write(server_root.join("httpd.conf"), without_listen(&conf))?;
    for entry in std::fs::read_dir(source.join("htdocs"))? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), server_root.join("htdocs").join(entry.file_name()))?;
        }
    }
    let line = b"<p>xtask compare: a line of padding to make up the size of this page.</p>\n";
    let small: Vec<u8> = line.iter().copied().cycle().take(SMALL_FILE.1).collect();
    std::fs::write(server_root.join("htdocs").join(SMALL_FILE.0), small)?;
    let large: Vec<u8> = (0..LARGE_FILE.1).map(|i| (i % 251) as u8).collect();
    std::fs::write(server_root.join("htdocs").join(LARGE_FILE.0), large)?;
    Ok(server_root)
}

/// httpd.conf with its Listen lines commented out: each server gets its own port (ours through
/// HTTPD_LISTEN, Apache through `-c Listen`), and Apache's Listen lines add up, so a fixed
/// port left in would make Apache fail whenever something else holds it.
fn without_listen(conf: &str) -> String {
    conf.lines()
        .map(|l| {
            if l.trim_start().starts_with("Listen ") {
                format!("# (xtask compare) {l}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn options_parse() {
        let o = Options::parse(&args("--quick --scenarios idle,slow --servers ours,nginx --pin")).unwrap();
        assert_eq!(o.scenarios, [Scenario::Idle, Scenario::Slow]);
        assert!(o.scenarios_named);
        assert_eq!((o.repeat, o.pin, o.quick), (1, true, true));
        assert_eq!(o.timing.duration, Duration::from_secs_f64(0.3));
        assert!(o.large_sendfile, "large is measured with sendfile unless told");
        let o = Options::parse(&args("--scenarios tls-keepalive,tls-close,tls-resume")).unwrap();
        assert_eq!(o.scenarios, [Scenario::TlsKeepAlive, Scenario::TlsClose, Scenario::TlsResume]);
        assert!(o.scenarios.iter().all(|s| s.tls()));
        let all = Options::parse(&[]).unwrap();
        assert!(!all.scenarios_named && all.scenarios.iter().filter(|s| s.tls()).count() == 3);
        let o = Options::parse(&args("--duration 2 --repeat 5 --sendfile off")).unwrap();
        assert_eq!((o.timing.duration, o.repeat, o.large_sendfile), (Duration::from_secs(2), 5, false));
        assert!(Options::parse(&args("--sendfile maybe")).is_err());
        assert!(Options::parse(&args("--scenarios nope")).is_err());
        assert!(Options::parse(&args("--duration -1")).is_err());
        assert!(Options::parse(&args("--repeat")).is_err());
    }

    #[test]
    fn servers_are_selected_by_name_or_group() {
        let available = servers::ours(Path::new("/nonexistent"));
        let o = Options::parse(&args("--servers event-server,ours")).unwrap();
        let names: Vec<String> = o.select(&available).unwrap().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["event-server", "prefork-server", "worker-server"]);
        let o = Options::parse(&args("--servers apache-event")).unwrap();
        assert!(o.select(&available).unwrap().is_empty(), "a missing peer is skipped, not an error");
        assert!(Options::parse(&args("--servers lighttpd")).unwrap().select(&available).is_err());
    }

    #[test]
    fn the_server_root_copy_listens_nowhere_by_itself() {
        let conf = "ServerName x\n  Listen 127.0.0.1:8080\n# Listen 80\nListenBacklog 5\n";
        let copy = without_listen(conf);
        assert_eq!(
            copy,
            "ServerName x\n# (xtask compare)   Listen 127.0.0.1:8080\n# Listen 80\nListenBacklog 5\n"
        );
        let shipped =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared-conf/httpd.conf"));
        let active = |l: &&str| l.trim_start().starts_with("Listen ");
        assert_eq!(without_listen(&shipped.unwrap()).lines().filter(active).count(), 0);
    }
}
