//! What a driver hands the engine: plain TCP, or TLS when the server in
//! charge of the connection's address has `SSLEngine on` (httpd decides it
//! per address the same way, from the connection's base server).

use std::io::{self, IoSlice};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use super::stream::TlsStream;
use crate::http::TlsInfo;
use crate::http::file_map::FileMap;
use crate::http::output::{Transport, WriteState};
use crate::server::ServerContext;
use crate::vhost::Binding;

pub enum Socket {
    Plain(TcpStream),
    /// Boxed: a rustls connection is a few hundred bytes more than a socket.
    Tls(Box<TlsStream>),
}

impl Socket {
    /// Wraps an accepted connection as its address calls for.
    pub fn new(
        tcp: TcpStream,
        remote: SocketAddr,
        binding: Binding,
        ctx: &ServerContext,
    ) -> io::Result<Socket> {
        match ctx.tls.accept(binding) {
            None => Ok(Socket::Plain(tcp)),
            Some((tls, server)) => Ok(Socket::Tls(Box::new(TlsStream::new(tcp, tls?, remote, server)))),
        }
    }

    pub fn tcp(&self) -> &TcpStream {
        match self {
            Socket::Plain(tcp) => tcp,
            Socket::Tls(tls) => tls.tcp(),
        }
    }

    pub fn is_tls(&self) -> bool {
        matches!(self, Socket::Tls(_))
    }
}

impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.tcp().as_raw_fd()
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.tcp().as_fd()
    }
}

impl Transport for Socket {
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Socket::Plain(tcp) => Transport::read(tcp, buf),
            Socket::Tls(tls) => tls.read(buf),
        }
    }

    #[inline]
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Socket::Plain(tcp) => Transport::write_vectored(tcp, bufs),
            Socket::Tls(tls) => tls.write_vectored(bufs),
        }
    }

    #[inline]
    fn write_more(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Socket::Plain(tcp) => tcp.write_more(buf),
            Socket::Tls(tls) => tls.write_more(buf),
        }
    }

    #[inline]
    fn send_file(&mut self, file: &std::fs::File, offset: u64, len: usize) -> io::Result<Option<usize>> {
        match self {
            Socket::Plain(tcp) => tcp.send_file(file, offset, len),
            Socket::Tls(_) => Ok(None),
        }
    }

    #[inline]
    fn write_mapped(&mut self, head: &[u8], map: &FileMap, from: usize) -> io::Result<Option<usize>> {
        match self {
            Socket::Plain(tcp) => tcp.write_mapped(head, map, from),
            Socket::Tls(_) => Ok(None),
        }
    }

    #[inline]
    fn flush_pending(&mut self) -> io::Result<WriteState> {
        match self {
            Socket::Plain(_) => Ok(WriteState::Done),
            Socket::Tls(tls) => tls.flush_pending(),
        }
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        match self {
            Socket::Plain(tcp) => tcp.shutdown_write(),
            Socket::Tls(tls) => tls.shutdown_write(),
        }
    }

    #[inline]
    fn tls(&self) -> Option<TlsInfo> {
        match self {
            Socket::Plain(_) => None,
            Socket::Tls(tls) => tls.tls(),
        }
    }
}
