//! The Debian packages (issue 9): `cargo deb -p event-server` builds a
//! package holding every file README's Install section names, whose
//! configuration passes `-t` and whose systemd unit passes
//! `systemd-analyze verify`.
//!
//! The package test needs cargo-deb and dpkg-deb; without one it prints a
//! line saying it is skipped and passes (`.ci/run` installs cargo-deb, so CI
//! runs it). The other tests need neither: the committed files under
//! `packaging/<binary>/` are what `packaging/generate` writes, and each
//! binary accepts its packaged httpd.conf.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use integration_tests::{
    Output, SYNTAX_OK, Server, TempDir, assert_has_line, assert_text, drain, utf8, wait_for, workspace_root,
};

/// How long a release build of event-server may take (fat LTO on 2 cores,
/// from nothing); it only bounds a hang. Usually the build is already done
/// by an earlier test or task, and takes seconds.
const BUILD_LIMIT: Duration = Duration::from_secs(20 * 60);

/// How long any other tool here (cargo deb --no-build, dpkg-deb,
/// systemd-analyze) may take.
const TOOL_LIMIT: Duration = Duration::from_secs(120);

/// The binary packaged and checked end to end; the other two are built from
/// the same templates and Cargo.toml shape.
const PACKAGE: &str = "event-server";

/// Every file of the package, as `dpkg-deb -x` extracts it, besides the
/// separate debug symbols (named by build id).
const FILES: [&str; 9] = [
    "etc/event-server/httpd.conf",
    "etc/event-server/mime.types",
    "etc/logrotate.d/event-server",
    "usr/lib/systemd/system/event-server.service",
    "usr/sbin/event-server",
    "usr/share/doc/event-server/copyright",
    "usr/share/man/man8/event-server.8.gz",
    "var/www/event-server/index.html",
    // Listed last: it is the only one matched by prefix (build id).
    "usr/lib/debug/.build-id/",
];

/// The conffiles: everything under /etc, so an upgrade keeps an
/// administrator's edits.
const CONFFILES: &str =
    "/etc/event-server/httpd.conf\n/etc/event-server/mime.types\n/etc/logrotate.d/event-server\n";

/// Replaces `User www-data` and `Group www-data` where there is no such
/// account: -t looks names up, while a `#id` needs no entry (root's is refused).
const NUMERIC_ACCOUNT: [&str; 4] = ["-c", "User #54321", "-c", "Group #54321"];

#[test]
fn packaging_files_are_what_packaging_generate_writes() {
    let dir = TempDir::new();
    let script = workspace_root().join("packaging/generate");
    let mut cmd = Command::new("bash");
    cmd.arg(&script).arg(dir.path());
    finish(&mut cmd, TOOL_LIMIT).assert(0, "", "");
    for server in Server::ALL {
        let name = server.binary_name();
        for file in ["httpd.conf", &format!("{name}.8"), &format!("{name}.service"), "logrotate"] {
            let rel = Path::new(name).join(file);
            let committed = workspace_root().join("packaging").join(&rel);
            let committed = std::fs::read_to_string(&committed)
                .unwrap_or_else(|e| panic!("{}: {e} (run bash packaging/generate)", committed.display()));
            let generated = std::fs::read_to_string(dir.join(&rel)).expect("generated file");
            assert!(
                committed == generated,
                "packaging/{} is not what packaging/generate writes: run `bash packaging/generate` and commit\n{}",
                rel.display(),
                diff(&committed, &generated)
            );
        }
    }
}

#[test]
fn each_binary_accepts_its_packaged_httpd_conf() {
    // DocumentRoot /var/www/<binary> exists only once installed, and -t checks
    // it: -c points it at the source tree's htdocs, which the package ships.
    let htdocs = format!("DocumentRoot {}", utf8(&integration_tests::shared_conf_dir().join("htdocs")));
    let mut args = vec!["-c", htdocs.as_str()];
    // -t also looks up User and Group; www-data is Debian's (base-passwd).
    if !has_www_data() {
        eprintln!(
            "no www-data account on this machine: -t checks the packaged files with a numeric User and Group"
        );
        args.extend(NUMERIC_ACCOUNT);
    }
    for server in Server::ALL {
        let root = workspace_root().join("packaging").join(server.binary_name());
        server.check(&root, &args, &[]).assert(0, "", SYNTAX_OK);
    }
}

