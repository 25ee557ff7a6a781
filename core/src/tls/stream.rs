//! A TLS connection as a [`Transport`]: rustls over a non-blocking socket,
//! so the engine, the drivers and every MPM drive it as they drive plain
//! TCP.
//!
//! rustls is used through its buffered API: `read` feeds it what the
//! socket has and hands out plaintext; `write_vectored` encrypts into its
//! buffer and writes what the socket takes. Ciphertext the socket did not
//! take yet stays in rustls's buffer and is never forgotten: `flush_pending`
//! reports it, and the engine reports `WriteBlocked` until it is out (after
//! a response, before waiting to read, before a close), so a driver waits
//! for POLLOUT, also when the handshake's own flight is what waits. Files
//! cannot go by sendfile or from a mapping (rustls must read the bytes to
//! encrypt them): `send_file` and `write_mapped` decline, and the writer
//! reads them into its reused buffer instead.

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;

use rustls::ServerConnection;

use super::plain;
use crate::http::TlsInfo;
use crate::http::output::{Transport, WriteState};

pub struct TlsStream {
    tcp: TcpStream,
    tls: ServerConnection,
    /// The first byte has been looked at (TLS or plain HTTP).
    checked: bool,
    /// Plain HTTP came: clear text from here on, for the 400 and the close.
    plain: bool,
    /// The handshake failed or was cut short; logged once.
    failed: bool,
    /// Our close_notify and FIN are sent: what still comes is drained raw
    /// (lingering close), not decrypted.
    closing: bool,
    remote: SocketAddr,
    /// The address's default server, `name:port`, for log lines.
    server: Arc<str>,
}

impl TlsStream {
    pub fn new(tcp: TcpStream, tls: ServerConnection, remote: SocketAddr, server: Arc<str>) -> TlsStream {
        TlsStream { tcp, tls, checked: false, plain: false, failed: false, closing: false, remote, server }
    }

    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// Still in the handshake (nothing decrypted can come yet).
    pub fn is_handshaking(&self) -> bool {
        !self.plain && self.tls.is_handshaking()
    }

    /// Writes what rustls holds of ciphertext, as far as the socket takes.
    fn flush_tls(&mut self) -> io::Result<WriteState> {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut self.tcp) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(WriteState::Blocked),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(WriteState::Done)
    }

    /// The first byte: a TLS record, or plain HTTP (the 400 follows).
    fn check_first_byte(&mut self) -> io::Result<()> {
        let mut first = [0u8; 1];
        let n = loop {
            match self.tcp.peek(&mut first) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => break other?,
            }
        };
        if n == 1 {
            self.checked = true;
            if plain::looks_like_http(first[0]) {
                self.plain = true;
                self.failed = true;
                log::info!(
                    target: "ssl",
                    "[client {}] AH01996: SSL handshake failed: HTTP spoken on HTTPS port; trying to send HTML error page",
                    self.remote
                );
                return Err(plain::error());
            }
        }
        Ok(())
    }

    /// The handshake (or a record) was refused: rustls has queued its alert,
    /// which goes out before the close. Logged as mod_ssl logs it.
    fn refused(&mut self, e: rustls::Error) -> io::Error {
        if !std::mem::replace(&mut self.failed, true) {
            let when = if self.tls.is_handshaking() { "in handshake" } else { "" };
            log::info!(
                target: "ssl",
                "[client {}] AH02008: SSL library error 1 {when} (server {})",
                self.remote,
                self.server
            );
            log::info!(target: "ssl", "SSL Library Error: {e}");
        }
        let _ = self.flush_tls();
        io::Error::new(io::ErrorKind::InvalidData, e)
    }

    /// The client closed in the middle of the handshake.
    fn cut_short(&mut self) {
        if self.tls.is_handshaking() && !std::mem::replace(&mut self.failed, true) {
            log::debug!(
                target: "ssl",
                "[client {}] AH02006: SSL handshake stopped: connection was closed",
                self.remote
            );
        }
    }
}

impl Transport for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.plain || self.closing {
            return Read::read(&mut self.tcp, buf);
        }
        if !self.checked {
            self.check_first_byte()?;
        }
        loop {
            match self.tls.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    self.cut_short();
                    return Err(e);
                }
            }
            // Our flight first: the client waits for it before sending more.
            self.flush_tls()?;
            match self.tls.read_tls(&mut self.tcp) {
                Ok(0) => {
                    // rustls now knows of the end: the reader says whether
                    // it was clean (close_notify) or not.
                    self.cut_short();
                    if self.tls.is_handshaking() {
                        return Ok(0);
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            if let Err(e) = self.tls.process_new_packets() {
                return Err(self.refused(e));
            }
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        if self.plain {
            return Write::write_vectored(&mut self.tcp, bufs);
        }
        if self.flush_tls()? == WriteState::Blocked {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = self.tls.writer().write_vectored(bufs)?;
        if n == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        // What the socket does not take now waits in rustls's buffer, which
        // `flush_pending` reports.
        self.flush_tls()?;
        Ok(n)
    }

    fn flush_pending(&mut self) -> io::Result<WriteState> {
        if self.plain { Ok(WriteState::Done) } else { self.flush_tls() }
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        if !self.plain && !self.tls.is_handshaking() {
            // close_notify, best effort: the socket takes a small record.
            self.tls.send_close_notify();
            let _ = self.flush_tls();
        }
        self.closing = true;
        self.tcp.shutdown(Shutdown::Write)
    }

    fn tls(&self) -> Option<TlsInfo> {
        if self.plain || self.tls.is_handshaking() {
            return None;
        }
        let protocol = match self.tls.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
            _ => "",
        };
        let cipher =
            self.tls.negotiated_cipher_suite().map_or("", |s| super::ciphers::openssl_name(s.suite()));
        Some(TlsInfo { protocol, cipher })
    }
}
