//! What the load generator's connections run over: plain TCP, or TLS on top of it. The load
//! threads are generic over it, so the plain scenarios run the very code they ran before TLS
//! (no per-connection branch, no extra allocation), and a TLS connection reads and writes
//! like a socket: HTTP bytes in, HTTP bytes out, WouldBlock when it has to wait.

use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use rustls::ClientConnection;

use super::tls;

pub(crate) trait Transport: Read + Write + mio::event::Source + Sized {
    /// What a new connection needs besides the address.
    type Connector: Sync;

    /// Starts a non-blocking connect.
    fn connect(addr: SocketAddr, connector: &Self::Connector) -> io::Result<Self>;

    /// The socket underneath, for its connect outcome.
    fn tcp(&self) -> &TcpStream;

    /// Whether the connection resumed a TLS session.
    fn resumed(&self) -> bool;
}

impl Transport for TcpStream {
    type Connector = ();

    fn connect(addr: SocketAddr, _: &()) -> io::Result<TcpStream> {
        TcpStream::connect(addr)
    }

    fn tcp(&self) -> &TcpStream {
        self
    }

    fn resumed(&self) -> bool {
        false
    }
}

/// A rustls client connection over a non-blocking socket.
///
/// `write` hands the request to rustls (which holds it until the handshake is done) and sends
/// whatever TLS records are queued; `read` first sends what is still queued (the ClientHello,
/// the client's Finished, the request), then reads records until plaintext comes out or the
/// socket would block. A protocol error is `InvalidData`, which the load generator counts as
/// a TLS error.
pub(crate) struct TlsStream {
    tcp: TcpStream,
    tls: ClientConnection,
}

impl Transport for TlsStream {
    type Connector = tls::Client;

    fn connect(addr: SocketAddr, client: &tls::Client) -> io::Result<TlsStream> {
        Ok(TlsStream { tcp: TcpStream::connect(addr)?, tls: client.connection()? })
    }

    fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    fn resumed(&self) -> bool {
        self.tls.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
    }
}

impl TlsStream {
    /// Sends queued TLS records as far as the socket takes them; the rest goes with the next
    /// read or write (an edge-triggered writable event leads to one of them).
    fn send_queued(&mut self) -> io::Result<()> {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut self.tcp) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.tls.writer().write(buf)?;
        self.send_queued()?;
        if n == 0 && !buf.is_empty() {
            // rustls's buffer is full: wait for the socket to drain it.
            return Err(ErrorKind::WouldBlock.into());
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_queued()
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.tls.reader().read(buf) {
                // 0: the server's close_notify.
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                // The socket ended without close_notify: the end of the connection as far as
                // HTTP goes, which decides whether a response was cut short.
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            self.send_queued()?;
            // Ok(0) is the end of the socket: the reader reports it on the next round.
            self.tls.read_tls(&mut self.tcp)?;
            self.tls.process_new_packets().map_err(|e| io::Error::new(ErrorKind::InvalidData, e))?;
        }
    }
}

impl mio::event::Source for TlsStream {
    fn register(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
        self.tcp.register(registry, token, interests)
    }

    fn reregister(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
        self.tcp.reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        self.tcp.deregister(registry)
    }
}
