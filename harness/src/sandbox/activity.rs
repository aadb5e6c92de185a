//! What a program that is still running is doing, as the kernel shows it: blocked reading
//! its standard input, sleeping, waiting for a child, or running on the CPU. Read from
//! `/proc/<pid>/syscall` (the system call each thread is blocked in, with its arguments),
//! the threads' states and, where the system call cannot be read, `/proc/<pid>/wchan`.

use std::path::Path;

/// How descriptor 0 is named: "blocked reading its standard input".
pub const STDIN: &str = "its standard input";

/// What a blocked or running program is doing, in the words a student reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activity {
    /// Blocked reading a file descriptor: what it is (`its standard input`, `a pipe`,
    /// `the FIFO /work/imagefifo`).
    Reading(String),
    /// Blocked writing (a full pipe or FIFO nobody reads).
    Writing(String),
    /// Blocked opening a FIFO until its other end is opened: for writing (`Some(true)`),
    /// for reading (`Some(false)`), or either (the access mode could not be read).
    OpeningFifo(Option<bool>),
    /// Waiting on several descriptors at once (poll, select, epoll).
    Polling,
    /// Asleep for a time (sleep, nanosleep).
    Sleeping,
    /// Waiting for a child to end.
    WaitingForChild,
    /// Waiting for a connection (accept) or a message on a socket.
    Accepting,
    /// Waiting for a signal (pause, sigsuspend, sigwait).
    WaitingForSignal,
    /// Waiting on a lock or for another thread (futex).
    WaitingForThread,
    /// Running on the CPU, blocked on nothing.
    Running,
    /// Stopped (SIGSTOP, SIGTSTP, traced).
    Stopped,
}

impl Activity {
    /// "blocked reading its standard input", "sleeping", "running on the CPU (blocked on
    /// nothing: a busy loop?)".
    pub fn describe(&self) -> String {
        match self {
            Activity::Reading(what) => format!("blocked reading {what}"),
            Activity::Writing(what) => format!("blocked writing to {what}"),
            Activity::OpeningFifo(Some(true)) => {
                "blocked opening a FIFO for writing, until a reader opens it".into()
            }
            Activity::OpeningFifo(Some(false)) => {
                "blocked opening a FIFO for reading, until a writer opens it".into()
            }
            Activity::OpeningFifo(None) => {
                "blocked opening a FIFO, until its other end is opened".into()
            }
            Activity::Polling => "waiting on poll/select for input".into(),
            Activity::Sleeping => "sleeping".into(),
            Activity::WaitingForChild => "waiting for a child process to end".into(),
            Activity::Accepting => "waiting for a connection or a message on a socket".into(),
            Activity::WaitingForSignal => "waiting for a signal".into(),
            Activity::WaitingForThread => "waiting on a lock or another thread".into(),
            Activity::Running => "running on the CPU, blocked on nothing (a busy loop?)".into(),
            Activity::Stopped => "stopped".into(),
        }
    }
}

/// What `pid` (the grader's view of it) is doing, `None` when it is gone or unreadable. Of
/// its threads, the most telling is chosen: one blocked on input or a child over one waiting
/// for another thread (a main thread joining a reader thread says less than the reader).
///
/// A program that blocks now and then can be caught between two calls, or waiting for a CPU
/// on a loaded machine (both show as running): "running" is said only when a few samples
/// over some milliseconds all saw it so.
pub fn of(pid: i32) -> Option<Activity> {
    const SAMPLES: u32 = 5;
    let mut last = None;
    for i in 0..SAMPLES {
        if i > 0 {
            std::thread::sleep(std::time::Duration::from_millis(4));
        }
        match sample(pid) {
            Some(Activity::Running) => last = Some(Activity::Running),
            Some(other) => return Some(other),
            None => return last,
        }
    }
    last
}

/// One look at `pid`'s threads.
fn sample(pid: i32) -> Option<Activity> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut seen: Vec<Activity> = tasks
        .flatten()
        .filter_map(|t| t.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|tid| thread(pid, tid))
        .collect();
    seen.sort_by_key(rank);
    seen.into_iter().next()
}

/// Whether `pid`'s main thread is blocked reading its standard input, by its system call
/// alone (`/proc/<pid>/syscall`). `None` when the kernel does not show it (no right to trace
/// `pid`).
pub fn main_thread_reads_stdin(pid: i32) -> Option<bool> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/syscall")).ok()?;
    let reading = from_syscall(&text, |fd| descriptor(pid, fd));
    Some(matches!(reading, Some(Activity::Reading(ref what)) if what == STDIN))
}

