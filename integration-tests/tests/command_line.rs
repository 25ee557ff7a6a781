//! The command line each binary answers without serving (MPM-SPEC §7, §6.4):
//! `-t`, `-l`, `-M`, `-v`, `-V`, `-h`, bad options and `-k` with no server
//! running.

use std::path::PathBuf;

use integration_tests::{
    SYNTAX_OK, Server, TempDir, assert_has_line, assert_no_line, assert_starts_with, assert_text,
    each_server, line_starting, shared_conf_dir, utf8,
};

each_server!(syntax_ok_on_shared_conf, |server| {
    let out = server.run(&["-t", "-d", utf8(shared_conf_dir()), "-f", "httpd.conf"], &[]);
    out.assert(0, "", SYNTAX_OK);
});

/// The default config file (`-V`'s HTTPD_ROOT joined to SERVER_CONFIG_FILE).
fn default_config_file(server: Server) -> PathBuf {
    let out = server.run(&["-V"], &[]);
    out.assert_code(0);
    let value = |name: &str| {
        let line = line_starting(&out.stdout, &format!(" -D {name}=\""));
        line[name.len() + 6..line.len() - 1].to_string()
    };
    PathBuf::from(value("HTTPD_ROOT")).join(value("SERVER_CONFIG_FILE"))
}

each_server!(syntax_ok_with_embedded_config_and_no_arguments, |server| {
    // With no -d and no -f the binary reads the compiled-in default,
    // /etc/<binary>/httpd.conf unless built with HTTPD_ROOT, or its embedded
    // copy of shared-conf when that file is missing. This test is about the
    // embedded copy, so the file must not exist here.
    let default = default_config_file(server);
    assert!(
        !default.exists(),
        "{} exists, so the binary would read it instead of its embedded configuration; \
         move it away to run this test",
        default.display()
    );
    server.run(&["-t"], &[]).assert(0, "", SYNTAX_OK);
    let out = server.run(&["-D", "DUMP_INCLUDES"], &[]);
    out.assert(0, "Included configuration files:\n  (*) (embedded) httpd.conf\n", "");
});

each_server!(embedded_config_under_a_server_root_without_httpd_conf, |server| {
    // -d alone, and no httpd.conf there: the embedded configuration, with
    // its relative paths under that ServerRoot.
    let root = TempDir::new();
    server.run(&["-t", "-d", utf8(root.path())], &[]).assert(0, "", SYNTAX_OK);
    let out = server.run(&["-S", "-d", utf8(root.path())], &[]);
    out.assert_code(0);
    let root = root.path().display();
    assert_has_line(&out.stdout, &format!("ServerRoot: \"{root}\""));
    assert_has_line(&out.stdout, &format!("Main DocumentRoot: \"{root}/htdocs\""));
    assert_has_line(&out.stdout, &format!("PidFile: \"{root}/logs/httpd.pid\""));
});

each_server!(l_lists_compiled_in_modules_with_own_mpm_only, |server| {
    // -l reads no configuration, so a missing -f does not matter.
    let out = server.run(&["-l", "-f", "/nonexistent/httpd.conf"], &[]);
    out.assert_code(0);
    assert_text("", &out.stderr);
    assert_text("Compiled in modules:", out.stdout.lines().next().unwrap_or(""));
    assert_has_line(&out.stdout, "  core.c");
    assert_has_line(&out.stdout, &format!("  {}", server.source()));
    for other in server.others() {
        assert_no_line(&out.stdout, &format!("  {}", other.source()));
    }
});

each_server!(m_lists_loaded_modules_with_own_mpm_only, |server| {
    let out = server.run_in(shared_conf_dir(), &["-M"], &[]);
    out.assert_code(0);
    assert_text("", &out.stderr);
    assert_text("Loaded Modules:", out.stdout.lines().next().unwrap_or(""));
    assert_has_line(&out.stdout, " core_module (static)");
    assert_has_line(&out.stdout, &format!(" {} (static)", server.module_id()));
    for other in server.others() {
        assert_no_line(&out.stdout, &format!(" {} (static)", other.module_id()));
    }
    // -M is a synonym for -t -D DUMP_MODULES.
    let long = server.run_in(shared_conf_dir(), &["-t", "-D", "DUMP_MODULES"], &[]);
    long.assert(0, &out.stdout, "");
    // One line per module -l lists.
    let compiled = server.run(&["-l"], &[]);
    assert_eq!(compiled.stdout.lines().count(), out.stdout.lines().count(), "-l:\n{}", compiled.stdout);
});

