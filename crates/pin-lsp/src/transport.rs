//! Stdio framing that survives malformed input.
//!
//! tower-lsp-server stops reading for good after the first frame it cannot decode (its framed
//! reader ends on a decoder error), so one broken message from a client or a proxy would end
//! the session. This layer sits between stdio and the server: it reads each frame itself,
//! answers frames that are not JSON-RPC with the proper error (`-32700` parse error, `-32600`
//! invalid request) and passes only well-formed messages on. The server's own output is
//! re-framed onto stdout through the same writer, so the two never interleave mid-frame.
//!
//! Diagnostics, the largest and most frequent messages, skip the framework: the session
//! serialises them once, straight into a frame, and hands the frame to the same writer through
//! an [`Outbox`]. The writer is a thread of its own writing to the stdout descriptor without
//! buffering: tokio's stdout hands every write and flush to its blocking pool, which cost a
//! fraction of a millisecond per publication.

use serde_json::{json, Value};
use std::io::Write;
use std::sync::mpsc;

use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};

/// Size asked for the stdout pipe (the usual `/proc/sys/fs/pipe-max-size`).
const PIPE_BYTES: usize = 1 << 20;

/// Largest body accepted; larger frames are skipped and answered with an error.
const MAX_BODY: usize = 256 * 1024 * 1024;

/// One frame read from a stream.
enum Frame {
    /// A body (its bytes).
    Body(Vec<u8>),
    /// A header block without a usable `Content-Length`, or a body over the limit: skipped.
    Broken(String),
}

/// Read the next frame; `None` at the end of the stream.
async fn read_frame<R: AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<Option<Frame>> {
    let mut length: Option<Result<usize, String>> = None;
    let mut saw_header = false;
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(None);
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if saw_header {
                break;
            }
            // Blank lines between frames are tolerated.
            continue;
        }
        saw_header = true;
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .trim()
                        .parse::<usize>()
                        .map_err(|_| format!("invalid Content-Length `{}`", value.trim())),
                );
            }
        }
    }
    match length {
        Some(Ok(n)) if n <= MAX_BODY => {
            let mut body = vec![0; n];
            reader.read_exact(&mut body).await?;
            Ok(Some(Frame::Body(body)))
        }
        Some(Ok(n)) => {
            let mut rest = reader.take(n as u64);
            tokio::io::copy(&mut rest, &mut tokio::io::sink()).await?;
            Ok(Some(Frame::Broken(format!(
                "message of {n} bytes is over the {MAX_BODY} byte limit"
            ))))
        }
        Some(Err(msg)) => Ok(Some(Frame::Broken(msg))),
        None => Ok(Some(Frame::Broken(
            "missing Content-Length header".to_string(),
        ))),
    }
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

fn error_response(id: Value, code: i64, message: &str) -> Vec<u8> {
    let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    frame(body.to_string().as_bytes())
}

/// Why a body is not a JSON-RPC 2.0 message (with the id to answer to), or `None` if it is.
fn check_message(body: &[u8]) -> Option<(Value, i64, String)> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Some((Value::Null, -32700, format!("Parse error: {e}"))),
    };
    let invalid = |id: Value, why: &str| Some((id, -32600, format!("Invalid request: {why}")));
    let Some(obj) = value.as_object() else {
        return invalid(Value::Null, "not a JSON object");
    };
    let id = obj.get("id").cloned();
    let id_ok = match &id {
        None | Some(Value::Null | Value::String(_)) => true,
        Some(Value::Number(n)) => n.is_i64() || n.is_u64(),
        Some(_) => false,
    };
    let answer_id = if id_ok {
        id.clone().unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    if obj.get("jsonrpc") != Some(&json!("2.0")) {
        return invalid(answer_id, "`jsonrpc` must be \"2.0\"");
    }
    if !id_ok {
        return invalid(Value::Null, "`id` must be a number, a string or null");
    }
    match obj.get("method") {
        Some(Value::String(_)) => {
            if obj
                .get("params")
                .is_some_and(|p| !(p.is_object() || p.is_array() || p.is_null()))
            {
                return invalid(answer_id, "`params` must be an object or an array");
            }
            None
        }
        Some(_) => invalid(answer_id, "`method` must be a string"),
        None if id.is_some() && (obj.contains_key("result") || obj.contains_key("error")) => None,
        None => invalid(
            answer_id,
            "neither a request, a notification nor a response",
        ),
    }
}

/// Pump `input` into `server_in`, answering malformed frames through `out`. Ends at the end of
/// `input` (closing `server_in`, which ends the server).
async fn pump_input<R, W>(input: R, mut server_in: W, out: mpsc::Sender<Vec<u8>>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut reader = BufReader::new(input);
    loop {
        match read_frame(&mut reader).await {
            Ok(Some(Frame::Body(body))) => match check_message(&body) {
                None => {
                    if server_in.write_all(&frame(&body)).await.is_err() {
                        return;
                    }
                }
                Some((id, code, msg)) => {
                    tracing::warn!("dropping a malformed message: {msg}");
                    let _ = out.send(error_response(id, code, &msg));
                }
            },
            Ok(Some(Frame::Broken(msg))) => {
                tracing::warn!("dropping a malformed frame: {msg}");
                let _ = out.send(error_response(
                    Value::Null,
                    -32700,
                    &format!("Parse error: {msg}"),
                ));
            }
            Ok(None) => break,
            Err(e) => {
                tracing::error!("cannot read from the client: {e}");
                break;
            }
        }
    }
    let _ = server_in.shutdown().await;
}

