//! A TCP proxy on loopback in front of a server that cuts connections in the middle
//! of a response: what a dropped connection mid-read looks like to a client.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

pub struct CuttingProxy {
    pub port: u16,
    cut: Arc<AtomicUsize>,
}

impl CuttingProxy {
    /// Forwards every connection to `127.0.0.1:upstream`; of the connections that
    /// send more than `after` bytes back, the first `times` are cut (both ways) as
    /// they pass it.
    pub fn start(upstream: u16, after: usize, times: usize) -> CuttingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("address").port();
        let cut = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&cut);
        // Ends with the test process: a thread blocked in accept holds nothing else.
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let counted = Arc::clone(&counted);
                std::thread::spawn(move || forward(client, server, after, times, &counted));
            }
        });
        CuttingProxy { port, cut }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many connections were cut so far.
    pub fn cuts(&self) -> usize {
        self.cut.load(Ordering::SeqCst)
    }
}

/// Copies `client`'s bytes to `server` (on a thread of its own) and `server`'s back,
/// cutting both as more than `after` bytes have gone back, if fewer than `times`
/// connections were cut before (`cut` counts them).
fn forward(client: TcpStream, server: TcpStream, after: usize, times: usize, cut: &AtomicUsize) {
    let (Ok(mut to_server), Ok(mut from_client)) = (server.try_clone(), client.try_clone()) else {
        return;
    };
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut to_server);
        let _ = to_server.shutdown(Shutdown::Write);
    });
    let (mut from_server, mut to_client) = (server, client);
    let mut sent = 0usize;
    let mut buffer = [0u8; 8192];
    loop {
        let n = match from_server.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let crossing = sent <= after && sent + n > after;
        let cutting = crossing
            && cut
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| {
                    (c < times).then_some(c + 1)
                })
                .is_ok();
        if cutting {
            // The bytes up to the mark, then nothing: a response cut short.
            let _ = to_client.write_all(&buffer[..after - sent]);
            let _ = to_client.shutdown(Shutdown::Both);
            let _ = from_server.shutdown(Shutdown::Both);
            return;
        }
        sent += n;
        if to_client.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = to_client.shutdown(Shutdown::Write);
}
