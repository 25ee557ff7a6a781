//! Checks that `httpd.conf` suits both Apache httpd 2.4 and our binaries.
//!
//! `apache_syntax_check_passes_for_each_mpm` runs `apache2 -t` (or `httpd -t`)
//! when one is installed and skips otherwise. The other tests scan the file
//! for the rules our binaries rely on: `LoadModule` only where Apache alone
//! reads it, MPM directives only inside the block of their MPM, only
//! directives our config reader knows.

use std::collections::HashMap;
use std::env;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use shared_conf::{HTTPD_CONF, HTTPD_CONF_NAME, MIME_TYPES, MIME_TYPES_NAME};

/// `-D` choices for the MPM, as documented in httpd.conf (none = event).
const MPM_CHOICES: [(&str, Option<&str>); 3] =
    [("prefork", Some("MPM_prefork")), ("worker", Some("MPM_worker")), ("event", None)];

/// Where distributions keep Apache's DSOs; httpd.conf defaults to Debian's.
const MODULE_DIRS: [&str; 5] = [
    "/usr/lib/apache2/modules",
    "/usr/lib64/httpd/modules",
    "/usr/lib/httpd/modules",
    "/usr/local/apache2/modules",
    "/usr/libexec/apache2",
];

/// Directives our binaries' config reader knows, lower-cased (MPM ones included).
const KNOWN_DIRECTIVES: &[&str] = &[
    "serverroot",
    "listen",
    "listenbacklog",
    "servername",
    "serveradmin",
    "documentroot",
    "directoryindex",
    "directoryslash",
    "options",
    "allowoverride",
    "require",
    "sethandler",
    "keepalive",
    "keepalivetimeout",
    "maxkeepaliverequests",
    "timeout",
    "limitrequestline",
    "limitrequestfieldsize",
    "limitrequestfields",
    "limitrequestbody",
    "errorlog",
    "loglevel",
    "logformat",
    "customlog",
    "typesconfig",
    "addtype",
    "servertokens",
    "serversignature",
    "errordocument",
    "enablesendfile",
    "enablemmap",
    "fileetag",
    "pidfile",
    "user",
    "group",
    "extendedstatus",
    "define",
    "include",
    "includeoptional",
    "loadmodule",
    "maxconnectionsperchild",
    "gracefulshutdowntimeout",
    "startservers",
    "minspareservers",
    "maxspareservers",
    "maxrequestworkers",
    "serverlimit",
    "minsparethreads",
    "maxsparethreads",
    "threadsperchild",
    "threadlimit",
    "asyncrequestworkerfactor",
];

/// Containers our reader knows, lower-cased.
const KNOWN_CONTAINERS: &[&str] = &["ifmodule", "ifdefine", "directory", "location", "files", "virtualhost"];

/// MPM directives and the MPMs that know them; the other binaries reject them.
const MPM_DIRECTIVES: &[(&str, &[&str])] = &[
    ("startservers", &["prefork", "worker", "event"]),
    ("serverlimit", &["prefork", "worker", "event"]),
    ("maxrequestworkers", &["prefork", "worker", "event"]),
    ("minspareservers", &["prefork"]),
    ("maxspareservers", &["prefork"]),
    ("minsparethreads", &["worker", "event"]),
    ("maxsparethreads", &["worker", "event"]),
    ("threadsperchild", &["worker", "event"]),
    ("threadlimit", &["worker", "event"]),
    ("asyncrequestworkerfactor", &["event"]),
];

