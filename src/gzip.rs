//! Reading a file that may be gzip-compressed: the one reader behind solver records (client, server,
//! topology) and sweep files.
//!
//! A file is gzip when it starts with the magic bytes `1f 8b` (RFC 1952 §2.3.1), whatever its name; it is
//! decoded with [`flate2::read::MultiGzDecoder`], so files of several concatenated gzip members (as `cat
//! a.gz b.gz` or parallel compressors write them) decode whole. Anything else is returned as read.

use flate2::read::MultiGzDecoder;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

/// The first two bytes of every gzip member.
pub const MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{}: cannot read it ({source}); check the path", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{}: the gzip data ends after {decoded} decompressed bytes; the file is probably truncated \
         (an interrupted download or copy?), fetch or write it again",
        path.display()
    )]
    Truncated {
        path: PathBuf,
        /// Bytes decompressed before the data ended.
        decoded: usize,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: the gzip data is corrupt ({source}); the file is damaged or not really gzip", path.display())]
    Corrupt {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ReadError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            ReadError::Io { path, .. }
            | ReadError::Truncated { path, .. }
            | ReadError::Corrupt { path, .. } => path,
        }
    }
}

/// Reads the whole file, decompressing it when it is gzip.
pub fn read(path: &Path) -> Result<Vec<u8>, ReadError> {
    let raw = std::fs::read(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decompress(raw, path)
}

/// Decompresses `bytes` when they start with the gzip magic, else returns them unchanged; `path` is for
/// messages.
pub fn decompress(bytes: Vec<u8>, path: &Path) -> Result<Vec<u8>, ReadError> {
    if !bytes.starts_with(&MAGIC) {
        return Ok(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4));
    match MultiGzDecoder::new(bytes.as_slice()).read_to_end(&mut out) {
        Ok(_) => Ok(out),
        Err(source) if source.kind() == ErrorKind::UnexpectedEof => Err(ReadError::Truncated {
            path: path.to_path_buf(),
            decoded: out.len(),
            source,
        }),
        Err(source) => Err(ReadError::Corrupt {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn plain_gzip_and_multi_member() {
        let p = Path::new("x.json");
        assert_eq!(decompress(b"{}".to_vec(), p).unwrap(), b"{}");
        assert_eq!(decompress(gz(b"[1, 2]"), p).unwrap(), b"[1, 2]");
        let mut two = gz(b"ab");
        two.extend(gz(b"cd"));
        assert_eq!(decompress(two, p).unwrap(), b"abcd");
        assert_eq!(decompress(Vec::new(), p).unwrap(), b"");
    }

    #[test]
    fn truncated_gzip_says_so() {
        let data: Vec<u8> = (0..20_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let full = gz(&data);
        for cut in [3, 10, full.len() / 2, full.len() - 4] {
            let e = decompress(full[..cut].to_vec(), Path::new("s.sweep.json.gz")).unwrap_err();
            assert!(matches!(e, ReadError::Truncated { .. }), "cut {cut}: {e:?}");
            let msg = e.to_string();
            assert!(
                msg.starts_with("s.sweep.json.gz: the gzip data ends after")
                    && msg.contains("probably truncated"),
                "{msg}"
            );
        }
    }

    #[test]
    fn corrupt_gzip_and_missing_file() {
        // Compression method 7 does not exist (RFC 1952 §2.3.1 allows only 8, deflate).
        let mut bad = gz(b"hello hello hello");
        bad[2] = 7;
        let e = decompress(bad, Path::new("c.gz")).unwrap_err();
        assert!(matches!(e, ReadError::Corrupt { .. }), "{e:?}");
        assert!(
            e.to_string().starts_with("c.gz: the gzip data is corrupt"),
            "{e}"
        );
        let e = read(Path::new("/nonexistent/dir/f.json")).unwrap_err();
        assert!(matches!(e, ReadError::Io { .. }));
        assert!(e.to_string().contains("f.json: cannot read it"), "{e}");
        assert_eq!(e.path(), Path::new("/nonexistent/dir/f.json"));
    }
}
