//! `echo_client` (SimpleSocket/client.py): for each line typed it connects to 127.0.0.1:65432,
//! sends the line and prints the reply; it stops after `HUP`. The harness runs its own echo
//! server in the run's network, set up before the program starts.

use super::Exercise;
use crate::clock::Clock;
use crate::ipc::{self, net};
use crate::outcome::{Failure, Status, Verdict};
use crate::run::ExpectExit;
use crate::run::{describe_exit, secs};
use crate::scenario::{Ctx, Launch, Scenario};
use crate::text::{quote, re};
use crate::{ensure, fail};
use nix::poll::PollFlags;
use std::net::TcpListener;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub static EXERCISE: Exercise = Exercise {
    id: "echo_client",
    lecture: &["SimpleSocket/client.py"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[PORT],
    segments: &[],
    scenarios: &[
        Scenario::new(
            "exchange",
            "each line goes over its own connection and each reply is printed",
            exchange,
        ),
        Scenario::new("hup", "exits 0 after sending HUP", hup),
        Scenario::new(
            "refused",
            "with no server, a typed line makes it exit non-zero without hanging",
            refused,
        ),
    ],
};

const PORT: u16 = 65432;
const PATIENT: Duration = Duration::from_secs(10);
const ANSWER: Duration = Duration::from_secs(2);
/// For a refused connection to end the program.
const GIVE_UP: Duration = Duration::from_secs(5);
const LINES: [&str; 3] = ["hello", "second line", "42 is the answer"];

/// The harness's echo server: one thread, one connection at a time, every wait bounded.
struct Server {
    stop: Arc<AtomicBool>,
    /// What each connection brought, in order.
    received: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `listener` (made in the run's network) until dropped: each connection's data
    /// (read until end of file, a known line, or a pause) is answered reversed.
    fn start(listener: TcpListener, clock: Clock) -> Server {
        let stop = Arc::new(AtomicBool::new(false));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (flag, log) = (stop.clone(), received.clone());
        let thread = std::thread::spawn(move || {
            let _ = listener.set_nonblocking(true);
            let end = clock.deadline(Duration::from_secs(60));
            while !flag.load(Ordering::SeqCst) && Instant::now() < end {
                ipc::wait_ready(
                    &[listener.as_fd()],
                    PollFlags::POLLIN,
                    end,
                    Duration::from_millis(50),
                );
                if let Ok((stream, _)) = listener.accept() {
                    serve(stream, &log, clock);
                }
            }
        });
        Server {
            stop,
            received,
            thread: Some(thread),
        }
    }

    /// What each connection that brought data brought, in order. A connection that brought
    /// nothing (a probe: "is the server there?") is no line's and is not counted.
    fn received(&self) -> Vec<String> {
        self.received
            .lock()
            .map(|l| l.iter().filter(|t| !t.is_empty()).cloned().collect())
            .unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One connection: reads the client's line (logged at once), answers it reversed, closes
/// after the client.
fn serve(mut stream: std::net::TcpStream, log: &Mutex<Vec<String>>, clock: Clock) {
    let _ = stream.set_nonblocking(false);
    let longest = LINES.iter().map(|l| l.len()).max().unwrap_or(0) + 2;
    let known = |d: &[u8]| {
        let t = String::from_utf8_lossy(d);
        let t = t.trim_end_matches(['\r', '\n']);
        d.len() >= longest || t == "HUP" || LINES.contains(&t)
    };
    let (mut data, _) = net::read_until(&mut stream, clock.deadline(ANSWER), known);
    // A newline sent after the line is part of it.
    let (more, _) = net::read_until(&mut stream, Instant::now(), |_| false);
    data.extend(more);
    let text = String::from_utf8_lossy(&data)
        .trim_end_matches(['\r', '\n'])
        .to_string();
    let reply: String = text.chars().rev().collect();
    if let Ok(mut log) = log.lock() {
        log.push(text);
    }
    let _ = std::io::Write::write_all(&mut stream, reply.as_bytes());
    net::finish(&mut stream, clock.deadline(ANSWER));
}

/// Starts the program with the harness's server listening on 127.0.0.1:65432.
fn with_server(ctx: &mut Ctx) -> Result<(crate::run::Run, Server), Failure> {
    let mut listener = None;
    let run = ctx.start_prepared(Launch::new(), |reach| {
        let bound = reach
            .tcp_listener(std::net::SocketAddr::from(([127, 0, 0, 1], PORT)))
            .map_err(|e| Failure::fault(format!("listening on port {PORT}: {e}")))?;
        listener = Some(bound);
        Ok(())
    })?;
    let listener = listener.ok_or_else(|| Failure::fault("no listener"))?;
    Ok((run, Server::start(listener, ctx.clock())))
}

fn exchange(ctx: &mut Ctx) -> Verdict {
    let (mut run, server) = with_server(ctx)?;
    for (i, line) in LINES.iter().enumerate() {
        run.wait_reading_stdin(PATIENT);
        run.write_stdin(&format!("{line}\n"))?;
        let reply: String = line.chars().rev().collect();
        let within = if i == 0 { PATIENT } else { ANSWER };
        let what = format!("the server's reply {} printed", quote(&reply));
        run.expect_described(
            crate::run::transcript::Source::Stdout,
            &re(&regex::escape(&reply)),
            &what,
            within,
        )
        .map_err(|f| {
            let seen = server.received().len();
            if seen <= i && f.status == Status::Timeout && i > 0 {
                // Still waiting for an answer over an old connection.
                return Failure::fail(format!(
                    "after typing {} no new connection came within {} (the server saw {seen} connection(s) for {} line(s)): each line needs a connection of its own",
                    quote(line),
                    secs(within),
                    i + 1
                ));
            }
            f.context(format!("after typing {}", quote(line)))
        })?;
    }
    let got = server.received();
    let want: Vec<String> = LINES.iter().map(|l| l.to_string()).collect();
    if got != want {
        let shown: Vec<String> = got.iter().map(|t| quote(t)).collect();
        fail!(
            "expected {} connections bringing data, one per line ({}); the server saw {} connection(s) bringing {}",
            LINES.len(),
            want.iter().map(|t| quote(t)).collect::<Vec<_>>().join(", "),
            got.len(),
            shown.join(", ")
        );
    }
    // End of input: a client that stops there ends cleanly, not killed.
    run.close_stdin();
    let _ = run.let_exit(ANSWER);
    Ok(format!(
        "{} lines, each over its own connection, each reply printed",
        LINES.len()
    ))
}

fn hup(ctx: &mut Ctx) -> Verdict {
    let (mut run, server) = with_server(ctx)?;
    run.wait_reading_stdin(PATIENT);
    run.write_stdin("HUP\n")?;
    let exit = run.wait_exit(PATIENT).map_err(|f| match f.status {
        Status::Timeout => Failure::fail(format!(
            "still running {} after sending HUP (the server saw {} connection(s)): it should exit",
            secs(PATIENT),
            server.received().len()
        )),
        _ => f,
    })?;
    ensure!(
        server.received().contains(&"HUP".to_string()),
        "it {} without sending HUP to the server",
        describe_exit(exit)
    );
    ExpectExit::SUCCESS
        .check(exit, "after sending HUP it")
        .map_err(|f| f.hint(ipc::last_stderr(&run)))?;
    Ok("sent HUP, exit status 0".into())
}

fn refused(ctx: &mut Ctx) -> Verdict {
    let mut run = ctx.start(Launch::new())?;
    // A client may try the server before it asks for a line, and end there: then there is
    // nothing to type.
    run.wait_reading_stdin(PATIENT);
    if run.exit().is_none() {
        // Ending between the look and the write is the judged behaviour, not a defect.
        let _ = run.write_stdin("hello\n");
    }
    let exit = run.wait_exit(GIVE_UP).map_err(|f| match f.status {
        Status::Timeout => Failure::timeout(format!(
            "with no server listening, after a typed line it was still running {} later: it should report the refused connection and exit",
            secs(GIVE_UP)
        )),
        _ => f,
    })?;
    ExpectExit::Nonzero.check(exit, "with no server listening it")?;
    Ok(format!("with no server it {}", describe_exit(exit)))
}
