use super::*;
use crate::artifact::zip::{bootstrap_zip, deterministic_zip, Entry};
use proptest::prelude::*;

/// An executable-like body that deflate shrinks.
fn compressible() -> Vec<u8> {
    (0..50_000u32).map(|i| (i % 251) as u8).collect()
}

/// Where the (only) central directory record of `zip` starts.
fn central_record_at(zip: &[u8]) -> usize {
    u32_at(zip, zip.len() - END_RECORD_LEN + 16).unwrap() as usize
}

fn patch_u16(zip: &mut [u8], at: usize, value: u16) {
    zip[at..at + 2].copy_from_slice(&value.to_le_bytes());
}

fn patch_u32(zip: &mut [u8], at: usize, value: u32) {
    zip[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

#[test]
fn reads_back_what_the_writer_wrote_stored_and_deflated() {
    let big = compressible();
    let zip = deterministic_zip(&mut [
        Entry {
            name: "bootstrap",
            data: &big,
            mode: 0o755,
        },
        Entry {
            name: "tiny.txt",
            data: b"hi",
            mode: 0o644,
        },
        Entry {
            name: "empty",
            data: b"",
            mode: 0o644,
        },
    ]);
    let reader = ZipReader::new(&zip).unwrap();
    let listed: Vec<_> = reader
        .entries()
        .iter()
        .map(|e| (e.name.as_str(), e.mode, e.size))
        .collect();
    assert_eq!(
        listed,
        [
            ("bootstrap", Some(0o755), 50_000),
            ("empty", Some(0o644), 0),
            ("tiny.txt", Some(0o644), 2)
        ]
    );
    assert_eq!(
        reader.entries()[0].method,
        METHOD_DEFLATE,
        "the big entry is deflated"
    );
    assert_eq!(
        reader.entries()[2].method,
        METHOD_STORED,
        "two bytes are stored"
    );
    assert_eq!(reader.read("bootstrap").unwrap(), big);
    assert_eq!(reader.read("tiny.txt").unwrap(), b"hi");
    assert_eq!(reader.read("empty").unwrap(), b"");
}

#[test]
fn reads_a_zip_made_by_another_writer_with_a_comment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("py.zip");
    let script = "import sys,zipfile\nwith zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED) as z:\n z.comment=b'made by python PK\\x05\\x06 inside'\n z.writestr('dir/a.txt','hello '*1000)\n z.writestr(zipfile.ZipInfo('bootstrap'),b'\\x7fELF'+bytes(range(256)))";
    let status = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .status()
        .expect("python3 runs");
    assert!(status.success());
    let zip = std::fs::read(&path).unwrap();
    assert_eq!(
        read_entry(&zip, "dir/a.txt").unwrap(),
        "hello ".repeat(1000).as_bytes()
    );
    let mut expected = b"\x7fELF".to_vec();
    expected.extend(0..=255u8);
    assert_eq!(read_entry(&zip, "bootstrap").unwrap(), expected);
}

#[test]
fn a_missing_entry_and_what_is_not_a_zip_are_named() {
    let zip = bootstrap_zip(b"binary");
    assert_eq!(
        read_entry(&zip, "main"),
        Err(UnzipError::Missing("main".into()))
    );
    assert_eq!(read_entry(b"", "bootstrap"), Err(UnzipError::NotZip));
    assert_eq!(
        read_entry(b"#!/bin/sh\necho hi\n", "bootstrap"),
        Err(UnzipError::NotZip)
    );
    let mut trailing = zip.clone();
    trailing.extend_from_slice(b"junk after the end record");
    assert_eq!(read_entry(&trailing, "bootstrap"), Err(UnzipError::NotZip));
}

#[test]
fn a_wrong_crc_is_caught_in_stored_and_deflated_entries() {
    for body in [b"stored body".to_vec(), compressible()] {
        let mut zip = bootstrap_zip(&body);
        let record = central_record_at(&zip);
        let declared = u32_at(&zip, record + 16).unwrap() ^ 1;
        patch_u32(&mut zip, record + 16, declared);
        assert_eq!(
            read_entry(&zip, "bootstrap"),
            Err(UnzipError::CrcMismatch {
                name: "bootstrap".into(),
                declared,
                actual: crc32fast::hash(&body)
            })
        );
    }
    let mut flipped = bootstrap_zip(b"stored body");
    flipped[LOCAL_RECORD_LEN + "bootstrap".len()] ^= 0xff;
    assert!(matches!(
        read_entry(&flipped, "bootstrap"),
        Err(UnzipError::CrcMismatch { .. })
    ));
}

#[test]
fn unsupported_methods_encryption_and_zip64_are_refused_by_name() {
    let zip = bootstrap_zip(&compressible());
    let record = central_record_at(&zip);
    let mut bzip2 = zip.clone();
    patch_u16(&mut bzip2, record + 10, 12);
    assert_eq!(
        read_entry(&bzip2, "bootstrap"),
        Err(UnzipError::UnsupportedMethod {
            name: "bootstrap".into(),
            method: 12
        })
    );
    let mut encrypted = zip.clone();
    patch_u16(&mut encrypted, record + 8, FLAG_ENCRYPTED);
    assert_eq!(
        read_entry(&encrypted, "bootstrap"),
        Err(UnzipError::Encrypted("bootstrap".into()))
    );
    let mut aes = zip.clone();
    patch_u16(&mut aes, record + 10, METHOD_AES);
    assert_eq!(
        read_entry(&aes, "bootstrap"),
        Err(UnzipError::Encrypted("bootstrap".into()))
    );
    let mut zip64_sizes = zip.clone();
    patch_u32(&mut zip64_sizes, record + 24, u32::MAX);
    assert_eq!(
        read_entry(&zip64_sizes, "bootstrap"),
        Err(UnzipError::Zip64)
    );
    let mut zip64_count = zip.clone();
    let end = zip.len() - END_RECORD_LEN;
    patch_u16(&mut zip64_count, end + 10, 0xffff);
    assert_eq!(
        read_entry(&zip64_count, "bootstrap"),
        Err(UnzipError::Zip64)
    );
}

#[test]
fn declared_sizes_over_the_limit_or_beyond_the_data_are_refused_before_inflating() {
    let zip = bootstrap_zip(&compressible());
    let record = central_record_at(&zip);
    let mut huge = zip.clone();
    patch_u32(&mut huge, record + 24, 300 * 1024 * 1024);
    assert_eq!(
        read_entry(&huge, "bootstrap"),
        Err(UnzipError::TooLarge {
            name: "bootstrap".into(),
            size: 300 * 1024 * 1024
        })
    );
    // Under the limit, but more than this little deflate data can hold.
    let mut bomb = zip.clone();
    patch_u32(&mut bomb, record + 24, 200 * 1024 * 1024);
    assert!(
        matches!(read_entry(&bomb, "bootstrap"), Err(UnzipError::Corrupt(why)) if why.contains("declares more"))
    );
    let mut longer = zip.clone();
    patch_u32(&mut longer, record + 24, 40_000);
    assert!(
        matches!(read_entry(&longer, "bootstrap"), Err(UnzipError::Corrupt(why)) if why.contains("inflate"))
    );
    let mut shorter = zip;
    patch_u32(&mut shorter, record + 24, 60_000);
    assert!(
        matches!(read_entry(&shorter, "bootstrap"), Err(UnzipError::Corrupt(why)) if why.contains("another size"))
    );
}

#[test]
fn offsets_out_of_range_are_corrupt() {
    let zip = bootstrap_zip(b"binary");
    let record = central_record_at(&zip);
    let end = zip.len() - END_RECORD_LEN;
    let patches = [
        (record + 42, 0x7fff_0000), // the local header
        (record + 42, 3),
        (record + 20, 0x7fff_0000), // the compressed size
        (end + 16, 0x7fff_0000),    // the central directory
        (end + 12, 0x7fff_0000),
        (end + 16, 1),
    ];
    for (at, value) in patches {
        let mut bad = zip.clone();
        patch_u32(&mut bad, at, value);
        assert!(
            matches!(read_entry(&bad, "bootstrap"), Err(UnzipError::Corrupt(_))),
            "{at} {value}"
        );
    }
}

#[test]
fn every_truncation_is_an_error() {
    let zip = bootstrap_zip(&compressible());
    for len in 0..zip.len() {
        assert!(read_entry(&zip[..len], "bootstrap").is_err(), "{len} bytes");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]
    #[test]
    fn damaged_archives_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut zip = deterministic_zip(&mut [
            Entry { name: "bootstrap", data: &compressible(), mode: 0o755 },
            Entry { name: "b", data: b"stored", mode: 0o644 },
        ]);
        for (at, byte) in flips {
            let at = at.index(zip.len());
            zip[at] = byte;
        }
        // Any answer but a panic; what reads must still match its CRC.
        for name in ["bootstrap", "b"] {
            if let Ok(bytes) = read_entry(&zip, name) {
                prop_assert!(bytes.len() as u64 <= UNZIPPED_LIMIT);
            }
        }
    }
}
