//! Where a directive's value comes from: httpd.conf (and its Includes), then
//! `HTTPD_*` environment variables above it, then `-C`/`-c` above both. `-D
//! DUMP_MPM` shows each MPM value with its source; `-D DUMP_INCLUDES` lists
//! the files read.

use integration_tests::{
    SYNTAX_OK, Server, TempDir, assert_has_line, assert_text, each_server, line_starting, shared_conf_dir,
};

/// The directive each test varies: ThreadsPerChild where it exists,
/// MaxRequestWorkers for prefork.
fn sized(server: Server) -> &'static str {
    if server.is_threaded() { "ThreadsPerChild" } else { "MaxRequestWorkers" }
}

/// A `-D DUMP_MPM` line: the label padded to 26 columns, the value, the note.
fn dump_line(directive: &str, value: impl std::fmt::Display, note: &str) -> String {
    format!("  {:<26}{value}{note}", format!("{directive}:"))
}

/// The line number of `directive` inside the `<IfModule mpm_*_module>` block
/// of `server` in shared-conf's httpd.conf.
fn shared_conf_line(server: Server, directive: &str) -> usize {
    let open = format!("<IfModule {}>", server.module_id());
    let mut inside = false;
    for (i, line) in shared_conf::HTTPD_CONF.lines().enumerate() {
        let line = line.trim();
        if line == open {
            inside = true;
        } else if inside && line.eq_ignore_ascii_case("</IfModule>") {
            break;
        } else if inside && line.split_whitespace().next() == Some(directive) {
            return i + 1;
        }
    }
    panic!("no {directive} in {open} of shared-conf's httpd.conf");
}

fn shared_conf_note(server: Server, directive: &str) -> String {
    let file = shared_conf_dir().join("httpd.conf");
    format!("  (set at {}:{})", file.display(), shared_conf_line(server, directive))
}

/// `-D DUMP_MPM` on shared-conf with `args` and `env`.
fn dump_mpm(server: Server, args: &[&str], env: &[(&str, &str)]) -> integration_tests::Output {
    let mut all = vec!["-t", "-D", "DUMP_MPM"];
    all.extend(args);
    let out = server.run_in(shared_conf_dir(), &all, env);
    out.assert_code(0);
    assert_text(
        &format!("Server MPM: {} ({})", server.mpm(), server.source()),
        out.stdout.lines().next().unwrap_or(""),
    );
    out
}

/// What worker and event print on stderr when ThreadsPerChild `tpc` leaves
/// the default MaxRequestWorkers of 400 needing more than 16 children.
fn server_limit_warning(tpc: u32) -> String {
    format!(
        "WARNING: MaxRequestWorkers of 400 would require {} servers and would exceed ServerLimit of 16, \
         decreasing to {}. To increase, please see the ServerLimit directive.\n",
        400 / tpc,
        16 * tpc
    )
}

/// stderr after `-D DUMP_MPM` with `sized(server)` set to `value` (10 or 20).
fn expected_stderr(server: Server, value: u32) -> String {
    if server.is_threaded() { server_limit_warning(value) } else { String::new() }
}

each_server!(dump_mpm_defaults_come_from_shared_conf, |server| {
    let out = dump_mpm(server, &[], &[]);
    assert_text("", &out.stderr);
    let directive = sized(server);
    let value = if server.is_threaded() { 25 } else { 256 };
    let expected = dump_line(directive, value, &shared_conf_note(server, directive));
    assert_text(&expected, line_starting(&out.stdout, &format!("  {directive}:")));
    let start = if server.is_threaded() { 3 } else { 5 };
    let note = format!("{}; children at start", shared_conf_note(server, "StartServers"));
    assert_text(&dump_line("StartServers", start, &note), line_starting(&out.stdout, "  StartServers:"));
    // Not set anywhere: the built-in default.
    assert_text(
        &dump_line("MaxConnectionsPerChild", "0 (unlimited)", "  (default)"),
        line_starting(&out.stdout, "  MaxConnectionsPerChild:"),
    );
});

each_server!(dump_mpm_command_line_directive_overrides_httpd_conf, |server| {
    let directive = sized(server);
    for flag in ["-C", "-c"] {
        let out = dump_mpm(server, &[flag, &format!("{directive} 10")], &[]);
        assert_text(&expected_stderr(server, 10), &out.stderr);
        let expected = dump_line(directive, 10, &format!("  (set at -c/-C directives:1 ({flag}))"));
        assert_text(&expected, line_starting(&out.stdout, &format!("  {directive}:")));
    }
});

each_server!(dump_mpm_environment_overrides_httpd_conf, |server| {
    let directive = sized(server);
    let variable = format!("HTTPD_{}", directive.to_ascii_uppercase());
    let out = dump_mpm(server, &[], &[(&variable, "20")]);
    assert_text(&expected_stderr(server, 20), &out.stderr);
    let expected = dump_line(directive, 20, &format!("  (set at environment variable {variable})"));
    assert_text(&expected, line_starting(&out.stdout, &format!("  {directive}:")));
});

