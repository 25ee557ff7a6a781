//! `cargo xtask faults`: the timings the fault suite (integration-tests/tests/faults.rs)
//! does not assert. For each of the three servers, built in release mode and started on
//! a loopback port, under a closed-loop client (a new connection per request):
//!
//! - ten graceful restarts (USR1): the longest time with no request completing, failures;
//! - five hard restarts (HUP): the same;
//! - a SIGKILL storm on the children: requests that failed, the most children seen;
//! - a soak over every kind of request (hits, misses, ranges, conditionals, HEAD, malformed
//!   requests, keep-alive and close): the children's resident memory and descriptors after
//!   a warm-up and at the end.
//!
//! Figures go to stdout as a Markdown table and to target/faults/report.md.

mod client;
mod server;

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::Signal;

use client::{Completions, Load, Mix};
use server::Server;

const USAGE: &str = "\
Usage: cargo xtask faults [--quick] [--servers a,b]

Builds the three servers in release mode and runs each through restarts, a
SIGKILL storm and a soak under a closed-loop client; prints the longest time
with no request completing, failed requests and memory growth.

  --quick        shorter runs (soak 10 s instead of 60 s)
  --servers L    only these binaries (prefork-server,worker-server,event-server)
";

const BINARIES: [&str; 3] = ["prefork-server", "worker-server", "event-server"];

/// Clients of the closed loop.
const CLIENTS: usize = 4;

struct Options {
    quick: bool,
    servers: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut options = Options { quick: false, servers: BINARIES.iter().map(|s| s.to_string()).collect() };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--servers" => {
                let list = it.next().context("--servers needs a list")?;
                options.servers = list.split(',').map(str::to_string).collect();
                if let Some(bad) = options.servers.iter().find(|s| !BINARIES.contains(&s.as_str())) {
                    bail!("unknown server '{bad}'");
                }
            }
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown option '{other}'\n\n{USAGE}"),
        }
    }
    Ok(options)
}

/// One server's figures.
#[derive(Debug, Default)]
struct Figures {
    graceful: Phase,
    hard: Phase,
    kills: Phase,
    /// Most children seen during the SIGKILL storm, and the configured ServerLimit.
    most_children: usize,
    soak: Soak,
}

#[derive(Debug, Default)]
struct Phase {
    requests: usize,
    failed: usize,
    longest_gap: Duration,
}

#[derive(Debug, Default)]
struct Soak {
    requests: usize,
    failed: usize,
    rss_before_kib: u64,
    rss_after_kib: u64,
    fds_before: usize,
    fds_after: usize,
}

pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    let options = parse(args)?;
    let target = server::build_release(root, &options.servers)?;
    let out_dir = target.join("faults");
    let mut report = String::from(
        "| server | graceful x10: longest gap | failed | hard x5: longest gap | failed | SIGKILL storm: failed / requests | most children | soak: requests (failed) | RSS start → end | fds start → end |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for name in &options.servers {
        eprintln!("faults: {name}");
        let figures = measure(&target.join("release").join(name), &out_dir.join(name), options.quick)
            .with_context(|| format!("measuring {name}"))?;
        let f = &figures;
        let _ = writeln!(
            report,
            "| {name} | {} ms | {} of {} | {} ms | {} of {} | {} / {} | {} of {} | {} ({}) | {} → {} KiB | {} → {} |",
            f.graceful.longest_gap.as_millis(),
            f.graceful.failed,
            f.graceful.requests,
            f.hard.longest_gap.as_millis(),
            f.hard.failed,
            f.hard.requests,
            f.kills.failed,
            f.kills.requests,
            f.most_children,
            server::SERVER_LIMIT,
            f.soak.requests,
            f.soak.failed,
            f.soak.rss_before_kib,
            f.soak.rss_after_kib,
            f.soak.fds_before,
            f.soak.fds_after,
        );
    }
    std::fs::create_dir_all(&out_dir)?;
    std::fs::write(out_dir.join("report.md"), &report)?;
    print!("{report}");
    println!("\n(written to {})", out_dir.join("report.md").display());
    Ok(())
}

fn measure(binary: &Path, dir: &Path, quick: bool) -> Result<Figures> {
    let mut figures = Figures::default();
    let mut server = Server::start(binary, dir)?;
    server.wait_children(2)?;

    // Restarts: the loop runs throughout; each signal waits for the one before to be
    // logged (signals pending at once merge), then for the new generation to serve.
    for (sig, count, notice_any) in [
        (Signal::SIGUSR1, 10, ["Graceful restart requested", "SIGUSR1 received"]),
        (Signal::SIGHUP, 5, ["SIGHUP received", "SIGHUP received"]),
    ] {
        let load = Load::start(server.addr, CLIENTS, Mix::Close);
        std::thread::sleep(Duration::from_millis(500));
        let window_start = Instant::now();
        for _ in 0..count {
            let before = server.log_count(&notice_any);
            server.signal(sig)?;
            server.wait_log_count(&notice_any, before + 1)?;
            std::thread::sleep(Duration::from_millis(300));
        }
        std::thread::sleep(Duration::from_millis(500));
        let done = load.stop();
        let phase = Phase {
            requests: done.requests(),
            failed: done.failed,
            longest_gap: done.longest_gap(window_start, Instant::now()),
        };
        if sig == Signal::SIGUSR1 {
            figures.graceful = phase;
        } else {
            figures.hard = phase;
        }
    }

    // A SIGKILL storm: a child killed every 100 ms for 5 s.
    let load = Load::start(server.addr, CLIENTS, Mix::Close);
    let storm_end = Instant::now() + Duration::from_secs(5);
    let mut k = 0usize;
    while Instant::now() < storm_end {
        let children = server.children();
        figures.most_children = figures.most_children.max(children.len());
        if !children.is_empty() {
            server::kill(children[k % children.len()], Signal::SIGKILL);
            k += 1;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let done: Completions = load.stop();
    figures.kills = Phase { requests: done.requests(), failed: done.failed, longest_gap: Duration::ZERO };

    // The soak: warm up, sample, run, sample.
    let soak_time = if quick { Duration::from_secs(10) } else { Duration::from_secs(60) };
    let load = Load::start(server.addr, CLIENTS, Mix::Everything);
    std::thread::sleep(Duration::from_secs(3));
    let (rss_before, fds_before) = server.children_footprint();
    std::thread::sleep(soak_time);
    let (rss_after, fds_after) = server.children_footprint();
    let done = load.stop();
    figures.soak = Soak {
        requests: done.requests(),
        failed: done.failed,
        rss_before_kib: rss_before,
        rss_after_kib: rss_after,
        fds_before,
        fds_after,
    };
    server.stop();
    Ok(figures)
}
