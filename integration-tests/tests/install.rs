//! `cargo install --path event-server` gives a binary that serves with no
//! files at all: the embedded httpd.conf, mime.types and default page
//! (issue 9). The installed binary runs from an empty working directory,
//! with an empty HOME, and with nothing on its command line but
//! `-DFOREGROUND`; the port comes from `HTTPD_LISTEN`, which replaces the
//! embedded `Listen 127.0.0.1:8080` (a `-C Listen` line would add to it).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use integration_tests::http::{self, Running};
use integration_tests::{TempDir, wait_for, workspace_root};

/// The compiled-in ServerRoot of a build made without `HTTPD_ROOT`.
const SYSTEM_ROOT: &str = "/etc/event-server";

/// How long `cargo install` may take: a release build of event-server and
/// its dependencies from nothing, with fat LTO, on 2 cores. Bounds a hang.
const INSTALL_LIMIT: Duration = Duration::from_secs(20 * 60);

#[test]
fn cargo_install_gives_a_server_that_serves_the_default_page_with_no_files() {
    if Path::new(SYSTEM_ROOT).exists() {
        eprintln!(
            "skipped: {SYSTEM_ROOT} exists on this machine (a package is installed?), so the \
             installed binary would read it instead of its embedded configuration"
        );
        return;
    }
    let dir = TempDir::new();
    let root = dir.mkdir("installed");
    install(&root);
    let binary = root.join("bin/event-server");
    assert!(binary.is_file(), "cargo install made no {}", binary.display());

    // `-V` names the system configuration it would read, absent here.
    let version = Command::new(&binary).arg("-V").output().expect("running event-server -V");
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(version.contains(&format!(" -D HTTPD_ROOT=\"{SYSTEM_ROOT}\"\n")), "{version}");
    assert!(version.contains(" -D SERVER_CONFIG_FILE=\"httpd.conf\"\n"), "{version}");

    let cwd = dir.mkdir("empty");
    let home = dir.mkdir("home");
    let mut cmd = Command::new(&binary);
    cmd.arg("-DFOREGROUND").current_dir(&cwd).env("HOME", &home);
    let mut server = Running::spawn(cmd, "the installed event-server");
    let page = http::get(server.addr, "/");
    assert_eq!(page.status, 200, "{}", page.status_line);
    assert!(page.header("Content-Type").is_some_and(|t| t.starts_with("text/html")), "{:?}", page.headers);
    assert_eq!(page.body_text(), shared_conf::INDEX_HTML);
    let pid = nix::unistd::Pid::from_raw(server.pid() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("signalling the server");
    let status = server.wait_exit(Duration::from_secs(15));
    assert!(status.success(), "event-server exited with {status}");
    // It wrote nothing where it ran (its logs went to stdout and stderr).
    assert_eq!(std::fs::read_dir(&cwd).unwrap().count(), 0, "files left in {}", cwd.display());
    assert_eq!(std::fs::read_dir(&home).unwrap().count(), 0, "files left in {}", home.display());
}

/// `cargo install --path event-server --root <root> --locked`, in release as
/// a user runs it. It builds into the workspace's own target directory
/// rather than a fresh temporary one: run after a release build
/// (`cargo xtask compare`, `cargo xtask dist`), or on a second run, it finds
/// event-server already built and only copies it; CI's later
/// `cargo xtask compare` reuses what it built.
fn install(root: &Path) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), std::path::PathBuf::from);
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(workspace_root())
        .args(["install", "--path", "event-server", "--locked", "--root"])
        .arg(root)
        .arg("--target-dir")
        .arg(&target_dir)
        // The compiled-in defaults must be the plain ones (build_info.rs).
        .env_remove("HTTPD_ROOT")
        .env_remove("SERVER_CONFIG_FILE")
        .stdin(Stdio::null());
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("running cargo install");
    let out = wait_with_limit(child, INSTALL_LIMIT);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits for `child`, polling, and kills it past `limit`.
fn wait_with_limit(mut child: Child, limit: Duration) -> std::process::Output {
    // The pipes are read by threads so a chatty build never blocks on them.
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut v);
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut v);
        v
    });
    let pid = child.id();
    let status = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_for("cargo install to finish", limit, || child.try_wait().expect("waiting for cargo"))
    }))
    .unwrap_or_else(|panic| {
        let _ = child.kill();
        let _ = child.wait();
        eprintln!("killed cargo install (pid {pid})");
        std::panic::resume_unwind(panic)
    });
    std::process::Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() }
}
