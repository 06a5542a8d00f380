//! A loopback HTTP proxy in front of a real registry that injects faults: delays, error
//! statuses, rewritten or removed headers. One request per connection (`Connection: close`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::server::{read_head, LoopbackServer};

/// What to do with one request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Wait, then forward.
    Delay(Duration),
    /// Answer with this status and headers without forwarding.
    Status(u16, Vec<(String, String)>),
    /// Forward, then set this response header to this value.
    SetHeader(String, String),
    /// Forward, then remove this response header.
    RemoveHeader(String),
}

#[derive(Default)]
struct State {
    queue: VecDeque<Fault>,
    always: Option<Fault>,
    log: Vec<String>,
}

/// The running proxy; stops when dropped.
pub struct FaultProxy {
    /// `127.0.0.1:PORT` to use as the registry address.
    pub addr: String,
    state: Arc<Mutex<State>>,
    _server: LoopbackServer,
}

impl FaultProxy {
    /// Proxies to `upstream` (`127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> Self {
        let state: Arc<Mutex<State>> = Arc::default();
        let shared = Arc::clone(&state);
        let upstream = upstream.to_owned();
        let server = LoopbackServer::start(move |stream| {
            let shared = Arc::clone(&shared);
            let upstream = upstream.clone();
            async move { handle(stream, &upstream, &shared).await }
        });
        Self {
            addr: server.addr.clone(),
            state,
            _server: server,
        }
    }

    /// Applies `faults` to the next requests, one each, in order.
    pub fn queue(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state.lock().expect("lock").queue.extend(faults);
    }

    /// Applies `fault` to every request once the queue is empty (`None` clears it).
    pub fn always(&self, fault: Option<Fault>) {
        self.state.lock().expect("lock").always = fault;
    }

    /// `METHOD path -> status` of every request seen so far.
    pub fn log(&self) -> Vec<String> {
        self.state.lock().expect("lock").log.clone()
    }
}

/// Splits a raw response into (head lines, body).
fn split_response(raw: &[u8]) -> (Vec<String>, Vec<u8>) {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..end]);
    let body = raw.get(end + 4..).unwrap_or_default().to_vec();
    (head.split("\r\n").map(str::to_owned).collect(), body)
}

async fn handle(mut client: tokio::net::TcpStream, upstream: &str, state: &Mutex<State>) {
    let Some(request) = read_head(&mut client).await else {
        return;
    };
    let request_text = String::from_utf8_lossy(&request).into_owned();
    let first = request_text.lines().next().unwrap_or_default().to_owned();
    let fault = {
        let mut s = state.lock().expect("lock");
        s.queue.pop_front().or_else(|| s.always.clone())
    };
    if let Some(Fault::Delay(d)) = &fault {
        tokio::time::sleep(*d).await;
    }
    let response: Vec<u8> = if let Some(Fault::Status(code, headers)) = &fault {
        let mut r =
            format!("HTTP/1.1 {code} Injected\r\nContent-Length: 0\r\nConnection: close\r\n");
        for (k, v) in headers {
            r.push_str(&format!("{k}: {v}\r\n"));
        }
        r.push_str("\r\n");
        r.into_bytes()
    } else {
        // Forward with Connection: close so that the upstream ends the response with EOF.
        let mut lines: Vec<&str> = request_text
            .split("\r\n")
            .take_while(|l| !l.is_empty())
            .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
            .collect();
        lines.push("Connection: close");
        let forwarded = format!("{}\r\n\r\n", lines.join("\r\n"));
        let Ok(mut up) = tokio::net::TcpStream::connect(upstream).await else {
            return;
        };
        if up.write_all(forwarded.as_bytes()).await.is_err() {
            return;
        }
        let mut raw = Vec::new();
        if up.read_to_end(&mut raw).await.is_err() {
            return;
        }
        let (mut head, body) = split_response(&raw);
        match &fault {
            Some(Fault::SetHeader(name, value)) => {
                head.retain(|l| !header_is(l, name));
                head.push(format!("{name}: {value}"));
            }
            Some(Fault::RemoveHeader(name)) => head.retain(|l| !header_is(l, name)),
            _ => {}
        }
        head.retain(|l| !header_is(l, "connection"));
        head.push("Connection: close".into());
        let mut out = format!("{}\r\n\r\n", head.join("\r\n")).into_bytes();
        out.extend_from_slice(&body);
        out
    };
    let status = String::from_utf8_lossy(&response)
        .split_whitespace()
        .nth(1)
        .unwrap_or("?")
        .to_owned();
    state
        .lock()
        .expect("lock")
        .log
        .push(format!("{first} -> {status}"));
    let _ = client.write_all(&response).await;
    let _ = client.shutdown().await;
}

fn header_is(line: &str, name: &str) -> bool {
    line.split_once(':')
        .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case(name))
}
