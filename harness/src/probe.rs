//! Helper programs the harness puts in a program's way — a probe standing in for a program it
//! runs (`./run.py`), a shim first on PATH (`ffmpeg`) — and the records they send.
//!
//! The helpers are small python3 scripts. They connect to a unix socket the harness listens
//! on and send one JSON object per line (their arguments, pids, byte counts, start and end
//! times on the monotonic clock), so what they saw is known from the processes themselves, not
//! guessed from the program's output. The program cannot forge a record: a connection counts
//! only when the kernel names its peer as a Python interpreter running, untraced and without
//! injected code, a helper script the harness installed, byte for byte (`verify`). Waiting for
//! a record is waiting on a condition variable, with a deadline.

mod verify;

use crate::clock::Clock;
use crate::outcome::Failure;
use crate::peer::{self, Listener};
use crate::run::Run;
use crate::scenario::Ctx;
use crate::wait::Watched;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use verify::Trusted;

/// Most records kept per socket (a helper sends a handful).
const MAX_RECORDS: usize = 10_000;

/// What has arrived.
#[derive(Debug, Default)]
struct Inbox {
    records: Vec<Value>,
    /// Why connections were not believed.
    rejected: Vec<String>,
}

#[derive(Debug, Default)]
struct Shared {
    inbox: Watched<Inbox>,
    trusted: Mutex<Vec<Trusted>>,
}

/// The records socket of one scenario's helpers.
#[derive(Debug)]
pub struct Records {
    dir: PathBuf,
    socket: PathBuf,
    shared: Arc<Shared>,
    /// Accepting until the records are dropped.
    _listener: Listener,
}

impl Records {
    /// A fresh folder `name` in the scenario's scratch, writable by the run's uid (helpers
    /// may keep logs there), with the records socket `records.sock` in it.
    pub fn create(ctx: &Ctx, name: &str) -> Result<Records, Failure> {
        let dir = ctx.scratch_for_run(name)?;
        let fault = |e: std::io::Error| Failure::fault(format!("preparing {name}: {e}"));
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).map_err(fault)?;
        let socket = dir.join("records.sock");
        let shared = Arc::new(Shared::default());
        let serving = shared.clone();
        let listener =
            Listener::bind(&socket, move |stream| accepted(stream, &serving)).map_err(fault)?;
        Ok(Records {
            dir,
            socket,
            shared,
            _listener: listener,
        })
    }

    /// The folder (helpers may keep other files there, such as a log).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes the python3 helper `body`, after [`NOTE`] filled with this socket, to `path`
    /// (see [`install_script`]) and believes connections from processes running it.
    pub fn install(&self, path: &Path, python: &Path, body: &str) -> Result<(), Failure> {
        let note = NOTE.replace("@SOCK@", &py_str(&self.socket.to_string_lossy()));
        let text = install_script(path, python, &format!("{note}{body}"))?;
        if let Ok(mut trusted) = self.shared.trusted.lock() {
            trusted.push(Trusted { text });
        }
        Ok(())
    }

    /// Every record so far, in order.
    pub fn read(&self) -> Vec<Value> {
        self.shared.inbox.lock().records.clone()
    }

    /// Why connections were not believed (a program posing as a helper), for feedback.
    pub fn rejected(&self) -> Vec<String> {
        self.shared.inbox.lock().rejected.clone()
    }

    /// Notes on `run` each connection that was not believed.
    pub fn note_rejected(&self, run: &Run) {
        for why in self.rejected() {
            run.note(format!(
                "a connection to the harness's records was not believed: {why}"
            ));
        }
    }

    /// Waits until `done` holds for the records or `within` (nominal, multiplied by `scale`)
    /// passes; returns whether it held and the records as last read.
    pub fn wait(
        &self,
        within: Duration,
        clock: Clock,
        done: impl Fn(&[Value]) -> bool,
    ) -> (bool, Vec<Value>) {
        let deadline = clock.deadline(within);
        let waited = self.shared.inbox.until(deadline, Duration::MAX, |inbox| {
            done(&inbox.records).then(|| inbox.records.clone())
        });
        match waited {
            Ok(records) => (true, records),
            Err(inbox) => (false, inbox.records.clone()),
        }
    }
}

/// Believes a helper (see [`verify`]) and reads its records in a thread of its own.
fn accepted(stream: UnixStream, shared: &Arc<Shared>) {
    let trusted = shared.trusted.lock().map(|t| t.clone()).unwrap_or_default();
    match verify::peer(&stream, &trusted) {
        Ok(()) => {
            let serving = shared.clone();
            std::thread::spawn(move || receive(stream, &serving));
        }
        Err(why) => shared.inbox.update(|inbox| inbox.rejected.push(why)),
    }
}

/// Reads one believed helper's records until it closes, acknowledging each once it is in the
/// inbox: a helper waits for that before it goes on, so whatever it recorded is known before
/// it (or the program that ran it) can end, however late this thread runs.
fn receive(stream: UnixStream, shared: &Shared) {
    let ack = stream.try_clone().ok();
    peer::read_objects(stream, |record| {
        shared.inbox.update(|inbox| {
            if inbox.records.len() < MAX_RECORDS {
                inbox.records.push(record);
            }
        });
        if let Some(mut ack) = ack.as_ref() {
            let _ = std::io::Write::write_all(&mut ack, b"\n");
        }
    });
}

/// The Python lines a helper starts with: `note(**record)` sends a record to the harness and
/// waits (at most 10 s) for its acknowledgement, so the record is in before the helper goes on
/// (`SOCK` is filled in; [`Records::install`] puts them before the helper's body).
pub const NOTE: &str = r#"import json, os, socket, time
def _connect(path):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(path)
        return s
    except OSError:
        return None
_SOCK = _connect(@SOCK@)
def note(**record):
    record.update(pid=os.getpid(), t=time.monotonic())
    if _SOCK is not None:
        try:
            _SOCK.sendall((json.dumps(record) + "\n").encode())
            _SOCK.recv(1)
        except OSError:
            pass
"#;

/// Writes the python3 script `body` to `path` with `python -I` (isolated: no `PYTHON*`
/// variables, no user site) as its interpreter line, mode 0755, replacing whatever was
/// there. Returns the text written.
pub fn install_script(path: &Path, python: &Path, body: &str) -> Result<Vec<u8>, Failure> {
    let fault = |e: std::io::Error| {
        Failure::fault(format!(
            "installing {}: {e}",
            path.file_name().unwrap_or_default().to_string_lossy()
        ))
    };
    crate::sandbox::copy::remove_entry(path).map_err(fault)?;
    let text = format!("#!{} -I\n{body}", python.display());
    std::fs::write(path, &text).map_err(fault)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(fault)?;
    Ok(text.into_bytes())
}

/// `text` as a Python string literal (JSON string syntax is valid Python).
pub fn py_str(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "''".into())
}

/// The records whose `event` field is `event`.
pub fn events<'a>(records: &'a [Value], event: &str) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|r| r.get("event").and_then(Value::as_str) == Some(event))
        .collect()
}

/// A record's string-list field (`argv`), empty when absent or malformed.
pub fn strings(record: &Value, field: &str) -> Vec<String> {
    record
        .get(field)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
