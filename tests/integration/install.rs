//! `install.sh` against a release folder on disk, packed by `cargo xtask dist`'s own code
//! (`xtask/src/dist/pack.rs`, included here) around this test's `sysgrade` binary: it
//! installs and the installed binary runs; bad input (a wrong checksum, an unknown machine, a
//! missing archive, no URL, a binary that cannot run) fails with its own message and leaves
//! the install folder exactly as it was, with no temporary file left anywhere.
//!
//! The release folder's path holds a space and a `-`, as users' paths do.

#[allow(dead_code)] // `cargo xtask dist` uses the rest; these trials only pack
#[path = "../../xtask/src/dist/pack.rs"]
mod pack;

use crate::support::{self, Outcome};
use libtest_mimic::{Failed, Trial};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::time::Duration;

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("install::from_a_local_release", from_a_local_release),
        Trial::test(
            "install::the_stamped_script_needs_no_url",
            stamped_needs_no_url,
        ),
        Trial::test("install::refuses_a_wrong_checksum", wrong_checksum),
        Trial::test("install::refuses_an_unknown_machine", unknown_machine),
        Trial::test("install::refuses_a_missing_archive", missing_archive),
        Trial::test("install::refuses_to_guess_the_url", no_url),
        Trial::test(
            "install::a_binary_that_cannot_run_is_not_installed",
            binary_cannot_run,
        ),
        Trial::test(
            "install::a_failed_install_keeps_the_old_sysgrade",
            keeps_the_old_sysgrade,
        ),
    ]
}

/// The version in the archives' names: the root package's, as `cargo xtask dist` reads it.
const VERSION: &str = env!("CARGO_PKG_VERSION");
/// What the pre-existing file in the install folder holds.
const KEEP: &str = "a file of the user's\n";

/// A release folder and the places one install run uses, all in one temporary folder.
struct Release {
    _dir: tempfile::TempDir,
    /// `…/my dist-1`: the archives, sha256.sum and the stamped install.sh.
    folder: PathBuf,
    /// The archive this machine's install picks.
    archive: String,
    /// `…/bin dir-1`, holding only `keep.txt` before the install.
    install_dir: PathBuf,
    /// The install folder's files before the install (name → contents).
    before: BTreeMap<String, Vec<u8>>,
    /// install.sh's TMPDIR, empty before and after.
    tmp: PathBuf,
    home: PathBuf,
}

/// The target install.sh picks on this machine.
fn host_target() -> String {
    format!("{}-unknown-linux-musl", std::env::consts::ARCH)
}

fn url(folder: &Path) -> String {
    format!("file://{}", folder.display())
}

/// `binary` packed as `cargo xtask dist` packs it for `target` (with the repository's
/// install.sh), compressed faster than a release.
fn packed(target: &str, binary: &[u8]) -> Result<Vec<u8>, Failed> {
    let contents = pack::Contents {
        binary,
        readme: &std::fs::read(support::root().join("README.md"))?,
        install_sh: &std::fs::read(repo_script())?,
    };
    let stem = pack::stem(VERSION, target);
    Ok(pack::archive(
        &stem,
        &contents,
        pack::MTIME,
        pack::Compression::fast(),
    )?)
}

/// This test's `sysgrade` packed for this machine, once for all the trials: compressing a
/// debug binary of some 80 MB is the slow part.
fn sysgrade_archive() -> Result<&'static [u8], Failed> {
    static PACKED: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();
    PACKED
        .get_or_init(|| {
            let binary = std::fs::read(support::SYSGRADE).map_err(|e| e.to_string())?;
            packed(&host_target(), &binary).map_err(|e| format!("{e:?}"))
        })
        .as_deref()
        .map_err(|e| Failed::from(e.as_str()))
}

/// A release holding `archive` (this machine's) beside a decoy archive for another machine
/// (so install.sh must pick its line), with sums and an install.sh stamped with its URL.
fn release(archive: &[u8]) -> Result<Release, Failed> {
    let dir = tempfile::tempdir()?;
    let folder = dir.path().join("my dist-1");
    let install_dir = dir.path().join("bin dir-1");
    let (tmp, home) = (dir.path().join("tmp"), dir.path().join("home"));
    for d in [&folder, &install_dir, &tmp, &home] {
        std::fs::create_dir(d)?;
    }
    std::fs::write(install_dir.join("keep.txt"), KEEP)?;
    let decoy = "riscv64gc-unknown-linux-musl";
    let name = |target: &str| format!("{}.tar.gz", pack::stem(VERSION, target));
    let script = std::fs::read_to_string(repo_script())?;
    let stamped = pack::stamp(&script, &url(&folder))?;
    let files = vec![
        pack::write(&folder, &name(&host_target()), archive)?,
        pack::write(&folder, &name(decoy), &packed(decoy, b"decoy")?)?,
        pack::write(&folder, "install.sh", stamped.as_bytes())?,
    ];
    pack::write(&folder, "sha256.sum", pack::sums(&files).as_bytes())?;
    Ok(Release {
        archive: name(&host_target()),
        before: listing(&install_dir)?,
        _dir: dir,
        folder,
        install_dir,
        tmp,
        home,
    })
}

