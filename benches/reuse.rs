//! Time to first token of a conversation's second turn, with the app's long-lived
//! providers (turn 2 reuses turn 1's connection) and with a provider built for each
//! turn, as duel did before. A loopback server stands in for a vendor: each new
//! connection costs it a set delay before it answers, as a TCP + TLS handshake to a
//! real endpoint does (often 100–300 ms); a request on a kept connection does not.
//!
//!   cargo bench --bench reuse

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a bench fails loudly

use std::time::{Duration, Instant};

use duel::config::{Endpoint, ModelSpec, WireKind};
use duel::domain::{Message, Role, StreamEvent};
use duel::provider::{self, ChatRequest, Providers};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What a new connection costs at the server.
const HANDSHAKES: [Duration; 2] = [Duration::from_millis(30), Duration::from_millis(120)];
/// Conversations measured per case.
const RUNS: usize = 15;

const ANSWER: &str = concat!(
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    "data: [DONE]\n\n",
);

#[tokio::main]
async fn main() {
    println!("time to first token of turn 2 (median of {RUNS} conversations)");
    println!(
        "| new-connection cost | built per turn (before) | kept (duel now) | kept ÷ before | saved |"
    );
    println!("|---|---|---|---|---|");
    for handshake in HANDSHAKES {
        let url = serve(handshake).await;
        let model = ModelSpec::new(
            "bench",
            "local",
            "bench-model",
            Endpoint {
                api_key: Some("sk-bench-not-a-key".into()),
                ..Endpoint::new(WireKind::OpenAi, &url)
            },
        );
        let per_turn = median(RUNS, || second_turn(&model, false)).await;
        let kept = median(RUNS, || second_turn(&model, true)).await;
        println!(
            "| {} ms | {:.1} ms | {:.2} ms | {:.3}× | {:.1} ms |",
            handshake.as_millis(),
            ms(per_turn),
            ms(kept),
            ms(kept) / ms(per_turn),
            ms(per_turn) - ms(kept),
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn median<F, Fut>(runs: usize, mut one: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Duration>,
{
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        times.push(one().await);
    }
    times.sort();
    times[runs / 2]
}

/// Two turns of a fresh conversation; the second's time to first token.
async fn second_turn(model: &ModelSpec, keep: bool) -> Duration {
    let mut providers = Providers::default();
    let mut ttft = Duration::ZERO;
    for _ in 0..2 {
        let provider = if keep {
            providers.get(model)
        } else {
            provider::build(model)
        };
        let request = ChatRequest::for_model(model, vec![Message::new(Role::User, "hi")]);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let started = Instant::now();
        let drive = provider::stream(provider.as_ref(), &request, tx);
        let first = async {
            let mut first = None;
            while let Some(event) = rx.recv().await {
                if matches!(event, StreamEvent::Text(_)) && first.is_none() {
                    first = Some(started.elapsed());
                }
            }
            first.expect("an answer")
        };
        let ((), first) = tokio::join!(drive, first);
        ttft = first;
    }
    ttft
}

/// A keep-alive server on a loopback port that pauses `handshake` on each new
/// connection and answers every request with the same short stream.
async fn serve(handshake: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(connection(socket, handshake));
        }
    });
    url
}

async fn connection(mut socket: TcpStream, handshake: Duration) {
    tokio::time::sleep(handshake).await;
    let _ = socket.set_nodelay(true);
    let mut buf = Vec::new();
    loop {
        // One request: its head, then as many body bytes as its content-length says.
        let head_end = loop {
            if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let mut chunk = [0u8; 4096];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        buf.drain(..head_end + length);
        let reply = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\n\r\n{ANSWER}",
            ANSWER.len()
        );
        if socket.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}
