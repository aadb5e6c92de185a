//! `time_server` (the student project's p7_hw6.py): listens on port 55555 with SO_REUSEADDR
//! and answers every connection with `\n\nCurrent time: <ctime>\n\n`, then closes it. The
//! harness's clients are real TCP clients in the run's network; the restart runs the program
//! again in the same network, where the first run's connection still sits in TIME_WAIT.

use super::Exercise;
use crate::clock::Clock;
use crate::ipc::{self, ctime, net};
use crate::outcome::{Failure, Verdict};
use crate::run::{secs, Run};
use crate::scenario::{Ctx, Launch, Scenario};
use crate::text::quote;
use crate::{ensure, fail};
use nix::sys::signal::Signal;
use std::time::Duration;

pub static EXERCISE: Exercise = Exercise {
    id: "time_server",
    lecture: &[],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[PORT],
    segments: &[],
    scenarios: &[
        Scenario::new(
            "message",
            "the reply holds the time as ctime (within 2 s), then end of file",
            message,
        ),
        Scenario::new(
            "many",
            "20 clients one after another and 10 at once are all served",
            many,
        ),
        Scenario::new(
            "reset_client",
            "a client that resets its connection at once does not bring it down",
            reset_client,
        ),
        Scenario::new(
            "restart",
            "killed after serving a client and started again at once, it binds and listens again",
            restart,
        ),
    ],
};

const PORT: u16 = 55555;
const PATIENT: Duration = Duration::from_secs(10);
/// For one client, a SYN retry (1 s, then 3 s) included.
const CLIENT: Duration = Duration::from_secs(8);
/// How far the reported time may be from the clock.
const SKEW: f64 = 2.0;
/// How long a server that shut its side of a connection down may take to close it.
const LET_GO: Duration = Duration::from_millis(300);
/// How long Linux keeps a connection in TIME_WAIT (`TCP_TIMEWAIT_LEN`, 60 s), and a margin.
const TIME_WAIT_LEN: Duration = Duration::from_secs(70);

/// Starts the server and waits until it listens. On a network shared by runs (no
/// namespaces here), a server that could not listen while connections of earlier runs sat in
/// TIME_WAIT on the port is started again once they have expired: a server without
/// SO_REUSEADDR cannot bind before, and that is `restart`'s finding, not this scenario's.
fn listening(ctx: &mut Ctx, launch: Launch) -> Result<Run, Failure> {
    let clock = ctx.clock();
    let mut run = ctx.start(launch.clone())?;
    let Err(failed) = net::wait_listening(&mut run, PORT, PATIENT, clock) else {
        return Ok(run);
    };
    let lingering = |run: &Run| {
        net::states(run, PORT)
            .iter()
            .filter(|s| *s == net::TIME_WAIT)
            .count()
    };
    let waiting = lingering(&run);
    if run.reach().private_network || waiting == 0 {
        return Err(failed);
    }
    let expired = ipc::poll_state(clock.deadline(TIME_WAIT_LEN), || {
        (lingering(&run) == 0).then_some(())
    });
    if expired.is_none() {
        return Err(Failure::skip(format!(
            "port {PORT} stayed held by connections in TIME_WAIT for more than {} (something else on this machine keeps using it), and this machine gives runs no network of their own, so the scenario cannot judge. What happened: {}",
            secs(TIME_WAIT_LEN),
            failed.message
        )));
    }
    drop(run);
    let mut run = ctx.start(launch)?;
    run.note(format!(
        "the first start could not listen while {waiting} connection(s) of earlier runs sat in TIME_WAIT on port {PORT} (runs share this machine's network here); started again once they had expired"
    ));
    net::wait_listening(&mut run, PORT, PATIENT, clock)?;
    Ok(run)
}

/// How a harness client ends a connection the server has closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Close {
    /// Nothing left in TIME_WAIT (see `net::close_leaving_nothing`).
    LeavingNothing,
    /// An orderly close: the server's side waits in TIME_WAIT, as after any real client.
    Orderly,
}

