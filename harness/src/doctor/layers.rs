//! Each layer's fact, from the guarantees probe's evidence (the same runs `grade` makes) and
//! the doctor's own probes of fanotify and the process events connector. Pure: the
//! evidence is handed in, so every case is tested with hand-built evidence.

use super::facts::LayerFact;
use super::machine::Machine;
use super::why;
use crate::sandbox::guarantees::{Probe, Seen};
use crate::sandbox::landlock::scopes_signals;
use crate::sandbox::protocol::Facility;
use crate::sandbox::Layer;

/// What the doctor's own probes saw: `Err` holds the kernel's refusal.
#[derive(Debug, Clone)]
pub struct Observers {
    pub fanotify: Result<(), String>,
    pub proc_connector: Result<(), String>,
    /// The supervisor's seccomp filter, which `fork_exec` falls back on without the
    /// connector (`sandbox::proc_calls`).
    pub proc_fallback: Result<(), String>,
}

/// Every layer, in [`Layer::ALL`]'s order.
pub fn layers(probe: &Probe, m: &Machine, observers: &Observers) -> Vec<LayerFact> {
    Layer::ALL
        .iter()
        .map(|&layer| match layer {
            Layer::UserNamespace => user_namespace(probe, m),
            Layer::PidNamespace => namespace(probe, m, layer, Facility::PidNamespace),
            Layer::MountNamespace => namespace(probe, m, layer, Facility::MountNamespace),
            Layer::NetworkNamespace => namespace(probe, m, layer, Facility::Network),
            Layer::IpcNamespace => namespace(probe, m, layer, Facility::IpcNamespace),
            Layer::PrivateRoot => private_root(probe, m),
            Layer::Landlock => landlock(probe, m),
            Layer::SignalScoping => signal_scoping(probe, m),
            Layer::NetworkRules => network_rules(probe, m),
            Layer::UidPerRun => uid_per_run(probe, m),
            Layer::Fanotify => fanotify(probe, m, &observers.fanotify),
            Layer::ProcConnector => {
                proc_connector(m, &observers.proc_connector, &observers.proc_fallback)
            }
        })
        .collect()
}

/// What each layer gives, when it holds.
fn gives(layer: Layer) -> &'static str {
    match layer {
        Layer::UserNamespace => "namespaces without root: programs keep your uid, mapped to itself",
        Layer::PidNamespace => "kill(-1) and /proc reach only the run's own processes",
        Layer::MountNamespace => "mounts of the run's own",
        Layer::NetworkNamespace => "a network of the run's own: fixed ports never collide",
        Layer::IpcNamespace => "System V IPC and message queues of the run's own",
        Layer::PrivateRoot => {
            "the system read-only, the run's copy and home, its own /tmp and /dev/shm"
        }
        Layer::Landlock => "files confined to the system (read-only), the run's copy and home",
        Layer::SignalScoping => "kill(-1) and abstract sockets reach only the run",
        Layer::NetworkRules => {
            "without a network namespace: TCP only to the ports the exercise needs, no UDP, raw or packet sockets"
        }
        Layer::UidPerRun => "each run has a uid of its own (61000–61255)",
        Layer::Fanotify => "every close after writing, with a descriptor: exact file sizes",
        Layer::ProcConnector => "every fork, exec and exit of a run, as it happens",
    }
}

fn user_namespace(probe: &Probe, m: &Machine) -> LayerFact {
    let layer = Layer::UserNamespace;
    if probe.root {
        return LayerFact {
            available: None,
            ..LayerFact::missing(
                layer,
                "not needed: as root the grader makes namespaces itself",
            )
        };
    }
    let seen = match &probe.full {
        Ok(seen) => seen,
        Err(e) => return LayerFact::missing(layer, format!("the probe could not run: {e}")),
    };
    match seen.problem(Facility::UserNamespace) {
        Some(error) => LayerFact::missing(layer, error).because(why::namespaces(m)),
        None => held(layer, probe.guarantees.user_namespace, seen),
    }
}

