//! Hostile configuration: arbitrary bytes, directive soup, deep nesting, huge
//! lines, include cycles and loops, wildcards matching thousands of files.
//! The pipeline must never panic or hang, and every rejection must name the
//! file and the line it is about.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use httpd_core::config::{Config, ConfigError, LoadOptions, Source};
use httpd_core::mpm::MpmKind;
use proptest::prelude::*;

/// A throwaway ServerRoot, removed on drop.
struct Root(PathBuf);

impl Root {
    fn new() -> Root {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "httpd-config-fuzz-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Root(dir)
    }

    fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn load(&self, mpm: MpmKind) -> Result<Config, ConfigError> {
        let mut options = LoadOptions::new(mpm, &self.0, Source::File(PathBuf::from("httpd.conf")));
        options.check_document_root = false;
        Config::load(&options)
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A rejection a user can act on: it names a file under `root` (or the
/// pseudo-file of command-line directives) and a line in it.
fn assert_located(root: &Path, e: &ConfigError) {
    let text = e.to_string();
    let at = e.location().unwrap_or_else(|| panic!("error without a location: {text}"));
    assert!(at.file.starts_with(&root.display().to_string()), "error names another file: {text}");
    assert!(at.line > 0, "error without a line: {text}");
    assert!(!e.message().is_empty(), "error without a message: {text}");
}

/// Loads `bytes` as httpd.conf for every MPM: a success or a located error.
fn load_anything(bytes: &[u8]) {
    let root = Root::new();
    root.write("httpd.conf", bytes);
    for mpm in MpmKind::ALL {
        if let Err(e) = root.load(mpm) {
            assert_located(&root.0, &e);
        }
    }
}

/// One line of directive soup: real directive names and sections with
/// arguments that are sometimes right, sometimes garbage.
fn soup_line() -> impl Strategy<Value = String> {
    let names = prop::sample::select(vec![
        "Listen",
        "Timeout",
        "KeepAlive",
        "KeepAliveTimeout",
        "MaxRequestWorkers",
        "StartServers",
        "ThreadsPerChild",
        "ServerLimit",
        "DocumentRoot",
        "ServerName",
        "ErrorLog",
        "LogLevel",
        "LogFormat",
        "CustomLog",
        "DirectoryIndex",
        "AddType",
        "Require",
        "Options",
        "ErrorDocument",
        "Define",
        "UnDefine",
        "Include",
        "IncludeOptional",
        "LoadModule",
        "ServerRoot",
        "NoSuchDirective",
        "User",
    ]);
    let sections = prop::sample::select(vec![
        "<Directory /x>",
        "</Directory>",
        "<Location />",
        "</Location>",
        "<Files a>",
        "</Files>",
        "<VirtualHost *:80>",
        "</VirtualHost>",
        "<IfModule mpm_event_module>",
        "<IfModule !so_module>",
        "</IfModule>",
        "<IfDefine X>",
        "<IfDefine !X>",
        "</IfDefine>",
        "<RequireAll>",
        "</RequireAll>",
        "<",
        ">",
        "</>",
    ]);
    let arg = prop::sample::select(vec![
        "1",
        "0",
        "-1",
        "abc",
        "\"quoted word\"",
        "'single'",
        "\"unterminated",
        "${X}",
        "${",
        "%{",
        "On",
        "Off",
        "*",
        "127.0.0.1:0",
        "[::1]:0",
        "99999999999999999999",
        "\\",
        "#",
        "all",
        "granted",
        "/",
    ]);
    prop_oneof![
        (names, prop::collection::vec(arg, 0..4)).prop_map(|(n, a)| format!("{n} {}", a.join(" "))),
        sections.prop_map(str::to_string),
        "[ -~]{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_load_or_are_rejected_with_a_location(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        load_anything(&bytes);
    }

    #[test]
    fn directive_soup_loads_or_is_rejected_with_a_location(
        lines in prop::collection::vec(soup_line(), 0..40),
        continuation in any::<bool>(),
    ) {
        let sep = if continuation { " \\\n" } else { "\n" };
        load_anything(lines.join(sep).as_bytes());
    }
}

#[test]
fn deep_section_nesting_is_refused_not_a_stack_overflow() {
    for (open, close) in [("<IfDefine !X>", "</IfDefine>"), ("<Directory />", "</Directory>")] {
        let root = Root::new();
        let depth = 100_000;
        let text = format!("{}\n{}\n", open.repeat(depth).replace('>', ">\n"), close.repeat(depth));
        root.write("httpd.conf", text.replace("></", ">\n</"));
        let e = root.load(MpmKind::Event).expect_err("100,000 nested sections must be refused");
        assert_located(&root.0, &e);
        assert!(e.message().contains("nested"), "{e}");
    }
}

#[test]
fn include_cycle_names_the_chain() {
    let root = Root::new();
    root.write("httpd.conf", "Include a.conf\n");
    root.write("a.conf", "Define A\nInclude b.conf\n");
    root.write("b.conf", "Include a.conf\n");
    let e = root.load(MpmKind::Event).expect_err("an include cycle must be refused");
    assert_located(&root.0, &e);
}

#[test]
fn include_of_a_directory_with_a_symlink_loop_ends() {
    let root = Root::new();
    root.write("conf.d/a.conf", "Define A\n");
    std::os::unix::fs::symlink(root.0.join("conf.d"), root.0.join("conf.d/loop")).unwrap();
    root.write("httpd.conf", "Include conf.d\n");
    let e = root.load(MpmKind::Event).expect_err("a directory that contains itself must be refused");
    assert_located(&root.0, &e);
    assert!(e.message().contains("Too many symbolic links"), "{e}");
}

#[test]
fn wildcard_include_of_thousands_of_files() {
    let root = Root::new();
    for i in 0..3000 {
        root.write(&format!("conf.d/{i:05}.conf"), format!("Define N{i}\n"));
    }
    root.write("httpd.conf", "Include conf.d/*.conf\n");
    let config = root.load(MpmKind::Event).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.includes.len(), 3001);
    assert!(config.defines.iter().any(|d| d.name == "N2999"));
}

#[test]
fn a_line_over_the_limit_names_the_file_and_line() {
    let root = Root::new();
    let huge = "x".repeat(17 * 1024 * 1024);
    root.write("httpd.conf", format!("Define A\nServerName {huge}\n"));
    let e = root.load(MpmKind::Event).expect_err("a 17 MiB line must be refused");
    assert_located(&root.0, &e);
    assert_eq!(e.location().unwrap().line, 2, "{}", e.message());
}

#[test]
fn a_huge_line_of_many_words_is_handled() {
    let root = Root::new();
    let words = "index.html ".repeat(1024 * 1024);
    root.write("httpd.conf", format!("DirectoryIndex {words}\n"));
    let config = root.load(MpmKind::Event).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.settings.directory_index.len(), 1024 * 1024);
}

#[test]
fn an_unterminated_quote_is_refused() {
    let root = Root::new();
    root.write("httpd.conf", "Define A\nServerAdmin \"admin@example.com\n");
    let e = root.load(MpmKind::Event).expect_err("an unterminated quote must be refused");
    assert_located(&root.0, &e);
    assert_eq!(e.location().unwrap().line, 2);
    assert!(e.message().contains("quote"), "{e}");
}

#[test]
fn a_non_number_timeout_is_refused() {
    let root = Root::new();
    root.write("httpd.conf", "Timeout thirty\n");
    let e = root.load(MpmKind::Event).expect_err("Timeout thirty must be refused");
    assert_located(&root.0, &e);
}
