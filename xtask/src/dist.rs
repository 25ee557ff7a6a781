//! `cargo xtask dist`: the release binaries and one Debian package per binary, then a list of
//! what was made, with sizes.
//!
//! One `cargo build --release --locked` builds the binaries; `cargo deb -p <binary> --no-build`
//! packages each one from `[package.metadata.deb]` in its Cargo.toml. Nothing is ever installed
//! here: without cargo-deb the packages are skipped with a line saying how to get it (an error
//! when `--deb` asked for them).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

const BINARIES: [&str; 3] = ["prefork-server", "worker-server", "event-server"];

const INSTALL_CARGO_DEB: &str = "cargo install cargo-deb --locked";

const USAGE: &str = "\
Usage: cargo xtask dist [options]

Builds prefork-server, worker-server and event-server in release mode (target/release) and
a Debian package of each with cargo-deb (target/debian), then lists them with their sizes.
Installs nothing: without cargo-deb the packages are skipped, with the command to get it.

Options:
  -p, --package NAME  only this binary (repeatable; default all three)
  --deb               the packages are required: fail when cargo-deb is missing
  --no-deb            build the binaries only
  -h, --help          this text
";

/// Whether to make the .deb files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Debs {
    /// When cargo-deb is installed; otherwise skipped, said once.
    IfAvailable,
    Required,
    Skip,
}

#[derive(Debug, PartialEq, Eq)]
struct Options {
    packages: Vec<&'static str>,
    debs: Debs,
    help: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let mut packages: Vec<&'static str> = Vec::new();
        let mut debs = Debs::IfAvailable;
        let mut help = false;
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "-p" | "--package" => {
                    let name = it.next().with_context(|| format!("{arg} needs a binary's name"))?;
                    let Some(&known) = BINARIES.iter().find(|b| **b == name.as_str()) else {
                        bail!("unknown binary '{name}': one of {}", BINARIES.join(", "));
                    };
                    if !packages.contains(&known) {
                        packages.push(known);
                    }
                }
                "--deb" | "--no-deb" if debs != Debs::IfAvailable => bail!("--deb and --no-deb: pick one"),
                "--deb" => debs = Debs::Required,
                "--no-deb" => debs = Debs::Skip,
                "-h" | "--help" => help = true,
                other => bail!("unknown option '{other}'\n\n{USAGE}"),
            }
        }
        if packages.is_empty() {
            packages = BINARIES.to_vec();
        }
        Ok(Options { packages, debs, help })
    }
}

/// One file made, for the final list.
#[derive(Debug, PartialEq, Eq)]
struct Artifact {
    path: PathBuf,
    bytes: u64,
}

pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    let opts = Options::parse(args)?;
    if opts.help {
        print!("{USAGE}");
        return Ok(());
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let target_dir = if target_dir.is_absolute() { target_dir } else { root.join(target_dir) };

    // Checked first, so a missing tool is reported before minutes of building.
    let cargo_deb = match opts.debs {
        Debs::Skip => None,
        _ => cargo_deb_version(&cargo, root),
    };
    let skipped = match (opts.debs, &cargo_deb) {
        (Debs::Required, None) => {
            bail!(
                "cargo-deb is not installed, and --deb asks for the packages: install it with `{INSTALL_CARGO_DEB}`"
            )
        }
        (Debs::IfAvailable, None) => {
            let line =
                format!(".deb files skipped: cargo-deb is not installed (`{INSTALL_CARGO_DEB}` to get it)");
            println!("dist: {line}");
            Some(line)
        }
        _ => None,
    };

    let mut build = Command::new(&cargo);
    build.current_dir(root).args(["build", "--release", "--locked"]);
    for p in &opts.packages {
        build.args(["-p", p]);
    }
    println!("dist: cargo build --release --locked -p {}", opts.packages.join(" -p "));
    let status = build.status().context("running cargo build --release")?;
    if !status.success() {
        bail!("cargo build --release failed ({status})");
    }
    let mut made = Vec::new();
    for p in &opts.packages {
        made.push(artifact(&target_dir.join("release").join(p))?);
    }

    if let Some(version) = &cargo_deb {
        for p in &opts.packages {
            println!("dist: cargo deb -p {p} --no-build ({version})");
            let output = Command::new(&cargo)
                .current_dir(root)
                .args(["deb", "-p", p, "--no-build"])
                .stderr(Stdio::inherit())
                .output()
                .context("running cargo deb")?;
            let stdout = String::from_utf8_lossy(&output.stdout);
            if !output.status.success() {
                print!("{stdout}");
                bail!("cargo deb -p {p} failed ({})", output.status);
            }
            let deb = deb_path(&stdout)
                .with_context(|| format!("cargo deb -p {p} did not say which file it wrote:\n{stdout}"))?;
            made.push(artifact(&root.join(deb))?);
        }
    }

    println!("\n{}", listing(root, &made));
    if let Some(line) = skipped {
        println!("{line}");
    }
    Ok(())
}