/// A namespace other than the user namespace (`facility` as the supervisor names it).
fn namespace(probe: &Probe, m: &Machine, layer: Layer, facility: Facility) -> LayerFact {
    let seen = match &probe.full {
        Ok(seen) => seen,
        Err(e) => return LayerFact::missing(layer, format!("the probe could not run: {e}")),
    };
    if !probe.root && seen.problem(Facility::UserNamespace).is_some() {
        return LayerFact::missing(layer, "not tried: it needs the user namespace")
            .because(why::namespaces(m));
    }
    if let Some(error) = seen.problem(facility) {
        return LayerFact::missing(layer, error).because(why::namespaces(m));
    }
    let g = &probe.guarantees;
    let used = if layer == Layer::NetworkNamespace {
        g.private_network
    } else {
        g.namespaces
    };
    held(layer, used, seen)
}

fn private_root(probe: &Probe, m: &Machine) -> LayerFact {
    let layer = Layer::PrivateRoot;
    let mount = namespace(probe, m, Layer::MountNamespace, Facility::MountNamespace);
    if mount.available != Some(true) {
        return LayerFact {
            name: layer,
            detail: "not tried: it needs the mount namespace".into(),
            ..mount
        };
    }
    match &probe.full {
        Ok(seen) => match seen.problem(Facility::Filesystem) {
            Some(error) => LayerFact::missing(layer, error),
            None => held(layer, probe.guarantees.namespaces, seen),
        },
        Err(e) => LayerFact::missing(layer, format!("the probe could not run: {e}")),
    }
}

/// A layer the full run did not report missing: used, or why not.
fn held(layer: Layer, used: bool, seen: &Seen) -> LayerFact {
    if used {
        return LayerFact::present(layer, true, gives(layer));
    }
    let detail = match (&seen.spawn_failed, seen.exit) {
        (Some(e), _) => format!("set up, but the probe's program could not start: {e}"),
        (None, exit) if !seen.succeeded() => {
            format!("set up, but the probe's program did not exit with 0 ({exit:?})")
        }
        _ => {
            let missing: Vec<&str> = seen
                .problems
                .iter()
                .map(|(f, _)| facility_title(*f))
                .collect();
            format!(
                "works, but not used: the namespaces are used together, and {} did not hold",
                missing.join(", ")
            )
        }
    };
    LayerFact::present(layer, false, detail)
}

fn facility_title(f: Facility) -> &'static str {
    match f {
        Facility::UserNamespace => "the user namespace",
        Facility::PidNamespace => "the pid namespace",
        Facility::MountNamespace => "the mount namespace",
        Facility::IpcNamespace => "the IPC namespace",
        Facility::Network => "the network namespace",
        Facility::Filesystem => "the private root",
        Facility::Landlock => "Landlock",
        Facility::Removals => "watching removals",
        Facility::NetworkRules => "the network rules",
        Facility::Processes => "watching processes",
    }
}

fn landlock(probe: &Probe, m: &Machine) -> LayerFact {
    let layer = Layer::Landlock;
    let abi = match &probe.landlock {
        Ok(abi) if *abi > 0 => *abi,
        Ok(_) => return LayerFact::missing(layer, "the kernel offers no Landlock ABI"),
        Err(e) => {
            return LayerFact::missing(layer, format!("the kernel offers no Landlock: {e}"))
                .because(why::landlock(m, errno_in(e)))
        }
    };
    match &probe.confined {
        None => LayerFact::present(
            layer,
            false,
            format!("ABI {abi}, kept in reserve: the namespaces and the private root hold"),
        ),
        Some(Err(e)) => LayerFact::missing(layer, format!("the probe could not run: {e}")),
        Some(Ok(seen)) => match seen.problem(Facility::Landlock) {
            Some(error) => LayerFact::missing(layer, format!("ABI {abi}, but: {error}")),
            None if probe.guarantees.landlock_abi > 0 => {
                LayerFact::present(layer, true, format!("ABI {abi}: {}", gives(layer)))
            }
            None => LayerFact::missing(
                layer,
                format!("ABI {abi}, but the confined probe's program did not run"),
            ),
        },
    }
}

/// The errno at the end of an `io::Error`'s text ("… (os error 38)").
fn errno_in(text: &str) -> Option<i32> {
    let start = text.rfind("(os error ")? + "(os error ".len();
    text[start..].trim_end_matches(')').parse().ok()
}