#[test]
fn event_server_package_holds_every_file_and_passes_its_checks() {
    if let Some(missing) = missing_tool() {
        eprintln!("skipped: {missing}");
        return;
    }
    let dir = TempDir::new();
    let deb = build_package(&dir);
    let root = dir.mkdir("root");
    let control = dir.join("control");
    tool("dpkg-deb", &[OsStr::new("-x"), deb.as_os_str(), root.as_os_str()]).assert(0, "", "");
    tool("dpkg-deb", &[OsStr::new("-e"), deb.as_os_str(), control.as_os_str()]).assert(0, "", "");

    check_files(&root);
    check_control(&control);
    check_config(&root);
    check_unit(&root, &dir);
}

/// `cargo build --release -p event-server`, then `cargo deb --no-build` into
/// `dir`: the release build is the one `cargo install`, `cargo xtask dist`
/// and `cargo xtask compare` make, so at most one of them compiles.
fn build_package(dir: &TempDir) -> PathBuf {
    let mut build = cargo();
    build.args(["build", "--release", "--locked", "-p", PACKAGE]);
    // The compiled-in ServerRoot must be the plain /etc/event-server.
    build.env_remove("HTTPD_ROOT").env_remove("SERVER_CONFIG_FILE");
    finish(&mut build, BUILD_LIMIT).assert_code(0);

    let out_dir = dir.mkdir("deb");
    let mut deb = cargo();
    deb.args(["deb", "-p", PACKAGE, "--no-build", "--output"]).arg(&out_dir);
    finish(&mut deb, TOOL_LIMIT).assert_code(0);
    let mut debs: Vec<PathBuf> = std::fs::read_dir(&out_dir)
        .expect("cargo deb's output directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension() == Some(OsStr::new("deb")))
        .collect();
    assert_eq!(debs.len(), 1, "expected one .deb in {}: {debs:?}", out_dir.display());
    debs.pop().expect("one .deb")
}

/// Every file, and only those; the ones made from packaging/ or shared-conf/
/// byte for byte; and none that another installed package (apache2) owns.
fn check_files(root: &Path) {
    let found: BTreeSet<String> = files_under(root).into_iter().collect();
    let (debug_prefix, named) = FILES.split_last().expect("FILES");
    let debug: Vec<&String> = found.iter().filter(|f| f.starts_with(debug_prefix)).collect();
    assert!(
        debug.len() == 1 && debug[0].ends_with(".debug"),
        "expected one {debug_prefix}*.debug file, found {debug:?}"
    );
    let others: BTreeSet<&str> =
        found.iter().map(String::as_str).filter(|f| !f.starts_with(debug_prefix)).collect();
    assert_eq!(others, named.iter().copied().collect::<BTreeSet<&str>>(), "the package's files");

    let source = |rel: &str| read(&workspace_root().join(rel));
    let packaged = |rel: &str| read(&root.join(rel));
    assert_text(&source("packaging/event-server/httpd.conf"), &packaged("etc/event-server/httpd.conf"));
    assert_text(&source("shared-conf/mime.types"), &packaged("etc/event-server/mime.types"));
    assert_text(&source("packaging/event-server/logrotate"), &packaged("etc/logrotate.d/event-server"));
    assert_text(
        &source("packaging/event-server/event-server.service"),
        &packaged("usr/lib/systemd/system/event-server.service"),
    );
    assert_text(&source("shared-conf/htdocs/index.html"), &packaged("var/www/event-server/index.html"));
    // cargo-deb gzips the man page, as Debian policy asks.
    let man = root.join("usr/share/man/man8/event-server.8.gz");
    let man = tool("gzip", &[OsStr::new("-dc"), man.as_os_str()]);
    man.assert_code(0);
    assert_text(&source("packaging/event-server/event-server.8"), &man.stdout);

    let binary = root.join("usr/sbin/event-server");
    let mode = std::fs::metadata(&binary).expect("the binary").permissions().mode();
    assert_eq!(mode & 0o777, 0o755, "mode of {}", binary.display());

    // `dpkg -S` names the installed package owning a path (exit 1: none).
    // Only event-server itself may, when it is installed on this machine.
    if tool_works("dpkg-query", &["--version"]) {
        for file in &others {
            let owner = tool("dpkg-query", &["-S", &format!("/{file}")]);
            if owner.code() == Some(0) {
                assert!(
                    owner.stdout.starts_with("event-server:"),
                    "/{file} belongs to another package:\n{}",
                    owner.stdout
                );
            }
        }
    }
}

/// Conffiles, the package's name and section, and maintainer scripts that
/// enable the unit, start it only under systemd, and create the log directory.
fn check_control(control: &Path) {
    assert_text(CONFFILES, &read(&control.join("conffiles")));
    let fields = read(&control.join("control"));
    assert_has_line(&fields, "Package: event-server");
    assert_has_line(&fields, "Section: httpd");
    assert!(fields.lines().any(|l| l.starts_with("Depends: ") && l.contains("libc6")), "{fields}");

    let postinst = read(&control.join("postinst"));
    for needle in [
        "install -d -m 0750 -o root -g adm \"/var/log/$pkg\"",
        "deb-systemd-helper enable event-server.service",
        "if [ -d /run/systemd/system ]; then",
    ] {
        assert!(postinst.contains(needle), "postinst lacks {needle:?}:\n{postinst}");
    }
    let start = postinst
        .find("deb-systemd-invoke $_dh_action event-server.service")
        .expect("postinst starts the unit");
    let guard =
        postinst[..start].rfind("if [ -d /run/systemd/system ]; then").expect("a guard before the start");
    assert!(guard < start, "{postinst}");
    assert!(read(&control.join("prerm")).contains("deb-systemd-invoke stop event-server.service"));
    assert!(read(&control.join("postrm")).contains("rm -rf \"/var/log/$pkg\""));
    for script in ["postinst", "prerm", "postrm"] {
        let path = control.join(script);
        tool("sh", &[OsStr::new("-n"), path.as_os_str()]).assert(0, "", "");
    }
}

/// The extracted binary accepts the extracted configuration, which names
/// Debian's paths.
fn check_config(root: &Path) {
    let binary = root.join("usr/sbin/event-server");
    let server_root = root.join("etc/event-server");
    // DocumentRoot /var/www/event-server exists only once installed: point
    // it at the extracted one, which -t then checks.
    let htdocs = format!("DocumentRoot {}", utf8(&root.join("var/www/event-server")));
    let mut args = vec!["-d", utf8(&server_root), "-c", &htdocs];
    if !has_www_data() {
        eprintln!("no www-data account on this machine: -t checks the package with a numeric User and Group");
        args.extend(NUMERIC_ACCOUNT);
    }
    let run = |extra: &[&str]| {
        let mut all = args.clone();
        all.extend(extra);
        integration_tests::run(&binary, &all, &[])
    };
    run(&["-t"]).assert(0, "", SYNTAX_OK);

    // No -f: the file found is <ServerRoot>/httpd.conf, and its paths are the
    // package's, not the embedded configuration's.
    let settings = run(&["-S"]);
    settings.assert_code(0);
    for line in [
        &format!("ServerRoot: \"{}\"", utf8(&server_root)),
        "Main ErrorLog: \"/var/log/event-server/error.log\"",
        "PidFile: \"/run/event-server.pid\"",
    ] {
        assert_has_line(&settings.stdout, line);
    }
    if has_www_data() {
        assert!(
            settings.stdout.lines().any(|l| l.starts_with("User: name=\"www-data\"")),
            "{}",
            settings.stdout
        );
    }
    let compiled = integration_tests::run(&binary, &["-V"], &[]);
    assert_has_line(&compiled.stdout, " -D HTTPD_ROOT=\"/etc/event-server\"");
    assert_has_line(&compiled.stdout, " -D SERVER_CONFIG_FILE=\"httpd.conf\"");
}

/// `systemd-analyze verify` on the unit, with the binary's path pointed at
/// the extracted one (verify checks that ExecStart's program exists) and, when
/// man is installed, MANPATH at the extracted man page (verify runs `man` on
/// Documentation=). Any diagnostic fails: verify exits 0 on unknown keys.
fn check_unit(root: &Path, dir: &TempDir) {
    if !tool_works("systemd-analyze", &["--version"]) {
        eprintln!("skipped systemd-analyze verify: systemd-analyze is not installed");
        return;
    }
    let unit = read(&root.join("usr/lib/systemd/system/event-server.service"));
    let binary = root.join("usr/sbin/event-server");
    let copy = dir.mkdir("unit").join("event-server.service");
    std::fs::write(&copy, unit.replace("/usr/sbin/event-server", utf8(&binary))).expect("writing the unit");
    let mut cmd = Command::new("systemd-analyze");
    cmd.arg("verify");
    if tool_works("man", &["--version"]) {
        cmd.env("MANPATH", root.join("usr/share/man"));
    } else {
        eprintln!("man is not installed: systemd-analyze verify skips Documentation=");
        cmd.arg("--man=no");
    }
    cmd.arg(&copy);
    finish(&mut cmd, TOOL_LIMIT).assert(0, "", "");
}

/// Why the package test cannot run here, if it cannot.
fn missing_tool() -> Option<String> {
    let deb = cargo().args(["deb", "--version"]).stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !deb.is_ok_and(|s| s.success()) {
        return Some(
            "cargo-deb is not installed (`cargo install cargo-deb --locked`; .ci/run installs it)".into(),
        );
    }
    if !tool_works("dpkg-deb", &["--version"]) {
        return Some("dpkg-deb is not installed (a Debian tool)".into());
    }
    None
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(workspace_root());
    cmd
}

fn has_www_data() -> bool {
    std::fs::read_to_string("/etc/passwd").is_ok_and(|p| p.lines().any(|l| l.starts_with("www-data:")))
}

fn tool_works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn tool<A: AsRef<OsStr>>(program: &str, args: &[A]) -> Output {
    let mut cmd = Command::new(program);
    cmd.args(args);
    finish(&mut cmd, TOOL_LIMIT)
}

/// Runs `cmd` to the end with stdin closed, both outputs captured; kills it
/// and fails past `limit`.
#[track_caller]
fn finish(cmd: &mut Command, limit: Duration) -> Output {
    let command = format!("{cmd:?}");
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("running {command}: {e}"));
    // Threads read the pipes, so a chatty build never blocks on a full one.
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let status = wait_or_kill(&mut child, &command, limit);
    Output { command, status, stdout: stdout.join().expect("stdout"), stderr: stderr.join().expect("stderr") }
}

fn wait_or_kill(child: &mut Child, command: &str, limit: Duration) -> std::process::ExitStatus {
    let pid = child.id();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_for(&format!("{command} to finish"), limit, || child.try_wait().expect("waiting for a child"))
    }))
    .unwrap_or_else(|panic| {
        let _ = child.kill();
        let _ = child.wait();
        eprintln!("killed pid {pid}: {command}");
        std::panic::resume_unwind(panic)
    })
}

#[track_caller]
fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The regular files and symlinks under `root`, as relative paths.
fn files_under(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() && !path.is_symlink() {
                dirs.push(path);
            } else {
                let rel = path.strip_prefix(root).expect("under root");
                found.push(utf8(rel).to_string());
            }
        }
    }
    found
}

/// The first differing line of two texts, for a failure message.
fn diff(committed: &str, generated: &str) -> String {
    let (mut a, mut b) = (committed.lines(), generated.lines());
    for number in 1.. {
        match (a.next(), b.next()) {
            (None, None) => break,
            (x, y) if x == y => continue,
            (x, y) => return format!("line {number}:\n  committed: {x:?}\n  generated: {y:?}"),
        }
    }
    "they differ only in line endings".into()
}
