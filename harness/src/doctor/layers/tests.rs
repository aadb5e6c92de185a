//! The layers from hand-built evidence: root, a container, Ubuntu's restricted user
//! namespaces, a namespace that works alone, an old Landlock, a probe that could not run.

use super::*;
use crate::sandbox::protocol::Exit;

fn machine(root: bool) -> Machine {
    Machine {
        uid: if root { 0 } else { 1000 },
        root,
        kernel: "6.18.0".into(),
        seccomp: Some(0),
        capabilities: Some(if root { 0x1ff_ffff_ffff } else { 0 }),
        ..Machine::default()
    }
}

fn container() -> Machine {
    Machine {
        seccomp: Some(2),
        capabilities: Some(0xa80_425fb),
        ..machine(true)
    }
}

fn ran(problems: &[(Facility, &str)], own_pid: i32) -> Seen {
    Seen {
        problems: problems.iter().map(|(f, e)| (*f, e.to_string())).collect(),
        exit: Some(Exit::Code(0)),
        spawn_failed: None,
        pid: Some(4242),
        own_pid: Some(own_pid),
    }
}

fn probe(root: bool, full: Seen, confined: Option<Seen>) -> Probe {
    let mut p = Probe {
        guarantees: Default::default(),
        full: Ok(full),
        network_rules: confined.clone().map(Ok),
        confined: confined.map(Ok),
        landlock: Ok(7),
        root,
        leased: root,
    };
    p.guarantees = p.derive();
    p
}

fn fine() -> Observers {
    Observers {
        fanotify: Ok(()),
        proc_connector: Ok(()),
        proc_fallback: Ok(()),
    }
}

fn get(facts: &[LayerFact], layer: Layer) -> &LayerFact {
    facts.iter().find(|l| l.name == layer).expect("every layer")
}

#[test]
fn as_root_every_layer_is_used_and_landlock_is_kept_in_reserve() {
    let facts = layers(&probe(true, ran(&[], 2), None), &machine(true), &fine());
    assert_eq!(facts.len(), Layer::ALL.len());
    assert_eq!(get(&facts, Layer::UserNamespace).available, None);
    for layer in [
        Layer::PidNamespace,
        Layer::NetworkNamespace,
        Layer::PrivateRoot,
        Layer::UidPerRun,
        Layer::Fanotify,
        Layer::ProcConnector,
    ] {
        let l = get(&facts, layer);
        assert!(l.available == Some(true) && l.used, "{l:?}");
    }
    let landlock = get(&facts, Layer::Landlock);
    assert!(landlock.available == Some(true) && !landlock.used);
    assert!(landlock.detail.contains("ABI 7"), "{}", landlock.detail);
}

#[test]
fn in_a_container_each_refused_namespace_says_seccomp_and_landlock_takes_over() {
    let refused = [
        (Facility::Network, "network namespace: EPERM"),
        (Facility::IpcNamespace, "IPC namespace: EPERM"),
        (Facility::MountNamespace, "mount namespace: EPERM"),
        (Facility::PidNamespace, "pid namespace: EPERM"),
    ];
    let observers = Observers {
        fanotify: Err("fanotify_init: Operation not permitted (os error 1)".into()),
        proc_connector: Ok(()),
        proc_fallback: Ok(()),
    };
    let p = probe(true, ran(&refused, 4242), Some(ran(&[], 4242)));
    let facts = layers(&p, &container(), &observers);
    for layer in [
        Layer::PidNamespace,
        Layer::MountNamespace,
        Layer::NetworkNamespace,
        Layer::IpcNamespace,
        Layer::PrivateRoot,
    ] {
        let l = get(&facts, layer);
        assert_eq!(l.available, Some(false), "{l:?}");
        assert!(
            l.why.as_deref().is_some_and(|w| w.contains("seccomp")),
            "{l:?}"
        );
        assert!(l.fix.is_some(), "{l:?}");
    }
    assert_eq!(
        get(&facts, Layer::PidNamespace).detail,
        "pid namespace: EPERM"
    );
    assert!(get(&facts, Layer::PrivateRoot)
        .detail
        .contains("mount namespace"));
    let landlock = get(&facts, Layer::Landlock);
    assert!(landlock.used && landlock.available == Some(true));
    assert!(get(&facts, Layer::SignalScoping).used);
    let fanotify = get(&facts, Layer::Fanotify);
    assert!(fanotify
        .why
        .as_deref()
        .is_some_and(|w| w.contains("CAP_SYS_ADMIN")));
}

