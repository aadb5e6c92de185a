//! A release's files, byte for byte: the deterministic `sysgrade-<version>-<target>.tar.gz`
//! archives, `sha256.sum` in the format `sha256sum -c` reads, and `install.sh` stamped with
//! its default download URL.
//!
//! Only std, `tar`, `flate2` and `sha2`: the integration tests include this file too
//! (`#[path]`), so the installer's trials install archives packed by this very code.

pub use flate2::Compression;
use flate2::GzBuilder;
use sha2::{Digest, Sha256};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The mtime of every archive entry unless `SOURCE_DATE_EPOCH` says otherwise, so that an
/// archive depends on its contents only: 2026-01-01T00:00:00Z, a fixed date rather than 0 so
/// that unpacked files do not claim to be from 1970.
pub const MTIME: u64 = 1_767_225_600;

/// The line of `install.sh` that `stamp` rewrites.
pub const URL_LINE: &str = "DEFAULT_DOWNLOAD_URL=";

/// What goes into a release's archive besides the folder: the files of its folder.
pub struct Contents<'a> {
    pub binary: &'a [u8],
    pub readme: &'a [u8],
    pub install_sh: &'a [u8],
}

/// `sysgrade-<version>-<target>`: the archive's stem and its one folder.
pub fn stem(version: &str, target: &str) -> String {
    format!("sysgrade-{version}-{target}")
}

/// The gzipped tar of `stem/` holding `contents`: entries sorted by name, owner 0, mode 0755 or
/// 0644, every mtime `mtime`, no gzip name or time. The same inputs give the same bytes.
/// Releases are compressed with `Compression::best()`; tests may save time with `fast()`.
pub fn archive(
    stem: &str,
    contents: &Contents,
    mtime: u64,
    level: Compression,
) -> io::Result<Vec<u8>> {
    let gz = GzBuilder::new().mtime(0).write(Vec::new(), level);
    let mut tar = tar::Builder::new(gz);
    let mut folder = header(tar::EntryType::Directory, 0o755, 0, mtime);
    tar.append_data(&mut folder, format!("{stem}/"), io::empty())?;
    // Sorted by name (bytes): README.md < install.sh < sysgrade.
    let files: [(&str, u32, &[u8]); 3] = [
        ("README.md", 0o644, contents.readme),
        ("install.sh", 0o755, contents.install_sh),
        ("sysgrade", 0o755, contents.binary),
    ];
    for (name, mode, data) in files {
        let mut h = header(tar::EntryType::Regular, mode, data.len() as u64, mtime);
        tar.append_data(&mut h, format!("{stem}/{name}"), data)?;
    }
    tar.into_inner()?.finish()
}

