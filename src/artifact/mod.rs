//! Deployment packages: deterministic zips, their hashes, content-addressed
//! keys, and the manifest that lets `render` reference exactly what `build`
//! produced. Pure: bytes in, bytes out.

pub mod elf;
pub mod manifest;
pub mod unzip;
pub mod zip;

use sha2::{Digest, Sha256};

/// The SHA-256 of `bytes`, hex (for keys) and base64 (as Lambda reports `CodeSha256`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    pub hex: String,
    pub base64: String,
}

pub fn sha256(bytes: &[u8]) -> Digests {
    let digest = Sha256::digest(bytes);
    let hex = digest.iter().map(|b| format!("{b:02x}")).collect();
    Digests {
        hex,
        base64: base64_encode(&digest),
    }
}

/// The S3 key of a package: its hash decides it, so an unchanged package
/// has the same key and is never uploaded twice.
pub fn artifact_key(app: &str, function: &str, sha256_hex: &str) -> String {
    format!("artifacts/{app}/{function}/{sha256_hex}.zip")
}

fn base64_encode(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_known_vectors() {
        let d = sha256(b"abc");
        assert_eq!(
            d.hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(d.base64, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert_eq!(base64_encode(b"a"), "YQ==");
    }
}
