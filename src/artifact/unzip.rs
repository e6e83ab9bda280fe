//! Reading one file out of a zip archive held in memory: what `local` needs
//! to run a package's `bootstrap` exactly as `deploy` ships it.
//!
//! Only what Lambda packages use: stored and deflate entries, no zip64, no
//! encryption. Entries are found through the central directory (as every
//! unzip does, so an entry's later duplicate cannot hide it), and checked
//! against their declared sizes and CRC-32. The input may be hostile: every
//! offset is bounds-checked, and no entry may unzip to more than Lambda's
//! 250 MB, so a crafted archive costs an error, never a panic or a huge
//! allocation.

/// Lambda's limit on a function's unzipped deployment package.
pub const UNZIPPED_LIMIT: u64 = 250 * 1024 * 1024;

/// Deflate cannot expand better than about 1032:1; a declared size beyond
/// that for the compressed bytes given is a lie, caught before inflating.
const DEFLATE_MAX_RATIO: u64 = 1032;

const END_OF_CENTRAL_DIRECTORY: u32 = 0x0605_4b50;
const ZIP64_END_LOCATOR: u32 = 0x0706_4b50;
const CENTRAL_FILE_HEADER: u32 = 0x0201_4b50;
const LOCAL_FILE_HEADER: u32 = 0x0403_4b50;
const END_RECORD_LEN: usize = 22;
const CENTRAL_RECORD_LEN: usize = 46;
const LOCAL_RECORD_LEN: usize = 30;
/// The end record sits at most a maximal comment away from the end.
const MAX_COMMENT_LEN: usize = 0xffff;

const METHOD_STORED: u16 = 0;
const METHOD_DEFLATE: u16 = 8;
/// WinZip's AES entries announce themselves with this method.
const METHOD_AES: u16 = 99;
const FLAG_ENCRYPTED: u16 = 1;
const FLAG_STRONG_ENCRYPTION: u16 = 1 << 6;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnzipError {
    #[error("not a zip archive: no end of central directory record")]
    NotZip,
    #[error("the archive has no entry `{0}`")]
    Missing(String),
    #[error(
        "entry `{name}` uses compression method {method}; only stored (0) and deflate (8) are read"
    )]
    UnsupportedMethod { name: String, method: u16 },
    #[error("entry `{0}` is encrypted; a Lambda package cannot be")]
    Encrypted(String),
    #[error("the archive is zip64, which a package under Lambda's 250 MB limit never needs; zip it again without zip64")]
    Zip64,
    #[error(
        "entry `{name}` unzips to {size} bytes, over Lambda's limit of {UNZIPPED_LIMIT} bytes"
    )]
    TooLarge { name: String, size: u64 },
    #[error("entry `{name}` fails its CRC-32 check (declared {declared:08x}, read {actual:08x})")]
    CrcMismatch {
        name: String,
        declared: u32,
        actual: u32,
    },
    #[error("the archive is corrupt: {0}")]
    Corrupt(String),
}

/// One entry as the central directory describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInfo {
    pub name: String,
    /// Unix mode bits (such as 0o755), when the archive was made on Unix.
    pub mode: Option<u32>,
    pub size: u64,
    method: u16,
    flags: u16,
    crc: u32,
    compressed_size: u64,
    local_header: u64,
}

/// A zip archive in memory, its central directory read.
#[derive(Debug)]
pub struct ZipReader<'a> {
    bytes: &'a [u8],
    entries: Vec<EntryInfo>,
}

/// The bytes of entry `name` of the archive `zip`.
pub fn read_entry(zip: &[u8], name: &str) -> Result<Vec<u8>, UnzipError> {
    ZipReader::new(zip)?.read(name)
}

