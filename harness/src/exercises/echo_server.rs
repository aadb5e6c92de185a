//! `echo_server` (SimpleSocket/server.py): listens on 127.0.0.1:65432 and sends back every
//! chunk it receives, bytes reversed; a connection that sent `HUP` makes it exit 0 after that
//! connection; SIGINT or SIGHUP exit 0. The harness is a real TCP client in the run's network.

use super::Exercise;
use crate::clock::Clock;
use crate::ipc::{self, net};
use crate::outcome::{Failure, Verdict};
use crate::run::Exit;
use crate::run::ExpectExit;
use crate::run::{secs, Run};
use crate::scenario::{Ctx, Launch, Scenario};
use crate::text::quote;
use crate::{ensure, fail};
use nix::sys::signal::Signal;
use std::time::Duration;

pub static EXERCISE: Exercise = Exercise {
    id: "echo_server",
    lecture: &["SimpleSocket/server.py"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[PORT],
    segments: &[],
    scenarios: &[
        Scenario::new("reverse", "`hello` comes back as `olleh`", reverse),
        Scenario::new(
            "reconnect",
            "a second and a third connection are served",
            reconnect,
        ),
        Scenario::new(
            "hup",
            "after a connection that sent HUP: exit status 0, port released",
            hup,
        ),
        Scenario::new("sigint", "SIGINT: exit status 0, port released", sigint),
    ],
};

const PORT: u16 = 65432;
const PATIENT: Duration = Duration::from_secs(10);
const ANSWER: Duration = Duration::from_secs(2);

/// Starts the server and waits until it listens.
fn listening(ctx: &mut Ctx) -> Result<Run, Failure> {
    let mut run = ctx.start(Launch::new())?;
    net::wait_listening(&mut run, PORT, PATIENT, ctx.clock())?;
    Ok(run)
}

/// Connection `n`: sends `text`, reads the reply (as long as `text`), closes, and returns
/// the reply. The server is first let settle (blocked again, listening), since a server that
/// makes a new listening socket per connection is briefly without one.
fn echo(run: &mut Run, n: usize, text: &str, clock: Clock) -> Result<Vec<u8>, Failure> {
    let after = |f: Failure| f.context(format!("after connection {}", n - 1));
    if n > 1 {
        let settled = run
            .wait_idle(ANSWER)
            .and_then(|()| net::wait_listening(run, PORT, ANSWER, clock));
        if let Err(f) = settled {
            if let Some(how) = ipc::ended(run) {
                fail!(
                    "after connection {}, {how}: a server keeps waiting for the next connection",
                    n - 1
                );
            }
            return Err(after(f));
        }
    }
    let mut stream = net::connect(run, PORT, clock.real(ANSWER)).map_err(|e| {
        Failure::fail(format!(
            "connection {n}: could not connect to 127.0.0.1:{PORT}: {e}"
        ))
    })?;
    let deadline = clock.deadline(ANSWER);
    let reply = net::exchange(&mut stream, text.as_bytes(), text.len(), deadline)
        .map_err(|e| Failure::fail(format!("connection {n}: sending {}: {e}", quote(text))))?;
    // Noted before closing: a server may end as soon as the connection does.
    run.note(format!(
        "connection {n}: sent {text:?}, got {:?} back",
        String::from_utf8_lossy(&reply)
    ));
    net::finish(&mut stream, clock.deadline(ANSWER));
    Ok(reply)
}

/// `got` for `sent`, described: "nothing", or the text quoted.
fn shown(got: &[u8]) -> String {
    if got.is_empty() {
        "nothing".into()
    } else {
        quote(&String::from_utf8_lossy(got))
    }
}

fn reverse(ctx: &mut Ctx) -> Verdict {
    let mut run = listening(ctx)?;
    let reply = echo(&mut run, 1, "hello", ctx.clock())?;
    ipc::let_finish(&run);
    ensure!(
        reply == b"olleh",
        "sent \"hello\", expected \"olleh\" back within {}; got {}",
        secs(ANSWER),
        shown(&reply)
    );
    Ok("`hello` came back as `olleh`".into())
}

fn reconnect(ctx: &mut Ctx) -> Verdict {
    let mut run = listening(ctx)?;
    let clock = ctx.clock();
    for (n, text) in [(1, "first"), (2, "second one"), (3, "3rd: the last")] {
        let reply = echo(&mut run, n, text, clock)?;
        // Whether the reply is reversed is `reverse`'s business: here, that one came.
        if reply.len() != text.len() {
            fail!(
                "connection {n}: sent {}, got {} back within {} (expected {} bytes)",
                quote(text),
                shown(&reply),
                secs(ANSWER),
                text.len()
            );
        }
    }
    ipc::let_finish(&run);
    Ok("three connections one after another, each answered".into())
}

/// After the program ended: status 0 and nothing listening on the port.
fn ended_cleanly(run: &Run, exit: Exit, after: &str) -> Verdict {
    ExpectExit::SUCCESS
        .check(exit, format!("after {after} it"))
        .map_err(|f| f.hint(ipc::last_stderr(run)))?;
    net::released(run, PORT)?;
    Ok(format!(
        "after {after}: exit status 0, port {PORT} released"
    ))
}

fn hup(ctx: &mut Ctx) -> Verdict {
    let mut run = listening(ctx)?;
    echo(&mut run, 1, "HUP", ctx.clock())?;
    let exit = run.expect_exit_after(ANSWER, "a connection that sent HUP", "it should exit")?;
    ended_cleanly(&run, exit, "a connection that sent HUP")
}

fn sigint(ctx: &mut Ctx) -> Verdict {
    let mut run = listening(ctx)?;
    run.signal_when_idle(Signal::SIGINT, ANSWER)?;
    let exit = run.expect_exit_after(ANSWER, "SIGINT", "it should exit")?;
    ended_cleanly(&run, exit, "SIGINT")
}
