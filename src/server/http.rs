//! A small HTTP/1.1 server on a real socket: one thread per connection (bounded), keep-alive, bodies by
//! `Content-Length` or `Transfer-Encoding: chunked`, `Expect: 100-continue`.
//!
//! Why not tiny_http: fault injection needs to close a connection *without any reply* (a lost response,
//! `--drop-rate`), and tiny_http always answers a dropped `Request` with a 500. Owning the socket also lets
//! tests check the bytes on the wire. A thread per connection keeps long polls (`timeout=30`) from blocking
//! other clients, which a fixed pool cannot promise with keep-alive clients holding idle connections.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Largest accepted request head (request line + headers), bytes.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Largest accepted request body, bytes (a 20-problem batch on a 5760-qubit chip is a few MB).
const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;
/// Idle keep-alive timeout: a connection with no new request for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest chunk-size or trailer line of a chunked body, bytes.
const MAX_CHUNK_LINE_BYTES: usize = 4096;

/// One parsed request.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path without the query, percent-decoded.
    pub path: String,
    /// Query pairs, percent-decoded (`+` decoded as a space, as form decoding does).
    pub query: Vec<(String, String)>,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// HTTP/1.0 (closes after the reply unless `Connection: keep-alive`).
    pub http10: bool,
}

impl Request {
    /// First header with this (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
    /// First query value with this name.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
        }
    }
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// What the handler wants done with a request.
pub enum Reply {
    Send(Response),
    /// Close the connection without writing anything (fault injection).
    Drop,
}

/// Request handler shared by all connection threads.
pub type Handler = dyn Fn(Request) -> Reply + Send + Sync;

/// A running listener; dropping it does not stop it, call [`Listener::shutdown`].
pub struct Listener {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    conns: Arc<Mutex<HashMap<u64, TcpStream>>>,
    slots: Arc<Slots>,
    accept_thread: Option<JoinHandle<()>>,
}

/// Connection slots: the accept thread blocks (no polling) while all `max` are taken.
struct Slots {
    active: Mutex<usize>,
    freed: Condvar,
    max: usize,
}

impl Slots {
    /// Waits for a free slot and takes it; `false` when the listener stops meanwhile.
    fn acquire(&self, stop: &AtomicBool) -> bool {
        let mut n = self.active.lock().unwrap_or_else(|p| p.into_inner());
        while *n >= self.max && !stop.load(Ordering::SeqCst) {
            n = self.freed.wait(n).unwrap_or_else(|p| p.into_inner());
        }
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        *n += 1;
        true
    }

    fn release(&self) {
        let mut n = self.active.lock().unwrap_or_else(|p| p.into_inner());
        *n = n.saturating_sub(1);
        self.freed.notify_one();
    }

    /// Wakes a waiting accept thread (on shutdown).
    fn wake(&self) {
        let _guard = self.active.lock().unwrap_or_else(|p| p.into_inner());
        self.freed.notify_all();
    }
}

