//! A fault-injecting HTTP/1.1 proxy between a wallet and the bank, so the
//! tests can make the network fail at exact points: before the bank sees a
//! request, in the middle of one, or after the bank has committed but
//! before the wallet hears about it.
//!
//! Each client connection carries one exchange: the request is forwarded
//! with `connection: close`, so the bank's answer ends at end-of-stream
//! and is relayed as it came (its `connection: close` included), and the
//! client opens a fresh connection for its next request. Faults are queued
//! per path and used up in order; with none queued, requests pass.

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward it and relay the answer.
    Pass,
    /// Answer 503 without forwarding: the bank never sees the request.
    Unavailable503,
    /// Forward it (the bank commits), then answer 500 instead.
    Error500AfterCommit,
    /// Forward it and keep the bank's answer until the client gives up
    /// (its request timeout) and hangs up.
    SlowAnswer,
    /// Forward it, read the bank's answer, and close the client's
    /// connection without a word.
    DropAfterCommit,
    /// Forward the headers and half the body, then tell the test and wait
    /// (it kills the bank); the client's connection is then closed.
    PauseMidRequest,
    /// Forward it, read the bank's answer (so it committed), then tell the
    /// test and wait (it kills the bank); the answer is never relayed.
    PauseAfterCommit,
}

struct State {
    upstream: SocketAddr,
    faults: Mutex<HashMap<String, VecDeque<Fault>>>,
    /// Faults (other than `Pass`) applied, by path.
    applied: Mutex<Vec<(String, Fault)>>,
    /// Clients that hung up while a `SlowAnswer` was held.
    gave_up: AtomicUsize,
    paused: Mutex<Sender<()>>,
    resume: Mutex<Receiver<()>>,
}

pub struct Proxy {
    addr: SocketAddr,
    state: Arc<State>,
    paused: Receiver<()>,
    resume: Sender<()>,
}

impl Proxy {
    pub fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (paused_tx, paused_rx) = mpsc::channel();
        let (resume_tx, resume_rx) = mpsc::channel();
        let state = Arc::new(State {
            upstream,
            faults: Mutex::default(),
            applied: Mutex::default(),
            gave_up: AtomicUsize::new(0),
            paused: Mutex::new(paused_tx),
            resume: Mutex::new(resume_rx),
        });
        let st = state.clone();
        // Lives as long as the test process: a test's proxy outliving its
        // test costs one idle thread.
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let st = st.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, &st);
                });
            }
        });
        Proxy {
            addr,
            state,
            paused: paused_rx,
            resume: resume_tx,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues faults for the next requests to `path`, in order.
    pub fn inject(&self, path: &str, faults: impl IntoIterator<Item = Fault>) {
        self.state
            .faults
            .lock()
            .unwrap()
            .entry(path.to_string())
            .or_default()
            .extend(faults);
    }

    /// Faults queued but not yet used.
    pub fn unused(&self) -> usize {
        self.state
            .faults
            .lock()
            .unwrap()
            .values()
            .map(|q| q.len())
            .sum()
    }

    /// The faults applied to `path` so far (passes not counted).
    pub fn applied(&self, path: &str) -> Vec<Fault> {
        self.state
            .applied
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, f)| *f)
            .collect()
    }

    /// Clients that timed out and hung up on a held answer.
    pub fn clients_gave_up(&self) -> usize {
        self.state.gave_up.load(Ordering::SeqCst)
    }

    /// Blocks until a `Pause*` fault has been reached.
    pub fn wait_paused(&self) {
        self.paused
            .recv_timeout(Duration::from_secs(120))
            .expect("a request reached the paused fault");
    }

    /// Lets the paused request carry on.
    pub fn resume(&self) {
        self.resume.send(()).unwrap();
    }
}

impl State {
    fn next_fault(&self, path: &str) -> Fault {
        let f = self
            .faults
            .lock()
            .unwrap()
            .get_mut(path)
            .and_then(|q| q.pop_front())
            .unwrap_or(Fault::Pass);
        if f != Fault::Pass {
            self.applied.lock().unwrap().push((path.to_string(), f));
        }
        f
    }

    fn pause(&self) {
        let _ = self.paused.lock().unwrap().send(());
        let _ = self
            .resume
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(120));
    }
}

struct Request {
    path: String,
    /// Request line and headers, ending in the blank line, with
    /// `connection: close`.
    head: Vec<u8>,
    body: Vec<u8>,
}

fn read_request(r: &mut impl BufRead) -> io::Result<Option<Request>> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut head = line.into_bytes();
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        let lower = h.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            len = v.trim().parse().map_err(|_| ErrorKind::InvalidData)?;
        }
        if !lower.starts_with("connection:") {
            head.extend_from_slice(h.as_bytes());
        }
    }
    head.extend_from_slice(b"connection: close\r\n\r\n");
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    Ok(Some(Request { path, head, body }))
}

fn answer(client: &mut TcpStream, status: u16, reason: &str) -> io::Result<()> {
    let body = format!(
        r#"{{"error":{{"code":"injected_fault","message":"the proxy answered {status}"}}}}"#
    );
    write!(
        client,
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn serve(mut client: TcpStream, st: &State) -> io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let Some(req) = read_request(&mut reader)? else {
        return Ok(());
    };
    let fault = st.next_fault(&req.path);
    if fault == Fault::Unavailable503 {
        return answer(&mut client, 503, "Service Unavailable");
    }
    // A bank that is down: the client sees its connection close.
    let Ok(mut up) = TcpStream::connect(st.upstream) else {
        return client.shutdown(Shutdown::Both);
    };
    up.set_read_timeout(Some(Duration::from_secs(120)))?;
    up.write_all(&req.head)?;
    if fault == Fault::PauseMidRequest {
        let half = req.body.len() / 2;
        up.write_all(&req.body[..half])?;
        up.flush()?;
        st.pause();
        // The bank is gone: whatever this gets, the client gets nothing.
        let _ = up.write_all(&req.body[half..]);
        let _ = up.read_to_end(&mut Vec::new());
        return client.shutdown(Shutdown::Both);
    }
    up.write_all(&req.body)?;
    let mut reply = Vec::new();
    // A bank killed mid-answer leaves a partial reply: relayed as it is.
    let _ = up.read_to_end(&mut reply);
    match fault {
        Fault::Pass => client.write_all(&reply),
        Fault::Error500AfterCommit => answer(&mut client, 500, "Internal Server Error"),
        Fault::SlowAnswer => {
            // No fixed delay: hold the answer until the client's own
            // timeout makes it hang up (capped, so a test cannot hang).
            client.set_read_timeout(Some(Duration::from_secs(60)))?;
            match reader.read(&mut [0u8; 1]) {
                Ok(0) => {
                    st.gave_up.fetch_add(1, Ordering::SeqCst);
                }
                Err(e) if e.kind() == ErrorKind::ConnectionReset => {
                    st.gave_up.fetch_add(1, Ordering::SeqCst);
                }
                _ => {}
            }
            client.shutdown(Shutdown::Both)
        }
        Fault::DropAfterCommit => client.shutdown(Shutdown::Both),
        Fault::PauseAfterCommit => {
            st.pause();
            client.shutdown(Shutdown::Both)
        }
        Fault::Unavailable503 | Fault::PauseMidRequest => unreachable!("handled above"),
    }
}
