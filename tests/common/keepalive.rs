//! A loopback HTTP/1.1 server that keeps connections open between requests (unlike
//! `MockServer`, which closes each one) and records the client's TCP port for each
//! request, so a test can tell whether two requests came on the same connection.
//!
//! Every reply has a `content-length`, so the client can reuse the connection. A
//! `connect_delay` is slept once per new connection before its first request is read:
//! the cost of a connection to a far server (a TCP and TLS handshake).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// One request: its target and the client's port.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub path: String,
    pub peer_port: u16,
}

/// What to answer: a status, a content type and the whole body.
pub type Route = dyn Fn(&str) -> (u16, &'static str, String) + Send + Sync;

/// A running server; dropping it stops it.
pub struct KeepAliveServer {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl KeepAliveServer {
    /// Serves every request with `route(path)`.
    pub fn start(route: Box<Route>, connect_delay: Duration) -> KeepAliveServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("the listener's address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (shutdown, stop) = oneshot::channel();
        let recorded = Arc::clone(&seen);
        let route: Arc<Route> = Arc::from(route);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("the server's runtime");
            runtime.block_on(serve(listener, route, recorded, connect_delay, stop));
        });
        KeepAliveServer {
            addr,
            seen,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Drop for KeepAliveServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    route: Arc<Route>,
    seen: Arc<Mutex<Vec<Seen>>>,
    connect_delay: Duration,
    mut stop: oneshot::Receiver<()>,
) {
    let listener = TcpListener::from_std(listener).expect("register the listener");
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let Ok((socket, peer)) = accepted else { continue };
                let (route, seen) = (Arc::clone(&route), Arc::clone(&seen));
                tokio::spawn(async move {
                    tokio::time::sleep(connect_delay).await;
                    connection(socket, peer.port(), route, seen).await;
                });
            }
        }
    }
}

/// Serves requests on one connection until the client closes it.
async fn connection(
    mut socket: TcpStream,
    peer_port: u16,
    route: Arc<Route>,
    seen: Arc<Mutex<Vec<Seen>>>,
) {
    let _ = socket.set_nodelay(true);
    let mut buf = Vec::new();
    while let Some(path) = read_request(&mut socket, &mut buf).await {
        let (status, content_type, body) = route(&path);
        seen.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Seen { path, peer_port });
        let reply = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if socket.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Reads one request (head and `content-length` body) from `socket`, keeping any
/// bytes past it in `buf`; its target, or `None` once the client hung up.
async fn read_request(socket: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        fill(socket, buf).await?;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let path = head.split_whitespace().nth(1)?.to_owned();
    let length: usize = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + 4 + length {
        fill(socket, buf).await?;
    }
    buf.drain(..head_end + 4 + length);
    Some(path)
}

async fn fill(socket: &mut TcpStream, buf: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 4096];
    match socket.read(&mut chunk).await {
        Ok(0) | Err(_) => None,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Some(())
        }
    }
}
