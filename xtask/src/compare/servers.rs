//! The servers under comparison: ours, Apache httpd's three MPMs and nginx, each found,
//! started on its own loopback port from the same configuration, waited for, and stopped.
//!
//! Every server runs in a process group of its own, so a foreground apache2 that signals its
//! whole group on shutdown reaches only its children, and Ctrl-C in the terminal reaches only
//! xtask, which then stops the servers it started by pid.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use super::tls::{self, Certificate};

/// How long a server may take to start listening, and to exit after TERM before it is KILLed.
const START_LIMIT: Duration = Duration::from_secs(15);
const STOP_LIMIT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mpm {
    Prefork,
    Worker,
    Event,
}

impl Mpm {
    pub(crate) const ALL: [Mpm; 3] = [Mpm::Prefork, Mpm::Worker, Mpm::Event];

    pub(crate) fn word(self) -> &'static str {
        match self {
            Mpm::Prefork => "prefork",
            Mpm::Worker => "worker",
            Mpm::Event => "event",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Family {
    Ours,
    Apache,
    Nginx,
    /// Ours as built elsewhere (`--baseline`): another checkout, for before/after in one run.
    Baseline,
}

/// A server that can be started; `name` is what `--servers` and the tables say.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ServerSpec {
    pub(crate) name: String,
    pub(crate) family: Family,
    pub(crate) mpm: Option<Mpm>,
    pub(crate) binary: PathBuf,
    pub(crate) version: String,
}

/// Our three binaries, built by `cargo build --release` into `target_dir`.
pub(crate) fn ours(target_dir: &Path) -> Vec<ServerSpec> {
    Mpm::ALL
        .iter()
        .map(|&mpm| {
            let name = format!("{}-server", mpm.word());
            let binary = target_dir.join("release").join(&name);
            let version = version_line(&binary, "-v");
            ServerSpec { name, family: Family::Ours, mpm: Some(mpm), binary, version }
        })
        .collect()
}

/// Our servers built in `dir` (another checkout's `target/release`), named `<name>@base`, for
/// those of `selected` that are ours.
pub(crate) fn baseline(dir: &Path, selected: &[ServerSpec]) -> Result<Vec<ServerSpec>> {
    selected
        .iter()
        .filter(|s| s.family == Family::Ours)
        .map(|s| {
            let binary = dir.join(s.binary.file_name().context("a binary has a file name")?);
            if !binary.is_file() {
                bail!("--baseline: no {}", binary.display());
            }
            let version = version_line(&binary, "-v");
            Ok(ServerSpec {
                name: format!("{}@base", s.name),
                family: Family::Baseline,
                binary,
                version,
                ..*s
            })
        })
        .collect()
}

/// Apache httpd with each of its MPMs and nginx, when installed; otherwise one line each
/// saying why they are skipped.
pub(crate) fn peers() -> (Vec<ServerSpec>, Vec<String>) {
    let (mut found, mut skipped) = (Vec::new(), Vec::new());
    match find_program(&["apache2", "httpd"]) {
        Some(binary) => {
            let version = version_line(&binary, "-v");
            for mpm in Mpm::ALL {
                let name = format!("apache-{}", mpm.word());
                found.push(ServerSpec {
                    name,
                    family: Family::Apache,
                    mpm: Some(mpm),
                    binary: binary.clone(),
                    version: version.clone(),
                });
            }
        }
        None => skipped.push("apache: skipped, neither apache2 nor httpd is installed".to_owned()),
    }
    match find_program(&["nginx"]) {
        Some(binary) => {
            let version = version_line(&binary, "-v");
            found.push(ServerSpec {
                name: "nginx".into(),
                family: Family::Nginx,
                mpm: None,
                binary,
                version,
            });
        }
        None => skipped.push("nginx: skipped, nginx is not installed".to_owned()),
    }
    (found, skipped)
}

/// On PATH, or in /usr/sbin, which a non-root PATH often lacks.
fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path).chain([PathBuf::from("/usr/sbin")]).collect();
    names.iter().flat_map(|n| dirs.iter().map(move |d| d.join(n))).find(|p| p.is_file())
}

fn version_line(binary: &Path, flag: &str) -> String {
    let Ok(out) = Command::new(binary).arg(flag).output() else { return "unknown".into() };
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let line = text.lines().next().unwrap_or("unknown");
    line.rsplit(": ").next().unwrap_or(line).trim().to_owned()
}

