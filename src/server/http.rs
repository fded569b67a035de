//! A small HTTP/1.1 server on a real socket: one thread per connection (bounded), keep-alive, bodies by
//! `Content-Length` or `Transfer-Encoding: chunked`, `Expect: 100-continue`.
//!
//! Why not tiny_http: fault injection needs to close a connection *without any reply* (a lost response,
//! `--drop-rate`), and tiny_http always answers a dropped `Request` with a 500. Owning the socket also lets
//! tests check the bytes on the wire. A thread per connection keeps long polls (`timeout=30`) from blocking
//! other clients, which a fixed pool cannot promise with keep-alive clients holding idle connections.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Largest accepted request head (request line + headers), bytes.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Largest accepted request body, bytes (a 20-problem batch on a 5760-qubit chip is a few MB).
const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;
/// Idle keep-alive timeout: a connection with no new request for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

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
    accept_thread: Option<JoinHandle<()>>,
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
        let active = Arc::new(AtomicUsize::new(0));
        let next_id = Arc::new(AtomicU64::new(0));
        let (stop2, conns2) = (stop.clone(), conns.clone());
        let max = max_connections.max(1);
        let accept_thread = std::thread::Builder::new()
            .name("qasa-serve-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stop2.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else {
                        // e.g. out of file descriptors: back off instead of spinning.
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    };
                    while active.load(Ordering::SeqCst) >= max && !stop2.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    let id = next_id.fetch_add(1, Ordering::SeqCst);
                    if let Ok(clone) = stream.try_clone() {
                        if let Ok(mut map) = conns2.lock() {
                            map.insert(id, clone);
                        }
                    }
                    active.fetch_add(1, Ordering::SeqCst);
                    let (handler, conns3, active2) =
                        (handler.clone(), conns2.clone(), active.clone());
                    let spawned = std::thread::Builder::new()
                        .name("qasa-serve-conn".into())
                        .spawn(move || {
                            serve_connection(stream, &*handler);
                            if let Ok(mut map) = conns3.lock() {
                                map.remove(&id);
                            }
                            active2.fetch_sub(1, Ordering::SeqCst);
                        });
                    if spawned.is_err() {
                        active.fetch_sub(1, Ordering::SeqCst);
                    }
                }
            })?;
        Ok(Listener {
            addr: local,
            stop,
            conns,
            accept_thread: Some(accept_thread),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting, close every open connection, wait for the accept thread.
    pub fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
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

/// Read one request; `Ok(None)` on a clean end of stream (or idle timeout) before a request starts.
fn read_request<R: BufRead, W: Write>(
    reader: &mut R,
    writer: &mut W,
) -> Result<Option<Request>, String> {
    let mut line = String::new();
    let mut head_bytes = 0usize;
    // Skip stray empty lines between requests (RFC 9112 §2.2).
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => return Ok(None),
            Ok(n) => head_bytes += n,
            Err(_) => return Ok(None),
        }
        if !line.trim().is_empty() {
            break;
        }
        if head_bytes > MAX_HEAD_BYTES {
            return Err("request head too large".into());
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
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| format!("reading headers: {e}"))?;
        head_bytes += n;
        if head_bytes > MAX_HEAD_BYTES {
            return Err("request head too large".into());
        }
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
    let query = raw_query
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (percent_decode(k, true), percent_decode(v, true)),
            None => (percent_decode(kv, true), String::new()),
        })
        .collect();
    Ok(Some(Request {
        method,
        path: percent_decode(raw_path, false),
        query,
        headers,
        body,
        http10,
    }))
}

fn read_chunked<R: BufRead>(reader: &mut R) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        reader
            .read_line(&mut line)
            .map_err(|e| format!("reading chunk size: {e}"))?;
        let size_str = line.trim().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size_str, 16)
            .map_err(|_| format!("bad chunk size {size_str:?}"))?;
        if size == 0 {
            // Trailers until an empty line.
            loop {
                line.clear();
                let n = reader
                    .read_line(&mut line)
                    .map_err(|e| format!("reading trailers: {e}"))?;
                if n == 0 || line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        if body.len() + size > MAX_BODY_BYTES {
            return Err(format!(
                "chunked body exceeds the {MAX_BODY_BYTES}-byte limit"
            ));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader
            .read_exact(&mut body[start..])
            .map_err(|e| format!("reading chunk: {e}"))?;
        line.clear();
        reader
            .read_line(&mut line)
            .map_err(|e| format!("reading chunk end: {e}"))?;
    }
}

/// Percent-decode; `plus_is_space` for query components.
pub fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn write_response<W: Write>(w: &mut W, resp: &Response, close: bool) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
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
        assert_eq!(percent_decode("%zz%4", false), "%zz%4");
        assert_eq!(percent_decode("a%2Fb", false), "a/b");
    }
}