each_server!(capital_v_shows_mpm_lines, |server| {
    let out = server.run(&["-V"], &[]);
    out.assert_code(0);
    assert_text("", &out.stderr);
    assert_starts_with("Server version: ", &out.stdout);
    assert_has_line(&out.stdout, &format!("Server MPM:     {}", server.mpm()));
    let threaded = if server.is_threaded() { "yes (fixed thread count)" } else { "no" };
    assert_has_line(&out.stdout, &format!("  threaded:     {threaded}"));
    assert_has_line(&out.stdout, "    forked:     yes (variable process count)");
    assert_has_line(&out.stdout, "Server compiled with....");
});

each_server!(v_shows_version_and_build_date, |server| {
    let out = server.run(&["-v"], &[]);
    out.assert_code(0);
    assert_text("", &out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.describe());
    assert_starts_with("Server version: ", lines[0]);
    assert_starts_with("Server built:   ", lines[1]);
});

/// The first four lines of the usage text: httpd's shape, the continuation
/// lines aligned under the first `[`.
fn usage_head(server: Server) -> String {
    let bin = server.binary_name();
    let pad = " ".repeat(bin.len() + 7);
    format!(
        "Usage: {bin} [-D name] [-d directory] [-f file]\n\
         {pad} [-C \"directive\"] [-c \"directive\"]\n\
         {pad} [-k start|restart|graceful|graceful-stop|stop]\n\
         {pad} [-v] [-V] [-h] [-l] [-L] [-t] [-T] [-S] [-X]\n"
    )
}

fn assert_usage(out: &integration_tests::Output, first_line: Option<&str>, server: Server) {
    out.assert_code(1);
    assert_text("", &out.stdout);
    let expected = match first_line {
        Some(line) => format!("{line}\n{}", usage_head(server)),
        None => usage_head(server),
    };
    assert_starts_with(&expected, &out.stderr);
    assert_has_line(&out.stderr, "Options:");
}

each_server!(h_prints_usage_and_fails, |server| {
    assert_usage(&server.run(&["-h"], &[]), None, server);
    assert_usage(&server.run(&["-?"], &[]), None, server);
});

each_server!(unknown_option_prints_usage_and_fails, |server| {
    let bin = server.binary_name();
    assert_usage(&server.run(&["-z"], &[]), Some(&format!("{bin}: illegal option -- z")), server);
    assert_usage(
        &server.run(&["-k", "reload"], &[]),
        Some(&format!("{bin}: unknown -k command 'reload'")),
        server,
    );
    assert_usage(
        &server.run(&["-f"], &[]),
        Some(&format!("{bin}: option requires an argument -- f")),
        server,
    );
});

each_server!(k_stop_without_pid_file_says_not_running, |server| {
    let root = TempDir::server_root("PidFile run/httpd.pid\n");
    for command in ["stop", "graceful-stop"] {
        let out = server.run_in(root.path(), &["-k", command], &[]);
        out.assert(0, &format!("{} (no pid file) not running\n", server.binary_name()), "");
    }
});

each_server!(k_stop_with_stale_pid_says_not_running, |server| {
    // A pid that names no process: one of a child that has exited and been
    // reaped.
    let mut child = std::process::Command::new("true").spawn().expect("spawning true");
    let pid = child.id();
    child.wait().expect("waiting for true");
    let root = TempDir::server_root("PidFile run/httpd.pid\n");
    root.write("run/httpd.pid", format!("{pid}\n"));
    for command in ["stop", "graceful-stop"] {
        let out = server.run_in(root.path(), &["-k", command], &[]);
        out.assert(0, &format!("{} (pid {pid}?) not running\n", server.binary_name()), "");
    }
});

each_server!(k_stop_reads_the_config_first, |server| {
    // A syntax error prevents signalling (MPM-SPEC §6.4).
    let root = TempDir::server_root("PidFile run/httpd.pid\nFoo bar\n");
    let out = server.run_in(root.path(), &["-k", "stop"], &[]);
    out.assert(
        1,
        "",
        &format!(
            "AH00526: Syntax error on line 2 of {}:\nInvalid command 'Foo', perhaps misspelled or \
             defined by a module not included in the server configuration\n",
            root.conf()
        ),
    );
});