/// Lower is more telling.
fn rank(a: &Activity) -> u8 {
    match a {
        Activity::Stopped => 0,
        Activity::Reading(_)
        | Activity::Writing(_)
        | Activity::OpeningFifo(_)
        | Activity::Accepting => 1,
        Activity::WaitingForChild | Activity::Polling => 2,
        Activity::Running => 3,
        Activity::Sleeping | Activity::WaitingForSignal => 4,
        Activity::WaitingForThread => 5,
    }
}

fn thread(pid: i32, tid: i32) -> Option<Activity> {
    let dir = format!("/proc/{pid}/task/{tid}");
    let stat = std::fs::read_to_string(format!("{dir}/stat")).ok()?;
    let state = stat.rsplit_once(')')?.1.split_whitespace().next()?;
    match state {
        "R" => return Some(Activity::Running),
        "T" | "t" => return Some(Activity::Stopped),
        "Z" | "X" => return None,
        _ => {}
    }
    let call = std::fs::read_to_string(format!("{dir}/syscall")).ok();
    let wchan = std::fs::read_to_string(format!("{dir}/wchan")).ok();
    if let Some(opening) = opening_fifo(call.as_deref(), wchan.as_deref().map(str::trim)) {
        return Some(opening);
    }
    let by_call = call.and_then(|text| from_syscall(&text, |fd| descriptor(pid, fd)));
    by_call.or_else(|| from_wchan(wchan?.trim()))
}

/// A thread asleep in a FIFO's open, waiting for the other end (`wait_for_partner`, called
/// from `fifo_open`), with the access mode read from the `open`/`openat` call's flags where
/// the system call shows.
fn opening_fifo(call: Option<&str>, wchan: Option<&str>) -> Option<Activity> {
    let wchan = wchan?;
    if !(wchan.contains("wait_for_partner") || wchan.contains("fifo_open")) {
        return None;
    }
    let args: Vec<i64> = call
        .unwrap_or_default()
        .split_whitespace()
        .map(|a| i64::from_str_radix(a.trim_start_matches("0x"), 16).unwrap_or(-1))
        .collect();
    // The number is decimal, the arguments hex.
    let nr = call
        .and_then(|c| c.split_whitespace().next()?.parse::<i64>().ok())
        .unwrap_or(-1);
    let flags = if nr == libc::SYS_openat {
        args.get(3).copied()
    } else if legacy_number("open") == Some(nr) {
        args.get(2).copied()
    } else {
        None
    };
    let writing = flags
        .filter(|f| *f >= 0)
        .map(|f| f & i64::from(libc::O_ACCMODE) != i64::from(libc::O_RDONLY));
    Some(Activity::OpeningFifo(writing))
}

/// From `/proc/…/syscall`: "0 0x0 0x7ffd…" (number, then arguments in hex) or "running".
/// `name_fd` names a descriptor of the process.
fn from_syscall(text: &str, name_fd: impl Fn(i64) -> String) -> Option<Activity> {
    let mut fields = text.split_whitespace();
    let first = fields.next()?;
    if first == "running" {
        return Some(Activity::Running);
    }
    let nr: i64 = first.parse().ok()?;
    let fd = fields
        .next()
        .and_then(|a| i64::from_str_radix(a.trim_start_matches("0x"), 16).ok());
    let fd = || fd.map_or_else(|| "a descriptor".to_string(), &name_fd);
    use libc as c;
    let activity = match nr {
        n if n == c::SYS_read || n == c::SYS_readv || n == c::SYS_pread64 => {
            Activity::Reading(fd())
        }
        n if n == c::SYS_write || n == c::SYS_writev || n == c::SYS_pwrite64 => {
            Activity::Writing(fd())
        }
        n if n == c::SYS_recvfrom || n == c::SYS_recvmsg => Activity::Reading(fd()),
        n if n == c::SYS_accept || n == c::SYS_accept4 => Activity::Accepting,
        n if n == c::SYS_clock_nanosleep || n == c::SYS_nanosleep => Activity::Sleeping,
        n if n == c::SYS_wait4 || n == c::SYS_waitid => Activity::WaitingForChild,
        n if n == c::SYS_pselect6
            || n == c::SYS_ppoll
            || n == c::SYS_epoll_pwait
            || n == c::SYS_epoll_pwait2 =>
        {
            Activity::Polling
        }
        n if n == c::SYS_rt_sigsuspend || n == c::SYS_rt_sigtimedwait => Activity::WaitingForSignal,
        n if n == c::SYS_futex => Activity::WaitingForThread,
        _ => return legacy(nr),
    };
    Some(activity)
}

