//! A fault-injecting HTTP proxy for tests: it forwards each request to the real
//! emulator, except that, while armed, requests containing a pattern get a 503.
//! (No emulator can fail on cue; this is the only stand-in the tests use.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

pub struct FaultProxy {
    pub port: u16,
    pub armed: Arc<AtomicBool>,
    pub refused: Arc<AtomicUsize>,
    /// While above zero, matching requests fail even unarmed: odd counts answer 503,
    /// even counts drop the connection without an answer.
    pub budget: Arc<AtomicUsize>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`host:port`) failing requests that contain `pattern` while armed.
    pub fn start(upstream: &str, pattern: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let armed = Arc::new(AtomicBool::new(false));
        let refused = Arc::new(AtomicUsize::new(0));
        let budget = Arc::new(AtomicUsize::new(0));
        let (a, r, b, up, pat) =
            (armed.clone(), refused.clone(), budget.clone(), upstream.to_string(), pattern.to_string());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (a, r, b, up, pat) = (a.clone(), r.clone(), b.clone(), up.clone(), pat.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, &up, &pat, &a, &r, &b);
                });
            }
        });
        FaultProxy { port, armed, refused, budget }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn arm(&self, on: bool) {
        self.armed.store(on, Ordering::SeqCst);
    }
}

/// One request per connection: read it, fail it or forward it with `Connection: close`.
fn serve(
    client: TcpStream,
    upstream: &str,
    pattern: &str,
    armed: &AtomicBool,
    refused: &AtomicUsize,
    budget: &AtomicUsize,
) -> std::io::Result<()> {
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
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(head.as_bytes())?;
    up.write_all(b"Connection: close\r\n\r\n")?;
    up.write_all(&body)?;
    std::io::copy(&mut up, &mut client)?;
    Ok(())
}