#[test]
fn apache_syntax_check_passes_for_each_mpm() {
    let Some(apache) = find_apache() else {
        println!("skipped: neither apache2 nor httpd on PATH");
        return;
    };
    let version = Command::new(&apache)
        .arg("-v")
        .output()
        .unwrap_or_else(|e| panic!("running {} -v: {e}", apache.display()));
    if !String::from_utf8_lossy(&version.stdout).contains("Apache/2.4") {
        println!("skipped: {} -v does not report Apache/2.4", apache.display());
        return;
    }
    let Some(modules) = MODULE_DIRS.iter().map(Path::new).find(|d| d.join("mod_mpm_event.so").is_file())
    else {
        println!("skipped: {} found, but no module directory with mod_mpm_event.so", apache.display());
        return;
    };

    let root = shared_conf::dir();
    let conf = root.join(HTTPD_CONF_NAME);
    assert!(conf.is_absolute(), "{} is not absolute", conf.display());
    for (mpm, define) in MPM_CHOICES {
        let mut cmd = Command::new(&apache);
        cmd.arg("-t").arg("-f").arg(&conf).arg("-d").arg(root);
        if let Some(name) = define {
            cmd.args(["-D", name]);
        }
        if modules != Path::new("/usr/lib/apache2/modules") {
            cmd.arg("-C").arg(format!("Define APACHE_MODULES_DIR {}", modules.display()));
        }
        let out = cmd.output().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        println!("{mpm}: {cmd:?} -> {}: {}", out.status, stderr.trim());
        // Anything besides "Syntax OK" is a warning (AH00558, AH00111,
        // "module ... is built-in and can't be loaded", ...): fail on it too.
        assert!(
            out.status.success() && stderr.trim() == "Syntax OK",
            "{mpm}: {cmd:?} exited with {}\n--- stderr ---\n{stderr}--- stdout ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
        );
    }
}

/// `apache2` or `httpd` in a PATH entry, else in /usr/sbin (Debian's
/// apache2 lives there, outside an ordinary user's PATH).
fn find_apache() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        env::var_os("PATH").map(|p| env::split_paths(&p).collect()).unwrap_or_default();
    dirs.push(PathBuf::from("/usr/sbin"));
    ["apache2", "httpd"].iter().find_map(|name| {
        dirs.iter()
            .map(|d| d.join(name))
            .find(|p| p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
    })
}

/// One container opened in httpd.conf: lower-cased name, argument, line.
struct Open {
    name: String,
    arg: String,
    line: usize,
}

/// Splits a config line into arguments as httpd does: whitespace separates,
/// `"..."` and `'...'` quote, a backslash escapes a quote or backslash.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(first) = chars.next() else {
            return out;
        };
        let mut word = String::new();
        if first == '"' || first == '\'' {
            while let Some(c) = chars.next() {
                match c {
                    '\\' if chars.peek().is_some_and(|&n| n == first || n == '\\') => {
                        word.extend(chars.next());
                    }
                    c if c == first => break,
                    c => word.push(c),
                }
            }
        } else {
            word.push(first);
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                word.push(c);
            }
        }
        out.push(word);
    }
}

/// Walks httpd.conf, calling `check` with the open containers and the
/// words of each directive line; panics on unbalanced containers.
fn scan(mut check: impl FnMut(&[Open], usize, &[String])) {
    let mut stack: Vec<Open> = Vec::new();
    for (index, raw) in HTTPD_CONF.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        assert!(!line.ends_with('\\'), "line {line_no}: continuation lines are not used here");
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("</") {
            let name = rest.trim_end_matches('>').trim().to_ascii_lowercase();
            let open = stack.pop().unwrap_or_else(|| panic!("line {line_no}: </{name}> closes nothing"));
            assert_eq!(
                open.name, name,
                "line {line_no}: </{name}> closes <{}> of line {}",
                open.name, open.line
            );
            continue;
        }
        if let Some(rest) = line.strip_prefix('<') {
            let inner =
                rest.strip_suffix('>').unwrap_or_else(|| panic!("line {line_no}: container without '>'"));
            let parts = words(inner);
            let name = parts[0].to_ascii_lowercase();
            assert!(
                KNOWN_CONTAINERS.contains(&name.as_str()),
                "line {line_no}: container <{name}> unknown to our reader"
            );
            let arg = parts.get(1).cloned().unwrap_or_default();
            stack.push(Open { name, arg, line: line_no });
            continue;
        }
        check(&stack, line_no, &words(line));
    }
    if let Some(open) = stack.last() {
        panic!("<{} {}> of line {} is never closed", open.name, open.arg, open.line);
    }
}