#[test]
fn a_refused_user_namespace_stops_the_others_and_says_why() {
    let ubuntu = Machine {
        apparmor_restrict_userns: Some(1),
        ..machine(false)
    };
    let seen = ran(
        &[(
            Facility::UserNamespace,
            "user namespace (setgroups): EACCES",
        )],
        4242,
    );
    let facts = layers(&probe(false, seen, Some(ran(&[], 4242))), &ubuntu, &fine());
    let user = get(&facts, Layer::UserNamespace);
    assert_eq!(user.detail, "user namespace (setgroups): EACCES");
    assert!(user.fix.as_deref().is_some_and(|f| f.contains("apparmor")));
    let pid = get(&facts, Layer::PidNamespace);
    assert!(pid.available == Some(false) && pid.detail.contains("needs the user namespace"));
    let uid = get(&facts, Layer::UidPerRun);
    assert!(uid.fix.as_deref().is_some_and(|f| f.contains("sudo")));
    assert!(get(&facts, Layer::Landlock).used);
}

#[test]
fn a_namespace_that_works_alone_is_not_claimed_as_used() {
    let seen = ran(
        &[(Facility::MountNamespace, "mount namespace: EPERM")],
        4242,
    );
    let facts = layers(
        &probe(true, seen, Some(ran(&[], 4242))),
        &machine(true),
        &fine(),
    );
    let ipc = get(&facts, Layer::IpcNamespace);
    assert!(ipc.available == Some(true) && !ipc.used, "{ipc:?}");
    assert!(
        ipc.detail.contains("the mount namespace did not hold"),
        "{}",
        ipc.detail
    );
    let fanotify = get(&facts, Layer::Fanotify);
    assert!(fanotify.available == Some(true) && !fanotify.used);
}

#[test]
fn an_old_landlock_does_not_scope_signals() {
    let refused = [(Facility::PidNamespace, "pid namespace: EPERM")];
    let p = Probe {
        landlock: Ok(4),
        ..probe(false, ran(&refused, 4242), Some(ran(&[], 4242)))
    };
    let p = Probe {
        guarantees: p.derive(),
        ..p
    };
    let facts = layers(&p, &machine(false), &fine());
    let scoping = get(&facts, Layer::SignalScoping);
    assert_eq!(scoping.available, Some(false));
    assert!(scoping.why.as_deref().is_some_and(|w| w.contains("ABI 4")));
}

#[test]
fn a_probe_that_could_not_run_leaves_every_namespace_missing_with_its_reason() {
    let p = Probe {
        full: Err("starting the supervisor: EACCES".into()),
        ..probe(true, Seen::default(), None)
    };
    let facts = layers(&p, &machine(true), &fine());
    let pid = get(&facts, Layer::PidNamespace);
    assert!(pid.available == Some(false) && pid.detail.contains("EACCES"));
    assert!(!get(&facts, Layer::UidPerRun).used);
}

#[test]
fn errnos_are_read_from_io_errors() {
    assert_eq!(errno_in("Function not implemented (os error 38)"), Some(38));
    assert_eq!(errno_in("no number"), None);
}

#[test]
fn network_rules_are_listed_with_what_held() {
    let m = machine(true);
    let refused = [
        (Facility::Network, "network namespace: EPERM"),
        (Facility::PidNamespace, "pid namespace: EPERM"),
    ];
    let confined = probe(true, ran(&refused, 4242), Some(ran(&[], 4242)));
    let facts = layers(&confined, &m, &fine());
    let rules = get(&facts, Layer::NetworkRules);
    assert!(rules.used && rules.available == Some(true), "{rules:?}");
    assert!(rules.detail.starts_with("Landlock ABI 7: "), "{rules:?}");
    let full = layers(&probe(true, ran(&[], 2), None), &m, &fine());
    let rules = get(&full, Layer::NetworkRules);
    assert!(
        !rules.used && rules.detail.contains("not needed"),
        "{rules:?}"
    );
}

#[test]
fn without_the_connector_the_process_events_come_through_the_supervisor() {
    let refused = "subscribing to the process events: Connection refused (os error 111)";
    let fallback = Observers {
        proc_connector: Err(refused.into()),
        ..fine()
    };
    let facts = layers(&probe(true, ran(&[], 2), None), &machine(true), &fallback);
    let l = get(&facts, Layer::ProcConnector);
    assert!(l.available == Some(true) && l.used, "{l:?}");
    assert!(
        l.detail.contains("supervisor") && l.detail.contains(refused),
        "{l:?}"
    );
    let neither = Observers {
        proc_fallback: Err("seccomp user notification: EINVAL".into()),
        ..fallback
    };
    let facts = layers(&probe(true, ran(&[], 2), None), &machine(true), &neither);
    let l = get(&facts, Layer::ProcConnector);
    assert_eq!(l.available, Some(false), "{l:?}");
    assert!(l.detail.contains("EINVAL"), "{l:?}");
}
