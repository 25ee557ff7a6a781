//! Configuration errors in httpd's shapes (MPM-SPEC §8.4): the AH00526
//! two-line form for a directive that fails, the one-line
//! `<binary>: Syntax error on line N of FILE: ...` form for errors found while
//! reading, nested once per Include; exit 1 and nothing on stdout.

use integration_tests::{SYNTAX_OK, Server, TempDir, each_server};

const INVALID_COMMAND: &str =
    "perhaps misspelled or defined by a module not included in the server configuration";

/// `AH00526: Syntax error on line {line} of {file}:` and `message`, as stderr holds them.
fn directive_error(line: usize, file: &str, message: &str) -> String {
    format!("AH00526: Syntax error on line {line} of {file}:\n{message}\n")
}

each_server!(loading_an_mpm_module_is_refused_unless_it_is_the_embedded_one, |server| {
    for mpm in Server::ALL {
        let root = TempDir::server_root(&format!(
            "ServerName localhost\n\
             LoadModule {} modules/mod_mpm_{}.so\n\
             DocumentRoot htdocs\n",
            mpm.module_id(),
            mpm.mpm()
        ));
        let out = server.check(root.path(), &[], &[]);
        if mpm == server {
            // The line Apache needs is accepted silently by the binary that
            // embeds that MPM.
            out.assert(0, "", SYNTAX_OK);
        } else {
            out.assert(
                1,
                "",
                &format!(
                    "{}: Syntax error on line 2 of {}: More than one MPM loaded: this server embeds \
                     the {} MPM; {} is provided by {}\n",
                    server.binary_name(),
                    root.conf(),
                    server.mpm(),
                    mpm.module_id(),
                    mpm.binary_name()
                ),
            );
        }
    }
});

each_server!(unknown_directive_names_file_and_line, |server| {
    let root = TempDir::server_root("ServerName localhost\n# a comment\nFoo bar\nDocumentRoot htdocs\n");
    let out = server.check(root.path(), &[], &[]);
    out.assert(
        1,
        "",
        &directive_error(3, &root.conf(), &format!("Invalid command 'Foo', {INVALID_COMMAND}")),
    );
});

each_server!(unknown_directive_in_included_file_names_that_file, |server| {
    // A directive that fails names the file it is in, not the Include chain.
    let root = TempDir::server_root("ServerName localhost\nInclude extra.conf\n");
    let extra = root.write("extra.conf", "Timeout 5\nBar baz\n");
    let out = server.check(root.path(), &[], &[]);
    let extra = extra.display().to_string();
    out.assert(1, "", &directive_error(2, &extra, &format!("Invalid command 'Bar', {INVALID_COMMAND}")));
});

each_server!(read_error_in_included_file_is_nested, |server| {
    let root = TempDir::server_root("ServerName localhost\n\nInclude extra.conf\nDocumentRoot htdocs\n");
    let extra = root.write("extra.conf", "# unclosed\n<Directory \"/\">\n    Options None\n");
    let out = server.check(root.path(), &[], &[]);
    out.assert(
        1,
        "",
        &format!(
            "{}: Syntax error on line 3 of {}: Syntax error on line 2 of {}: <Directory> was not closed.\n",
            server.binary_name(),
            root.conf(),
            extra.display()
        ),
    );
});

each_server!(read_error_two_includes_deep_is_nested_twice, |server| {
    let root = TempDir::server_root("Include a.conf\n");
    let a = root.write("a.conf", "Timeout 5\nInclude b.conf\n");
    let b = root.write("b.conf", "</Directory>\n");
    let out = server.check(root.path(), &[], &[]);
    out.assert(
        1,
        "",
        &format!(
            "{}: Syntax error on line 1 of {}: Syntax error on line 2 of {}: Syntax error on line 1 \
             of {}: </Directory> without matching <Directory> section\n",
            server.binary_name(),
            root.conf(),
            a.display(),
            b.display()
        ),
    );
});