/// One client: connects, reads the reply to end of file. Any reply followed by end of file
/// is "served"; with `check_time` the reply must also hold the time as ctime.
fn client(run: &Run, label: &str, clock: Clock, check_time: bool) -> Result<(), String> {
    client_from(run, label, clock, check_time, None, Close::LeavingNothing).map(drop)
}

/// A client from local port `from` (or any), closing as `close` says; returns the local port
/// it used.
fn client_from(
    run: &Run,
    label: &str,
    clock: Clock,
    check_time: bool,
    from: Option<u16>,
    close: Close,
) -> Result<u16, String> {
    let within = clock.real(CLIENT);
    let mut stream = match from {
        Some(local) => net::connect_from(run, PORT, local, within),
        None => net::connect(run, PORT, within),
    }
    .map_err(|e| format!("{label}: could not connect to 127.0.0.1:{PORT}: {e}"))?;
    let local = stream.local_addr().map_or(0, |a| a.port());
    let (data, eof) = net::read_to_eof(&mut stream, clock.deadline(CLIENT));
    let judged = judge_reply(label, &data, eof, clock, check_time);
    if close == Close::LeavingNothing && eof {
        net::close_leaving_nothing(run, PORT, stream, clock.deadline(LET_GO));
    }
    judged.map(|()| local)
}

/// A reply read to end of file (`eof`) or the deadline: any reply followed by end of file,
/// and with `check_time` holding the time as ctime.
fn judge_reply(
    label: &str,
    data: &[u8],
    eof: bool,
    clock: Clock,
    check_time: bool,
) -> Result<(), String> {
    let now = ctime::now();
    let text = String::from_utf8_lossy(data);
    if data.is_empty() {
        return Err(format!(
            "{label}: no reply{}",
            if eof {
                " (the connection was closed at once)"
            } else {
                ""
            }
        ));
    }
    if check_time {
        check_date(label, &text, now, clock)?;
    }
    if !eof {
        return Err(format!(
            "{label}: the reply {} was not followed by end of file within {}: close the connection after sending",
            quote(&text),
            secs(CLIENT)
        ));
    }
    Ok(())
}

/// `text` holds a ctime date within `SKEW` of `now`.
fn check_date(label: &str, text: &str, now: f64, clock: Clock) -> Result<(), String> {
    let (date, at) = match ctime::find(text) {
        Some(Ok(found)) => found,
        Some(Err(why)) => return Err(format!("{label}: the reply {}: {why}", quote(text))),
        None => {
            return Err(format!(
                "{label}: the reply {} holds no ctime date like \"Sun Nov 22 02:49:31 2026\"",
                quote(text)
            ))
        }
    };
    let off = at as f64 - now;
    if off.abs() > SKEW * clock.factor() + 1.0 {
        return Err(format!(
            "{label}: the reply says {date:?}, {:.0} s {} the clock (TZ=UTC)",
            off.abs(),
            if off > 0.0 { "ahead of" } else { "behind" }
        ));
    }
    Ok(())
}

fn message(ctx: &mut Ctx) -> Verdict {
    let run = listening(ctx, Launch::new())?;
    client(&run, "the client", ctx.clock(), true).map_err(Failure::fail)?;
    ipc::let_finish(&run);
    Ok("replied with the time as ctime (TZ=UTC), then end of file".into())
}