/// cargo-deb's version, or None when `cargo deb` is not a command here.
fn cargo_deb_version(cargo: &std::ffi::OsStr, root: &Path) -> Option<String> {
    let out = Command::new(cargo)
        .current_dir(root)
        .args(["deb", "--version"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn artifact(path: &Path) -> Result<Artifact> {
    let meta = std::fs::metadata(path).with_context(|| format!("{} was not made", path.display()))?;
    Ok(Artifact { path: path.to_path_buf(), bytes: meta.len() })
}

/// The package cargo-deb wrote: the last line of its stdout that names a .deb file.
fn deb_path(stdout: &str) -> Option<PathBuf> {
    stdout.lines().map(str::trim).rev().find(|l| l.ends_with(".deb")).map(PathBuf::from)
}

/// One line per file: its size and its path (relative to the workspace when under it).
fn listing(root: &Path, made: &[Artifact]) -> String {
    let mut out = String::from("dist: made\n");
    for a in made {
        let shown = a.path.strip_prefix(root).unwrap_or(&a.path);
        out.push_str(&format!("  {:>9}  {:>10} bytes  {}\n", human_size(a.bytes), a.bytes, shown.display()));
    }
    out.pop();
    out
}

/// 1536 -> "1.5 KiB", as `ls -lh` would say it.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options> {
        Options::parse(&args.iter().map(|a| (*a).to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn arguments() {
        let all = parse(&[]).unwrap();
        assert_eq!(all, Options { packages: BINARIES.to_vec(), debs: Debs::IfAvailable, help: false });
        let some =
            parse(&["-p", "event-server", "--package", "prefork-server", "-p", "event-server"]).unwrap();
        assert_eq!(some.packages, ["event-server", "prefork-server"]);
        assert_eq!(parse(&["--deb"]).unwrap().debs, Debs::Required);
        assert_eq!(parse(&["--no-deb"]).unwrap().debs, Debs::Skip);
        assert!(parse(&["--help"]).unwrap().help);
        let error = |args: &[&str]| parse(args).unwrap_err().to_string();
        assert_eq!(error(&["--deb", "--no-deb"]), "--deb and --no-deb: pick one");
        assert_eq!(error(&["-p"]), "-p needs a binary's name");
        assert_eq!(
            error(&["-p", "httpd"]),
            "unknown binary 'httpd': one of prefork-server, worker-server, event-server"
        );
        assert!(error(&["--release"]).starts_with("unknown option '--release'\n\nUsage: cargo xtask dist"));
    }

    #[test]
    fn the_deb_cargo_deb_wrote() {
        let stdout = "warning: something\n/work/target/debian/event-server_0.1.0-1_amd64.deb\n\n";
        assert_eq!(
            deb_path(stdout),
            Some(PathBuf::from("/work/target/debian/event-server_0.1.0-1_amd64.deb"))
        );
        assert_eq!(
            deb_path("target/debian/a_1_amd64.deb"),
            Some(PathBuf::from("target/debian/a_1_amd64.deb"))
        );
        assert_eq!(deb_path("nothing here\n"), None);
    }

    #[test]
    fn sizes_read_as_ls_h() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(4_404_019), "4.2 MiB");
        assert_eq!(human_size(3 << 30), "3.0 GiB");
    }

    #[test]
    fn the_list_shows_sizes_and_paths_under_the_workspace() {
        let root = std::env::temp_dir().join(format!("xtask-dist-{}", std::process::id()));
        std::fs::create_dir_all(root.join("target/release")).unwrap();
        let binary = root.join("target/release/event-server");
        std::fs::write(&binary, vec![0u8; 3000]).unwrap();
        let made = [artifact(&binary).unwrap(), Artifact { path: "/elsewhere/x.deb".into(), bytes: 5 }];
        assert_eq!(
            listing(&root, &made),
            "dist: made\n    2.9 KiB        3000 bytes  target/release/event-server\n\
             \x20       5 B           5 bytes  /elsewhere/x.deb"
        );
        let missing = artifact(&root.join("target/release/worker-server")).unwrap_err().to_string();
        assert!(missing.ends_with("target/release/worker-server was not made"), "{missing}");
        let _ = std::fs::remove_dir_all(&root);
    }
}