/// The release of this test's own `sysgrade`.
fn sysgrade_release() -> Result<Release, Failed> {
    release(sysgrade_archive()?)
}

/// `sh SCRIPT` with the release's folders and `env` (a `None` value removes the variable),
/// ended after a minute. Every other SYSGRADE_ variable of this process is removed.
fn run_install(
    rel: &Release,
    script: &Path,
    env: &[(&str, Option<&str>)],
) -> Result<Output, Failed> {
    let mut cmd = assert_cmd::Command::new("sh");
    cmd.arg(script).timeout(Duration::from_secs(60));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SYSGRADE_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("TMPDIR", &rel.tmp).env("HOME", &rel.home);
    cmd.env("SYSGRADE_INSTALL_DIR", &rel.install_dir);
    cmd.env("SYSGRADE_DOWNLOAD_URL", url(&rel.folder));
    for (key, value) in env {
        match value {
            Some(v) => cmd.env(key, v),
            None => cmd.env_remove(key),
        };
    }
    Ok(cmd.output()?)
}

fn repo_script() -> PathBuf {
    support::root().join("install.sh")
}

/// Name → contents of the files in `dir` (hidden ones too).
fn listing(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, Failed> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        files.insert(name, std::fs::read(entry.path()).unwrap_or_default());
    }
    Ok(files)
}

/// What an install run did, for a failure's message.
fn evidence(out: &Output, rel: &Release) -> String {
    let names = |d: &Path| {
        listing(d)
            .map(|l| l.into_keys().collect::<Vec<_>>())
            .map_or_else(|e| format!("{e:?}"), |v| format!("{v:?}"))
    };
    format!(
        "status: {}\nstdout:\n{}\nstderr:\n{}\ninstall folder: {}\nTMPDIR: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        names(&rel.install_dir),
        names(&rel.tmp),
    )
}

/// `Err` with the evidence unless `ok`.
fn expect(ok: bool, what: &str, out: &Output, rel: &Release) -> Outcome {
    if ok {
        Ok(())
    } else {
        Err(format!("{what}\n{}", evidence(out, rel)).into())
    }
}

/// The install succeeded: sysgrade is the packed binary, runs, and was reported with its
/// version, target, folder and PATH line; nothing else changed and no temporary file is left.
fn check_installed(out: &Output, rel: &Release) -> Outcome {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let dir = rel.install_dir.display();
    expect(out.status.success(), "install.sh failed", out, rel)?;
    for needle in [
        format!(
            "installed sysgrade {VERSION} ({}) as {dir}/sysgrade",
            host_target()
        ),
        format!("{dir} is not on your PATH"),
        format!("    export PATH=\"{dir}:$PATH\"\n"),
        format!("\nsysgrade {VERSION}\n"),
        "sysgrade doctor".to_string(),
    ] {
        expect(
            stdout.contains(&needle),
            &format!("stdout lacks {needle:?}"),
            out,
            rel,
        )?;
    }
    let installed = rel.install_dir.join("sysgrade");
    let want = std::fs::read(support::SYSGRADE)?;
    let files = listing(&rel.install_dir)?;
    let same = files.len() == 2
        && files.get("keep.txt").map(Vec::as_slice) == Some(KEEP.as_bytes())
        && files.get("sysgrade") == Some(&want);
    expect(
        same,
        "the install folder should hold keep.txt and the packed sysgrade",
        out,
        rel,
    )?;
    let mode = std::fs::metadata(&installed)?.permissions().mode() & 0o777;
    expect(
        mode == 0o755,
        &format!("sysgrade has mode {mode:o}"),
        out,
        rel,
    )?;
    let version = std::process::Command::new(&installed)
        .arg("--version")
        .output()?;
    let said = String::from_utf8_lossy(&version.stdout);
    expect(
        said.trim() == format!("sysgrade {VERSION}"),
        &format!("--version said {said:?}"),
        out,
        rel,
    )?;
    expect(
        listing(&rel.tmp)?.is_empty(),
        "temporary files were left",
        out,
        rel,
    )
}

