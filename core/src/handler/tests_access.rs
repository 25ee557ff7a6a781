//! Sections and `Require`: which sections apply to a path, what APR makes
//! of `Require ip` arguments, and what the groups decide.

use super::*;
use crate::config::{Location, Node, Origin};
use crate::handler::tests::Site;

/// Sections written as in httpd.conf, one directive or tag per line.
pub(in crate::handler) fn sections(text: &str) -> Vec<Node> {
    fn node(name: &str, args: &str, line: usize) -> Node {
        Node {
            name: name.to_string(),
            args: args.split_whitespace().map(|a| a.trim_matches('"').to_string()).collect(),
            at: Location { file: "test.conf".into(), line },
            origin: Origin::File,
            children: Vec::new(),
        }
    }
    let mut stack: Vec<Node> = vec![node("top", "", 0)];
    for (i, line) in text.lines().map(str::trim).enumerate().filter(|(_, l)| !l.is_empty()) {
        if line.starts_with("</") {
            let done = stack.pop().unwrap();
            stack.last_mut().unwrap().children.push(done);
        } else if let Some(open) = line.strip_prefix('<') {
            let open = open.trim_end_matches('>');
            let (name, args) = open.split_once(' ').unwrap_or((open, ""));
            stack.push(node(&format!("<{name}"), args, i + 1));
        } else {
            let (name, args) = line.split_once(' ').unwrap_or((line, ""));
            stack.last_mut().unwrap().children.push(node(name, args, i + 1));
        }
    }
    assert_eq!(stack.len(), 1, "unclosed section in {text}");
    stack.pop().unwrap().children
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn ip_arguments_as_apr_reads_them() {
    let v4 =
        |net: [u8; 4], bits: u32| Some(Subnet::V4 { net: u32::from_be_bytes(net), mask: !0 << (32 - bits) });
    let v6 = |net: &str, bits: u32| {
        Some(Subnet::V6 {
            net: u128::from(net.parse::<std::net::Ipv6Addr>().unwrap()),
            mask: !0 << (128 - bits),
        })
    };
    let cases = [
        ("10.1.2.3", v4([10, 1, 2, 3], 32)),
        ("10", v4([10, 0, 0, 0], 8)),
        ("10.1", v4([10, 1, 0, 0], 16)),
        ("10.1.", v4([10, 1, 0, 0], 16)),
        ("172.16.5", v4([172, 16, 5, 0], 24)),
        ("010.1.2.3", v4([10, 1, 2, 3], 32)),
        ("10.1.2.0/24", v4([10, 1, 2, 0], 24)),
        ("10.1.2.77/24", v4([10, 1, 2, 0], 24)),
        ("10.1.0.0/255.255.0.0", v4([10, 1, 0, 0], 16)),
        ("0.0.0.0/1", v4([0, 0, 0, 0], 1)),
        ("::1", v6("::1", 128)),
        ("2001:db8::/32", v6("2001:db8::", 32)),
        ("2001:db8:1:2::5/64", v6("2001:db8:1:2::", 64)),
        ("fe80::/10", v6("fe80::", 10)),
        // What httpd refuses at start-up.
        ("10.1/16", None),
        ("10.1.2.3/0", None),
        ("10.1.2.3/33", None),
        ("10.1.2.3/abc", None),
        ("10.1.2.3/", None),
        ("::1/129", None),
        ("::1/255.255.0.0", None),
        ("::ffff:10.1.2.3", None),
        ("256.1", None),
        ("10..1", None),
        ("1.2.3.4.5", None),
        ("example.com", None),
        ("10.1.x", None),
        ("", None),
    ];
    for (spec, expected) in cases {
        assert_eq!(Subnet::parse(spec), expected, "{spec}");
    }
}

#[test]
fn ip_matching() {
    let cases = [
        ("10.1", "10.1.200.3", true),
        ("10.1", "10.2.0.1", false),
        ("10.1", "::ffff:10.1.0.9", true),
        ("10.1.2.0/24", "10.1.2.255", true),
        ("10.1.2.0/24", "10.1.3.0", false),
        ("127.0.0.1", "127.0.0.1", true),
        ("127.0.0.1", "::1", false),
        ("::1", "::1", true),
        ("::1", "127.0.0.1", false),
        ("2001:db8::/32", "2001:db8:ffff::1", true),
        ("2001:db8::/32", "2001:db9::1", false),
        ("::/1", "10.9.8.7", false),
        ("::/1", "::ffff:10.9.8.7", false),
        ("::/1", "::2", true),
    ];
    for (spec, addr, expected) in cases {
        assert_eq!(Subnet::parse(spec).unwrap().contains(ip(addr)), expected, "{spec} vs {addr}");
    }
}

/// `section` (the body of one `<Location>`) for a client at `remote`
/// reaching the server at `local`.
fn allows(body: &str, remote: &str, local: &str, method: &str) -> bool {
    let section = &sections(&format!("<Location />\n{body}\n</Location>"))[0];
    authorize(section, &Client { remote: ip(remote), local: ip(local), method })
}

#[test]
fn require_lines_and_groups() {
    let lo = "127.0.0.1";
    // (section body, client, server address, granted)
    let cases: &[(&str, &str, &str, bool)] = &[
        ("Require all granted", "203.0.113.9", lo, true),
        ("Require all denied", "127.0.0.1", lo, false),
        ("Require all DENIED", "127.0.0.1", lo, false),
        ("Require local", "127.0.0.1", lo, true),
        ("Require local", "127.3.4.5", "10.0.0.1", true),
        ("Require local", "::1", "::1", true),
        ("Require local", "::ffff:127.0.0.1", "::ffff:127.0.0.1", true),
        ("Require local", "192.0.2.7", "192.0.2.7", true),
        ("Require local", "::ffff:192.0.2.7", "192.0.2.7", true),
        ("Require local", "192.0.2.7", "192.0.2.8", false),
        ("Require local", "2001:db8::1", "::1", false),
        ("Require ip 10.1 192.0.2.0/24", "192.0.2.200", lo, true),
        ("Require ip 10.1 192.0.2.0/24", "10.1.9.9", lo, true),
        ("Require ip 10.1 192.0.2.0/24", "10.2.0.1", lo, false),
        ("Require ip ::1 2001:db8::/32", "2001:db8::7", lo, true),
        ("Require ip bogus 10.1", "10.1.0.1", lo, true),
        ("Require ip bogus", "10.1.0.1", lo, false),
        // Several lines: any grants.
        ("Require ip 10.1\nRequire local", "127.0.0.1", lo, true),
        ("Require ip 10.1\nRequire local", "10.1.0.1", lo, true),
        ("Require ip 10.1\nRequire local", "10.2.0.1", lo, false),
        ("Require all denied\nRequire local", "127.0.0.1", lo, true),
        // Top-level `not`: must not match; alone it grants nothing.
        ("Require all granted\nRequire not ip 10.1", "10.1.0.5", lo, false),
        ("Require all granted\nRequire not ip 10.1", "10.2.0.5", lo, true),
        ("Require not ip 10.1", "10.2.0.5", lo, false),
        ("Require not local\nRequire ip 10", "10.0.0.1", lo, true),
        ("Require not local\nRequire ip 10", "127.0.0.1", lo, false),
        // Groups.
        ("<RequireAll>\nRequire ip 10\nRequire not ip 10.1\n</RequireAll>", "10.2.0.1", lo, true),
        ("<RequireAll>\nRequire ip 10\nRequire not ip 10.1\n</RequireAll>", "10.1.0.1", lo, false),
        ("<RequireAll>\nRequire ip 10\nRequire not ip 10.1\n</RequireAll>", "11.0.0.1", lo, false),
        ("<RequireAll>\nRequire all granted\nRequire local\n</RequireAll>", "10.0.0.1", lo, false),
        ("<RequireAll>\nRequire not ip 10.1\n</RequireAll>", "10.2.0.1", lo, false),
        ("<RequireAny>\nRequire ip 10.1\nRequire ip 10.2\n</RequireAny>", "10.2.3.4", lo, true),
        ("<RequireAny>\nRequire ip 10.1\nRequire ip 10.2\n</RequireAny>", "10.3.3.4", lo, false),
        // RequireNone never grants by itself: it can only deny.
        ("<RequireNone>\nRequire ip 10.1\n</RequireNone>", "10.2.0.1", lo, false),
        ("<RequireNone>\nRequire ip 10.1\n</RequireNone>\nRequire all granted", "10.2.0.1", lo, true),
        (
            "<RequireAll>\nRequire all granted\n<RequireNone>\nRequire ip 10.1\nRequire ip 10.2\n</RequireNone>\n</RequireAll>",
            "10.2.0.1",
            lo,
            false,
        ),
        (
            "<RequireAll>\nRequire all granted\n<RequireNone>\nRequire ip 10.1\nRequire ip 10.2\n</RequireNone>\n</RequireAll>",
            "10.3.0.1",
            lo,
            true,
        ),
        (
            "<RequireAny>\n<RequireAll>\nRequire ip 10\nRequire not ip 10.1\n</RequireAll>\nRequire local\n</RequireAny>",
            "10.1.0.1",
            lo,
            false,
        ),
        (
            "<RequireAny>\n<RequireAll>\nRequire ip 10\nRequire not ip 10.1\n</RequireAll>\nRequire local\n</RequireAny>",
            "::1",
            "::1",
            true,
        ),
        // Providers we do not run deny.
        ("Require host example.com", "10.0.0.1", lo, false),
        ("Require env LET_IN", "10.0.0.1", lo, false),
        ("Require expr true", "10.0.0.1", lo, false),
        ("Require host example.com\nRequire local", "127.0.0.1", lo, true),
        // Other directives in the section are not authorization.
        ("SetHandler server-status\nRequire local", "127.0.0.1", lo, true),
    ];
    for &(body, remote, local, expected) in cases {
        assert_eq!(allows(body, remote, local, "GET"), expected, "{body}\n  from {remote} to {local}");
    }
    assert!(allows("Require method GET POST", "10.0.0.1", lo, "POST"));
    assert!(!allows("Require method GET POST", "10.0.0.1", lo, "DELETE"));
    assert!(!allows("Require method GET", "10.0.0.1", lo, "get"));
}

#[test]
fn locations_match_at_segment_boundaries() {
    let cases = [
        ("/server-status", "/server-status", true),
        ("/server-status", "/server-status/", true),
        ("/server-status", "/server-status/x", true),
        ("/server-status", "/server-statusx", false),
        ("/server-status", "/server", false),
        ("/server-status", "/Server-Status", false),
        ("/server-status/", "/server-status/", true),
        ("/server-status/", "/server-status/x", true),
        ("/server-status/", "/server-status", false),
        ("/", "/anything", true),
        ("//server-status", "/server-status", true),
        ("/a//b", "/a/b/c", true),
        ("/a/*/c", "/a/b/c", true),
        ("/a/*/c", "/a/b/x/c", false),
        ("/a/*", "/a/b", true),
        ("/a/*", "/a/b/c", false),
        ("/status-[0-9]", "/status-7", true),
        ("/status-[0-9]", "/status-x", false),
        ("~", "/anything", false),
    ];
    for (pattern, uri, expected) in cases {
        assert_eq!(location_matches(pattern.as_bytes(), uri.as_bytes()), expected, "{pattern} vs {uri}");
    }
}

#[test]
fn fnmatch_cases() {
    let cases = [
        (".ht*", ".htaccess", false, true),
        (".ht*", "x.htaccess", false, false),
        ("*.txt", "a.txt", false, true),
        ("*.txt", "a.txt.gz", false, false),
        ("a?c", "abc", false, true),
        ("a?c", "ac", false, false),
        ("[!a]*", "bcd", false, true),
        ("[!a]*", "abc", false, false),
        ("[^a-c]x", "dx", false, true),
        ("[a-c]x", "bx", false, true),
        ("[]]", "]", false, true),
        ("[a", "[a", false, true),
        ("\\*", "*", false, true),
        ("\\*", "a", false, false),
        ("*", "", false, true),
        ("*a*b*", "xxaxxbxx", false, true),
        ("*a*b*", "xxbxxaxx", false, false),
        ("/srv/*", "/srv/a/b", true, false),
        ("/srv/*", "/srv/a/b", false, true),
        ("/srv/*/b", "/srv/a/b", true, true),
        ("/srv/?", "/srv//", true, false),
    ];
    for (pattern, text, pathname, expected) in cases {
        assert_eq!(fnmatch(pattern.as_bytes(), text.as_bytes(), pathname), expected, "{pattern} vs {text}");
    }
}

#[test]
fn walk_merges_sections_in_httpds_order() {
    let mut site = Site::new();
    let root = site.root.path().display().to_string();
    let conf = format!(
        "<Location /server-status>\n SetHandler server-status\n Require local\n</Location>\n\
         <Directory {root}/dir>\n Require ip 10.9\n</Directory>\n\
         <Directory />\n Require all denied\n</Directory>\n\
         <Files *.txt>\n SetHandler text-handler\n</Files>\n\
         <Directory {root}/two>\n <Files index.htm>\n  Require ip 10.7\n </Files>\n</Directory>\n\
         <Location /server-status/off>\n SetHandler None\n</Location>\n\
         <Location /dir/open>\n Require all granted\n</Location>\n\
         <Directory {root}/d*>\n SetHandler wild\n</Directory>\n\
         <LocationMatch ^/dir>\n Require all granted\n</LocationMatch>\n"
    );
    site.ctx.servers[0].sections = sections(&conf);
    // (path, handler, line of the section whose Require lines decide)
    let cases: &[(&str, Option<&str>, Option<usize>)] = &[
        ("/server-status", Some("server-status"), Some(1)),
        ("/server-status/", Some("server-status"), Some(1)),
        ("/server-status/off", None, Some(1)),
        ("/server-statusx", None, Some(8)),
        ("/a.json", None, Some(8)),
        // The deeper Directory wins over `/` whatever the order written.
        ("/dir/index.html", Some("wild"), Some(5)),
        ("/dir", Some("wild"), Some(5)),
        ("/dirx/a", Some("wild"), Some(8)),
        ("/dir/open/x", Some("wild"), Some(22)),
        ("/notes.txt", Some("text-handler"), Some(8)),
        // A Files inside a Directory comes after the Directory sections.
        ("/two/index.htm", None, Some(15)),
        ("/two/index.html", None, Some(8)),
    ];
    for &(path, handler, line) in cases {
        let per_dir = walk(site.ctx.main(), path.as_bytes());
        assert_eq!(per_dir.handler, handler, "{path}");
        assert_eq!(per_dir.authz.map(|n| n.at.line), line, "{path}");
    }
    // A relative Directory is taken from ServerRoot; SetHandler at the top
    // level is the base every section overrides.
    site.ctx.servers[0].settings.server_root = site.root.path().to_path_buf();
    site.ctx.servers[0].settings.set_handler = Some("server-status".into());
    site.ctx.servers[0].sections = sections("<Directory dir>\nRequire all denied\n</Directory>");
    let per_dir = walk(site.ctx.main(), b"/dir/x");
    assert_eq!((per_dir.handler, per_dir.authz.map(|n| n.at.line)), (Some("server-status"), Some(1)));
    assert!(walk(site.ctx.main(), b"/two/x").authz.is_none());
}