impl Listener {
    /// Bind `addr` and serve every connection with `handler` on its own thread (at most `max_connections`
    /// at once; further connections wait in the kernel backlog until one ends).
    pub fn bind(
        addr: &str,
        handler: Arc<Handler>,
        max_connections: usize,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        let local = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<HashMap<u64, TcpStream>>> = Arc::new(Mutex::new(HashMap::new()));
        let slots = Arc::new(Slots {
            active: Mutex::new(0),
            freed: Condvar::new(),
            max: max_connections.max(1),
        });
        let (stop2, conns2, slots2) = (stop.clone(), conns.clone(), slots.clone());
        let accept_thread = std::thread::Builder::new()
            .name("qasa-serve-accept".into())
            .spawn(move || {
                let mut next_id = 0u64;
                for stream in listener.incoming() {
                    if stop2.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else {
                        // e.g. out of file descriptors: back off instead of spinning.
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    };
                    if !slots2.acquire(&stop2) {
                        break;
                    }
                    let id = next_id;
                    next_id += 1;
                    if let Ok(clone) = stream.try_clone() {
                        if let Ok(mut map) = conns2.lock() {
                            map.insert(id, clone);
                        }
                    }
                    let (handler, conns3, slots3) =
                        (handler.clone(), conns2.clone(), slots2.clone());
                    let spawned = std::thread::Builder::new()
                        .name("qasa-serve-conn".into())
                        .spawn(move || {
                            serve_connection(stream, &*handler);
                            if let Ok(mut map) = conns3.lock() {
                                map.remove(&id);
                            }
                            slots3.release();
                        });
                    if spawned.is_err() {
                        slots2.release();
                    }
                }
            })?;
        Ok(Listener {
            addr: local,
            stop,
            conns,
            slots,
            accept_thread: Some(accept_thread),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting, close every open connection, wait for the accept thread.
    pub fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.slots.wake();
        // Wake the blocking accept() with a throw-away connection.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.accept_thread.take() {
            let _ = t.join();
        }
        if let Ok(map) = self.conns.lock() {
            for s in map.values() {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }
}

fn serve_connection(stream: TcpStream, handler: &Handler) {
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut writer = write_half;
    let mut reader = BufReader::new(stream);
    loop {
        let req = match read_request(&mut reader, &mut writer) {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(msg) => {
                let body = format!(
                    "{{\"error_code\":400,\"error_msg\":{}}}",
                    serde_json::Value::String(msg)
                );
                let resp = Response::new(400, "application/json", body.into_bytes());
                let _ = write_response(&mut writer, &resp, true);
                break;
            }
        };
        let close = wants_close(&req);
        match handler(req) {
            Reply::Send(resp) => {
                if write_response(&mut writer, &resp, close).is_err() || close {
                    break;
                }
            }
            Reply::Drop => {
                let _ = writer.shutdown(Shutdown::Both);
                break;
            }
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
}

fn wants_close(req: &Request) -> bool {
    let conn = req
        .header("connection")
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    conn.contains("close") || (req.http10 && !conn.contains("keep-alive"))
}

/// Reads one line of at most `limit` bytes (newline included) into `line`; `Ok(0)` at end of stream.
/// A longer line is an error, found without reading more than `limit + 1` bytes.
fn read_line_bounded<R: BufRead>(
    reader: &mut R,
    line: &mut String,
    limit: usize,
) -> Result<usize, LineError> {
    line.clear();
    let n = reader
        .by_ref()
        .take(limit as u64 + 1)
        .read_line(line)
        .map_err(LineError::Io)?;
    if n > limit {
        return Err(LineError::TooLong);
    }
    Ok(n)
}

enum LineError {
    Io(std::io::Error),
    TooLong,
}

/// Read one request; `Ok(None)` on a clean end of stream (or idle timeout) before a request starts.
fn read_request<R: BufRead, W: Write>(
    reader: &mut R,
    writer: &mut W,
) -> Result<Option<Request>, String> {
    const TOO_LARGE: &str = "request head too large";
    let mut line = String::new();
    let mut head_bytes = 0usize;
    // Skip stray empty lines between requests (RFC 9112 §2.2).
    loop {
        match read_line_bounded(reader, &mut line, MAX_HEAD_BYTES - head_bytes) {
            Ok(0) | Err(LineError::Io(_)) => return Ok(None),
            Ok(n) => head_bytes += n,
            Err(LineError::TooLong) => return Err(TOO_LARGE.into()),
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("malformed request line {:?}", line.trim_end()));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(format!("unsupported HTTP version {version:?}"));
    }
    let method = method.to_ascii_uppercase();
    let target = target.to_string();
    let http10 = version == "HTTP/1.0";
    let mut headers = Vec::new();
    loop {
        let n = match read_line_bounded(reader, &mut line, MAX_HEAD_BYTES - head_bytes) {
            Ok(n) => n,
            Err(LineError::TooLong) => return Err(TOO_LARGE.into()),
            Err(LineError::Io(e)) => return Err(format!("reading headers: {e}")),
        };
        head_bytes += n;
        if n == 0 {
            return Err("connection closed inside the request head".into());
        }
        let l = line.trim_end_matches(['\r', '\n']);
        if l.is_empty() {
            break;
        }
        let Some((k, v)) = l.split_once(':') else {
            return Err(format!("malformed header line {l:?}"));
        };
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    if get("expect")
        .map(|v| v.eq_ignore_ascii_case("100-continue"))
        .unwrap_or(false)
    {
        writer
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .map_err(|e| format!("writing 100: {e}"))?;
        writer.flush().map_err(|e| format!("writing 100: {e}"))?;
    }
    let chunked = get("transfer-encoding")
        .map(|v| v.to_ascii_lowercase().contains("chunked"))
        .unwrap_or(false);
    let body = if chunked {
        read_chunked(reader)?
    } else if let Some(len) = get("content-length") {
        let len: usize = len
            .trim()
            .parse()
            .map_err(|_| format!("bad Content-Length {len:?}"))?;
        if len > MAX_BODY_BYTES {
            return Err(format!(
                "request body of {len} bytes exceeds the {MAX_BODY_BYTES}-byte limit"
            ));
        }
        let mut body = vec![0u8; len];
        reader
            .read_exact(&mut body)
            .map_err(|e| format!("reading body: {e}"))?;
        body
    } else {
        Vec::new()
    };
    let (raw_path, raw_query) = match target.split_once('?') {
        Some((p, q)) => (p, q),
        None => (target.as_str(), ""),
    };
    let query = form_urlencoded::parse(raw_query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    Ok(Some(Request {
        method,
        path: percent_encoding::percent_decode_str(raw_path)
            .decode_utf8_lossy()
            .into_owned(),
        query,
        headers,
        body,
        http10,
    }))
}

fn read_chunked<R: BufRead>(reader: &mut R) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    let mut line = String::new();
    let next_line = |reader: &mut R, line: &mut String, what: &str| {
        read_line_bounded(reader, line, MAX_CHUNK_LINE_BYTES).map_err(|e| match e {
            LineError::Io(e) => format!("reading {what}: {e}"),
            LineError::TooLong => format!("{what} line longer than {MAX_CHUNK_LINE_BYTES} bytes"),
        })
    };
    loop {
        next_line(reader, &mut line, "chunk size")?;
        let size_str = line.trim().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size_str, 16)
            .map_err(|_| format!("bad chunk size {size_str:?}"))?;
        if size == 0 {
            // Trailers until an empty line.
            loop {
                let n = next_line(reader, &mut line, "trailer")?;
                if n == 0 || line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        if body.len().saturating_add(size) > MAX_BODY_BYTES {
            return Err(format!(
                "chunked body exceeds the {MAX_BODY_BYTES}-byte limit"
            ));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader
            .read_exact(&mut body[start..])
            .map_err(|e| format!("reading chunk: {e}"))?;
        next_line(reader, &mut line, "chunk end")?;
    }
}

fn write_response<W: Write>(w: &mut W, resp: &Response, close: bool) -> std::io::Result<()> {
    let reason = http::StatusCode::from_u16(resp.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Status");
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", resp.status);
    head.push_str(&format!("Server: qasa/{}\r\n", crate::TOOL_VERSION));
    for (k, v) in &resp.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n", resp.body.len()));
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    w.write_all(head.as_bytes())?;
    w.write_all(&resp.body)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn parse(raw: &[u8]) -> Result<Option<Request>, String> {
        let mut r = BufReader::new(Cursor::new(raw.to_vec()));
        let mut w = Vec::new();
        read_request(&mut r, &mut w)
    }

    #[test]
    fn parses_content_length_body_and_query() {
        let req = parse(b"GET /sapi/v2/solvers/remote/X?filter=none%2C%2Bidentity&a=b+c HTTP/1.1\r\nHost: x\r\nAccept: A\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(req.method, "GET");
        assert_eq!(req.path, "/sapi/v2/solvers/remote/X");
        assert_eq!(req.query_value("filter"), Some("none,+identity"));
        assert_eq!(req.query_value("a"), Some("b c"));
        assert_eq!(req.header("ACCEPT"), Some("A"));
        let req = parse(b"POST /p HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")
            .unwrap()
            .unwrap();
        assert_eq!(req.body, b"abc");
    }

    #[test]
    fn reason_phrases_are_the_standard_ones() {
        for (status, line) in [
            (200, "HTTP/1.1 200 OK\r\n"),
            (304, "HTTP/1.1 304 Not Modified\r\n"),
            (415, "HTTP/1.1 415 Unsupported Media Type\r\n"),
            (429, "HTTP/1.1 429 Too Many Requests\r\n"),
            (599, "HTTP/1.1 599 Status\r\n"),
        ] {
            let mut out = Vec::new();
            write_response(
                &mut out,
                &Response::new(status, "text/plain", Vec::new()),
                false,
            )
            .unwrap();
            assert!(
                String::from_utf8(out).unwrap().starts_with(line),
                "{status}"
            );
        }
    }

    #[test]
    fn http10_closes_unless_keep_alive() {
        assert!(wants_close(
            &parse(b"GET / HTTP/1.0\r\n\r\n").unwrap().unwrap()
        ));
        assert!(!wants_close(
            &parse(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                .unwrap()
                .unwrap()
        ));
        assert!(!wants_close(
            &parse(b"GET / HTTP/1.1\r\n\r\n").unwrap().unwrap()
        ));
        assert!(wants_close(
            &parse(b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n")
                .unwrap()
                .unwrap()
        ));
    }

    #[test]
    fn parses_chunked_body() {
        let req = parse(b"POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(req.body, b"abcde");
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(parse(b"GARBAGE\r\n\r\n").is_err());
        assert!(parse(b"GET / HTTP/1.1\r\nContent-Length: zz\r\n\r\n").is_err());
        assert!(parse(b"GET / HTTP/1.1\r\nbad header\r\n\r\n").is_err());
        assert!(parse(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err());
        assert!(parse(b"").unwrap().is_none());
        // Lines are bounded before they are read whole: a head without newlines stops at the limit.
        let endless = vec![b'G'; 10 * MAX_HEAD_BYTES];
        assert_eq!(parse(&endless).unwrap_err(), "request head too large");
        let mut long_header = b"GET / HTTP/1.1\r\nX: ".to_vec();
        long_header.extend(vec![b'a'; MAX_HEAD_BYTES]);
        assert_eq!(parse(&long_header).unwrap_err(), "request head too large");
        let mut long_chunk = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        long_chunk.extend(vec![b'0'; 2 * MAX_CHUNK_LINE_BYTES]);
        assert!(parse(&long_chunk)
            .unwrap_err()
            .starts_with("chunk size line longer than"));
        let req = parse(b"GET /a%2Fb%zz%4?x=%zz%4&y=a+b%2Bc HTTP/1.1\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(req.path, "/a/b%zz%4");
        assert_eq!(req.query_value("x"), Some("%zz%4"));
        assert_eq!(req.query_value("y"), Some("a b+c"));
    }
}