/// What every server of one run gets: the ServerRoot copy, a directory for its logs, and
/// settings that differ from httpd.conf's (the same for all servers).
pub(crate) struct Launch<'a> {
    pub(crate) server_root: &'a Path,
    pub(crate) run_dir: &'a Path,
    pub(crate) keep_alive_timeout: Option<u32>,
    /// EnableSendfile (nginx: sendfile) when set; httpd.conf's default, Off, when not.
    pub(crate) sendfile: Option<bool>,
    /// Start the server on CPU 0 (the load generator then runs on CPU 1).
    pub(crate) pin: bool,
    /// Listen with TLS, this certificate and key (`Listen ... https` and [`tls::directives`]).
    pub(crate) tls: Option<&'a Certificate>,
}

/// A started server; dropping it stops it.
pub(crate) struct Running {
    child: Option<Child>,
    pub(crate) pid: i32,
    pub(crate) addr: SocketAddr,
    /// Problems seen while stopping (KILL needed, processes outliving the parent).
    pub(crate) stop_notes: Vec<String>,
}

pub(crate) fn start(spec: &ServerSpec, launch: &Launch<'_>) -> Result<Running> {
    std::fs::create_dir_all(launch.run_dir)?;
    let run_dir = launch.run_dir;
    let stderr = std::fs::File::create(run_dir.join("stderr"))?;
    let root = launch.server_root.to_str().context("ServerRoot path is not UTF-8")?;
    let overrides = |cmd: &mut Command, apache_port| {
        for directive in overrides(launch, apache_port) {
            cmd.arg("-c").arg(directive);
        }
    };
    let (mut cmd, fixed_port) = match spec.family {
        Family::Ours | Family::Baseline => {
            let mut cmd = Command::new(&spec.binary);
            cmd.args(["-d", root, "-f", "httpd.conf", "-DFOREGROUND"]).env("HTTPD_LISTEN", listen(launch, 0));
            overrides(&mut cmd, None);
            cmd.stdout(Stdio::piped());
            (cmd, None)
        }
        Family::Apache => {
            let port = free_port()?;
            let mut cmd = Command::new(&spec.binary);
            cmd.args(["-d", root, "-f"]).arg(launch.server_root.join("httpd.conf")).arg("-DFOREGROUND");
            match spec.mpm {
                Some(Mpm::Prefork) => cmd.args(["-D", "MPM_prefork"]),
                Some(Mpm::Worker) => cmd.args(["-D", "MPM_worker"]),
                _ => &mut cmd,
            };
            if let Some(dir) = apache_modules_dir() {
                cmd.arg("-C").arg(format!("Define APACHE_MODULES_DIR {dir}"));
            }
            overrides(&mut cmd, Some(port));
            cmd.stdout(Stdio::from(stderr.try_clone()?));
            (cmd, Some(port))
        }
        Family::Nginx => {
            let port = free_port()?;
            let conf = run_dir.join("nginx.conf");
            std::fs::write(&conf, nginx_conf(launch, port))?;
            let mut cmd = Command::new(&spec.binary);
            cmd.arg("-p").arg(run_dir).arg("-c").arg(&conf).arg("-e").arg(run_dir.join("error_log"));
            cmd.stdout(Stdio::from(stderr.try_clone()?));
            (cmd, Some(port))
        }
    };
    cmd.stdin(Stdio::null()).stderr(stderr).process_group(0);
    let child =
        spawn_maybe_pinned(&mut cmd, launch.pin).with_context(|| format!("starting {}", spec.name))?;
    let pid = child.id() as i32;
    register(pid);
    let mut running =
        Running { child: Some(child), pid, addr: SocketAddr::from(([127, 0, 0, 1], 0)), stop_notes: vec![] };
    let deadline = Instant::now() + START_LIMIT;
    running.addr = match fixed_port {
        Some(port) => SocketAddr::from(([127, 0, 0, 1], port)),
        None => running.read_listening_line(run_dir, deadline)?,
    };
    running.wait_connectable(deadline).map_err(|e| {
        let log = tail(&run_dir.join("error_log")) + &tail(&run_dir.join("stderr"));
        e.context(format!("{} did not start; its logs end:\n{log}", spec.name))
    })?;
    Ok(running)
}