fn header(kind: tar::EntryType, mode: u32, size: u64, mtime: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(mtime);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// Lower-case hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `sha256.sum`'s text: `<hex>  <name>` per file (text mode, as `sha256sum` writes it),
/// sorted by name.
pub fn sums(files: &[(String, String)]) -> String {
    let mut sorted: Vec<_> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted
        .into_iter()
        .map(|(name, hex)| format!("{hex}  {name}\n"))
        .collect()
}

/// `install.sh` with its default download URL set to `url` (no trailing `/`). Fails on a URL
/// that single quotes cannot hold as it is (a quote, a newline), or on a script without
/// exactly one `URL_LINE`. A space is fine: a `file://` URL may name any local folder.
pub fn stamp(script: &str, url: &str) -> Result<String, String> {
    let url = url.trim_end_matches('/');
    if url.is_empty() || url.chars().any(|c| c == '\'' || c.is_control()) {
        return Err(format!(
            "download URL {url:?} must be non-empty, without single quotes or control characters"
        ));
    }
    let lines = script.lines().filter(|l| l.starts_with(URL_LINE)).count();
    if lines != 1 {
        return Err(format!(
            "install.sh has {lines} lines starting with `{URL_LINE}`, expected exactly one"
        ));
    }
    let mut out: String = script
        .lines()
        .map(|l| {
            if l.starts_with(URL_LINE) {
                format!("{URL_LINE}'{url}'\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    if !script.ends_with('\n') {
        out.pop();
    }
    Ok(out)
}

/// Writes `data` to `dir/name` and returns the (name, sha256) pair for [`sums`].
pub fn write(dir: &Path, name: &str, data: &[u8]) -> io::Result<(String, String)> {
    let path: PathBuf = dir.join(name);
    let mut file = std::fs::File::create(&path)?;
    file.write_all(data)?;
    file.sync_all()?;
    Ok((name.to_string(), sha256_hex(data)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents() -> Contents<'static> {
        Contents {
            binary: b"\x7fELF fake binary",
            readme: b"# sysgrade\n",
            install_sh: b"#!/bin/sh\nDEFAULT_DOWNLOAD_URL=''\necho hi\n",
        }
    }

    #[test]
    fn archives_are_deterministic() {
        let a = archive("sysgrade-1.2.3-x", &contents(), MTIME, Compression::best()).unwrap();
        let b = archive("sysgrade-1.2.3-x", &contents(), MTIME, Compression::best()).unwrap();
        assert_eq!(a, b);
        let other = archive(
            "sysgrade-1.2.3-x",
            &contents(),
            MTIME + 1,
            Compression::best(),
        )
        .unwrap();
        assert_ne!(a, other, "the mtime must reach the archive");
    }

    #[test]
    fn archive_entries_are_sorted_owned_by_root_and_dated() {
        use std::io::Read;
        let bytes = archive("sysgrade-1.2.3-x", &contents(), MTIME, Compression::best()).unwrap();
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
        let mut seen = Vec::new();
        for entry in tar.entries().unwrap() {
            let mut entry = entry.unwrap();
            let h = entry.header().clone();
            assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
            assert_eq!(h.mtime().unwrap(), MTIME);
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            let path = entry.path().unwrap().display().to_string();
            seen.push((path, h.mode().unwrap(), data));
        }
        let want: Vec<(String, u32, Vec<u8>)> = vec![
            ("sysgrade-1.2.3-x/".into(), 0o755, vec![]),
            (
                "sysgrade-1.2.3-x/README.md".into(),
                0o644,
                b"# sysgrade\n".to_vec(),
            ),
            (
                "sysgrade-1.2.3-x/install.sh".into(),
                0o755,
                contents().install_sh.to_vec(),
            ),
            (
                "sysgrade-1.2.3-x/sysgrade".into(),
                0o755,
                contents().binary.to_vec(),
            ),
        ];
        assert_eq!(seen, want);
    }

    #[test]
    fn the_gzip_header_holds_no_time_or_name() {
        let bytes = archive("s", &contents(), MTIME, Compression::best()).unwrap();
        assert_eq!(&bytes[..4], &[0x1f, 0x8b, 8, 0], "no FNAME flag");
        assert_eq!(&bytes[4..8], &[0, 0, 0, 0], "no mtime");
    }

    #[test]
    fn sha256_of_a_known_input() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn sha256sum_accepts_the_sums() {
        let dir = tempfile::tempdir().unwrap();
        let files = vec![
            write(dir.path(), "b file-1.tar.gz", b"second").unwrap(),
            write(dir.path(), "a.tar.gz", b"first").unwrap(),
        ];
        let text = sums(&files);
        assert!(text.starts_with(&format!("{}  a.tar.gz\n", sha256_hex(b"first"))));
        std::fs::write(dir.path().join("sha256.sum"), &text).unwrap();
        let check = |dir: &Path| {
            std::process::Command::new("sha256sum")
                .args(["-c", "--strict", "sha256.sum"])
                .current_dir(dir)
                .output()
                .expect("sha256sum runs")
        };
        let ok = check(dir.path());
        assert!(ok.status.success(), "{ok:?}");
        assert_eq!(
            String::from_utf8_lossy(&ok.stdout),
            "a.tar.gz: OK\nb file-1.tar.gz: OK\n"
        );
        // …and the check is real: a changed file fails it.
        std::fs::write(dir.path().join("a.tar.gz"), b"changed").unwrap();
        assert!(!check(dir.path()).status.success());
    }

    #[test]
    fn stamp_sets_the_default_url_only() {
        let script =
            "#!/bin/sh\n# DEFAULT_DOWNLOAD_URL= is set below\nDEFAULT_DOWNLOAD_URL=''\nx\n";
        let stamped = stamp(script, "https://example.org/o/r/releases/latest/download/").unwrap();
        assert_eq!(
            stamped,
            "#!/bin/sh\n# DEFAULT_DOWNLOAD_URL= is set below\nDEFAULT_DOWNLOAD_URL='https://example.org/o/r/releases/latest/download'\nx\n"
        );
    }

    #[test]
    fn stamp_refuses_unquotable_urls_and_odd_scripts() {
        let script = "DEFAULT_DOWNLOAD_URL=''\n";
        for bad in [
            "",
            "/",
            "https://x/'; rm -rf ~; '",
            "https://x/\n",
            "https://x/\t",
        ] {
            assert!(stamp(script, bad).is_err(), "{bad:?}");
        }
        let spaced = stamp(script, "file:///home/a b/my dist-1").unwrap();
        assert_eq!(
            spaced,
            "DEFAULT_DOWNLOAD_URL='file:///home/a b/my dist-1'\n"
        );
        assert!(stamp("echo\n", "https://x").is_err());
        assert!(stamp(
            "DEFAULT_DOWNLOAD_URL=''\nDEFAULT_DOWNLOAD_URL=''\n",
            "https://x"
        )
        .is_err());
    }

    #[test]
    fn the_repository_install_sh_can_be_stamped() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../install.sh");
        let script = std::fs::read_to_string(path).unwrap();
        assert!(
            script.contains("\nDEFAULT_DOWNLOAD_URL=''\n"),
            "unstamped in the repository"
        );
        let stamped = stamp(&script, "file:///x").unwrap();
        assert!(stamped.contains("\nDEFAULT_DOWNLOAD_URL='file:///x'\n"));
        assert_eq!(stamped.lines().count(), script.lines().count());
    }
}