/// System calls that exist on some architectures only (x86_64's poll, select, pause),
/// named by the numbers the kernel reports there.
fn legacy(nr: i64) -> Option<Activity> {
    let names = [
        ("poll", Activity::Polling),
        ("select", Activity::Polling),
        ("epoll_wait", Activity::Polling),
        ("pause", Activity::WaitingForSignal),
    ];
    names
        .into_iter()
        .find(|(name, _)| legacy_number(name) == Some(nr))
        .map(|(_, a)| a)
}

#[cfg(target_arch = "x86_64")]
fn legacy_number(name: &str) -> Option<i64> {
    match name {
        "poll" => Some(libc::SYS_poll),
        "select" => Some(libc::SYS_select),
        "epoll_wait" => Some(libc::SYS_epoll_wait),
        "pause" => Some(libc::SYS_pause),
        "open" => Some(libc::SYS_open),
        _ => None,
    }
}

/// Architectures without the old calls: their libc uses the `p…` ones named above.
#[cfg(not(target_arch = "x86_64"))]
fn legacy_number(_name: &str) -> Option<i64> {
    None
}

/// From `/proc/…/wchan`, the kernel function a thread sleeps in, when its system call
/// cannot be read (another user's process without ptrace rights).
fn from_wchan(wchan: &str) -> Option<Activity> {
    let has = |words: &[&str]| words.iter().any(|w| wchan.contains(w));
    Some(if has(&["n_tty_read", "tty_read"]) {
        Activity::Reading(STDIN.into())
    } else if has(&["pipe_read", "pipe_wait"]) {
        Activity::Reading("a pipe or FIFO".into())
    } else if has(&["pipe_write"]) {
        Activity::Writing("a pipe or FIFO".into())
    } else if has(&["nanosleep", "hrtimer"]) {
        Activity::Sleeping
    } else if has(&["do_wait", "kernel_wait"]) {
        Activity::WaitingForChild
    } else if has(&["poll", "select", "ep_poll"]) {
        Activity::Polling
    } else if has(&["accept", "wait_for_connect", "sk_wait"]) {
        Activity::Accepting
    } else if has(&["futex"]) {
        Activity::WaitingForThread
    } else if has(&["sigsuspend", "sys_pause", "do_sigtimedwait"]) {
        Activity::WaitingForSignal
    } else {
        return None;
    })
}

/// What descriptor `fd` of `pid` is, in words: "its standard input" (fd 0 on a terminal or
/// pipe), "the FIFO /work/imagefifo", "a pipe", "a socket", "/work/data.txt".
fn descriptor(pid: i32, fd: i64) -> String {
    let link = std::fs::read_link(format!("/proc/{pid}/fd/{fd}"));
    let target = link
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    name_descriptor(fd, &target, |p| {
        use std::os::unix::fs::FileTypeExt;
        std::fs::metadata(format!("/proc/{pid}/fd/{fd}"))
            .is_ok_and(|m| m.file_type().is_fifo() && Path::new(p).is_absolute())
    })
}

