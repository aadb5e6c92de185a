//! The `BaseMayaProject.tgz` the harness gives `copy_project`, built here byte for byte the
//! same every time (fixed modes, owners and times, pseudo-random data from a fixed seed): a
//! Maya project skeleton with nested empty folders, names with spaces (`Time Editor/Clip
//! Exports`), an executable script, an empty hidden file and a few hundred KiB of data.

use flate2::{Compression, GzBuilder};
use std::collections::BTreeMap;

/// The top folder inside the archive.
pub const TOP: &str = "BaseMayaProject";
/// Every entry's modification time: 2022-03-10 10:38 UTC, as in the lecture's archive.
const MTIME: u64 = 1_646_908_680;

/// One entry of the tree, relative to [`TOP`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Folder { mode: u32 },
    File { mode: u32, bytes: Vec<u8> },
}

const FOLDERS: &[&str] = &[
    "assets",
    "autosave",
    "cache",
    "cache/nCache",
    "cache/nCache/fluid",
    "cache/particles",
    "clips",
    "data",
    "images",
    "movies",
    "renderData",
    "renderData/depth",
    "renderData/fur",
    "renderData/fur/furAttrMap",
    "renderData/fur/furEqualMap",
    "renderData/fur/furFiles",
    "renderData/fur/furImages",
    "renderData/fur/furShadowMap",
    "renderData/iprImages",
    "renderData/shaders",
    "sceneAssembly",
    "scenes",
    "scenes/edits",
    "scripts",
    "sound",
    "sourceimages",
    "sourceimages/3dPaintTextures",
    "Time Editor",
    "Time Editor/Clip Exports",
];

/// splitmix64 from a fixed seed: `n` reproducible bytes.
fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(n);
    out
}

fn workspace_mel() -> Vec<u8> {
    let mut text = String::from("//Maya 2022 Project Definition\n\n");
    for rule in FOLDERS.iter().filter(|f| !f.contains('/')) {
        text.push_str(&format!("workspace -fr \"{rule}\" \"{rule}\";\n"));
    }
    text.into_bytes()
}

/// The tree: relative path -> node (folders included; the top folder itself is not).
pub fn tree() -> BTreeMap<String, Node> {
    let mut t: BTreeMap<String, Node> = FOLDERS
        .iter()
        .map(|f| (f.to_string(), Node::Folder { mode: 0o755 }))
        .collect();
    let file = |mode, bytes: Vec<u8>| Node::File { mode, bytes };
    t.insert("workspace.mel".into(), file(0o644, workspace_mel()));
    t.insert(
        "scripts/render.sh".into(),
        file(
            0o755,
            b"#!/bin/sh\n# batch render the first shot\nRender -r sw \"scenes/shot 01.ma\"\n"
                .to_vec(),
        ),
    );
    t.insert(
        "scripts/userSetup.py".into(),
        file(0o644, b"print('project ready')\n".to_vec()),
    );
    t.insert(
        "scenes/shot 01.ma".into(),
        file(
            0o644,
            b"//Maya ASCII 2022 scene\nrequires maya \"2022\";\n".to_vec(),
        ),
    );
    t.insert(
        "sourceimages/brick texture.raw".into(),
        file(0o644, noise(1, 256 * 1024)),
    );
    t.insert(
        "data/lookup.bin".into(),
        file(0o644, noise(2, 64 * 1024 + 7)),
    );
    t.insert(
        "Time Editor/Clip Exports/walk cycle.clip".into(),
        file(0o644, noise(3, 3000)),
    );
    t.insert("assets/.keep".into(), file(0o644, Vec::new()));
    t
}

/// The gzipped tar of [`tree`] under [`TOP`], identical on every call.
pub fn build() -> std::io::Result<Vec<u8>> {
    let gz = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mut entries: Vec<(String, Node)> = vec![(TOP.into(), Node::Folder { mode: 0o755 })];
    entries.extend(tree().into_iter().map(|(p, n)| (format!("{TOP}/{p}"), n)));
    for (path, node) in entries {
        let mut header = tar::Header::new_ustar();
        header.set_mtime(MTIME);
        header.set_uid(0);
        header.set_gid(0);
        match node {
            Node::Folder { mode } => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(mode);
                header.set_size(0);
                tar.append_data(&mut header, format!("{path}/"), std::io::empty())?;
            }
            Node::File { mode, bytes } => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(mode);
                header.set_size(bytes.len() as u64);
                tar.append_data(&mut header, &path, bytes.as_slice())?;
            }
        }
    }
    tar.into_inner()?.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_is_the_same_every_time_and_holds_the_tree() {
        let a = build().expect("archive");
        assert_eq!(a, build().expect("archive"));
        let mut names = Vec::new();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(a.as_slice()));
        for entry in archive.entries().expect("entries") {
            let entry = entry.expect("entry");
            names.push(entry.path().expect("path").display().to_string());
        }
        assert!(names.contains(&"BaseMayaProject/Time Editor/Clip Exports/".to_string()));
        assert_eq!(names.len(), tree().len() + 1);
    }
}