fn many(ctx: &mut Ctx) -> Verdict {
    let clock = ctx.clock();
    // The run's own network has SYN cookies off (the supervisor sees to it): a silent
    // client of an overflowing backlog is retried instead of forgotten.
    let mut run = listening(ctx, Launch::new())?;
    for i in 1..=20 {
        if let Err(e) = client(&run, &format!("sequential client {i} of 20"), clock, false) {
            return Err(stopped_serving(&mut run, i - 1).unwrap_or(Failure::fail(e)));
        }
    }
    let results: Vec<Result<(), String>> = std::thread::scope(|s| {
        let run = &run;
        let threads: Vec<_> = (1..=10)
            .map(|i| {
                s.spawn(move || client(run, &format!("concurrent client {i} of 10"), clock, false))
            })
            .collect();
        threads
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| Err("a client thread failed".into()))
            })
            .collect()
    });
    let failed: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    if !failed.is_empty() {
        if let Some(ended) = stopped_serving(&mut run, 30 - failed.len()) {
            return Err(ended);
        }
    }
    ensure!(
        failed.is_empty(),
        "20 clients one after another were served, but of 10 at once {} failed: {}",
        failed.len(),
        failed.join("; ")
    );
    ipc::let_finish(&run);
    Ok("20 clients one after another and 10 at once were all served".into())
}

/// When a client was not served because the server had ended (or was ending: a client can
/// meet a closing listener or a refused port, depending on timing), that is the finding.
fn stopped_serving(run: &mut Run, served: usize) -> Option<Failure> {
    let exit = run.let_exit(Duration::from_secs(2)).ok()?;
    Some(Failure::fail(format!(
        "after serving {served} client(s) the server {}: it should keep serving clients until it is stopped",
        crate::run::describe_exit(exit)
    )))
}

/// Sends SIGCONT to a stopped program when dropped, whatever happened meanwhile.
struct Stopped<'a>(&'a Run);

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        let _ = self.0.signal(Signal::SIGCONT);
    }
}

fn reset_client(ctx: &mut Ctx) -> Verdict {
    let clock = ctx.clock();
    let mut run = listening(ctx, Launch::new())?;
    {
        // Stopped, the server cannot answer before the reset arrives: the reset always comes
        // first, as it would from a client that gives up at once on a busy server.
        run.signal(Signal::SIGSTOP)?;
        let _continue = Stopped(&run);
        // kill() returns before the stop takes effect: a server still running could accept
        // and answer before the reset, and a defect would pass now and then under load.
        let stopped = ipc::poll_state(clock.deadline(CLIENT), || {
            crate::run::procfs::read(run.pid())
                .filter(|p| p.state == 'T' || p.state == 't')
                .map(|_| ())
        });
        if stopped.is_none() {
            return Err(Failure::fault(
                "the server did not stop after SIGSTOP (the machine may be overloaded)",
            ));
        }
        let stream = net::connect(&run, PORT, clock.real(CLIENT))
            .map_err(|e| Failure::fail(format!("could not connect to 127.0.0.1:{PORT}: {e}")))?;
        net::reset(stream).map_err(|e| Failure::fault(format!("resetting the connection: {e}")))?;
        // Loopback hands the reset to a softirq, which a loaded machine may run late: until
        // the server's side of the connection is gone, a server resumed now could answer the
        // reset client as if it were a normal one, and a defect would pass now and then.
        let processed = ipc::poll_state(clock.deadline(CLIENT), || {
            let states = net::states(&run, PORT);
            (!states.iter().any(|s| s == net::ESTABLISHED)).then_some(())
        });
        if processed.is_none() {
            return Err(Failure::fault(
                "the kernel did not deliver the client's reset in time (the machine may be overloaded)",
            ));
        }
        run.note("a client connected and reset the connection at once");
    }
    if let Err(e) = client(&run, "the next client", clock, false) {
        // A server dying of the reset may still be on its way out.
        let _ = run.let_exit(Duration::from_secs(1));
        let how = ipc::ended(&mut run)
            .map(|h| format!("; {h}"))
            .unwrap_or_default();
        fail!("after a client reset its connection at once: {e}{how}");
    }
    ipc::let_finish(&run);
    ensure!(
        run.alive(),
        "it served the next client but then {}",
        ipc::ended(&mut run).unwrap_or_default()
    );
    Ok("survived a client that reset at once, and served the next one".into())
}