/// [`descriptor`] from the link's target; `is_named_fifo` tells a FIFO in a folder.
fn name_descriptor(fd: i64, target: &str, is_named_fifo: impl Fn(&str) -> bool) -> String {
    if fd == 0 {
        return STDIN.into();
    }
    if target.starts_with("pipe:") {
        return "a pipe".into();
    }
    if target.starts_with("socket:") {
        return "a socket".into();
    }
    if target.is_empty() {
        return format!("descriptor {fd}");
    }
    if is_named_fifo(target) {
        return format!("the FIFO {target}");
    }
    target.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn named(fd: i64) -> String {
        name_descriptor(fd, "/work/imagefifo", |_| true)
    }

    #[rstest]
    #[case(&format!("{} 0x0 0x7ffd 0x400", libc::SYS_read), Activity::Reading(STDIN.into()))]
    #[case(&format!("{} 0x5 0x7ffd 0x400", libc::SYS_read), Activity::Reading("the FIFO /work/imagefifo".into()))]
    #[case(&format!("{} 0x0 0x0 0x7ffd", libc::SYS_clock_nanosleep), Activity::Sleeping)]
    #[case(&format!("{} 0xffffffffffffffff 0x7ffd", libc::SYS_wait4), Activity::WaitingForChild)]
    #[case(&format!("{} 0x3 0x0 0x0", libc::SYS_accept4), Activity::Accepting)]
    #[case("running", Activity::Running)]
    fn a_blocked_call_is_told_in_words(#[case] syscall: &str, #[case] expected: Activity) {
        assert_eq!(from_syscall(syscall, named), Some(expected));
    }

    #[rstest]
    #[case("n_tty_read", Some(Activity::Reading(STDIN.into())))]
    #[case("do_nanosleep", Some(Activity::Sleeping))]
    #[case("futex_wait_queue", Some(Activity::WaitingForThread))]
    #[case("0", None)]
    fn the_kernel_function_tells_it_otherwise(
        #[case] wchan: &str,
        #[case] expected: Option<Activity>,
    ) {
        assert_eq!(from_wchan(wchan), expected);
    }

    #[rstest]
    #[case(&format!("{} 0xffffff9c 0x7f96 0x80241 0x1b6", libc::SYS_openat), "wait_for_partner", Some(Activity::OpeningFifo(Some(true))))]
    #[case(&format!("{} 0xffffff9c 0x7f96 0x80000 0x0", libc::SYS_openat), "wait_for_partner", Some(Activity::OpeningFifo(Some(false))))]
    #[case("", "fifo_open", Some(Activity::OpeningFifo(None)))]
    #[case(&format!("{} 0x0 0x0 0x7ffd", libc::SYS_clock_nanosleep), "hrtimer_nanosleep", None)]
    fn a_fifo_open_waiting_for_its_other_end_is_told(
        #[case] syscall: &str,
        #[case] wchan: &str,
        #[case] expected: Option<Activity>,
    ) {
        assert_eq!(opening_fifo(Some(syscall), Some(wchan)), expected);
    }

    #[test]
    fn this_test_blocked_opening_a_fifo_for_writing_is_seen_so() {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("mypipe");
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600))
            .expect("mkfifo");
        let pid = std::process::id() as i32;
        let opening = path.clone();
        let thread =
            std::thread::spawn(move || std::fs::OpenOptions::new().write(true).open(opening));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let seen = loop {
            let found = of_threads(pid)
                .into_iter()
                .find(|a| matches!(a, Activity::OpeningFifo(_)));
            if found.is_some() || std::time::Instant::now() > deadline {
                break found;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        };
        // Opening the read end lets the writer's open return.
        let _reader = std::fs::File::open(&path).expect("the read end");
        let _ = thread.join();
        assert_eq!(seen, Some(Activity::OpeningFifo(Some(true))));
    }

    #[test]
    fn a_thread_reading_input_tells_more_than_the_main_thread_joining_it() {
        let mut seen = [Activity::WaitingForThread, Activity::Reading(STDIN.into())];
        seen.sort_by_key(rank);
        assert_eq!(seen[0], Activity::Reading(STDIN.into()));
    }

    #[test]
    fn this_test_blocked_in_a_read_is_seen_reading() {
        let (reader, writer) = std::os::unix::net::UnixStream::pair().expect("a socket pair");
        let pid = std::process::id() as i32;
        let thread = std::thread::spawn(move || {
            use std::io::Read;
            let mut byte = [0u8; 1];
            let _ = (&reader).read(&mut byte);
        });
        // There is no event for "blocked": /proc is polled until the reader is in its call.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let seen = loop {
            let reading = of_threads(pid)
                .into_iter()
                .find(|a| matches!(a, Activity::Reading(_)));
            if reading.is_some() || std::time::Instant::now() > deadline {
                break reading;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        };
        use std::io::Write;
        let _ = (&writer).write_all(b"x");
        let _ = thread.join();
        assert!(
            matches!(seen, Some(Activity::Reading(ref what)) if what == "a socket"),
            "{seen:?}"
        );
    }

    fn of_threads(pid: i32) -> Vec<Activity> {
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .map(|tasks| {
                tasks
                    .flatten()
                    .filter_map(|t| t.file_name().to_str()?.parse::<i32>().ok())
                    .filter_map(|tid| thread(pid, tid))
                    .collect()
            })
            .unwrap_or_default()
    }
}
