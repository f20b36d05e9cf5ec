//! A fault-injecting HTTP proxy for tests: it forwards each request to the real
//! emulator, except that, while armed, requests containing a pattern get a 503, and
//! while an answer is set, they get that answer (200, JSON) instead.
//! (No emulator can fail, or take its time, on cue; this is the only stand-in the tests use.)
#![allow(dead_code)] // each test binary uses some of it

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The proxy's switches and counters (clones share them).
#[derive(Clone)]
pub struct FaultProxy {
    pub port: u16,
    pub armed: Arc<AtomicBool>,
    pub refused: Arc<AtomicUsize>,
    /// While above zero, matching requests fail even unarmed: odd counts answer 503,
    /// even counts drop the connection without an answer.
    pub budget: Arc<AtomicUsize>,
    /// While set, matching requests are answered 200 with this JSON body, not forwarded.
    pub canned: Arc<Mutex<Option<String>>>,
    /// How many requests got the canned answer.
    pub answered: Arc<AtomicUsize>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`host:port`) failing requests that contain `pattern` while armed.
    pub fn start(upstream: &str, pattern: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let armed = Arc::new(AtomicBool::new(false));
        let refused = Arc::new(AtomicUsize::new(0));
        let budget = Arc::new(AtomicUsize::new(0));
        let canned = Arc::new(Mutex::new(None));
        let answered = Arc::new(AtomicUsize::new(0));
        let proxy = FaultProxy { port, armed, refused, budget, canned, answered };
        let (state, up, pat) = (proxy.clone(), upstream.to_string(), pattern.to_string());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (state, up, pat) = (state.clone(), up.clone(), pat.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, &up, &pat, &state);
                });
            }
        });
        proxy
    }

    /// Answers matching requests with `body` (200, JSON) instead of forwarding them; None forwards again.
    pub fn answer(&self, body: Option<&str>) {
        *self.canned.lock().unwrap() = body.map(str::to_string);
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn arm(&self, on: bool) {
        self.armed.store(on, Ordering::SeqCst);
    }
}

/// One request per connection: read it, fail it, answer it or forward it with `Connection: close`.
fn serve(client: TcpStream, upstream: &str, pattern: &str, state: &FaultProxy) -> std::io::Result<()> {
    let (armed, refused, budget) = (&state.armed, &state.refused, &state.budget);
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = String::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if !lower.starts_with("connection:") {
            head.push_str(&line);
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    let mut client = client;
    let matches = head.contains(pattern) || String::from_utf8_lossy(&body).contains(pattern);
    if matches && let Ok(left) = budget.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| b.checked_sub(1)) {
        refused.fetch_add(1, Ordering::SeqCst);
        if left % 2 == 0 {
            return Ok(()); // drop the connection, no answer
        }
        client.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
        return Ok(());
    }
    if armed.load(Ordering::SeqCst) && matches {
        refused.fetch_add(1, Ordering::SeqCst);
        client.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
        return Ok(());
    }
    let canned = state.canned.lock().unwrap().clone();
    if let Some(answer) = canned.filter(|_| matches) {
        state.answered.fetch_add(1, Ordering::SeqCst);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            answer.len()
        );
        client.write_all(head.as_bytes())?;
        client.write_all(answer.as_bytes())?;
        return Ok(());
    }
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(head.as_bytes())?;
    up.write_all(b"Connection: close\r\n\r\n")?;
    up.write_all(&body)?;
    std::io::copy(&mut up, &mut client)?;
    Ok(())
}
