//! What a built binary needs to run, read from its ELF headers: its machine, and its program
//! interpreter (`PT_INTERP`), which a static binary does not have. Read from the file itself,
//! so a cross-built binary (aarch64 on x86_64) is checked as surely as a native one, where
//! `ldd` could not run it.

/// The parts of a 64-bit little-endian ELF file that say where it runs.
#[derive(Debug, PartialEq, Eq)]
pub struct Elf {
    /// `e_machine`: 62 is x86_64, 183 is aarch64.
    pub machine: u16,
    /// The dynamic loader it asks for (`PT_INTERP`), if any.
    pub interpreter: Option<String>,
}

const PT_INTERP: u32 = 3;

/// The architecture name of an `e_machine` value, as target triples spell it.
pub fn arch(machine: u16) -> Option<&'static str> {
    match machine {
        62 => Some("x86_64"),
        183 => Some("aarch64"),
        _ => None,
    }
}

/// Reads the header and program headers of a 64-bit little-endian ELF file.
pub fn read(bytes: &[u8]) -> Result<Elf, String> {
    if bytes.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err("not an ELF file".into());
    }
    if bytes.get(4..6) != Some([2u8, 1].as_slice()) {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    let machine = u16_at(bytes, 18)?;
    let phoff = u64_at(bytes, 32)?;
    let phentsize = u64::from(u16_at(bytes, 54)?);
    let phnum = u64::from(u16_at(bytes, 56)?);
    let mut interpreter = None;
    for i in 0..phnum {
        let at = phoff + i * phentsize;
        if u32_at(bytes, at)? == PT_INTERP {
            let (offset, size) = (u64_at(bytes, at + 8)?, u64_at(bytes, at + 32)?);
            let path = slice(bytes, offset, size)?;
            let path = path.split(|&b| b == 0).next().unwrap_or_default();
            interpreter = Some(String::from_utf8_lossy(path).into_owned());
        }
    }
    Ok(Elf {
        machine,
        interpreter,
    })
}

fn slice(bytes: &[u8], at: u64, len: u64) -> Result<&[u8], String> {
    let start = usize::try_from(at).map_err(|_| "offset out of range")?;
    let len = usize::try_from(len).map_err(|_| "size out of range")?;
    start
        .checked_add(len)
        .and_then(|end| bytes.get(start..end))
        .ok_or_else(|| format!("truncated ELF file ({len} bytes at {start})"))
}

fn u16_at(bytes: &[u8], at: u64) -> Result<u16, String> {
    let b = slice(bytes, at, 2)?;
    Ok(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(bytes: &[u8], at: u64) -> Result<u32, String> {
    let mut b = [0u8; 4];
    b.copy_from_slice(slice(bytes, at, 4)?);
    Ok(u32::from_le_bytes(b))
}

fn u64_at(bytes: &[u8], at: u64) -> Result<u64, String> {
    let mut b = [0u8; 8];
    b.copy_from_slice(slice(bytes, at, 8)?);
    Ok(u64::from_le_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF64 image for `machine`: a header, then one program header of type `kind`
    /// pointing at `payload`.
    fn image(machine: u16, kind: u32, payload: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 64 + 56];
        b[..6].copy_from_slice(b"\x7fELF\x02\x01");
        b[18..20].copy_from_slice(&machine.to_le_bytes());
        b[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
        b[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        b[56..58].copy_from_slice(&1u16.to_le_bytes()); // e_phnum
        b[64..68].copy_from_slice(&kind.to_le_bytes());
        let offset = b.len() as u64;
        b[72..80].copy_from_slice(&offset.to_le_bytes()); // p_offset
        b[96..104].copy_from_slice(&(payload.len() as u64).to_le_bytes()); // p_filesz
        b.extend_from_slice(payload);
        b
    }

    #[test]
    fn a_static_binary_has_no_interpreter() {
        let elf = read(&image(183, 1, b"code")).unwrap();
        assert_eq!(
            elf,
            Elf {
                machine: 183,
                interpreter: None
            }
        );
        assert_eq!(arch(elf.machine), Some("aarch64"));
    }

    #[test]
    fn a_dynamic_binary_names_its_interpreter() {
        let elf = read(&image(62, PT_INTERP, b"/lib/ld-musl-x86_64.so.1\0")).unwrap();
        assert_eq!(elf.interpreter.as_deref(), Some("/lib/ld-musl-x86_64.so.1"));
        assert_eq!(arch(elf.machine), Some("x86_64"));
    }

    #[test]
    fn this_test_binary_is_dynamic() {
        // The host's glibc build of the tests asks for ld.so: the check sees real binaries.
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let elf = read(&exe).unwrap();
        let interp = elf.interpreter.expect("a glibc test binary has PT_INTERP");
        assert!(interp.contains("ld-"), "{interp}");
        assert_eq!(arch(elf.machine), Some(std::env::consts::ARCH));
    }

    #[test]
    fn junk_and_truncation_are_errors() {
        assert!(read(b"#!/bin/sh\n").is_err());
        assert!(read(b"\x7fELF\x01\x01").is_err(), "32-bit");
        let mut cut = image(62, PT_INTERP, b"/lib/ld.so\0");
        cut.truncate(110);
        assert!(read(&cut).unwrap_err().contains("truncated"));
    }
}