fn signal_scoping(probe: &Probe, m: &Machine) -> LayerFact {
    let layer = Layer::SignalScoping;
    let abi = probe.landlock.as_ref().map_or(0, |a| *a);
    let used = scopes_signals(probe.guarantees.landlock_abi);
    if abi == 0 {
        return LayerFact::missing(layer, "no Landlock");
    }
    if !scopes_signals(abi) {
        let fact = LayerFact::missing(layer, format!("Landlock ABI {abi}"));
        return if probe.guarantees.namespaces {
            LayerFact {
                detail: format!("Landlock ABI {abi}; not needed while the pid namespace holds"),
                ..fact
            }
        } else {
            fact.because(why::signal_scoping(m, abi))
        };
    }
    if used {
        LayerFact::present(layer, true, gives(layer))
    } else {
        LayerFact::present(
            layer,
            false,
            format!("ABI {abi} scopes signals; not needed while the pid namespace holds"),
        )
    }
}

fn network_rules(probe: &Probe, m: &Machine) -> LayerFact {
    let layer = Layer::NetworkRules;
    let abi = probe.landlock.as_ref().map_or(0, |a| *a);
    match &probe.network_rules {
        None if probe.guarantees.private_network => {
            LayerFact::present(layer, false, "not needed while the network namespace holds")
        }
        None if abi == 0 => LayerFact::missing(
            layer,
            "no Landlock: a run has the host's network (not contained)",
        ),
        None => LayerFact::missing(
            layer,
            format!("Landlock ABI {abi}: a run has the host's network (not contained)"),
        )
        .because(why::network_rules(m, abi)),
        Some(Err(e)) => LayerFact::missing(layer, format!("the probe could not run: {e}")),
        Some(Ok(_)) if probe.network_rules_held() => {
            LayerFact::present(layer, true, format!("Landlock ABI {abi}: {}", gives(layer)))
        }
        Some(Ok(seen)) => {
            let error = seen
                .problem(Facility::NetworkRules)
                .or(seen.spawn_failed.as_deref())
                .unwrap_or("the probe's program did not run");
            LayerFact::missing(layer, format!("Landlock ABI {abi}, but: {error}"))
        }
    }
}

fn uid_per_run(probe: &Probe, m: &Machine) -> LayerFact {
    let layer = Layer::UidPerRun;
    if !m.root {
        return LayerFact::missing(layer, format!("programs run as your uid, {}", m.uid))
            .because(why::uid_per_run(m));
    }
    if !probe.leased {
        return LayerFact::missing(
            layer,
            "no uid of the pool 61000–61255 was free (other graders hold them all?)",
        );
    }
    match &probe.full {
        Ok(_) if probe.guarantees.separate_uid => LayerFact::present(layer, true, gives(layer)),
        Ok(seen) => LayerFact::missing(
            layer,
            match &seen.spawn_failed {
                Some(e) => format!("the probe's program could not start as a leased uid: {e}"),
                None => "the probe's program did not run as a leased uid".into(),
            },
        ),
        Err(e) => LayerFact::missing(layer, format!("the probe could not run: {e}")),
    }
}

fn fanotify(probe: &Probe, m: &Machine, seen: &Result<(), String>) -> LayerFact {
    let layer = Layer::Fanotify;
    match seen {
        Err(e) => LayerFact::missing(layer, e.clone()).because(why::fanotify(m)),
        Ok(()) if probe.guarantees.private_tmp => LayerFact::present(layer, true, gives(layer)),
        Ok(()) => LayerFact::present(
            layer,
            false,
            "works, but not used: files marks the run's own mount, which needs the mount namespace",
        ),
    }
}

/// The process events: the kernel's connector, or else the supervisor's seccomp filter.
fn proc_connector(
    m: &Machine,
    seen: &Result<(), String>,
    fallback: &Result<(), String>,
) -> LayerFact {
    let layer = Layer::ProcConnector;
    match (seen, fallback) {
        (Ok(()), _) => LayerFact::present(layer, true, gives(layer)),
        (Err(e), Ok(())) => LayerFact::present(
            layer,
            true,
            format!(
                "through the run's supervisor (seccomp user notifications): every fork, exec, exit and reaping of a run; not the kernel's connector: {e}"
            ),
        ),
        (Err(e), Err(f)) => LayerFact::missing(layer, format!("{e}; the supervisor's fallback: {f}"))
            .because(why::proc_connector(m)),
    }
}

#[cfg(test)]
mod tests;
