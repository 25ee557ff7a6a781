//! The address table and selection, as vhost.c builds and walks them.

use super::*;
use crate::config::Location;

/// A vhost at line `line` of `httpd.conf` with these addresses, ServerName
/// and ServerAlias words.
fn vhost(line: usize, addresses: &[&str], name: &str, aliases: &[&str]) -> Identity {
    let mut identity = Identity {
        name: name.into(),
        addresses: addresses.iter().flat_map(|a| parse_address(a, 0).unwrap()).collect(),
        defined_at: Some(Location { file: "httpd.conf".into(), line }),
        ..Identity::default()
    };
    identity.set_aliases(&aliases.iter().map(|a| a.to_string()).collect::<Vec<_>>());
    identity
}

fn table(vhosts: Vec<Identity>) -> VirtualHosts {
    let main = Identity { name: "main.example".into(), ..Identity::default() };
    VirtualHosts::new([main].into_iter().chain(vhosts).collect())
}

fn at(address: &str) -> SocketAddr {
    address.parse().unwrap()
}

/// The server that answers `host` on a connection to `local`.
fn served(t: &VirtualHosts, local: &str, host: Option<&str>) -> usize {
    t.select(t.bind(at(local)), host)
}

#[test]
fn name_based_vhosts_share_an_address() {
    let t = table(vec![
        vhost(1, &["*:80"], "a.example", &["www.a.example", "*.a.example"]),
        vhost(5, &["*:80"], "b.example", &["b?.example"]),
    ]);
    let cases = [
        (Some("a.example"), 1),
        (Some("B.EXAMPLE"), 2),
        (Some("b.example:8080"), 2),
        (Some("b.example."), 2),
        (Some("www.a.example"), 1),
        (Some("x.y.a.example"), 1),
        (Some("b1.example"), 2),
        (Some("b12.example"), 1),
        // No match, or no host at all: the first listed, the default.
        (Some("unknown.example"), 1),
        (None, 1),
        (Some(""), 1),
    ];
    for (host, expected) in cases {
        assert_eq!(served(&t, "192.0.2.1:80", host), expected, "{host:?}");
    }
    // Another port: no vhost lists it, so the main server answers.
    assert_eq!(served(&t, "192.0.2.1:81", Some("b.example")), 0);
}

#[test]
fn ip_based_vhosts_come_before_wildcards() {
    let t = table(vec![
        vhost(1, &["*:80"], "a.example", &[]),
        vhost(5, &["*:80"], "b.example", &[]),
        vhost(9, &["127.0.0.1:80"], "ip.example", &[]),
        vhost(12, &["127.0.0.2:*"], "anyport.example", &[]),
        vhost(15, &["[::1]:80"], "six.example", &[]),
    ]);
    // One vhost on an address: IP-based, the Host header plays no part.
    assert_eq!(served(&t, "127.0.0.1:80", Some("b.example")), 3);
    assert_eq!(served(&t, "127.0.0.1:80", None), 3);
    assert_eq!(served(&t, "127.0.0.2:80", Some("b.example")), 4);
    assert_eq!(served(&t, "127.0.0.2:8080", None), 4);
    assert_eq!(served(&t, "[::1]:80", Some("a.example")), 5);
    // An IPv4 connection on a dual-stack socket.
    assert_eq!(served(&t, "[::ffff:127.0.0.1]:80", None), 3);
    // Other addresses on port 80 fall to the wildcard ones.
    assert_eq!(served(&t, "127.0.0.3:80", Some("b.example")), 2);
    assert_eq!(served(&t, "[::2]:80", Some("b.example")), 2);
    // 127.0.0.1 on another port: its vhost is for port 80 only.
    assert_eq!(served(&t, "127.0.0.1:81", Some("a.example")), 0);
}

#[test]
fn an_exact_port_wins_over_any_port() {
    let t = table(vec![
        vhost(1, &["*:*"], "any.example", &[]),
        vhost(3, &["*:8080"], "eighty.example", &[]),
        vhost(5, &["10.0.0.1:*"], "ten-any.example", &[]),
        vhost(7, &["10.0.0.1:8080"], "ten.example", &[]),
    ]);
    assert_eq!(served(&t, "192.0.2.1:8080", None), 2);
    assert_eq!(served(&t, "192.0.2.1:9", None), 1);
    assert_eq!(served(&t, "10.0.0.1:8080", None), 4);
    assert_eq!(served(&t, "10.0.0.1:9", None), 3);
}

#[test]
fn the_default_is_the_first_in_the_configuration() {
    let t = table(vec![
        vhost(1, &["*:80"], "first.example", &[]),
        vhost(3, &["*:80"], "second.example", &[]),
        vhost(5, &["*:80"], "third.example", &[]),
    ]);
    let binding = t.bind(at("192.0.2.1:80"));
    assert_eq!(t.default_server(binding), 1);
    assert_eq!(t.servers(binding), [1, 2, 3]);
    assert_eq!(t.select(binding, Some("third.example")), 3);
    assert_eq!(t.select(binding, Some("nothing.example")), 1);
}

