//! `time_server` (the student project's p7_hw6.py): listens on port 55555 with SO_REUSEADDR
//! and answers every connection with `\n\nCurrent time: <ctime>\n\n`, then closes it. The
//! harness's clients are real TCP clients in the run's network; the restart runs the program
//! again in the same network, where the first run's connection still sits in TIME_WAIT.

use super::Exercise;
use crate::clock::Clock;
use crate::ipc::{self, ctime, net};
use crate::outcome::{Failure, Verdict};
use crate::run::{secs, Run};
use crate::sandbox::Layer;
use crate::scenario::Need;
use crate::scenario::{Ctx, Launch, Scenario};
use crate::text::quote;
use crate::{ensure, fail};
use nix::sys::signal::Signal;
use std::time::Duration;

/// On a shared network, an earlier run's connection in TIME_WAIT may keep the port.
const SHARED: &[Need] = &[Need::Helped(
    Layer::NetworkNamespace,
    "on the machine's shared network, a server without SO_REUSEADDR cannot bind while an earlier run's connection is in TIME_WAIT",
)];

pub static EXERCISE: Exercise = Exercise {
    id: "time_server",
    lecture: &[],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    scenarios: &[
        Scenario::new(
            "message",
            "the reply holds the time as ctime (within 2 s), then end of file",
            message,
        )
        .requires(SHARED),
        Scenario::new(
            "many",
            "20 clients one after another and 10 at once are all served",
            many,
        )
        .requires(SHARED),
        Scenario::new(
            "reset_client",
            "a client that resets its connection at once does not bring it down",
            reset_client,
        )
        .requires(SHARED),
        Scenario::new(
            "restart",
            "killed after serving a client and started again at once, it binds again",
            restart,
        )
        .requires(SHARED),
    ],
};

const PORT: u16 = 55555;
const PATIENT: Duration = Duration::from_secs(10);
/// For one client, a SYN retry (1 s, then 3 s) included.
const CLIENT: Duration = Duration::from_secs(8);
/// How far the reported time may be from the clock.
const SKEW: f64 = 2.0;

/// Starts the server and waits until it listens.
fn listening(ctx: &mut Ctx, launch: Launch) -> Result<Run, Failure> {
    let mut run = ctx.start(launch)?;
    net::wait_listening(&mut run, PORT, PATIENT, ctx.clock())
        .map_err(|f| blame_earlier_runs(&run, f))?;
    Ok(run)
}

/// On the machine's own network (no namespaces here), a connection an earlier run left in
/// TIME_WAIT keeps a server without SO_REUSEADDR from binding: not this scenario's defect
/// (`restart` is where it is judged). Then the scenario cannot judge, and says so.
fn blame_earlier_runs(run: &Run, f: Failure) -> Failure {
    let in_use = f.message.to_lowercase().contains("already in use");
    let sup = run.supervisor_pid().unwrap_or(-1);
    let lingering = net::states(sup, PORT).iter().any(|s| s == net::TIME_WAIT);
    if run.reach().private_network || !in_use || !lingering {
        return f;
    }
    Failure::skip(format!(
        "port {PORT} was still held by a connection an earlier run left in TIME_WAIT, and this machine gives runs no network of their own, so the scenario cannot judge (a server that sets SO_REUSEADDR binds anyway; `time_server.restart` judges that). What happened: {}",
        f.message
    ))
}

/// One client: connects, reads the reply to end of file. Any reply followed by end of file
/// is "served"; with `check_time` the reply must also hold the time as ctime.
fn client(run: &Run, label: &str, clock: Clock, check_time: bool) -> Result<(), String> {
    let mut stream = net::connect(run, PORT, clock.real(CLIENT))
        .map_err(|e| format!("{label}: could not connect to 127.0.0.1:{PORT}: {e}"))?;
    let (data, eof) = net::read_to_eof(&mut stream, clock.deadline(CLIENT));
    let now = ctime::now();
    let text = String::from_utf8_lossy(&data);
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
    ctx.claim(&["tcp:55555"])?;
    let run = listening(ctx, Launch::new())?;
    client(&run, "the client", ctx.clock(), true).map_err(Failure::fail)?;
    ipc::settle(&run);
    Ok("replied with the time as ctime (TZ=UTC), then end of file".into())
}

fn many(ctx: &mut Ctx) -> Verdict {
    ctx.claim(&["tcp:55555"])?;
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
    ipc::settle(&run);
    Ok("20 clients one after another and 10 at once were all served".into())
}

/// When a client was not served because the server had ended (or was ending: a client can
/// meet a closing listener or a refused port, depending on timing), that is the finding.
fn stopped_serving(run: &mut Run, served: usize) -> Option<Failure> {
    let exit = run.wait_exit(Duration::from_secs(2)).ok()?;
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
    ctx.claim(&["tcp:55555"])?;
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
            crate::sandbox::procfs::read(run.pid())
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
        let sup = run.supervisor_pid().unwrap_or(-1);
        let processed = ipc::poll_state(clock.deadline(CLIENT), || {
            let states = net::states(sup, PORT);
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
        let _ = run.wait_exit(Duration::from_secs(1));
        let how = ipc::ended(&mut run)
            .map(|h| format!("; {h}"))
            .unwrap_or_default();
        fail!("after a client reset its connection at once: {e}{how}");
    }
    ipc::settle(&run);
    ensure!(
        run.alive(),
        "it served the next client but then {}",
        ipc::ended(&mut run).unwrap_or_default()
    );
    Ok("survived a client that reset at once, and served the next one".into())
}

fn restart(ctx: &mut Ctx) -> Verdict {
    ctx.claim(&["tcp:55555"])?;
    let clock = ctx.clock();
    let mut first = listening(ctx, Launch::new())?;
    client(&first, "the first run's client", clock, false).map_err(Failure::fail)?;
    let sup = first.supervisor_pid().unwrap_or(-1);
    let waiting = net::states(sup, PORT)
        .iter()
        .filter(|s| *s == net::TIME_WAIT)
        .count();
    first.note(format!(
        "{waiting} connection(s) on port {PORT} in TIME_WAIT"
    ));
    ipc::settle(&first);
    // Only the program is killed: its run (and so its network) stays for the second run.
    first.signal(Signal::SIGKILL)?;
    first.wait_exit(Duration::from_secs(2))?;
    let mut second = ctx.start(Launch::new().network_of(&first))?;
    net::wait_listening(&mut second, PORT, PATIENT, clock).map_err(|f| {
        f.context(format!(
            "started again right after being killed ({waiting} connection(s) of the first run in TIME_WAIT)"
        ))
        .hint(" (set SO_REUSEADDR before bind)")
    })?;
    client(&second, "the restarted server's client", clock, false).map_err(Failure::fail)?;
    ipc::settle(&second);
    drop(second);
    Ok(format!(
        "started again right after a kill ({waiting} connection(s) in TIME_WAIT), it listened and served"
    ))
}