/// The directives Apache and ours get with `-c`, after httpd.conf: the run's logs, the
/// scenario's settings, TLS. Apache's also carry its Listen (and mod_ssl before the SSL
/// directives); ours listen where HTTPD_LISTEN says.
fn overrides(launch: &Launch<'_>, apache_port: Option<u16>) -> Vec<String> {
    let mut d = Vec::new();
    if let Some(port) = apache_port {
        // The ServerRoot copy's httpd.conf has no Listen line (see `prepare_server_root`),
        // so this is Apache's only port, and a server left on httpd.conf's 8080 is no bother.
        d.push(format!("Listen {}", listen(launch, port)));
        if launch.tls.is_some() {
            // httpd.conf defines the directory (Debian's, or the one `start` gives).
            d.push("LoadModule ssl_module ${APACHE_MODULES_DIR}/mod_ssl.so".to_owned());
        }
    }
    d.push(format!("ErrorLog \"{}\"", launch.run_dir.join("error_log").display()));
    d.push(format!("PidFile \"{}\"", launch.run_dir.join("httpd.pid").display()));
    if let Some(t) = launch.keep_alive_timeout {
        d.push(format!("KeepAliveTimeout {t}"));
    }
    if let Some(on) = launch.sendfile {
        d.push(format!("EnableSendfile {}", if on { "On" } else { "Off" }));
    }
    d.extend(launch.tls.map(tls::directives).unwrap_or_default());
    d
}

/// Listen's arguments: a loopback port (0: the kernel picks), `https` for TLS.
fn listen(launch: &Launch<'_>, port: u16) -> String {
    format!("127.0.0.1:{port}{}", if launch.tls.is_some() { " https" } else { "" })
}

/// Debian's module directory is httpd.conf's default; other layouts pass theirs as a Define.
fn apache_modules_dir() -> Option<&'static str> {
    if Path::new("/usr/lib/apache2/modules").is_dir() {
        return None;
    }
    ["/usr/lib64/httpd/modules", "/usr/lib/httpd/modules", "/usr/local/apache2/modules"]
        .into_iter()
        .find(|d| Path::new(d).is_dir())
}

/// A free loopback port for the peers, which cannot print the one the kernel picked.
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// As httpd.conf: same document root, KeepAliveTimeout, MaxKeepAliveRequests, Timeout,
/// access log (common format, to a file), sendfile as the others (httpd's default: off);
/// one worker process per core it may use, as nginx recommends.
fn nginx_conf(launch: &Launch<'_>, port: u16) -> String {
    let run = launch.run_dir.display();
    let htdocs = launch.server_root.join("htdocs");
    let keep_alive = launch.keep_alive_timeout.unwrap_or(5);
    let sendfile = if launch.sendfile == Some(true) { "on" } else { "off" };
    // Pinned, the server has one CPU.
    let cores = if launch.pin { 1 } else { super::procfs::cores() };
    // As root, workers would switch to `nobody`; Apache's and ours stay root here too.
    let user = if nix::unistd::geteuid().is_root() { "user root root;\n" } else { "" };
    // The same as the httpd directives: this certificate, TLS 1.3 only, session handling at
    // nginx's defaults.
    let (ssl, tls) = match launch.tls {
        Some(c) => (
            " ssl",
            format!(
                "\n        ssl_certificate {};\n        ssl_certificate_key {};\n        ssl_protocols TLSv1.3;",
                c.cert.display(),
                c.key.display()
            ),
        ),
        None => ("", String::new()),
    };
    format!(
        "{user}worker_processes {cores};
daemon off;
master_process on;
pid {run}/nginx.pid;
error_log {run}/error_log warn;
events {{ worker_connections 8192; }}
http {{
    types {{ text/html html; text/plain txt; application/octet-stream bin; }}
    default_type application/octet-stream;
    log_format common '$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent';
    access_log {run}/access_log common;
    sendfile {sendfile};
    server_tokens off;
    keepalive_timeout {keep_alive};
    keepalive_requests 100;
    client_header_timeout 60;
    client_body_timeout 60;
    send_timeout 60;
    client_body_temp_path {run}/client_body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    server {{
        listen 127.0.0.1:{port}{ssl};
        server_name localhost;{tls}
        root {htdocs};
        index index.html;
        location ~ /\\.ht {{ deny all; }}
    }}
}}
",
        htdocs = htdocs.display(),
    )
}