#[test]
fn a_vhost_written_with_its_host_name_is_the_fallback() {
    // Neither has a ServerName that matches; the second's address was
    // written as the request's host (vhost.c's `virthost`).
    let mut by_name = vhost(3, &["*:80"], "other.example", &[]);
    by_name.addresses[0].host = "written.example".into();
    let t = table(vec![vhost(1, &["*:80"], "x.example", &[]), by_name]);
    assert_eq!(served(&t, "192.0.2.1:80", Some("written.example")), 2);
    assert_eq!(served(&t, "192.0.2.1:80", Some("WRITTEN.example:80")), 2);
}

#[test]
fn a_vhost_on_two_addresses_is_in_both_lists() {
    let t = table(vec![
        vhost(1, &["127.0.0.1:80", "*:80"], "both.example", &[]),
        vhost(3, &["127.0.0.1:80"], "ip.example", &[]),
        vhost(5, &["*:80", "*:80"], "twice.example", &[]),
    ]);
    let local = t.bind(at("127.0.0.1:80"));
    assert_eq!(t.servers(local), [1, 2]);
    assert_eq!(t.select(local, Some("ip.example")), 2);
    let wildcard = t.bind(at("192.0.2.1:80"));
    // `*:80` written twice on one line counts once.
    assert_eq!(t.servers(wildcard), [1, 3]);
    assert_eq!(t.select(wildcard, Some("twice.example")), 3);
}

#[test]
fn bindings_are_numbered_from_the_main_server() {
    let t =
        table(vec![vhost(1, &["127.0.0.1:80"], "ip.example", &[]), vhost(3, &["*:80"], "w.example", &[])]);
    let all: Vec<usize> = t.bindings().map(Binding::id).collect();
    assert_eq!(all, [0, 1, 2]);
    assert_eq!(t.bind(at("192.0.2.1:81")), Binding::MAIN);
    assert_eq!(t.servers(Binding::MAIN), [0]);
    assert_eq!(t.bind(at("127.0.0.1:80")).id(), 1);
    assert_eq!(t.bind(at("192.0.2.1:80")).id(), 2);
    assert_eq!(t.address(t.bind(at("192.0.2.1:80"))).map(VhostAddress::label), Some("*:80".into()));
}

#[test]
fn addresses_as_get_addresses_reads_them() {
    let check = |word: &str, default_port: u16, expected: Result<(&str, u16), AddressError>| {
        let got = parse_address(word, default_port).map(|a| (a[0].label(), a[0].port));
        assert_eq!(got, expected.map(|(l, p)| (l.to_string(), p)), "{word}");
    };
    check("*:80", 0, Ok(("*:80", 80)));
    check("*", 0, Ok(("*:*", 0)));
    check("*", 8080, Ok(("*:8080", 8080)));
    check("*:*", 8080, Ok(("*:*", 0)));
    check("_default_:443", 0, Ok(("*:443", 443)));
    check("_DEFAULT_", 0, Ok(("*:*", 0)));
    check("10.1.2.3", 0, Ok(("10.1.2.3:*", 0)));
    check("10.1.2.3:8080", 0, Ok(("10.1.2.3:8080", 8080)));
    check("[::1]:443", 0, Ok(("[::1]:443", 443)));
    check("[::1]", 80, Ok(("[::1]:80", 80)));
    check("[::1]:*", 80, Ok(("[::1]:*", 0)));
    check("0.0.0.0:80", 0, Ok(("*:80", 80)));
    let invalid = AddressError::Invalid("The address or port is invalid");
    check("80", 0, Err(AddressError::Invalid("Missing address for VirtualHost")));
    check("*:0", 0, Err(invalid.clone()));
    check("*:70000", 0, Err(invalid.clone()));
    check("*:8x", 0, Err(invalid.clone()));
    check("host:", 0, Err(invalid.clone()));
    check("::1", 0, Err(invalid.clone()));
    check("[::1", 0, Err(invalid.clone()));
    check("[nope]:80", 0, Err(invalid));
    assert!(matches!(
        parse_address("no-such-host.invalid:80", 0),
        Err(AddressError::Unresolved(m)) if m == "AH00547: Could not resolve host name no-such-host.invalid -- ignoring!"
    ));
}

#[test]
fn wildcards_as_ap_strcasecmp_match() {
    let cases = [
        ("*.example.com", "www.example.com", true),
        ("*.example.com", "WWW.Example.COM", true),
        ("*.example.com", "example.com", false),
        ("*", "", true),
        ("www?.example.com", "www1.example.com", true),
        ("www?.example.com", "www.example.com", false),
        ("a*b*c", "axxbyyc", true),
        ("a*b*c", "axxbyy", false),
        ("*b", "bbb", true),
        ("a**", "a", true),
    ];
    for (pattern, name, expected) in cases {
        assert_eq!(wildcard_matches(pattern, name), expected, "{pattern} ~ {name}");
    }
}

#[test]
fn request_hosts_lose_their_port_and_trailing_dot() {
    assert_eq!(request_host("Example.com:8080"), Some("Example.com"));
    assert_eq!(request_host("example.com."), Some("example.com"));
    assert_eq!(request_host("[::1]:80"), Some("::1"));
    assert_eq!(request_host(":80"), None);
    assert_eq!(request_host(""), None);
}
