//! The `sysgrade` CLI in the three modes it must grade alike: as root, as an ordinary user,
//! and as root under Docker's default confinement (confine.rs). Each trial gets a [`Place`]:
//! a fresh world-traversable folder holding a copy of the binary, the submissions it grades
//! and a home, owned by the uid the grader runs as in that mode.
//!
//! When the tests are not root, the user mode is the current user and the container mode
//! applies the seccomp filter only (there are no capabilities to drop).

mod declared;
mod hostile;
mod judged;
mod network;
mod place;
mod procwatch;
mod static_binary;
mod verdicts;

pub use place::{tail, Place};

use crate::confine::{self, is_root};
use crate::support::Outcome;
use harness::sandbox::procfs::status_value;
use libtest_mimic::Trial;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Root,
    User,
    Container,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Root, Mode::User, Mode::Container];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Root => "root",
            Mode::User => "user",
            Mode::Container => "container",
        }
    }
}

/// One trial per mode, named `<name>::<mode>`.
pub fn per_mode(name: &str, test: fn(Mode) -> Outcome) -> Vec<Trial> {
    Mode::ALL
        .into_iter()
        .map(|mode| Trial::test(format!("{name}::{}", mode.name()), move || test(mode)))
        .collect()
}

pub fn trials() -> Vec<Trial> {
    let mut trials = vec![Trial::test(
        "modes::container_confinement_holds",
        confinement_holds,
    )];
    trials.extend(verdicts::trials());
    trials.extend(judged::trials());
    trials.extend(procwatch::trials());
    trials.extend(hostile::trials());
    trials.extend(network::trials());
    trials.extend(static_binary::trials());
    trials
}

/// Inside the confinement: `/proc/self/status` shows the filter (Seccomp: 2) and Docker's
/// capabilities only; `unshare -U` is refused, `clone` with CLONE_NEWUSER answers EPERM and
/// `clone3` ENOSYS, while a plain fork and exec still work.
fn confinement_holds() -> Outcome {
    let status = confine::command("/bin/cat")
        .arg("/proc/self/status")
        .output()?;
    let text = String::from_utf8_lossy(&status.stdout);
    let field = |key: &str| status_value(&text, key).unwrap_or_default();
    let mut wrong = Vec::new();
    if field("Seccomp") != "2" {
        wrong.push(format!(
            "Seccomp: {:?}, expected 2 (filter)",
            field("Seccomp")
        ));
    }
    if field("NoNewPrivs") != "1" {
        wrong.push(format!("NoNewPrivs: {:?}", field("NoNewPrivs")));
    }
    let docker: u64 = confine::DOCKER_CAPS.iter().map(|c| 1u64 << c.index()).sum();
    // Not root: no capabilities in effect; the bounding set is left as it was.
    let checked: &[&str] = if is_root() {
        &["CapEff", "CapPrm", "CapBnd"]
    } else {
        &["CapEff"]
    };
    for name in checked {
        let caps = u64::from_str_radix(field(name), 16).unwrap_or(u64::MAX);
        let allowed = if is_root() { docker } else { 0 };
        if caps & !allowed != 0 {
            wrong.push(format!(
                "{name}: {caps:#x} holds more than Docker's {allowed:#x}"
            ));
        }
    }
    let unshare = confine::command("unshare").args(["-U", "true"]).output()?;
    if unshare.status.success() {
        wrong.push("`unshare -U true` succeeded inside the confinement".into());
    }
    let clones = confine::command("/usr/bin/python3")
        .args(["-c", &clone_probe()])
        .output()?;
    let answer = String::from_utf8_lossy(&clones.stdout);
    let expected = format!(
        "clone {eperm} clone3 {} fanotify_init {eperm} pidfd_getfd {eperm}",
        libc::ENOSYS,
        eperm = libc::EPERM
    );
    if answer.trim() != expected {
        wrong.push(format!(
            "raw clone/clone3/fanotify_init/pidfd_getfd probe: got {:?}, expected {expected:?} ({})",
            answer.trim(),
            String::from_utf8_lossy(&clones.stderr)
        ));
    }
    let plain = confine::command("/bin/sh")
        .args(["-c", "/bin/true"])
        .output()?;
    if !plain.status.success() {
        wrong.push(format!(
            "a plain fork and exec failed inside: {}",
            String::from_utf8_lossy(&plain.stderr)
        ));
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n/proc/self/status:\n{text}", wrong.join("\n")).into())
    }
}

/// Python calling `clone(CLONE_NEWUSER | SIGCHLD)` and `clone3(NULL, 0)` raw, then what
/// Docker refuses although the kernel would allow it unprivileged: `fanotify_init` for a group
/// reporting file handles, and `pidfd_getfd` on its own standard input. Prints
/// `clone <errno> clone3 <errno> fanotify_init <errno> pidfd_getfd <errno>` (0 when the call
/// succeeded).
fn clone_probe() -> String {
    format!(
        "import ctypes, os\n\
         libc = ctypes.CDLL(None, use_errno=True)\n\
         r = libc.syscall({clone}, {flags}, 0, 0, 0, 0)\n\
         if r == 0: os._exit(0)\n\
         if r > 0: os.waitpid(r, 0)\n\
         e1 = ctypes.get_errno() if r < 0 else 0\n\
         r = libc.syscall({clone3}, 0, 0)\n\
         e2 = ctypes.get_errno() if r < 0 else 0\n\
         r = libc.syscall({fanotify_init}, {report_fid}, 0)\n\
         e3 = ctypes.get_errno() if r < 0 else 0\n\
         pidfd = os.pidfd_open(os.getpid())\n\
         r = libc.syscall({pidfd_getfd}, pidfd, 0, 0)\n\
         e4 = ctypes.get_errno() if r < 0 else 0\n\
         print('clone', e1, 'clone3', e2, 'fanotify_init', e3, 'pidfd_getfd', e4)\n",
        clone = libc::SYS_clone,
        flags = libc::CLONE_NEWUSER | libc::SIGCHLD,
        clone3 = libc::SYS_clone3,
        fanotify_init = libc::SYS_fanotify_init,
        report_fid = libc::FAN_REPORT_FID,
        pidfd_getfd = libc::SYS_pidfd_getfd,
    )
}