/// The child inherits the spawning thread's CPU mask: CPU 0 for the server, then this
/// thread (and the load generator threads it starts) moves to CPU 1.
fn spawn_maybe_pinned(cmd: &mut Command, pin: bool) -> Result<Child> {
    if !pin {
        return Ok(cmd.spawn()?);
    }
    set_affinity(0)?;
    let child = cmd.spawn();
    set_affinity(1)?;
    Ok(child?)
}

pub(crate) fn set_affinity(cpu: usize) -> Result<()> {
    let mut set = nix::sched::CpuSet::new();
    set.set(cpu).with_context(|| format!("CPU {cpu}"))?;
    nix::sched::sched_setaffinity(Pid::from_raw(0), &set).with_context(|| format!("pinning to CPU {cpu}"))
}

impl Running {
    /// Our servers print `listening on http://127.0.0.1:PORT/` (https:// with TLS); the rest of
    /// stdout is kept.
    fn read_listening_line(&mut self, run_dir: &Path, deadline: Instant) -> Result<SocketAddr> {
        let stdout = self.child.as_mut().and_then(|c| c.stdout.take()).context("stdout is piped")?;
        let mut rest = std::fs::File::create(run_dir.join("stdout"))?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                match line
                    .strip_prefix("listening on http://")
                    .or_else(|| line.strip_prefix("listening on https://"))
                    .and_then(|a| a.trim_end_matches('/').parse().ok())
                {
                    Some(addr) => {
                        let _ = tx.send(addr);
                    }
                    None => {
                        let _ = writeln!(rest, "{line}");
                    }
                }
            }
        });
        loop {
            if let Ok(addr) = rx.recv_timeout(Duration::from_millis(20)) {
                return Ok(addr);
            }
            self.check_alive()?;
            if Instant::now() > deadline {
                bail!("no `listening on` line within {START_LIMIT:?}");
            }
        }
    }

    fn wait_connectable(&mut self, deadline: Instant) -> Result<()> {
        let mut pause = Duration::from_millis(1);
        loop {
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            self.check_alive()?;
            if Instant::now() > deadline {
                bail!("{} refused connections for {START_LIMIT:?}", self.addr);
            }
            std::thread::sleep(pause); // back-off between checks
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
            bail!("exited at start-up ({status})");
        }
        Ok(())
    }

    /// TERM, then KILL to the whole process group past STOP_LIMIT, as nginx's master does.
    pub(crate) fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = kill(Pid::from_raw(self.pid), Signal::SIGTERM);
        let deadline = Instant::now() + STOP_LIMIT;
        while child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                self.stop_notes.push(format!("did not exit within {STOP_LIMIT:?} of TERM: KILLed"));
                let _ = killpg(Pid::from_raw(self.pid), Signal::SIGKILL);
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        // Children that outlive their parent (by more than a moment to finish exiting) would
        // skew the next run: note and KILL them.
        let grace = Instant::now() + Duration::from_secs(1);
        let mut left = group_members(self.pid);
        while !left.is_empty() && Instant::now() < grace {
            std::thread::sleep(Duration::from_millis(10));
            left = group_members(self.pid);
        }
        if !left.is_empty() {
            self.stop_notes.push(format!("{} process(es) outlived the parent: KILLed", left.len()));
            let _ = killpg(Pid::from_raw(self.pid), Signal::SIGKILL);
        }
        unregister(self.pid);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Live (non-zombie) processes whose process group is `pgid`.
fn group_members(pgid: i32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return vec![] };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
            let Some(close) = stat.rfind(')') else { return false };
            let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
            // state(0) ppid(1) pgrp(2)
            fields.first() != Some(&"Z") && fields.get(2) == Some(&pgid.to_string().as_str())
        })
        .collect()
}

/// The servers running now, for the Ctrl-C handler.
static RUNNING: Mutex<Vec<i32>> = Mutex::new(Vec::new());

fn register(pid: i32) {
    RUNNING.lock().unwrap_or_else(|e| e.into_inner()).push(pid);
}

