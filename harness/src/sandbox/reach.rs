//! Reaching into a run's namespaces from the grader: its network (sockets made by a thread
//! that joined the run's network namespace stay in it) and its `/dev/shm`.

use nix::sched::{setns, CloneFlags};
use std::path::PathBuf;

/// A handle on one run's namespaces. Without private namespaces it is the host's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    pub supervisor: i32,
    pub private_network: bool,
    pub private_tmp: bool,
}

impl Reach {
    /// Runs `f` on a thread inside the run's network namespace and returns its result.
    /// Sockets `f` creates belong to that namespace wherever they are used later.
    pub fn in_network<T: Send>(&self, f: impl FnOnce() -> T + Send) -> std::io::Result<T> {
        if !self.private_network {
            return Ok(f());
        }
        let ns = std::fs::File::open(format!("/proc/{}/ns/net", self.supervisor))?;
        std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    setns(&ns, CloneFlags::CLONE_NEWNET).map_err(std::io::Error::from)?;
                    Ok(f())
                })
                .join()
                .map_err(|_| std::io::Error::other("the namespace thread panicked"))?
        })
    }

    /// The path of shared memory segment `name` as the run sees it (`shm_open("/name")`).
    pub fn shm_path(&self, name: &str) -> PathBuf {
        let name = name.trim_start_matches('/');
        if self.private_tmp {
            PathBuf::from(format!("/proc/{}/root/dev/shm/{name}", self.supervisor))
        } else {
            PathBuf::from(format!("/dev/shm/{name}"))
        }
    }

    /// Creates segment `name` of `size` zero bytes for the run's uid/gid (mode 0666 when the
    /// identity is the grader's own).
    pub fn create_shm(
        &self,
        name: &str,
        size: u64,
        owner: Option<(u32, u32)>,
    ) -> std::io::Result<PathBuf> {
        use std::os::unix::fs::PermissionsExt;
        let path = self.shm_path(name);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&path)?;
        file.set_len(size)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&path, Some(uid), Some(gid))?;
        }
        Ok(path)
    }
}
