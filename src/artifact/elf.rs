//! Which versioned symbols an ELF executable needs (`.gnu.version_r`), so a
//! build can prove its `bootstrap` runs on Lambda's glibc before it ships.

/// A required symbol version, such as `("libc.so.6", "GLIBC_2.17")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionNeed {
    pub library: String,
    pub version: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ElfError {
    #[error("not a 64-bit little-endian ELF file")]
    NotElf64,
    #[error("the ELF file is truncated or malformed ({0})")]
    Malformed(&'static str),
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, ElfError> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or(ElfError::Malformed("u16 out of range"))
}
fn u32_at(b: &[u8], at: usize) -> Result<u32, ElfError> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(ElfError::Malformed("u32 out of range"))
}
fn u64_at(b: &[u8], at: usize) -> Result<u64, ElfError> {
    b.get(at..at + 8)
        .map(|s| u64::from_le_bytes(s.try_into().expect("8 bytes")))
        .ok_or(ElfError::Malformed("u64 out of range"))
}
fn c_str(b: &[u8], at: usize) -> Result<String, ElfError> {
    let tail = b
        .get(at..)
        .ok_or(ElfError::Malformed("string out of range"))?;
    let end = tail
        .iter()
        .position(|&c| c == 0)
        .ok_or(ElfError::Malformed("unterminated string"))?;
    Ok(String::from_utf8_lossy(&tail[..end]).into_owned())
}

fn check_elf64(elf: &[u8]) -> Result<(), ElfError> {
    if elf.get(..4) != Some(b"\x7fELF") || elf.get(4) != Some(&2) || elf.get(5) != Some(&1) {
        return Err(ElfError::NotElf64);
    }
    Ok(())
}

const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;

/// Every versioned symbol requirement of the executable. A static binary has none.
pub fn version_needs(elf: &[u8]) -> Result<Vec<VersionNeed>, ElfError> {
    check_elf64(elf)?;
    let shoff = u64_at(elf, 0x28)? as usize;
    let shentsize = u16_at(elf, 0x3a)? as usize;
    let shnum = u16_at(elf, 0x3c)? as usize;
    let section = |i: usize| -> Result<(u32, u32, usize, usize), ElfError> {
        let h = shoff + i * shentsize;
        Ok((
            u32_at(elf, h + 4)?,
            u32_at(elf, h + 0x28)?,
            u64_at(elf, h + 0x18)? as usize,
            u64_at(elf, h + 0x20)? as usize,
        ))
    };
    let mut needs = Vec::new();
    for i in 0..shnum {
        let (kind, link, offset, _size) = section(i)?;
        if kind != SHT_GNU_VERNEED {
            continue;
        }
        let (_, _, strings, _) = section(link as usize)?;
        let mut entry = offset;
        loop {
            let count = u16_at(elf, entry + 2)? as usize;
            let library = c_str(elf, strings + u32_at(elf, entry + 4)? as usize)?;
            let mut aux = entry + u32_at(elf, entry + 8)? as usize;
            for _ in 0..count {
                let version = c_str(elf, strings + u32_at(elf, aux + 8)? as usize)?;
                needs.push(VersionNeed {
                    library: library.clone(),
                    version,
                });
                let next = u32_at(elf, aux + 12)? as usize;
                if next == 0 {
                    break;
                }
                aux += next;
            }
            let next = u32_at(elf, entry + 12)? as usize;
            if next == 0 {
                break;
            }
            entry += next;
        }
    }
    Ok(needs)
}

/// `e_machine` of x86-64 and of aarch64 (arm64) executables.
pub const MACHINE_X86_64: u16 = 62;
pub const MACHINE_AARCH64: u16 = 183;

/// The ELF header's `e_machine`: which processor the executable is for.
pub fn machine(elf: &[u8]) -> Result<u16, ElfError> {
    check_elf64(elf)?;
    u16_at(elf, 0x12)
}

/// The newest `GLIBC_x.y` the executable needs, as (x, y).
pub fn newest_glibc(needs: &[VersionNeed]) -> Option<(u32, u32)> {
    needs
        .iter()
        .filter_map(|n| n.version.strip_prefix("GLIBC_"))
        .filter_map(|v| {
            let mut parts = v.split('.');
            Some((
                parts.next()?.parse().ok()?,
                parts.next().unwrap_or("0").parse().ok()?,
            ))
        })
        .max()
}

/// The glibc of Lambda's `provided.al2023` runtime (and the oldest we allow: 2.34).
pub const LAMBDA_GLIBC: (u32, u32) = (2, 34);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_needs_of_a_real_executable() {
        // The test binary itself links against this machine's glibc.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let needs = version_needs(&me).unwrap();
        assert!(
            needs
                .iter()
                .any(|n| n.library.starts_with("libc.so") && n.version.starts_with("GLIBC_2.")),
            "{needs:?}"
        );
        let (major, minor) = newest_glibc(&needs).unwrap();
        assert_eq!(major, 2);
        assert!(minor >= 2, "{minor}");
    }

    #[test]
    fn reads_the_machine_of_this_test_binary() {
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let expected = match std::env::consts::ARCH {
            "x86_64" => MACHINE_X86_64,
            "aarch64" => MACHINE_AARCH64,
            other => panic!("no expectation for {other}"),
        };
        assert_eq!(machine(&me), Ok(expected));
        let mut arm = me[..64].to_vec();
        arm[0x12..0x14].copy_from_slice(&MACHINE_AARCH64.to_le_bytes());
        assert_eq!(machine(&arm), Ok(MACHINE_AARCH64));
        assert_eq!(machine(b"#!/bin/sh\n"), Err(ElfError::NotElf64));
        assert!(machine(b"\x7fELF\x02\x01\x01").is_err());
    }

    #[test]
    fn refuses_what_is_not_elf() {
        assert_eq!(version_needs(b"#!/bin/sh\n"), Err(ElfError::NotElf64));
        assert!(version_needs(b"\x7fELF\x02\x01\x01").is_err());
    }
}