fn restart(ctx: &mut Ctx) -> Verdict {
    let clock = ctx.clock();
    let mut first = listening(ctx, Launch::new())?;
    // What the listening socket says settles it where the kernel lets the supervisor read it
    // (not inside Docker's default confinement); the restart below shows it in every mode.
    let options = first.listener_options(PORT, CLIENT);
    match &options {
        Ok(o) if !o.reuse_addr && !o.reuse_port => {
            first.note(format!(
                "its listening socket (descriptor {} of pid {}) has SO_REUSEADDR off",
                o.fd, o.holder
            ));
            fail!(
                "the server does not set SO_REUSEADDR before bind: its listening socket on port {PORT} (descriptor {} of pid {}) has it off, so once the server is killed and started again, its bind fails for as long as connections of the run before wait in TIME_WAIT (up to 60 s after each client): call setsockopt(SOL_SOCKET, SO_REUSEADDR, 1) between socket() and bind()",
                o.fd,
                o.holder
            );
        }
        Ok(o) => first.note(format!(
            "its listening socket (descriptor {} of pid {}) has {} set",
            o.fd,
            o.holder,
            if o.reuse_addr { "SO_REUSEADDR" } else { "SO_REUSEPORT" }
        )),
        Err(why) => first.note(format!(
            "the harness could not read its listening socket's options ({why}); restarting it shows whether it binds again"
        )),
    }
    let from = client_from(
        &first,
        "the first run's client",
        clock,
        false,
        None,
        Close::Orderly,
    )
    .map_err(Failure::fail)?;
    let in_time_wait = || {
        let n = net::states(&first, PORT)
            .iter()
            .filter(|s| *s == net::TIME_WAIT)
            .count();
        (n > 0).then_some(n)
    };
    // Without the socket's options, the restart is the only evidence, and it shows something
    // only with a connection of the first run in TIME_WAIT: await one (the server's close
    // after the client's reaches it a moment later).
    let waiting = match &options {
        Ok(_) => in_time_wait().unwrap_or(0),
        Err(_) => ipc::poll_state(clock.deadline(CLIENT), in_time_wait).unwrap_or(0),
    };
    first.note(format!(
        "{waiting} connection(s) on port {PORT} in TIME_WAIT"
    ));
    ipc::let_finish(&first);
    // Only the program is killed: its run (and so its network) stays for the second run.
    first.signal(Signal::SIGKILL)?;
    first.wait_exit(Duration::from_secs(2))?;
    let mut second = ctx.start(Launch::new().network_of(&first))?;
    if let Err(f) = net::wait_listening(&mut second, PORT, PATIENT, clock) {
        // The first run's connection still waits: end it, so that no later run meets it.
        let _ = net::connect_from(&second, PORT, from, clock.real(CLIENT));
        let hint = match &options {
            Ok(_) => " (its first run's listening socket had SO_REUSEADDR: set it before bind, not after)",
            Err(_) => " (set SO_REUSEADDR before bind)",
        };
        return Err(f
            .context(format!(
                "started again right after being killed ({waiting} connection(s) of the first run in TIME_WAIT)"
            ))
            .hint(hint));
    }
    // Listening again is the bind's evidence, and all this scenario judges. A client from the
    // first client's port replaces that connection in TIME_WAIT, so no later run meets it;
    // how it is served is `message`'s business, only noted here.
    if let Err(why) = client_from(
        &second,
        "the restarted server's client",
        clock,
        false,
        Some(from),
        Close::LeavingNothing,
    ) {
        second.note(format!("not judged here: {why}"));
    }
    ipc::let_finish(&second);
    drop(second);
    if let (Err(why), 0) = (&options, waiting) {
        return Err(Failure::skip(format!(
            "the harness could not read the listening socket's options here ({why}), and no connection of the first run was left in TIME_WAIT, so binding again shows nothing about SO_REUSEADDR"
        )));
    }
    Ok(format!(
        "started again right after a kill ({waiting} connection(s) in TIME_WAIT), it bound the port and listened again"
    ))
}