/// The install failed with exit status 1 and `message` on stderr, and left everything as it
/// was: the install folder holds what it held before, byte for byte, and TMPDIR is empty.
fn check_refused(out: &Output, rel: &Release, message: &str) -> Outcome {
    let stderr = String::from_utf8_lossy(&out.stderr);
    expect(
        out.status.code() == Some(1),
        "install.sh should exit with 1",
        out,
        rel,
    )?;
    let line = format!("sysgrade install: error: {message}");
    expect(
        stderr.contains(&line),
        &format!("stderr lacks {line:?}"),
        out,
        rel,
    )?;
    let untouched = listing(&rel.install_dir)? == rel.before;
    expect(untouched, "the install folder changed", out, rel)?;
    expect(
        listing(&rel.tmp)?.is_empty(),
        "temporary files were left",
        out,
        rel,
    )
}

fn from_a_local_release() -> Outcome {
    let rel = sysgrade_release()?;
    let out = run_install(&rel, &repo_script(), &[])?;
    check_installed(&out, &rel)
}

/// The release's own install.sh, stamped with its folder's URL, needs no variable.
fn stamped_needs_no_url() -> Outcome {
    let rel = sysgrade_release()?;
    let script = rel.folder.join("install.sh");
    let out = run_install(&rel, &script, &[("SYSGRADE_DOWNLOAD_URL", None)])?;
    check_installed(&out, &rel)
}

fn wrong_checksum() -> Outcome {
    let rel = sysgrade_release()?;
    let sums = rel.folder.join("sha256.sum");
    let text = std::fs::read_to_string(&sums)?;
    let right = pack::sha256_hex(&std::fs::read(rel.folder.join(&rel.archive))?);
    let wrong = pack::sha256_hex(b"something else");
    std::fs::write(&sums, text.replace(&right, &wrong))?;
    let out = run_install(&rel, &repo_script(), &[])?;
    let message = format!(
        "checksum mismatch for {}: sha256.sum says {wrong}, the download is {right}",
        rel.archive
    );
    check_refused(&out, &rel, &message)
}

fn unknown_machine() -> Outcome {
    let rel = sysgrade_release()?;
    let out = run_install(&rel, &repo_script(), &[("SYSGRADE_ARCH", Some("sparc64"))])?;
    let message =
        "unsupported machine \"sparc64\": sysgrade is built for x86_64 (amd64), aarch64 (arm64)";
    check_refused(&out, &rel, message)
}

fn missing_archive() -> Outcome {
    let rel = sysgrade_release()?;
    std::fs::remove_file(rel.folder.join(&rel.archive))?;
    let out = run_install(&rel, &repo_script(), &[])?;
    let message = format!("could not download {}/{}", url(&rel.folder), rel.archive);
    check_refused(&out, &rel, &message)
}

/// The repository's install.sh is not stamped: without SYSGRADE_DOWNLOAD_URL it says so.
fn no_url() -> Outcome {
    let rel = sysgrade_release()?;
    let out = run_install(&rel, &repo_script(), &[("SYSGRADE_DOWNLOAD_URL", None)])?;
    check_refused(&out, &rel, "no download URL: set SYSGRADE_DOWNLOAD_URL")
}

/// A release whose binary does not run on this machine (as an aarch64 one on x86_64).
fn unrunnable_release() -> Result<Release, Failed> {
    let script = b"#!/bin/sh\necho 'Exec format error' >&2\nexit 126\n";
    release(&packed(&host_target(), script)?)
}

/// A verified binary that does not run here is not installed, and a folder the install created
/// for it is removed again.
fn binary_cannot_run() -> Outcome {
    let rel = unrunnable_release()?;
    let fresh = rel.install_dir.with_file_name("new-bin");
    let out = run_install(
        &rel,
        &repo_script(),
        &[("SYSGRADE_INSTALL_DIR", Some(&fresh.display().to_string()))],
    )?;
    check_refused(
        &out,
        &rel,
        "the downloaded sysgrade does not run on this machine (nothing was installed)",
    )?;
    expect(
        !fresh.exists(),
        "the folder the install created is still there",
        &out,
        &rel,
    )
}

/// A failed install over an earlier one leaves the earlier `sysgrade` in place, unchanged.
fn keeps_the_old_sysgrade() -> Outcome {
    let mut rel = unrunnable_release()?;
    let old = rel.install_dir.join("sysgrade");
    std::fs::write(&old, "#!/bin/sh\necho sysgrade 0.0.1\n")?;
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o755))?;
    rel.before = listing(&rel.install_dir)?;
    let out = run_install(&rel, &repo_script(), &[])?;
    check_refused(
        &out,
        &rel,
        "the downloaded sysgrade does not run on this machine (nothing was installed)",
    )
}