fn unregister(pid: i32) {
    RUNNING.lock().unwrap_or_else(|e| e.into_inner()).retain(|&p| p != pid);
}

/// From the Ctrl-C handler: stop every server still running (TERM, then KILL).
pub(crate) fn stop_all_registered() {
    let pids = std::mem::take(&mut *RUNNING.lock().unwrap_or_else(|e| e.into_inner()));
    for &pid in &pids {
        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    }
    let deadline = Instant::now() + STOP_LIMIT;
    for &pid in &pids {
        while !group_members(pid).is_empty() && Instant::now() < deadline {
            let _ = nix::sys::wait::waitpid(Pid::from_raw(pid), Some(nix::sys::wait::WaitPidFlag::WNOHANG));
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].iter().map(|l| format!("  {l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_baseline_stands_beside_each_of_ours() {
        let dir = std::env::temp_dir().join(format!("xtask-baseline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("event-server"), "").unwrap();
        let mut selected = ours(Path::new("/nonexistent"));
        selected.retain(|s| s.name == "event-server");
        let base = baseline(&dir, &selected).unwrap();
        assert_eq!(base.len(), 1);
        assert_eq!(
            (base[0].name.as_str(), base[0].family, base[0].mpm),
            ("event-server@base", Family::Baseline, Some(Mpm::Event))
        );
        assert_eq!(base[0].binary, dir.join("event-server"));
        let all = ours(Path::new("/nonexistent"));
        assert!(baseline(&dir, &all).is_err(), "prefork-server is missing from the baseline");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn apache_and_ours_get_the_same_tls_directives() {
        let certificate = tls::named("/w/cert.pem", "/w/key.pem");
        let mut launch = Launch {
            server_root: Path::new("/r"),
            run_dir: Path::new("/run/x"),
            keep_alive_timeout: None,
            sendfile: None,
            pin: false,
            tls: None,
        };
        assert_eq!(listen(&launch, 0), "127.0.0.1:0");
        assert_eq!(
            overrides(&launch, None),
            ["ErrorLog \"/run/x/error_log\"", "PidFile \"/run/x/httpd.pid\""]
        );
        assert_eq!(overrides(&launch, Some(81))[0], "Listen 127.0.0.1:81");
        assert!(!overrides(&launch, Some(81)).iter().any(|d| d.contains("SSL") || d.contains("ssl")));

        launch.tls = Some(&certificate);
        assert_eq!(listen(&launch, 0), "127.0.0.1:0 https");
        let (ours, apache) = (overrides(&launch, None), overrides(&launch, Some(81)));
        let ssl = |d: &Vec<String>| d.iter().filter(|d| d.starts_with("SSL")).cloned().collect::<Vec<_>>();
        assert_eq!(ssl(&ours), tls::directives(&certificate));
        assert_eq!(ssl(&apache), ssl(&ours));
        assert_eq!(
            apache[..2],
            ["Listen 127.0.0.1:81 https", "LoadModule ssl_module ${APACHE_MODULES_DIR}/mod_ssl.so"]
        );
        assert_eq!(apache[2..], ours[..]);

        let conf = nginx_conf(&launch, 4321);
        for line in [
            "listen 127.0.0.1:4321 ssl;",
            "ssl_certificate /w/cert.pem;",
            "ssl_certificate_key /w/key.pem;",
            "ssl_protocols TLSv1.3;",
        ] {
            assert!(conf.contains(line), "{line} missing from\n{conf}");
        }
    }

    #[test]
    fn nginx_gets_the_same_settings() {
        let launch = Launch {
            server_root: Path::new("/r"),
            run_dir: Path::new("/run/x"),
            keep_alive_timeout: Some(9),
            sendfile: Some(true),
            pin: false,
            tls: None,
        };
        let conf = nginx_conf(&launch, 4321);
        for line in [
            "listen 127.0.0.1:4321;",
            "root /r/htdocs;",
            "keepalive_timeout 9;",
            "sendfile on;",
            "keepalive_requests 100;",
            "access_log /run/x/access_log common;",
            "daemon off;",
            "master_process on;",
            "pid /run/x/nginx.pid;",
        ] {
            assert!(conf.contains(line), "{line} missing from\n{conf}");
        }
        assert!(!conf.contains("ssl"), "TLS only when asked for:\n{conf}");
    }
}