impl<'a> ZipReader<'a> {
    pub fn new(bytes: &'a [u8]) -> Result<ZipReader<'a>, UnzipError> {
        let end = find_end_record(bytes)?;
        let entries = central_directory(bytes, end)?;
        Ok(ZipReader { bytes, entries })
    }

    pub fn entries(&self) -> &[EntryInfo] {
        &self.entries
    }

    /// The contents of entry `name`, checked against its size and CRC-32.
    pub fn read(&self, name: &str) -> Result<Vec<u8>, UnzipError> {
        let entry = self
            .entries
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| UnzipError::Missing(name.to_string()))?;
        check_readable(entry)?;
        let data = entry_data(self.bytes, entry)?;
        let contents = match entry.method {
            METHOD_STORED => data.to_vec(),
            _ => inflate(entry, data)?,
        };
        if contents.len() as u64 != entry.size {
            return Err(corrupt(&entry.name, "unzips to another size than declared"));
        }
        let actual = crc32fast::hash(&contents);
        if actual != entry.crc {
            return Err(UnzipError::CrcMismatch {
                name: entry.name.clone(),
                declared: entry.crc,
                actual,
            });
        }
        Ok(contents)
    }
}

/// Where the central directory is and how many records it holds.
struct EndRecord {
    records: usize,
    directory_offset: usize,
    directory_size: usize,
    at: usize,
}

fn find_end_record(bytes: &[u8]) -> Result<EndRecord, UnzipError> {
    let last = bytes
        .len()
        .checked_sub(END_RECORD_LEN)
        .ok_or(UnzipError::NotZip)?;
    let first = last.saturating_sub(MAX_COMMENT_LEN);
    // The last signature whose comment length reaches exactly to the end:
    // a signature inside the comment itself does not count.
    let at = (first..=last)
        .rev()
        .find(|&at| {
            u32_at(bytes, at) == Some(END_OF_CENTRAL_DIRECTORY)
                && u16_at(bytes, at + 20).map(usize::from)
                    == Some(bytes.len() - at - END_RECORD_LEN)
        })
        .ok_or(UnzipError::NotZip)?;
    let field = |offset: usize| u32_at(bytes, at + offset).ok_or(UnzipError::NotZip);
    let records = u16_at(bytes, at + 10).ok_or(UnzipError::NotZip)?;
    let (directory_size, directory_offset) = (field(12)?, field(16)?);
    let zip64_locator = at >= 20 && u32_at(bytes, at - 20) == Some(ZIP64_END_LOCATOR);
    if zip64_locator || records == 0xffff || directory_offset == u32::MAX {
        return Err(UnzipError::Zip64);
    }
    Ok(EndRecord {
        records: usize::from(records),
        directory_offset: directory_offset as usize,
        directory_size: directory_size as usize,
        at,
    })
}

fn central_directory(bytes: &[u8], end: EndRecord) -> Result<Vec<EntryInfo>, UnzipError> {
    let directory_end = end
        .directory_offset
        .checked_add(end.directory_size)
        .filter(|&e| e <= end.at)
        .ok_or_else(|| {
            UnzipError::Corrupt("the central directory lies outside the archive".into())
        })?;
    let directory = &bytes[end.directory_offset..directory_end];
    let mut entries = Vec::with_capacity(end.records.min(directory.len() / CENTRAL_RECORD_LEN));
    let mut at = 0;
    for _ in 0..end.records {
        let (entry, length) = central_record(directory, at)?;
        entries.push(entry);
        at += length;
    }
    Ok(entries)
}