each_server!(threads_per_child_outside_if_module, |server| {
    let root = TempDir::server_root("ThreadsPerChild 10\n");
    let out = server.check(root.path(), &[], &[]);
    if server.is_threaded() {
        // Accepted; the default MaxRequestWorkers of 400 then needs 40
        // children, more than ServerLimit's 16 (worker.c's check_config).
        out.assert(
            0,
            "",
            "WARNING: MaxRequestWorkers of 400 would require 40 servers and would exceed ServerLimit \
             of 16, decreasing to 160. To increase, please see the ServerLimit directive.\n\
             Syntax OK\n",
        );
    } else {
        out.assert(
            1,
            "",
            &directive_error(
                1,
                &root.conf(),
                &format!(
                    "Invalid command 'ThreadsPerChild', {INVALID_COMMAND} (ThreadsPerChild belongs to \
                     another MPM, provided by worker-server and event-server; this server embeds the \
                     prefork MPM: put it inside <IfModule mpm_worker_module> or remove it)"
                ),
            ),
        );
    }
});

each_server!(start_servers_inside_virtual_host, |server| {
    let root = TempDir::server_root("<VirtualHost *:80>\n    StartServers 2\n</VirtualHost>\n");
    let out = server.check(root.path(), &[], &[]);
    out.assert(
        1,
        "",
        &directive_error(2, &root.conf(), "StartServers cannot occur within <VirtualHost> section"),
    );
});

each_server!(include_of_missing_file_fails, |server| {
    let root = TempDir::server_root("ServerName localhost\nInclude missing.conf\n");
    let out = server.check(root.path(), &[], &[]);
    out.assert(
        1,
        "",
        &format!(
            "{}: Syntax error on line 2 of {}: Could not open configuration file {}: No such file or \
             directory\n",
            server.binary_name(),
            root.conf(),
            root.join("missing.conf").display()
        ),
    );
});

each_server!(include_optional_of_missing_file_passes, |server| {
    let root = TempDir::server_root("ServerName localhost\nIncludeOptional missing.conf\n");
    server.check(root.path(), &[], &[]).assert(0, "", SYNTAX_OK);
});

each_server!(include_wildcard_matching_nothing, |server| {
    let root = TempDir::server_root("Include conf.d/*.conf\n");
    let dir = root.mkdir("conf.d");
    let out = server.check(root.path(), &[], &[]);
    out.assert(
        1,
        "",
        &format!(
            "{}: Syntax error on line 1 of {}: Include/IncludeOptional: No matches for the wildcard \
             '*.conf' in '{}', failing\n",
            server.binary_name(),
            root.conf(),
            dir.display()
        ),
    );
    root.write("httpd.conf", "IncludeOptional conf.d/*.conf\n");
    server.check(root.path(), &[], &[]).assert(0, "", SYNTAX_OK);
});

each_server!(missing_config_file_given_with_f, |server| {
    let root = TempDir::new();
    let out = server.run(&["-t", "-f", integration_tests::utf8(&root.join("nope.conf"))], &[]);
    out.assert(
        1,
        "",
        &format!(
            "{}: Could not open configuration file {}: No such file or directory\n",
            server.binary_name(),
            root.join("nope.conf").display()
        ),
    );
});

each_server!(document_root_must_exist_unless_capital_t, |server| {
    let root = TempDir::server_root("ServerName localhost\nDocumentRoot nothere\n");
    let out = server.check(root.path(), &[], &[]);
    out.assert(
        1,
        "",
        &directive_error(
            2,
            &root.conf(),
            &format!(
                "DocumentRoot '{}' is not a directory, or is not readable",
                root.join("nothere").display()
            ),
        ),
    );
    server.check(root.path(), &["-T"], &[]).assert(0, "", SYNTAX_OK);
});

each_server!(command_line_directive_errors_name_the_pseudo_file, |server| {
    let root = TempDir::server_root("ServerName localhost\n");
    let out = server.check(root.path(), &["-c", "Timeout 3", "-c", "Foo"], &[]);
    out.assert(
        1,
        "",
        &directive_error(2, "-c/-C directives", &format!("Invalid command 'Foo', {INVALID_COMMAND}")),
    );
    let out = server.check(root.path(), &["-C", "Timeout"], &[]);
    out.assert(
        1,
        "",
        &directive_error(1, "-c/-C directives", "Timeout takes one argument, Timeout duration (sec)"),
    );
});
