//! Listening sockets, opened as httpd's `make_sock`: SO_REUSEADDR, the
//! ListenBacklog, IPv6 sockets that also take IPv4 (as Debian's httpd), and
//! one socket per `Listen` line. Opened before any fork or privilege drop.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, ToSocketAddrs};
use std::os::fd::OwnedFd;

use nix::sys::socket::{
    AddressFamily, Backlog, SockFlag, SockType, SockaddrStorage, bind, listen, setsockopt, socket, sockopt,
};

use crate::config::{ListenSpec, Settings};

/// One open listening socket.
#[derive(Debug)]
pub struct Listener {
    pub socket: TcpListener,
    pub addr: SocketAddr,
    pub protocol: String,
}

/// Opens every Listen line. httpd's messages: no Listen at all is "no
/// listening sockets available, shutting down"; a bind failure names the
/// address.
pub fn open_all(settings: &Settings) -> Result<Vec<Listener>, String> {
    if settings.listen.is_empty() {
        return Err("AH00015: Unable to open logs: no listening sockets available, shutting down".into());
    }
    let backlog = i32::try_from(settings.listen_backlog).unwrap_or(i32::MAX);
    let mut out = Vec::new();
    for spec in &settings.listen {
        let addr = resolve(spec)?;
        let socket = open(addr, backlog, settings).map_err(|e| {
            format!(
                "({}){}: AH00072: make_sock: could not bind to address {}",
                e as i32,
                e.desc(),
                display(addr)
            )
        })?;
        let addr = socket.local_addr().unwrap_or(addr);
        out.push(Listener { socket, addr, protocol: spec.protocol.clone() });
    }
    Ok(out)
}

/// At a restart: keeps the sockets whose address is still configured (so
/// clients queue in the backlog meanwhile, never refused), opens the new
/// ones, closes the others. On failure the old set comes back unchanged.
pub fn reconcile(old: Vec<Listener>, settings: &Settings) -> Result<Vec<Listener>, (Vec<Listener>, String)> {
    let mut keep: Vec<Option<Listener>> = old.into_iter().map(Some).collect();
    // Each listener of the new set, and whether it was opened just now.
    let mut out: Vec<(Listener, bool)> = Vec::new();
    let restore = |keep: Vec<Option<Listener>>, out: Vec<(Listener, bool)>| -> Vec<Listener> {
        // Sockets opened before the failure are dropped (closed) here.
        keep.into_iter().flatten().chain(out.into_iter().filter(|(_, new)| !new).map(|(l, _)| l)).collect()
    };
    for spec in &settings.listen {
        let wanted = match resolve(spec) {
            Ok(a) => a,
            Err(e) => return Err((restore(keep, out), e)),
        };
        let reused = keep.iter_mut().find(|l| {
            l.as_ref().is_some_and(|l| l.addr == wanted || (wanted.port() == 0 && l.addr.ip() == wanted.ip()))
        });
        if let Some(slot) = reused {
            out.push((slot.take().expect("matched a listener"), false));
            continue;
        }
        let backlog = i32::try_from(settings.listen_backlog).unwrap_or(i32::MAX);
        match open(wanted, backlog, settings) {
            Ok(socket) => {
                let addr = socket.local_addr().unwrap_or(wanted);
                out.push((Listener { socket, addr, protocol: spec.protocol.clone() }, true));
            }
            Err(e) => {
                let message = format!(
                    "({}){}: AH00072: make_sock: could not bind to address {}",
                    e as i32,
                    e.desc(),
                    display(wanted)
                );
                return Err((restore(keep, out), message));
            }
        }
    }
    if out.is_empty() {
        return Err((restore(keep, out), "AH00015: no listening sockets available".into()));
    }
    Ok(out.into_iter().map(|(l, _)| l).collect())
}

/// `[::]:port` for a port-only Listen (IPv4 too, through mapped addresses),
/// the first address a host name resolves to otherwise.
fn resolve(spec: &ListenSpec) -> Result<SocketAddr, String> {
    if spec.host.is_empty() || spec.host == "*" {
        return Ok(if ipv6_available() {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), spec.port)
        } else {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), spec.port)
        });
    }
    if let Ok(ip) = spec.host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, spec.port));
    }
    (spec.host.as_str(), spec.port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| format!("AH00077: alloc_listener: failed to get a socket address for {}", spec.host))
}

fn ipv6_available() -> bool {
    socket(AddressFamily::Inet6, SockType::Stream, SockFlag::SOCK_CLOEXEC, None).is_ok()
}

fn open(addr: SocketAddr, backlog: i32, settings: &Settings) -> nix::Result<TcpListener> {
    let family = if addr.is_ipv6() { AddressFamily::Inet6 } else { AddressFamily::Inet };
    let fd: OwnedFd = socket(family, SockType::Stream, SockFlag::SOCK_CLOEXEC, None)?;
    setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    if addr.is_ipv6() {
        // A wildcard IPv6 socket takes IPv4 too, as Debian's httpd
        // (built with IPv4-mapped addresses); a specific one only itself.
        let unspecified = addr.ip().is_unspecified();
        setsockopt(&fd, sockopt::Ipv6V6Only, &!unspecified)?;
    }
    // SendBufferSize / ReceiveBufferSize (0 keeps the OS default); accepted
    // sockets inherit them.
    if settings.send_buffer_size > 0 {
        setsockopt(&fd, sockopt::SndBuf, &(settings.send_buffer_size as usize))?;
    }
    if settings.receive_buffer_size > 0 {
        setsockopt(&fd, sockopt::RcvBuf, &(settings.receive_buffer_size as usize))?;
    }
    bind(std::os::fd::AsRawFd::as_raw_fd(&fd), &SockaddrStorage::from(addr))?;
    listen(&fd, Backlog::new(backlog).unwrap_or(Backlog::MAXCONN))?;
    Ok(TcpListener::from(fd))
}

fn display(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
        SocketAddr::V4(a) => a.to_string(),
    }
}
