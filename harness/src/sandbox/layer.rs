//! The layers a grading may rely on, by name: the sandbox's own (namespaces, the private
//! root, Landlock, a uid per run) and the kernel's observers some exercises need (fanotify,
//! the process events connector). Scenarios declare which they rely on
//! ([`crate::scenario::Need`]); `sysgrade doctor` says which this machine gives.

/// One layer, as `sysgrade doctor` names it (in its JSON, `snake_case`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    UserNamespace,
    PidNamespace,
    MountNamespace,
    NetworkNamespace,
    IpcNamespace,
    PrivateRoot,
    Landlock,
    SignalScoping,
    NetworkRules,
    UidPerRun,
    Fanotify,
    ProcConnector,
}

impl Layer {
    /// Every layer, in the order `sysgrade doctor` lists them.
    pub const ALL: [Layer; 12] = [
        Layer::UserNamespace,
        Layer::PidNamespace,
        Layer::MountNamespace,
        Layer::NetworkNamespace,
        Layer::IpcNamespace,
        Layer::PrivateRoot,
        Layer::Landlock,
        Layer::SignalScoping,
        Layer::NetworkRules,
        Layer::UidPerRun,
        Layer::Fanotify,
        Layer::ProcConnector,
    ];

    /// The layer in a few words, for people.
    pub fn title(self) -> &'static str {
        match self {
            Layer::UserNamespace => "user namespace",
            Layer::PidNamespace => "pid namespace",
            Layer::MountNamespace => "mount namespace",
            Layer::NetworkNamespace => "network namespace",
            Layer::IpcNamespace => "IPC namespace",
            Layer::PrivateRoot => "private root",
            Layer::Landlock => "Landlock",
            Layer::SignalScoping => "signal scoping",
            Layer::NetworkRules => "network rules",
            Layer::UidPerRun => "a uid per run",
            Layer::Fanotify => "fanotify",
            Layer::ProcConnector => "process events",
        }
    }
}