/// One central directory record at `at` and its length.
fn central_record(directory: &[u8], at: usize) -> Result<(EntryInfo, usize), UnzipError> {
    let truncated = || UnzipError::Corrupt("a central directory record is truncated".into());
    if u32_at(directory, at) != Some(CENTRAL_FILE_HEADER) {
        return Err(truncated());
    }
    let u16_field = |offset| u16_at(directory, at + offset).ok_or_else(truncated);
    let u32_field = |offset| u32_at(directory, at + offset).ok_or_else(truncated);
    let name_len = usize::from(u16_field(28)?);
    let length =
        CENTRAL_RECORD_LEN + name_len + usize::from(u16_field(30)?) + usize::from(u16_field(32)?);
    let name_start = at + CENTRAL_RECORD_LEN;
    let name = directory
        .get(name_start..name_start + name_len)
        .filter(|_| at + length <= directory.len())
        .ok_or_else(truncated)?;
    let (compressed_size, size, local_header) = (u32_field(20)?, u32_field(24)?, u32_field(42)?);
    if [compressed_size, size, local_header].contains(&u32::MAX) {
        return Err(UnzipError::Zip64);
    }
    let made_on_unix = u16_field(4)? >> 8 == 3;
    let entry = EntryInfo {
        name: String::from_utf8_lossy(name).into_owned(),
        mode: made_on_unix.then_some((u32_field(38)? >> 16) & 0o7777),
        size: u64::from(size),
        method: u16_field(10)?,
        flags: u16_field(8)?,
        crc: u32_field(16)?,
        compressed_size: u64::from(compressed_size),
        local_header: u64::from(local_header),
    };
    Ok((entry, length))
}

/// Refuses what cannot or must not be unpacked, before any work.
fn check_readable(entry: &EntryInfo) -> Result<(), UnzipError> {
    if entry.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION) != 0 || entry.method == METHOD_AES {
        return Err(UnzipError::Encrypted(entry.name.clone()));
    }
    if entry.method != METHOD_STORED && entry.method != METHOD_DEFLATE {
        return Err(UnzipError::UnsupportedMethod {
            name: entry.name.clone(),
            method: entry.method,
        });
    }
    if entry.size > UNZIPPED_LIMIT {
        return Err(UnzipError::TooLarge {
            name: entry.name.clone(),
            size: entry.size,
        });
    }
    let possible = match entry.method {
        METHOD_STORED => entry.compressed_size,
        _ => entry.compressed_size.saturating_mul(DEFLATE_MAX_RATIO) + 64,
    };
    if entry.size > possible {
        return Err(corrupt(
            &entry.name,
            "declares more bytes than its data can hold",
        ));
    }
    Ok(())
}

/// The compressed bytes of `entry`, found through its local header.
fn entry_data<'a>(bytes: &'a [u8], entry: &EntryInfo) -> Result<&'a [u8], UnzipError> {
    let header = usize::try_from(entry.local_header)
        .map_err(|_| corrupt(&entry.name, "offset out of range"))?;
    let out_of_range = || corrupt(&entry.name, "its local header lies outside the archive");
    if u32_at(bytes, header) != Some(LOCAL_FILE_HEADER) {
        return Err(out_of_range());
    }
    let name_len = usize::from(u16_at(bytes, header + 26).ok_or_else(out_of_range)?);
    let extra_len = usize::from(u16_at(bytes, header + 28).ok_or_else(out_of_range)?);
    let name_start = header + LOCAL_RECORD_LEN;
    if bytes.get(name_start..name_start + name_len) != Some(entry.name.as_bytes()) {
        return Err(corrupt(&entry.name, "its local header names another file"));
    }
    let start = name_start + name_len + extra_len;
    let end = usize::try_from(entry.compressed_size)
        .ok()
        .and_then(|size| start.checked_add(size))
        .ok_or_else(out_of_range)?;
    bytes
        .get(start..end)
        .ok_or_else(|| corrupt(&entry.name, "its data runs past the end of the archive"))
}

fn inflate(entry: &EntryInfo, data: &[u8]) -> Result<Vec<u8>, UnzipError> {
    // One byte over the declared size tells "longer than declared" apart
    // from "exactly as declared" without ever growing past the limit.
    let limit = entry.size as usize + 1;
    miniz_oxide::inflate::decompress_to_vec_with_limit(data, limit).map_err(|e| {
        corrupt(
            &entry.name,
            &format!("its deflate data does not inflate ({:?})", e.status),
        )
    })
}

fn corrupt(name: &str, why: &str) -> UnzipError {
    UnzipError::Corrupt(format!("entry `{name}` {why}"))
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

#[cfg(test)]
mod tests;
