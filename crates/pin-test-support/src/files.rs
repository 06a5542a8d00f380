//! A loopback HTTP server that serves fixed bodies by path (a producer's published catalog,
//! say), and a 404 for anything else.

use tokio::io::AsyncWriteExt;

use crate::server::{read_head, LoopbackServer};

/// The running server; stops when dropped.
pub struct FileServer {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    _server: LoopbackServer,
}

impl FileServer {
    /// Serve each `(path, body)` of `files` (`path` as in the request line, `/x.json`) with
    /// status 200, every other path with 404.
    pub fn start(files: Vec<(String, Vec<u8>)>) -> FileServer {
        let files = std::sync::Arc::new(files);
        let server = LoopbackServer::start(move |mut stream| {
            let files = files.clone();
            async move {
                let Some(head) = read_head(&mut stream).await else {
                    return;
                };
                let head = String::from_utf8_lossy(&head);
                let path = head.split_whitespace().nth(1).unwrap_or_default();
                let (status, body) = match files.iter().find(|(p, _)| p == path) {
                    Some((_, body)) => ("200 OK", body.clone()),
                    None => ("404 Not Found", b"not found\n".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body).await;
                let _ = stream.shutdown().await;
            }
        });
        FileServer {
            addr: server.addr.clone(),
            _server: server,
        }
    }
}
