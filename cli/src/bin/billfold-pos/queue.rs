//! The offline queue (`--offline-queue FILE`): taps the terminal accepted
//! while the bank could not be reached, waiting for deferred authorization
//! (`--submit-queue FILE`), as transit gates do with online-only cards.
//!
//! One JSON object per line: the authorization request exactly as it would
//! have been sent (the bank needs the token PAN to find the token), and the
//! amount and merchant as the terminal showed them. The file therefore
//! holds PANs. It is created readable and writable by its owner only (0600,
//! and tightened to that whenever it is opened); a real terminal encrypts
//! it too, under a key in its secure element, which this simulator does
//! not. Nothing here prints a PAN.
//!
//! Crash safety: an entry is appended and flushed to disk before the
//! terminal says "approved offline", so a sale the customer walked away
//! from is never lost. An entry leaves the queue only after the bank
//! answered it, by rewriting the file to a temporary one and renaming it
//! over the queue; a crash between the answer and the rewrite leaves the
//! entry in, and submitting it again gets the bank's same answer (it keys
//! authorizations by token and ATC), so it is charged once.
//!
//! A tap appending and a submission rewriting never interleave: both hold
//! an advisory lock on `FILE.lock` while they touch the queue. Lines that
//! cannot be read are kept as they are, never dropped.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use billfold_protocol::AuthorizationRequest;
use serde::{Deserialize, Serialize};

/// One tap accepted offline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub queued_at_ms: i64,
    /// As the terminal showed them (the bank takes them from the CDOL1
    /// data the cryptogram authenticates).
    pub amount: String,
    pub currency: String,
    pub merchant: String,
    /// Holds the PAN.
    pub request: AuthorizationRequest,
}

impl Entry {
    /// The same tap: one card, one ATC, one cryptogram.
    fn same_tap(&self, other: &Entry) -> bool {
        let (a, b) = (&self.request, &other.request);
        a.pan == b.pan
            && a.cryptogram.atc == b.cryptogram.atc
            && a.cryptogram.ac.eq_ignore_ascii_case(&b.cryptogram.ac)
    }
}

/// The queue as read: its entries, and how many lines could not be read.
pub struct Snapshot {
    pub entries: Vec<Entry>,
    pub unreadable: usize,
}

pub struct Queue {
    path: PathBuf,
}

/// Held while the queue is read or written; released when dropped (closing
/// the file releases the lock).
struct Lock {
    _file: File,
}

impl Queue {
    pub fn new(path: &Path) -> Self {
        Queue {
            path: path.to_path_buf(),
        }
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    }

    fn lock(&self) -> io::Result<Lock> {
        let file = private(OpenOptions::new().read(true).write(true).create(true))
            .open(self.sibling(".lock"))?;
        #[cfg(unix)]
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)?;
        Ok(Lock { _file: file })
    }

    /// Appends `entry` and makes it durable.
    pub fn append(&self, entry: &Entry) -> io::Result<()> {
        let line = serde_json::to_string(entry).map_err(io::Error::other)?;
        let _lock = self.lock()?;
        let existed = self.path.exists();
        let mut file =
            private(OpenOptions::new().read(true).append(true).create(true)).open(&self.path)?;
        tighten(&file)?;
        // A line torn by a crash must not swallow this one.
        let mut text = String::with_capacity(line.len() + 2);
        if file.metadata()?.len() > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::End(-1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                text.push('\n');
            }
        }
        text.push_str(&line);
        text.push('\n');
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        if !existed {
            sync_dir(&self.path)?;
        }
        Ok(())
    }

    /// Everything queued now.
    pub fn load(&self) -> io::Result<Snapshot> {
        let _lock = self.lock()?;
        let lines = self.lines()?;
        let entries: Vec<Entry> = lines
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        Ok(Snapshot {
            unreadable: lines.len() - entries.len(),
            entries,
        })
    }

    /// Takes `entry` (every copy of that tap) out of the queue, leaving
    /// whatever else is there, including taps queued meanwhile. Returns how
    /// many lines remain.
    pub fn remove(&self, entry: &Entry) -> io::Result<usize> {
        let _lock = self.lock()?;
        let lines: Vec<String> = self
            .lines()?
            .into_iter()
            .filter(|l| !serde_json::from_str::<Entry>(l).is_ok_and(|e| e.same_tap(entry)))
            .collect();
        let tmp = self.sibling(".tmp");
        let mut file =
            private(OpenOptions::new().write(true).create(true).truncate(true)).open(&tmp)?;
        tighten(&file)?;
        for l in &lines {
            file.write_all(l.as_bytes())?;
            file.write_all(b"\n")?;
        }
        file.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        sync_dir(&self.path)?;
        Ok(lines.len())
    }

    /// The non-empty lines; none if there is no queue yet.
    fn lines(&self) -> io::Result<Vec<String>> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

/// Options that create files readable by their owner only.
fn private(opts: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts
}

/// The queue may have been created by something else: it holds PANs, so it
/// is owner-only whatever it was.
fn tighten(file: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Makes a new or renamed directory entry durable.
fn sync_dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use billfold_protocol::{Cryptogram, CryptogramKind};

    fn entry(atc: u16) -> Entry {
        Entry {
            queued_at_ms: 1,
            amount: "1.00".into(),
            currency: "EUR".into(),
            merchant: "SHOP".into(),
            request: AuthorizationRequest {
                pan: "4761730000000010".into(),
                psn: Some(0),
                cryptogram: Cryptogram {
                    kind: CryptogramKind::Arqc,
                    atc,
                    aip: "0080".into(),
                    cdol1_data: "00".into(),
                    iad: String::new(),
                    ac: format!("{atc:016X}"),
                },
            },
        }
    }

    fn atcs(q: &Queue) -> Vec<u16> {
        q.load()
            .unwrap()
            .entries
            .iter()
            .map(|e| e.request.cryptogram.atc)
            .collect()
    }

    #[test]
    fn appends_survive_a_torn_line_and_removal_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue.jsonl");
        let q = Queue::new(&path);
        assert!(
            q.load().unwrap().entries.is_empty(),
            "no file is an empty queue"
        );
        q.append(&entry(1)).unwrap();
        // A crash mid-append left half a line.
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"queued_at_ms\":")
            .unwrap();
        q.append(&entry(2)).unwrap();
        q.append(&entry(3)).unwrap();
        let s = q.load().unwrap();
        assert_eq!(atcs(&q), [1, 2, 3]);
        assert_eq!(s.unreadable, 1);

        // Removed by tap, not by position; the unreadable line is kept.
        assert_eq!(q.remove(&entry(2)).unwrap(), 3);
        assert_eq!(atcs(&q), [1, 3]);
        assert_eq!(q.load().unwrap().unreadable, 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