/// Copy the server's frames into `out`.
async fn pump_output<R: AsyncRead + Unpin>(server_out: R, out: mpsc::Sender<Vec<u8>>) {
    let mut reader = BufReader::new(server_out);
    while let Ok(Some(frame_read)) = read_frame(&mut reader).await {
        if let Frame::Body(body) = frame_read {
            if out.send(frame(&body)).is_err() {
                return;
            }
        }
    }
}

/// Write frames to `output` in the order they arrive (blocking: runs on its own thread).
fn write_output<W: Write>(mut output: W, rx: mpsc::Receiver<Vec<u8>>) {
    while let Ok(bytes) = rx.recv() {
        if let Err(e) = output.write_all(&bytes).and_then(|()| output.flush()) {
            tracing::error!("cannot write to the client: {e}");
            return;
        }
    }
}

/// Sends whole messages to the client, in order with everything else the server writes.
#[derive(Clone)]
pub struct Outbox(mpsc::Sender<Vec<u8>>);

impl Outbox {
    /// Send one message body (a serialised JSON-RPC message); false when the output is closed.
    pub fn send(&self, body: &[u8]) -> bool {
        self.0.send(frame(body)).is_ok()
    }
}

/// The streams to hand to `tower_lsp_server::Server::new`: stdin and stdout behind the
/// validating layer, and an [`Outbox`] onto stdout. The pumps run as tasks of the current
/// runtime, the writer on a thread of its own.
pub fn guarded_stdio() -> std::io::Result<(tokio::io::DuplexStream, tokio::io::DuplexStream, Outbox)>
{
    use std::os::fd::AsFd as _;
    // The descriptor itself, not `Stdout`'s line buffer: a frame is one write.
    let stdout = std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned()?);
    // A pipe that holds a whole publication: the writer does not wait for the client to read
    // each 64 KiB of it. Not a pipe, or not allowed: the default size stays.
    let _ = rustix::pipe::fcntl_setpipe_size(&stdout, PIPE_BYTES);
    guard(tokio::io::stdin(), stdout)
}

/// [`guarded_stdio`] over any input stream and output writer.
pub fn guard<R, W>(
    input: R,
    output: W,
) -> std::io::Result<(tokio::io::DuplexStream, tokio::io::DuplexStream, Outbox)>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: Write + Send + 'static,
{
    let (server_in, to_server) = tokio::io::duplex(1 << 16);
    let (server_out, from_server) = tokio::io::duplex(1 << 16);
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("pin-lsp-output".to_string())
        .spawn(move || write_output(output, rx))?;
    tokio::spawn(pump_input(input, to_server, tx.clone()));
    tokio::spawn(pump_output(from_server, tx.clone()));
    Ok((server_in, server_out, Outbox(tx)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_bodies() {
        let code = |b: &str| check_message(b.as_bytes()).map(|(_, c, _)| c);
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"method":"x","params":{}}"#),
            None
        );
        assert_eq!(code(r#"{"jsonrpc":"2.0","method":"x"}"#), None);
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":"a","result":null}"#), None);
        assert_eq!(code(r#"{"bad": }"#), Some(-32700));
        assert_eq!(code("[1,2]"), Some(-32600));
        assert_eq!(code(r#"{"hello":"world"}"#), Some(-32600));
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":1,"method":5}"#), Some(-32600));
        assert_eq!(
            code(r#"{"jsonrpc":"1.0","id":1,"method":"x"}"#),
            Some(-32600)
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":{},"method":"x"}"#),
            Some(-32600)
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"method":"x","params":3}"#),
            Some(-32600)
        );
        let (id, _, _) = check_message(br#"{"jsonrpc":"2.0","id":7,"method":3}"#).expect("bad");
        assert_eq!(id, json!(7));
    }

    #[tokio::test]
    async fn frames_survive_garbage_between_them() {
        let input = b"Content-Length: 2\r\n\r\n{}\r\nX-Junk: 1\r\n\r\nContent-Length: 27\r\nContent-Type: x\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":null}".to_vec();
        let mut reader = BufReader::new(&input[..]);
        let mut kinds = Vec::new();
        while let Some(f) = read_frame(&mut reader).await.expect("read") {
            kinds.push(match f {
                Frame::Body(b) => String::from_utf8(b).expect("utf8"),
                Frame::Broken(m) => format!("broken: {m}"),
            });
        }
        assert_eq!(
            kinds,
            [
                "{}",
                "broken: missing Content-Length header",
                "{\"jsonrpc\":\"2.0\",\"id\":null}"
            ]
        );
    }
}
