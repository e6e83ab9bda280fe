//! A zip writer whose output depends only on the files given: fixed
//! timestamps (1980-01-01), fixed modes, entries in name order, no extra
//! fields, one compression level. Building unchanged code twice therefore
//! gives byte-identical packages and the same hash.

/// One file of a package.
pub struct Entry<'a> {
    pub name: &'a str,
    pub data: &'a [u8],
    /// Unix mode bits, such as 0o755 for `bootstrap`.
    pub mode: u32,
}

/// Year 0 of the DOS epoch (1980) in bits 9.., month 1 in bits 5..9, day 1.
const DOS_DATE_1980_01_01: u16 = (1 << 5) | 1;
const DOS_TIME_MIDNIGHT: u16 = 0;
const DEFLATE_LEVEL: u8 = 9;

/// The zip archive of `entries`.
pub fn deterministic_zip(entries: &mut [Entry]) -> Vec<u8> {
    entries.sort_by(|a, b| a.name.cmp(b.name));
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries.iter() {
        let crc = crc32fast::hash(e.data);
        let compressed = miniz_oxide::deflate::compress_to_vec(e.data, DEFLATE_LEVEL);
        let (method, body): (u16, &[u8]) = if compressed.len() < e.data.len() {
            (8, &compressed)
        } else {
            (0, e.data)
        };
        let offset = out.len() as u32;
        let name = e.name.as_bytes();
        // Local file header.
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes()); // version needed
        out.extend_from_slice(&0u16.to_le_bytes()); // flags
        out.extend_from_slice(&method.to_le_bytes());
        out.extend_from_slice(&DOS_TIME_MIDNIGHT.to_le_bytes());
        out.extend_from_slice(&DOS_DATE_1980_01_01.to_le_bytes());
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // extra length
        out.extend_from_slice(name);
        out.extend_from_slice(body);
        // Central directory record.
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes()); // made by: Unix, 2.0
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&method.to_le_bytes());
        central.extend_from_slice(&DOS_TIME_MIDNIGHT.to_le_bytes());
        central.extend_from_slice(&DOS_DATE_1980_01_01.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&(body.len() as u32).to_le_bytes());
        central.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes()); // extra
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&((0o100_000 | e.mode) << 16).to_le_bytes()); // regular file + mode
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let central_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// The package of one executable: `bootstrap`, mode 0755.
pub fn bootstrap_zip(executable: &[u8]) -> Vec<u8> {
    deterministic_zip(&mut [Entry {
        name: "bootstrap",
        data: executable,
        mode: 0o755,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_input_same_bytes_and_order_does_not_matter() {
        let a = deterministic_zip(&mut [
            Entry {
                name: "b",
                data: b"two",
                mode: 0o644,
            },
            Entry {
                name: "a",
                data: &[7u8; 1000],
                mode: 0o755,
            },
        ]);
        let b = deterministic_zip(&mut [
            Entry {
                name: "a",
                data: &[7u8; 1000],
                mode: 0o755,
            },
            Entry {
                name: "b",
                data: b"two",
                mode: 0o644,
            },
        ]);
        assert_eq!(a, b);
        assert_ne!(bootstrap_zip(b"x"), bootstrap_zip(b"y"));
    }

    #[test]
    fn python_reads_it_with_the_right_modes_and_contents() {
        // The standard library's zipfile is an independent reader.
        let dir = std::env::temp_dir().join(format!("stackctl-zip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.zip");
        let big: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(
            &path,
            deterministic_zip(&mut [
                Entry {
                    name: "bootstrap",
                    data: &big,
                    mode: 0o755,
                },
                Entry {
                    name: "x.txt",
                    data: b"hi",
                    mode: 0o644,
                },
            ]),
        )
        .unwrap();
        let script = "import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nfor i in z.infolist(): print(i.filename, oct(i.external_attr>>16), len(z.read(i)), i.date_time)";
        let out = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(&path)
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(text, "bootstrap 0o100755 50000 (1980, 1, 1, 0, 0, 0)\nx.txt 0o100644 2 (1980, 1, 1, 0, 0, 0)\n");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
