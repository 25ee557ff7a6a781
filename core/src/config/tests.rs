//! The configuration pipeline end to end: files on disk in, settings or an
//! error (asserted whole, with its file and line) out.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

/// A throwaway ServerRoot, removed on drop.
pub(super) struct Root(pub(super) PathBuf);

impl Root {
    pub(super) fn new() -> Root {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "httpd-core-config-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(dir.join("htdocs")).unwrap();
        Root(dir)
    }

    pub(super) fn write(&self, rel: &str, text: &str) -> &Self {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    pub(super) fn path(&self, rel: &str) -> String {
        self.0.join(rel).display().to_string()
    }

    fn options(&self, mpm: MpmKind) -> LoadOptions {
        LoadOptions::new(mpm, &self.0, Source::File(PathBuf::from("httpd.conf")))
    }

    pub(super) fn load(&self, mpm: MpmKind) -> Result<Config, ConfigError> {
        Config::load(&self.options(mpm))
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Loads `conf` as httpd.conf for the event MPM.
fn load(conf: &str) -> Config {
    let root = Root::new();
    root.write("httpd.conf", conf);
    match root.load(MpmKind::Event) {
        Ok(c) => c,
        Err(e) => panic!("config failed:\n{}", e.render("event-server")),
    }
}

/// Loads `conf` for `mpm` and returns the error as the binary prints it, with
/// the temporary ServerRoot replaced by `ROOT`.
fn error_for(mpm: MpmKind, conf: &str, extra: &[(&str, &str)]) -> String {
    let root = Root::new();
    root.write("httpd.conf", conf);
    for (rel, text) in extra {
        root.write(rel, text);
    }
    match root.load(mpm) {
        Ok(_) => panic!("expected an error for:\n{conf}"),
        Err(e) => e.render(mpm.binary()).replace(&root.0.display().to_string(), "ROOT"),
    }
}

pub(super) fn error(conf: &str) -> String {
    error_for(MpmKind::Event, conf, &[])
}

fn check_error(conf: &str, expected: &str) {
    let got = error(conf);
    assert_eq!(got, expected, "\n--- expected\n{expected}\n--- got\n{got}\n");
}

// ---- syntax -------------------------------------------------------------

#[test]
fn names_are_case_insensitive() {
    let c = load(
        "kEePaLiVe Off\n<ifmodule EVENT.C>\nTimeout 7\n</IFMODULE>\n<ifmodule event.c>\nTimeout 9\n</ifmodule>\n",
    );
    assert!(!c.settings.keep_alive);
    // Module names are not case-insensitive (httpd compares them exactly).
    assert_eq!(c.settings.timeout, 9_000);
}

#[test]
fn continuation_quotes_and_comments() {
    let c = load(
        "# a comment\n  # an indented comment\nLogFormat \"%h \\\"%r\\\" %>s\" \\\n    quoted\n\nServerAdmin 'web master@example.com'\n",
    );
    assert_eq!(c.settings.log_format["quoted"], "%h \"%r\" %>s");
    assert_eq!(c.settings.server_admin.as_deref(), Some("web master@example.com"));
}

#[test]
fn if_module_by_id_by_source_and_negated() {
    let c = load(
        "<IfModule mpm_event_module>\nListen 1001\n</IfModule>\n\
         <IfModule event.c>\nListen 1002\n</IfModule>\n\
         <IfModule !prefork.c>\nListen 1003\n</IfModule>\n\
         <IfModule so_module>\nListen 1004\nLoadModule foo_module modules/mod_foo.so\n</IfModule>\n\
         <IfModule mod_so.c>\nListen 1005\n</IfModule>\n\
         <IfModule mpm_worker_module>\nThreadsPerChild 1\n</IfModule>\n",
    );
    let ports: Vec<u16> = c.settings.listen.iter().map(|l| l.port).collect();
    assert_eq!(ports, [1001, 1002, 1003]);
}

#[test]
fn false_conditional_skips_nested_sections_and_unknown_directives() {
    let c = load(
        "<IfModule nothing_module>\n  <Directory /x>\n    Bogus directive\n  </Directory>\n  <IfDefine X>\n  </IfDefine>\n</IfModule>\nTimeout 3\n",
    );
    assert_eq!(c.settings.timeout, 3_000);
}

#[test]
fn if_define_from_command_line_and_define() {
    let root = Root::new();
    root.write(
        "httpd.conf",
        "<IfDefine FROM_CLI>\nListen 2001\n</IfDefine>\nDefine LATER\n<IfDefine LATER>\nListen 2002\n</IfDefine>\n\
         <IfDefine !MISSING>\nListen 2003\n</IfDefine>\nUnDefine LATER\n<IfDefine LATER>\nListen 2004\n</IfDefine>\n",
    );
    let mut options = root.options(MpmKind::Worker);
    options.defines = vec!["FROM_CLI".into()];
    let c = Config::load(&options).unwrap();
    let ports: Vec<u16> = c.settings.listen.iter().map(|l| l.port).collect();
    assert_eq!(ports, [2001, 2002, 2003]);
    assert!(c.is_defined("FROM_CLI"));
    assert!(!c.is_defined("LATER"));
}

#[test]
fn variables_from_define_then_environment() {
    let root = Root::new();
    root.write(
        "httpd.conf",
        "Define PORT 3001\nListen ${PORT}\nListen \"127.0.0.1:${FROM_ENV}\"\nServerAdmin ${NOT_DEFINED}\nErrorLog \"|${a:b}\"\n",
    );
    let mut options = root.options(MpmKind::Event);
    options.env = vec![("FROM_ENV".into(), "3002".into()), ("PORT".into(), "9".into())];
    let c = Config::load(&options).unwrap();
    let ports: Vec<u16> = c.settings.listen.iter().map(|l| l.port).collect();
    assert_eq!(ports, [3001, 3002]);
    // Undefined names stay as written, with httpd's warning; names with ':'
    // are left alone silently.
    assert_eq!(c.settings.server_admin.as_deref(), Some("${NOT_DEFINED}"));
    assert_eq!(c.settings.error_log, "|${a:b}");
    assert_eq!(c.warnings, ["AH00111: Config variable ${NOT_DEFINED} is not defined"]);
}

#[test]
fn include_wildcards_directories_and_optional() {
    let root = Root::new();
    root.write(
        "httpd.conf",
        "Include conf.d/*.conf\nInclude sites\nIncludeOptional missing/*.conf\nIncludeOptional nofile.conf\n",
    )
    .write("conf.d/b.conf", "Listen 4002\n")
    .write("conf.d/a.conf", "Listen 4001\n")
    .write("conf.d/.hidden.conf", "Listen 4999\n")
    .write("conf.d/c.txt", "Listen 4998\n")
    .write("sites/x/one", "Listen 4003\n");
    let c = root.load(MpmKind::Event).unwrap();
    let ports: Vec<u16> = c.settings.listen.iter().map(|l| l.port).collect();
    assert_eq!(ports, [4001, 4002, 4003]);
    let tree: Vec<(usize, usize, String)> =
        c.includes.iter().map(|f| (f.depth, f.line, f.path.replace(&root.path(""), ""))).collect();
    assert_eq!(
        tree,
        [
            (0, 0, "httpd.conf".into()),
            (1, 1, "conf.d/a.conf".into()),
            (1, 1, "conf.d/b.conf".into()),
            (1, 2, "sites/x/one".into()),
        ]
    );
}

#[test]
fn server_root_relative_paths() {
    let root = Root::new();
    std::fs::create_dir_all(root.0.join("other/htdocs")).unwrap();
    root.write(
        "httpd.conf",
        &format!(
            "PidFile run/x.pid\nCustomLog logs/access common\nErrorLog \"|/bin/cat\"\nServerRoot {}\n",
            root.path("other")
        ),
    );
    let c = root.load(MpmKind::Prefork).unwrap();
    // The last ServerRoot applies to every relative path of the settings.
    assert_eq!(c.settings.server_root, PathBuf::from(root.path("other")).canonicalize().unwrap());
    assert!(c.settings.pid_file.ends_with("other/run/x.pid"));
    assert!(c.settings.document_root.ends_with("other/htdocs"));
    assert!(c.settings.custom_log[0].target.ends_with("other/logs/access"));
    assert_eq!(c.settings.error_log, "|/bin/cat");
}

#[test]
fn sections_are_kept_with_their_contents() {
    let c = load(
        "<Directory \"/srv/www\">\n  Options Indexes\n  Require all granted\n</Directory>\n\
         <Location /server-status>\n  SetHandler server-status\n  Require local\n</Location>\n\
         <Files \".ht*\">\n  Require all denied\n</Files>\n\
         <VirtualHost *:80 [::1]:80>\n  ServerName www.example.com\n  <Location />\n  </Location>\n</VirtualHost>\n",
    );
    let names: Vec<&str> = c.sections.iter().map(|n| n.bare_name()).collect();
    assert_eq!(names, ["Directory", "Location", "Files", "VirtualHost"]);
    assert_eq!(c.sections[0].args, ["/srv/www"]);
    assert_eq!(c.sections[0].children[1].args, ["all", "granted"]);
    assert_eq!(c.sections[1].children[0].at.line, 6);
    assert_eq!(c.sections[3].args, ["*:80", "[::1]:80"]);
    assert_eq!(c.sections[3].children[1].name, "<Location");
    // Section contents do not leak into the main server's settings.
    assert_eq!(c.settings.set_handler, None);
}

#[test]
fn repeated_lines_replace_or_add_up() {
    let c = load(
        "Timeout 10\nTimeout 20\nListen 1\nListen 2\nDirectoryIndex a.html\nDirectoryIndex b.html\n\
         AddType text/x-a .a\nAddType text/x-b b A2\nOptions Indexes\nOptions None\n",
    );
    assert_eq!(c.settings.timeout, 20_000);
    assert_eq!(c.settings.listen.len(), 2);
    assert_eq!(c.settings.directory_index, ["a.html", "b.html"]);
    assert_eq!(c.settings.add_type["b"], "text/x-b");
    assert_eq!(c.settings.add_type["a2"], "text/x-b");
    assert_eq!(c.settings.add_type["a"], "text/x-a");
    assert_eq!(c.settings.options, ["None"]);
    let c = load("DirectoryIndex a.html\nDirectoryIndex disabled\nDirectoryIndex c.html\n");
    assert_eq!(c.settings.directory_index, ["c.html"]);
    assert_eq!(load("").settings.directory_index, ["index.html"]);
}

#[test]
fn defaults_are_httpds() {
    let c = load("");
    let s = &c.settings;
    assert_eq!((s.timeout, s.keep_alive_timeout, s.max_keep_alive_requests), (60_000, 5_000, 100));
    assert_eq!((s.limit_request_line, s.limit_request_field_size, s.limit_request_fields), (8190, 8190, 100));
    assert_eq!(s.limit_request_body, 1 << 30);
    assert_eq!((s.listen_backlog, s.max_connections_per_child), (511, 0));
    assert!(s.keep_alive && s.extended_status && s.enable_mmap && !s.enable_sendfile);
    assert_eq!(s.log_level[""], "warn");
    assert_eq!(s.server_tokens, ServerTokens::Full);
    assert_eq!(c.provenance("Timeout"), None);
}

#[test]
fn typed_values() {
    let c = load(
        "KeepAliveTimeout 250ms\nServerTokens prod\nServerSignature EMail\nLogLevel info ssl:warn\n\
         ErrorDocument 404 /missing.html\nUseCanonicalName DNS\nHostnameLookups double\nListen [::1]:443\n",
    );
    let s = &c.settings;
    assert_eq!(s.keep_alive_timeout, 250);
    assert_eq!(s.server_tokens, ServerTokens::Prod);
    assert_eq!(s.server_signature, ServerSignature::Email);
    assert_eq!(s.log_level["ssl"], "warn");
    assert_eq!(s.log_level[""], "info");
    assert_eq!(s.error_document["404"], "/missing.html");
    assert_eq!(s.use_canonical_name, UseCanonicalName::Dns);
    assert_eq!(s.hostname_lookups, HostnameLookups::Double);
    assert_eq!(s.listen[0], ListenSpec { host: "::1".into(), port: 443, protocol: "https".into() });
}

#[test]
fn embedded_configuration_loads_for_every_mpm() {
    for mpm in MpmKind::ALL {
        let options = LoadOptions::new(mpm, "/nonexistent-root", Source::Embedded);
        let c = Config::load(&options).unwrap_or_else(|e| panic!("{}", e.render(mpm.binary())));
        assert_eq!(c.settings.listen[0].port, 8080);
        assert_eq!(c.main_file(), EMBEDDED_NAME);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }
}

// ---- layering -----------------------------------------------------------

#[test]
fn layers_files_then_environment_then_command_line() {
    let root = Root::new();
    root.write("httpd.conf", "Timeout 10\nKeepAliveTimeout 10\nMaxKeepAliveRequests 10\nListen 8001\n");
    let mut options = root.options(MpmKind::Event);
    options.env = vec![
        ("HTTPD_KEEP_ALIVE_TIMEOUT".into(), "20".into()),
        ("HTTPD_MaxKeepAliveRequests".into(), "20".into()),
        ("HTTPD_LISTEN".into(), "127.0.0.1:8002".into()),
        ("HTTPD_NOT_A_DIRECTIVE".into(), "x".into()),
        ("UNRELATED".into(), "y".into()),
    ];
    options.pre_commands = vec!["MaxKeepAliveRequests 30".into(), "Listen 8003".into()];
    options.post_commands = vec!["MaxKeepAliveRequests 40".into()];
    let c = Config::load(&options).unwrap();
    assert_eq!(c.settings.timeout, 10_000);
    assert_eq!(c.settings.keep_alive_timeout, 20_000);
    assert_eq!(c.settings.max_keep_alive_requests, 40);
    // A variable replaces the files' list; -C adds to it, as httpd's -C does.
    let ports: Vec<u16> = c.settings.listen.iter().map(|l| l.port).collect();
    assert_eq!(ports, [8002, 8003]);
    let at = |d: &str| c.provenance(d).map(|p| p.replace(&root.path(""), ""));
    assert_eq!(at("Timeout").as_deref(), Some("httpd.conf:1"));
    assert_eq!(at("KeepAliveTimeout").as_deref(), Some("environment variable HTTPD_KEEP_ALIVE_TIMEOUT"));
    assert_eq!(at("MaxKeepAliveRequests").as_deref(), Some("-c/-C directives:1 (-c)"));
    assert_eq!(
        c.warnings,
        ["environment variable HTTPD_NOT_A_DIRECTIVE names no directive of event-server; ignored"]
    );
}

#[test]
// figment::Jail's closure must return figment::Error, which is large.
#[allow(clippy::result_large_err)]
fn environment_through_figment_jail() {
    figment::Jail::expect_with(|jail| {
        jail.set_env("HTTPD_THREADSPERCHILD", "10");
        jail.set_env("HTTPD_KeepAlive", "Off");
        let root = Root::new();
        root.write("httpd.conf", "ThreadsPerChild 30\n");
        let mut options = root.options(MpmKind::Worker);
        options.env = std::env::vars().collect();
        let c = Config::load(&options).map_err(|e| e.to_string())?;
        assert_eq!(c.settings.threads_per_child, Some(10));
        assert!(!c.settings.keep_alive);
        Ok(())
    });
}

#[test]
fn command_line_directives_are_read_before_and_after_the_files() {
    let root = Root::new();
    root.write("httpd.conf", "<IfDefine EARLY>\nListen 9001\n</IfDefine>\nDefine LATE\n");
    let mut options = root.options(MpmKind::Event);
    options.pre_commands = vec!["Define EARLY".into()];
    options.post_commands = vec!["<IfDefine LATE>".into(), "Listen 9002".into(), "</IfDefine>".into()];
    let c = Config::load(&options).unwrap();
    let ports: Vec<u16> = c.settings.listen.iter().map(|l| l.port).collect();
    assert_eq!(ports, [9001, 9002]);
}

// ---- errors -------------------------------------------------------------

#[test]
fn unknown_directive() {
    check_error(
        "Listen 80\n\nFoo bar\n",
        "AH00526: Syntax error on line 3 of ROOT/httpd.conf:\nInvalid command 'Foo', perhaps misspelled or \
         defined by a module not included in the server configuration",
    );
}

#[test]
fn another_mpms_directive_names_its_binary() {
    let got = error_for(MpmKind::Prefork, "ThreadsPerChild 10\n", &[]);
    assert_eq!(
        got,
        "AH00526: Syntax error on line 1 of ROOT/httpd.conf:\nInvalid command 'ThreadsPerChild', perhaps \
         misspelled or defined by a module not included in the server configuration (ThreadsPerChild \
         belongs to another MPM, provided by worker-server and event-server; this server embeds the \
         prefork MPM: put it inside <IfModule mpm_worker_module> or remove it)"
    );
}

#[test]
fn wrong_argument_counts() {
    check_error(
        "Timeout 1 2\n",
        "AH00526: Syntax error on line 1 of ROOT/httpd.conf:\nTimeout takes one argument, Timeout duration (sec)",
    );
    check_error(
        "KeepAlive sometimes\n",
        "AH00526: Syntax error on line 1 of ROOT/httpd.conf:\nKeepAlive must be On or Off",
    );
    check_error(
        "\nServerAdmin x@y # c\n",
        "AH00526: Syntax error on line 2 of ROOT/httpd.conf:\nServerAdmin takes one argument, The email \
         address of the server administrator",
    );
    check_error(
        "AddType text/plain\n",
        "AH00526: Syntax error on line 1 of ROOT/httpd.conf:\nAddType requires at least two arguments, a \
         mime type followed by one or more file extensions",
    );
}

#[test]
fn bad_arguments() {
    let cases = [
        ("Timeout soon\n", "Timeout has wrong format"),
        ("LimitRequestLine -1\n", "LimitRequestLine \"-1\" must be a non-negative integer"),
        ("LimitRequestBody big\n", "LimitRequestBody argument is not parsable."),
        ("ListenBacklog 0\n", "ListenBacklog must be > 0"),
        ("Listen 127.0.0.1\n", "Port must be specified"),
        ("ServerSignature loud\n", "ServerSignature: use one of: off | on | email"),
        ("AsyncRequestWorkerFactor -1\n", "AsyncRequestWorkerFactor argument must be a positive number"),
        ("AsyncRequestWorkerFactor two\n", "error parsing value"),
        ("ThreadsPerChild many\n", "ThreadsPerChild takes a whole number, not 'many'"),
        ("User no-such-user-anywhere\n", "bad user name no-such-user-anywhere"),
        ("<Directory />\nOptions +Sparkles\n</Directory>\n", "Illegal option Sparkles"),
    ];
    for (conf, message) in cases {
        let line = if conf.starts_with('<') { 2 } else { 1 };
        check_error(conf, &format!("AH00526: Syntax error on line {line} of ROOT/httpd.conf:\n{message}"));
    }
}

#[test]
fn duplicate_listeners() {
    check_error(
        "Listen 127.0.0.1:80\nListen 127.0.0.1:80\n",
        "AH00526: Syntax error on line 2 of ROOT/httpd.conf:\nCannot define multiple Listeners on the same IP:port",
    );
}

#[test]
fn directives_in_the_wrong_context() {
    check_error(
        "<VirtualHost *:80>\n  StartServers 2\n</VirtualHost>\n",
        "AH00526: Syntax error on line 2 of ROOT/httpd.conf:\nStartServers cannot occur within <VirtualHost> section",
    );
    check_error(
        "<Directory />\n  Listen 80\n</Directory>\n",
        "AH00526: Syntax error on line 2 of ROOT/httpd.conf:\nListen not allowed here",
    );
    check_error(
        "Require all granted\n",
        "AH00526: Syntax error on line 1 of ROOT/httpd.conf:\nRequire not allowed here",
    );
    check_error(
        "<VirtualHost *:80>\n<VirtualHost *:81>\n</VirtualHost>\n</VirtualHost>\n",
        "AH00526: Syntax error on line 2 of ROOT/httpd.conf:\n<VirtualHost cannot occur within <VirtualHost> section",
    );
}

#[test]
fn load_module_of_another_mpm_names_its_binary() {
    check_error(
        "LoadModule mpm_worker_module modules/mod_mpm_worker.so\n",
        "event-server: Syntax error on line 1 of ROOT/httpd.conf: More than one MPM loaded: this server \
         embeds the event MPM; mpm_worker_module is provided by worker-server",
    );
    // The embedded MPM and the other compiled-in modules are accepted.
    let c = load("LoadModule mpm_event_module modules/mod_mpm_event.so\nLoadModule status_module x.so\n");
    assert!(c.warnings.is_empty());
    let c = load("LoadModule mime_module x.so\nLoadModule mime_module x.so\n");
    assert_eq!(c.warnings, ["module mime_module is already loaded, skipping"]);
    check_error(
        "LoadModule rewrite_module modules/mod_rewrite.so\n",
        "event-server: Syntax error on line 1 of ROOT/httpd.conf: Cannot load modules/mod_rewrite.so into \
         server: rewrite_module is not compiled into event-server, which loads no dynamic modules",
    );
}

#[test]
fn container_structure() {
    check_error(
        "</Directory>\n",
        "event-server: Syntax error on line 1 of ROOT/httpd.conf: </Directory> without matching <Directory> section",
    );
    check_error(
        "<Directory />\n</Location>\n",
        "event-server: Syntax error on line 2 of ROOT/httpd.conf: Expected </Directory> but saw </Location>",
    );
    check_error(
        "Listen 80\n<Directory />\nOptions None\n",
        "event-server: Syntax error on line 2 of ROOT/httpd.conf: <Directory> was not closed.",
    );
    // httpd 2.4 silently accepts this one; we do not.
    check_error(
        "<IfModule event.c>\nListen 80\n",
        "event-server: Syntax error on line 1 of ROOT/httpd.conf: <IfModule> was not closed.",
    );
    check_error(
        "<IfModule nothing.c>\n<Directory />\n</Files>\n</IfModule>\n",
        "event-server: Syntax error on line 1 of ROOT/httpd.conf: Expected </Directory> but saw </Files>",
    );
    check_error(
        "<Directory /\n</Directory>\n",
        "event-server: Syntax error on line 1 of ROOT/httpd.conf: <Directory> directive missing closing '>'",
    );
    check_error(
        "<IfModule>\n</IfModule>\n",
        "event-server: Syntax error on line 1 of ROOT/httpd.conf: <IfModule> directive requires additional arguments",
    );
}

#[test]
fn define_with_colon() {
    check_error(
        "Define a:b\n",
        "event-server: Syntax error on line 1 of ROOT/httpd.conf: Variable name must not contain ':'",
    );
}

#[test]
fn missing_include_and_wildcard_without_match() {
    check_error(
        "\nInclude extra/nothere.conf\n",
        "event-server: Syntax error on line 2 of ROOT/httpd.conf: Could not open configuration file \
         ROOT/extra/nothere.conf: No such file or directory",
    );
    check_error(
        "Include nodir/*.conf\n",
        "event-server: Syntax error on line 1 of ROOT/httpd.conf: Include/IncludeOptional: Could not open \
         directory ROOT/nodir: No such file or directory",
    );
    let got = error_for(MpmKind::Event, "Include extra/*.conf\n", &[("extra/readme.txt", "")]);
    assert_eq!(
        got,
        "event-server: Syntax error on line 1 of ROOT/httpd.conf: Include/IncludeOptional: No matches for \
         the wildcard '*.conf' in 'ROOT/extra', failing"
    );
    check_error(
        "IncludeOptional nodir/*.conf\nInclude extra/*.conf\n",
        "event-server: Syntax error on line 2 of ROOT/httpd.conf: Include/IncludeOptional: Could not open \
         directory ROOT/extra: No such file or directory",
    );
}

#[test]
fn errors_inside_includes_are_nested() {
    let got =
        error_for(MpmKind::Event, "Listen 80\nInclude extra.conf\n", &[("extra.conf", "\n<Directory />\n")]);
    assert_eq!(
        got,
        "event-server: Syntax error on line 2 of ROOT/httpd.conf: Syntax error on line 2 of \
         ROOT/extra.conf: <Directory> was not closed."
    );
    // A directive error names the file it is in.
    let got = error_for(MpmKind::Event, "Include extra.conf\n", &[("extra.conf", "Timeout 1 2\n")]);
    assert_eq!(
        got,
        "AH00526: Syntax error on line 1 of ROOT/extra.conf:\nTimeout takes one argument, Timeout duration (sec)"
    );
}

#[test]
fn include_cycles_are_detected() {
    let got = error_for(
        MpmKind::Event,
        "Include a.conf\n",
        &[("a.conf", "Include b.conf\n"), ("b.conf", "Include a.conf\n")],
    );
    assert_eq!(
        got,
        "event-server: Syntax error on line 1 of ROOT/httpd.conf: Syntax error on line 1 of ROOT/a.conf: \
         Syntax error on line 1 of ROOT/b.conf: Include cycle: ROOT/a.conf includes ROOT/b.conf includes \
         ROOT/a.conf"
    );
    let got = error_for(MpmKind::Event, "Include httpd.conf\n", &[]);
    assert!(got.ends_with("Include cycle: ROOT/httpd.conf includes ROOT/httpd.conf"), "{got}");
}

#[test]
fn document_root_must_exist() {
    check_error(
        "DocumentRoot /nonexistent/docs\n",
        "AH00526: Syntax error on line 1 of ROOT/httpd.conf:\nDocumentRoot '/nonexistent/docs' is not a \
         directory, or is not readable",
    );
    let root = Root::new();
    root.write("httpd.conf", "DocumentRoot /nonexistent/docs\n");
    let mut options = root.options(MpmKind::Event);
    options.check_document_root = false;
    assert!(Config::load(&options).is_ok(), "-T skips the check");
}

#[test]
fn command_line_errors_name_the_pseudo_file() {
    let root = Root::new();
    root.write("httpd.conf", "");
    let mut options = root.options(MpmKind::Event);
    options.post_commands = vec!["Listen 80".into(), "Timeout x".into()];
    let e = Config::load(&options).unwrap_err();
    assert_eq!(
        e.render("event-server"),
        "AH00526: Syntax error on line 2 of -c/-C directives:\nTimeout has wrong format"
    );
}

#[test]
fn environment_errors_name_the_variable() {
    let root = Root::new();
    root.write("httpd.conf", "");
    let mut options = root.options(MpmKind::Event);
    options.env = vec![("HTTPD_TIMEOUT".into(), "soon".into())];
    let e = Config::load(&options).unwrap_err();
    assert_eq!(
        e.render("event-server"),
        "event-server: Syntax error in environment variable HTTPD_TIMEOUT: Timeout has wrong format"
    );
}

#[test]
fn missing_main_file() {
    let root = Root::new();
    let e = root.load(MpmKind::Event).unwrap_err();
    assert_eq!(
        e.render("event-server"),
        format!(
            "event-server: Could not open configuration file {}: No such file or directory",
            root.path("httpd.conf")
        )
    );
}

#[test]
fn hostile_input_never_panics() {
    let samples = [
        "<",
        "<>",
        "</>",
        "<\n",
        "\\",
        "\"",
        "'",
        "${",
        "${}",
        "${${X}}",
        "<IfModule !>\n</IfModule>",
        "<Directory \"unterminated>\n</Directory>",
        "Listen [",
        "Listen [::1",
        "Listen :",
        "Listen 99999999999",
        "ErrorDocument 99999999999 x",
        "LogLevel :",
        "Define",
        "Include",
        "<IfDefine a b>\n</IfDefine>",
        "\u{0}\u{1}",
        "Listen \u{202e}80",
        "KeepAliveTimeout 99999999999999999999h",
    ];
    for conf in samples {
        let root = Root::new();
        root.write("httpd.conf", conf);
        let _ = root.load(MpmKind::Event);
    }
}

#[test]
fn a_path_helper_joins_relative_paths() {
    assert_eq!(server_root_relative(Path::new("/r"), Path::new("a")), PathBuf::from("/r/a"));
    assert_eq!(server_root_relative(Path::new("/r"), Path::new("/a")), PathBuf::from("/a"));
}