each_server!(dump_mpm_command_line_beats_environment, |server| {
    let directive = sized(server);
    let variable = format!("HTTPD_{}", directive.to_ascii_uppercase());
    let out = dump_mpm(server, &["-C", &format!("{directive} 10")], &[(&variable, "20")]);
    assert_text(&expected_stderr(server, 10), &out.stderr);
    let expected = dump_line(directive, 10, "  (set at -c/-C directives:1 (-C))");
    assert_text(&expected, line_starting(&out.stdout, &format!("  {directive}:")));
});

each_server!(environment_variable_names_in_any_spelling, |server| {
    // Upper case with underscores between words, or the directive's own
    // spelling; the dump names the variable as given.
    for variable in ["HTTPD_MAX_REQUEST_WORKERS", "HTTPD_MaxRequestWorkers"] {
        let out = dump_mpm(server, &[], &[(variable, "100")]);
        assert_text("", &out.stderr);
        let expected =
            dump_line("MaxRequestWorkers", 100, &format!("  (set at environment variable {variable})"));
        assert_text(&expected, line_starting(&out.stdout, "  MaxRequestWorkers:"));
        let children = if server.is_threaded() { 4 } else { 100 };
        assert_text(
            &dump_line("children at most", children, ""),
            line_starting(&out.stdout, "  children at most:"),
        );
    }
});

each_server!(threads_per_child_30_rounds_max_request_workers, |server| {
    let out = server.run_in(shared_conf_dir(), &["-D", "DUMP_MPM", "-C", "ThreadsPerChild 30"], &[]);
    if server.is_threaded() {
        out.assert_code(0);
        assert_text(
            "WARNING: MaxRequestWorkers of 400 is not an integer multiple of ThreadsPerChild of 30, \
             decreasing to nearest multiple 390, for a maximum of 13 servers.\n",
            &out.stderr,
        );
        let note = shared_conf_note(server, "MaxRequestWorkers");
        assert_text(
            &dump_line("MaxRequestWorkers", 390, &note),
            line_starting(&out.stdout, "  MaxRequestWorkers:"),
        );
        assert_has_line(&out.stdout, &dump_line("children at most", 13, ""));
    } else {
        out.assert(
            1,
            "",
            "AH00526: Syntax error on line 1 of -c/-C directives:\n\
             Invalid command 'ThreadsPerChild', perhaps misspelled or defined by a module not included \
             in the server configuration (ThreadsPerChild belongs to another MPM, provided by \
             worker-server and event-server; this server embeds the prefork MPM: put it inside \
             <IfModule mpm_worker_module> or remove it)\n",
        );
    }
});

each_server!(invalid_environment_value_names_the_variable, |server| {
    let out = server.run_in(shared_conf_dir(), &["-t"], &[("HTTPD_TIMEOUT", "soon")]);
    out.assert(
        1,
        "",
        &format!(
            "{}: Syntax error in environment variable HTTPD_TIMEOUT: Timeout has wrong format\n",
            server.binary_name()
        ),
    );
});

each_server!(unknown_environment_directive_is_ignored_with_a_warning, |server| {
    let out = server.run_in(shared_conf_dir(), &["-t"], &[("HTTPD_FOO", "1")]);
    out.assert(
        0,
        "",
        &format!(
            "environment variable HTTPD_FOO names no directive of {}; ignored\n{SYNTAX_OK}",
            server.binary_name()
        ),
    );
});

/// A ServerRoot whose httpd.conf includes `conf.d/*.conf` on line 3; a.conf
/// includes `sub/c.conf` on its line 2. The files are written out of order.
fn include_tree() -> TempDir {
    let root = TempDir::server_root("ServerName localhost\n\nInclude conf.d/*.conf\nDocumentRoot htdocs\n");
    root.write("conf.d/b.conf", "KeepAlive On\n");
    root.write("conf.d/a.conf", "Timeout 5\nInclude sub/c.conf\n");
    root.write("sub/c.conf", "KeepAliveTimeout 3\n");
    root
}

fn include_dump(root: &TempDir) -> String {
    format!(
        "Included configuration files:\n  (*) {}\n    (3) {}\n      (2) {}\n    (3) {}\n",
        root.conf(),
        root.join("conf.d/a.conf").display(),
        root.join("sub/c.conf").display(),
        root.join("conf.d/b.conf").display()
    )
}

each_server!(dump_includes_lists_files_in_sorted_order, |server| {
    let root = include_tree();
    // A dump, not a test: no "Syntax OK" (httpd's AP_SQ_RM_CONFIG_DUMP).
    server.run_in(root.path(), &["-t", "-D", "DUMP_INCLUDES"], &[]).assert(0, &include_dump(&root), "");
});

each_server!(dump_includes_then_t, |server| {
    let root = include_tree();
    // httpd 2.4's main.c sets CONFIG_TEST for -t only while the run mode is
    // still unknown, so `-D DUMP_INCLUDES -t` stays a dump: no "Syntax OK".
    server.run_in(root.path(), &["-D", "DUMP_INCLUDES", "-t"], &[]).assert(0, &include_dump(&root), "");
});
