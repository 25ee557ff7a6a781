//! One of our servers for `cargo xtask faults`: built in release mode, run from its own
//! ServerRoot on a loopback port the kernel picks, signalled and sampled by pid.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill as send};
use nix::unistd::Pid;

/// ServerLimit of the configuration: the pool's bound.
pub(super) const SERVER_LIMIT: usize = 8;

const LIMIT: Duration = Duration::from_secs(20);

/// Builds the binaries in release mode; returns the target directory.
pub(super) fn build_release(root: &Path, binaries: &[String]) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root).args(["build", "--release", "--locked"]);
    for b in binaries {
        cmd.args(["-p", b]);
    }
    let status = cmd.status().context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release failed");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    Ok(if target.is_absolute() { target } else { root.join(target) })
}

pub(super) struct Server {
    child: Child,
    pub(super) addr: SocketAddr,
    dir: PathBuf,
}

impl Server {
    /// Writes a ServerRoot in `dir` and starts `binary` on it in the foreground.
    pub(super) fn start(binary: &Path, dir: &Path) -> Result<Server> {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir.join("htdocs"))?;
        std::fs::create_dir_all(dir.join("logs"))?;
        std::fs::write(dir.join("mime.types"), "text/html html\napplication/octet-stream bin\n")?;
        std::fs::write(dir.join("htdocs/index.html"), "<html><body>It works!</body></html>\n".repeat(30))?;
        std::fs::write(dir.join("httpd.conf"), config())?;
        let mut child = Command::new(binary)
            .arg("-d")
            .arg(dir)
            .args(["-f", "httpd.conf", "-DFOREGROUND"])
            .env("HTTPD_LISTEN", "127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(a) =
                        line.strip_prefix("listening on http://").and_then(|a| a.strip_suffix('/'))
                    {
                        break a.parse().context("the announced address")?;
                    }
                }
                _ => bail!("{} did not announce its address", binary.display()),
            }
        };
        // Keep reading stdout (the access log may go there) so the server never blocks.
        std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
        Ok(Server { child, addr, dir: dir.to_path_buf() })
    }

    pub(super) fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub(super) fn signal(&self, sig: Signal) -> Result<()> {
        send(Pid::from_raw(self.pid()), sig).with_context(|| format!("sending {sig}"))
    }

    /// Live children (zombies left out).
    pub(super) fn children(&self) -> Vec<i32> {
        let mut out = Vec::new();
        let Ok(dir) = std::fs::read_dir("/proc") else { return out };
        for entry in dir.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            let Some((_, rest)) = stat.rsplit_once(')') else { continue };
            let mut fields = rest.split_whitespace();
            let state = fields.next().unwrap_or("X");
            let ppid: i32 = fields.next().and_then(|p| p.parse().ok()).unwrap_or(0);
            if ppid == self.pid() && state != "Z" && state != "X" {
                out.push(pid);
            }
        }
        out.sort_unstable();
        out
    }

    pub(super) fn wait_children(&self, n: usize) -> Result<()> {
        let deadline = Instant::now() + LIMIT;
        while self.children().len() < n {
            if Instant::now() > deadline {
                bail!("{n} children did not start");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// The children's summed VmRSS (KiB) and open descriptors.
    pub(super) fn children_footprint(&self) -> (u64, usize) {
        let mut rss = 0;
        let mut fds = 0;
        for pid in self.children() {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            rss += status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap_or(0);
            fds += std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0);
        }
        (rss, fds)
    }

    /// Error-log lines containing any of `needles`.
    pub(super) fn log_count(&self, needles: &[&str]) -> usize {
        let log = std::fs::read_to_string(self.dir.join("logs/error_log")).unwrap_or_default();
        log.lines().filter(|l| needles.iter().any(|n| l.contains(n))).count()
    }

    pub(super) fn wait_log_count(&self, needles: &[&str], n: usize) -> Result<()> {
        let deadline = Instant::now() + LIMIT;
        while self.log_count(needles) < n {
            if Instant::now() > deadline {
                bail!("the server did not log {needles:?}");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }

    pub(super) fn stop(&mut self) {
        let _ = self.signal(Signal::SIGTERM);
        let deadline = Instant::now() + LIMIT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

pub(super) fn kill(pid: i32, sig: Signal) {
    let _ = send(Pid::from_raw(pid), sig);
}

/// Every MPM's sizing in its own section: two children at start, spares wide enough
/// that maintenance leaves a steady pool alone during the soak.
fn config() -> String {
    format!(
        "ServerName localhost\n\
         Listen 127.0.0.1:0\n\
         TypesConfig mime.types\n\
         DocumentRoot htdocs\n\
         ErrorLog logs/error_log\n\
         LogLevel notice\n\
         PidFile logs/httpd.pid\n\
         CustomLog logs/access_log common\n\
         ServerLimit {SERVER_LIMIT}\n\
         KeepAliveTimeout 5\n\
         <IfModule mpm_prefork_module>\n\
         StartServers 2\nMinSpareServers 1\nMaxSpareServers {SERVER_LIMIT}\nMaxRequestWorkers {SERVER_LIMIT}\n\
         </IfModule>\n\
         <IfModule mpm_worker_module>\n\
         StartServers 2\nThreadsPerChild 10\nMinSpareThreads 5\nMaxSpareThreads 80\nMaxRequestWorkers 80\n\
         </IfModule>\n\
         <IfModule mpm_event_module>\n\
         StartServers 2\nThreadsPerChild 10\nMinSpareThreads 5\nMaxSpareThreads 80\nMaxRequestWorkers 80\n\
         </IfModule>\n"
    )
}