#[test]
fn containers_balance_and_mpm_blocks_close() {
    scan(|_, _, _| {});
    let opened = HTTPD_CONF.lines().filter(|l| l.trim_start().starts_with("<IfModule mpm_")).count();
    assert_eq!(opened, 3, "one <IfModule mpm_*_module> block per MPM");
}

#[test]
fn load_module_only_inside_so_module() {
    let mut seen = 0;
    scan(|stack, line_no, words| {
        if words[0].eq_ignore_ascii_case("LoadModule") {
            seen += 1;
            assert!(
                stack.iter().any(|o| o.name == "ifmodule" && (o.arg == "so_module" || o.arg == "mod_so.c")),
                "line {line_no}: LoadModule outside <IfModule so_module>"
            );
        }
    });
    assert!(seen > 0, "Apache needs LoadModule lines");
}

#[test]
fn mpm_directives_only_inside_their_mpm_block() {
    scan(|stack, line_no, words| {
        let name = words[0].to_ascii_lowercase();
        let Some((_, mpms)) = MPM_DIRECTIVES.iter().find(|(d, _)| *d == name) else {
            return;
        };
        let block = stack.iter().find_map(|o| {
            let id = o.arg.strip_prefix("mpm_")?.strip_suffix("_module")?;
            (o.name == "ifmodule").then_some(id)
        });
        match block {
            Some(mpm) => {
                assert!(mpms.contains(&mpm), "line {line_no}: {} is unknown to the {mpm} MPM", words[0])
            }
            None => panic!("line {line_no}: {} outside an <IfModule mpm_*_module> block", words[0]),
        }
    });
}

#[test]
fn only_known_directives_and_no_trailing_comments() {
    scan(|_, line_no, words| {
        assert!(
            KNOWN_DIRECTIVES.contains(&words[0].to_ascii_lowercase().as_str()),
            "line {line_no}: {} is unknown to our reader",
            words[0]
        );
        // httpd would take a trailing "# comment" as more arguments.
        assert!(!words[1..].iter().any(|w| w.starts_with('#')), "line {line_no}: comment after a directive");
    });
}

#[test]
fn files_sit_in_the_server_root() {
    let root = shared_conf::dir();
    assert!(root.join(HTTPD_CONF_NAME).is_file());
    assert!(root.join(MIME_TYPES_NAME).is_file());
    assert!(root.join("htdocs/index.html").is_file());
    // ErrorLog "logs/error_log": apache2 -t fails with AH02291 without it.
    assert!(root.join("logs").is_dir());
}

#[test]
fn mime_types_map_each_extension_once() {
    let mut types: HashMap<String, &str> = HashMap::new();
    for (index, line) in MIME_TYPES.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let media = fields.next().unwrap_or_default();
        assert!(media.contains('/'), "line {}: {media}", index + 1);
        for ext in fields {
            let previous = types.insert(ext.to_ascii_lowercase(), media);
            assert!(
                previous.is_none(),
                "line {}: .{ext} already maps to {}",
                index + 1,
                previous.unwrap_or_default()
            );
        }
    }
    for (ext, media) in [
        ("html", "text/html"),
        ("css", "text/css"),
        ("js", "text/javascript"),
        ("json", "application/json"),
        ("txt", "text/plain"),
        ("png", "image/png"),
        ("jpg", "image/jpeg"),
        ("svg", "image/svg+xml"),
        ("wasm", "application/wasm"),
        ("woff2", "font/woff2"),
        ("md", "text/markdown"),
    ] {
        assert_eq!(types.get(ext).copied(), Some(media), ".{ext}");
    }
    assert!(types.len() >= 80, "{} extensions", types.len());
}
