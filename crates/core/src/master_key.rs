//! Key material at rest: the master key that seals the secrets Tollgate keeps
//! in its database, and the file-mode rules for every secret file.
//!
//! # The master key, for operators
//!
//! Tollgate keeps its own key material in the database: the JWT secret
//! (HS384), the private signing keys (RS, ES and EdDSA) and the credential
//! pepper, the server secret under which API keys and access-key secrets are
//! hashed. Without a master key that material lies in the database in the
//! clear, and whoever holds a copy of the database — a backup, a snapshot, a
//! disk — can mint tokens. With `secrets.master_key_file` set, each of these
//! values is encrypted (XChaCha20-Poly1305) under a 256-bit key that lives
//! only in that file, so a copy of the database alone mints nothing.
//!
//! Make the key once, readable by the account Tollgate runs as and no one
//! else:
//!
//! ```text
//! umask 077
//! openssl rand -hex 32 > /etc/tollgate/master.key     # or: openssl rand -base64 32
//! chown tollgate /etc/tollgate/master.key
//! ```
//!
//! and name it in the configuration (`secrets.master_key_file =
//! "/etc/tollgate/master.key"`). The file holds 32 random bytes written as
//! 64 hex characters or as 44 characters of standard base64, optionally
//! followed by a newline. Start-up stops, naming the file, when it holds
//! anything else (the content is never echoed) or when group or others may
//! read or write it (the message shows the mode and the fix, `chmod 600
//! FILE`); the same rule holds for `jwt.secret_file` and other key files.
//!
//! Each value is sealed together with the place it is kept in (for example
//! `server_secrets/jwt_hs384_secret`), so a sealed value copied into another
//! row does not open there.
//!
//! What a database backup then holds: the sealed key material, useless
//! without the key file; and, as before, the password hashes (argon2id) and
//! the hashes of tokens, API keys and access-key secrets, which are one-way:
//! nothing in them logs in, though weak passwords stay open to offline
//! guessing, as in any password database. Keep the key file out of the
//! database's backups and back it up on its own: without it the sealed key
//! material cannot be recovered — tokens signed with it no longer verify,
//! and API keys and access-key secrets, hashed under the pepper, must be
//! issued anew.
//!
//! Rotation: every sealed value carries the id of the key that sealed it, a
//! public 8-byte fingerprint shown as 16 hex characters. Write a new key
//! file, point `secrets.master_key_file` at it and run `tollgate secrets
//! reseal --old-master-key-file OLD`: every sealed value is opened with the
//! old key and sealed again with the configured one. Values already under
//! the new key are checked and left alone, so an interrupted run can simply
//! be run again. Then the old file can be destroyed. A server started with a
//! key that did not seal the stored values says so, naming the id it found —
//! a wrong key file is told apart from a value that was altered.
//!
//! # Format
//!
//! A sealed value is `A7 54 47 01` (the magic `\xA7TG` and format version 1),
//! the 8-byte key id, a random 24-byte nonce, then the ciphertext with its
//! 16-byte Poly1305 tag. The associated data is those first 12 bytes followed
//! by the label. 0xA7 is a UTF-8 continuation byte, so no text secret (PEM,
//! hex, base64) can start like a sealed value.
//!
//! The key in the file is never used directly: HMAC-SHA256 under it derives,
//! with two fixed labels, the key id and the sealing key, so publishing the
//! id says nothing about the sealing key.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use thiserror::Error;
use zeroize::Zeroizing;

use crate::secret::{fill_random, keyed_hash};

/// The format family's magic; the byte after it is the format version.
const MAGIC: [u8; 3] = [0xA7, b'T', b'G'];
const VERSION: u8 = 1;
const KEY_ID_LEN: usize = 8;
/// Magic, version, key id: bound into the associated data.
const HEADER_LEN: usize = MAGIC.len() + 1 + KEY_ID_LEN;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const MIN_SEALED_LEN: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;

const ID_LABEL: &[u8] = b"tollgate master key id v1";
const SEAL_LABEL: &[u8] = b"tollgate master key seal v1";

/// Longest key file read: 64 hex characters and a CRLF, with room to tell
/// "too long" apart from "just right" without reading a large file.
const MAX_KEY_FILE_BYTES: u64 = 128;

/// A 256-bit master key read from a private file.
///
/// Holds only what is derived from the key (its id and the sealing cipher,
/// whose key is zeroized on drop); `Debug` shows the id alone.
pub struct MasterKey {
    id: [u8; KEY_ID_LEN],
    cipher: XChaCha20Poly1305,
}

/// Why the master key file could not be used. Each message names the file
/// and none repeats its content.
#[derive(Debug, Error)]
pub enum MasterKeyError {
    /// Group or others may read or write the file, or its mode could not be
    /// read.
    #[error(transparent)]
    NotPrivate(#[from] FileModeError),
    #[error("cannot read the master key file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "the master key file {} does not hold a 256-bit key: expected 64 hex characters or 44 \
         characters of standard base64, optionally followed by a newline (make one with \
         `openssl rand -hex 32`)",
        path.display()
    )]
    Malformed { path: PathBuf },
}

/// Why a stored value could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SealError {
    /// The bytes are not a sealed value at all (see [`is_sealed`]).
    #[error("the value is not sealed")]
    NotSealed,
    /// Sealed by a later version of Tollgate, in a format this one does not
    /// know.
    #[error("the value is sealed in an unknown format (version {version})")]
    UnsupportedVersion { version: u8 },
    /// Sealed under another master key: the configured key file is not the
    /// one that sealed it (or a rotation was not finished).
    #[error("the value was sealed under master key {}, not the configured one", hex::encode(found_id))]
    WrongKey { found_id: [u8; KEY_ID_LEN] },
    /// The right key, but the value does not open: it was altered,
    /// truncated, or sealed for another label (moved from another row).
    #[error("the sealed value was altered, truncated or moved from elsewhere")]
    Tampered,
}

/// A secret file that group or others may use, or whose mode could not be
/// read.
#[derive(Debug, Error)]
pub enum FileModeError {
    #[error(
        "{} can be read or written by group or others (mode {mode:04o}); a secret file must be \
         private to the account Tollgate runs as: run `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("cannot check the permissions of {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl MasterKey {
    /// Reads the key from `path`: 32 random bytes written as 64 hex
    /// characters (`openssl rand -hex 32`) or as 44 characters of standard
    /// base64 (`openssl rand -base64 32`), optionally followed by a newline.
    ///
    /// Refuses a file that group or others may read or write (as
    /// [`check_private_file`], checked on the opened file so it cannot be
    /// swapped in between) and any other content, naming the file in the
    /// error and never echoing what it holds.
    pub fn load(path: &Path) -> Result<Self, MasterKeyError> {
        let read_error = |source| MasterKeyError::Read { path: path.to_owned(), source };
        let file = File::open(path).map_err(read_error)?;
        #[cfg(unix)]
        {
            let meta =
                file.metadata().map_err(|source| FileModeError::Io { path: path.to_owned(), source })?;
            check_mode(path, &meta)?;
        }
        // Room reserved up front so that reading never reallocates and
        // leaves a stray copy of the key behind.
        let mut content = Zeroizing::new(Vec::with_capacity(MAX_KEY_FILE_BYTES as usize + 1));
        file.take(MAX_KEY_FILE_BYTES + 1).read_to_end(&mut content).map_err(read_error)?;
        let key = parse_key(&content).ok_or_else(|| MasterKeyError::Malformed { path: path.to_owned() })?;
        Ok(Self::from_bytes(*key))
    }

    /// A master key from its 32 bytes (the caller should zeroize its copy).
    pub fn from_bytes(key: [u8; 32]) -> Self {
        let key = Zeroizing::new(key);
        let seal_key = Zeroizing::new(keyed_hash(key.as_slice(), SEAL_LABEL));
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&keyed_hash(key.as_slice(), ID_LABEL)[..KEY_ID_LEN]);
        Self { id, cipher: XChaCha20Poly1305::new(Key::from_slice(seal_key.as_slice())) }
    }

    /// A short public fingerprint of the key, stored with each sealed value
    /// so that a wrong key is told apart from tampering.
    pub fn id(&self) -> [u8; KEY_ID_LEN] {
        self.id
    }

    /// [`Self::id`] as 16 lowercase hex characters, for logs and messages.
    pub fn id_hex(&self) -> String {
        hex::encode(self.id)
    }

    /// Encrypts `plaintext` under this key with a fresh random nonce.
    /// `label` names where the value is kept (e.g.
    /// `server_secrets/jwt_hs384_secret`) and must be given again to
    /// [`Self::open`]: a value moved to another place does not open.
    ///
    /// # Panics
    ///
    /// If `plaintext` is longer than XChaCha20-Poly1305 allows (256 GiB), or
    /// the OS cannot hand out randomness; key material is never near either.
    pub fn seal(&self, label: &str, plaintext: &[u8]) -> Vec<u8> {
        let header = self.header();
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce);
        let aad = associated_data(&header, label);
        #[expect(clippy::expect_used, reason = "only plaintexts beyond 256 GiB make the AEAD fail")]
        let ciphertext = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad })
            .expect("XChaCha20-Poly1305 encrypts any plaintext under 256 GiB");
        let mut out = Vec::with_capacity(HEADER_LEN + NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&header);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Decrypts what [`Self::seal`] made under this key for this `label`.
    pub fn open(&self, label: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let found_id = sealed_key_id(sealed)?;
        if found_id != self.id {
            return Err(SealError::WrongKey { found_id });
        }
        if sealed.len() < MIN_SEALED_LEN {
            return Err(SealError::Tampered);
        }
        let (header, rest) = sealed.split_at(HEADER_LEN);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let aad = associated_data(header, label);
        self.cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| SealError::Tampered)
    }

    /// One step of a rotation: `stored`, sealed under `old`, sealed again
    /// under this key. `Ok(None)` when `stored` is already under this key
    /// (it is opened to prove it intact, then left as it is), so a rotation
    /// that stopped half-way can be run again.
    pub fn reseal(&self, old: &MasterKey, label: &str, stored: &[u8]) -> Result<Option<Vec<u8>>, SealError> {
        if sealed_key_id(stored)? == self.id {
            self.open(label, stored)?;
            return Ok(None);
        }
        let plaintext = old.open(label, stored)?;
        Ok(Some(self.seal(label, &plaintext)))
    }

    fn header(&self) -> [u8; HEADER_LEN] {
        let mut header = [0u8; HEADER_LEN];
        header[..MAGIC.len()].copy_from_slice(&MAGIC);
        header[MAGIC.len()] = VERSION;
        header[MAGIC.len() + 1..].copy_from_slice(&self.id);
        header
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey").field("id", &format_args!("{}", self.id_hex())).finish_non_exhaustive()
    }
}

/// Whether stored bytes are a sealed value (by its magic). A sealed value
/// of a format version this build does not know counts as sealed, so that
/// it is never taken for plain key material.
pub fn is_sealed(stored: &[u8]) -> bool {
    stored.starts_with(&MAGIC) && stored.len() > MAGIC.len()
}

/// The id of the key that sealed `stored`, without opening it: lets a
/// rotation report what is still under the old key.
pub fn sealed_key_id(stored: &[u8]) -> Result<[u8; KEY_ID_LEN], SealError> {
    if !is_sealed(stored) {
        return Err(SealError::NotSealed);
    }
    match stored.get(MAGIC.len()) {
        Some(&VERSION) => {}
        Some(&version) => return Err(SealError::UnsupportedVersion { version }),
        None => return Err(SealError::NotSealed),
    }
    stored.get(MAGIC.len() + 1..HEADER_LEN).and_then(|id| id.try_into().ok()).ok_or(SealError::Tampered)
}

fn associated_data(header: &[u8], label: &str) -> Vec<u8> {
    // The header has a fixed length, so header || label cannot be read two
    // ways.
    let mut aad = Vec::with_capacity(header.len() + label.len());
    aad.extend_from_slice(header);
    aad.extend_from_slice(label.as_bytes());
    aad
}

/// The 32 key bytes from a key file's content, or `None` for anything but
/// 64 hex characters or 44 characters of padded standard base64, each with
/// an optional trailing newline (LF or CRLF).
fn parse_key(content: &[u8]) -> Option<Zeroizing<[u8; 32]>> {
    let text = content.strip_suffix(b"\n").map_or(content, |t| t.strip_suffix(b"\r").unwrap_or(t));
    let mut key = Zeroizing::new([0u8; 32]);
    match text.len() {
        64 => hex::decode_to_slice(text, key.as_mut_slice()).ok()?,
        44 => {
            // One spare byte so that 44 characters decoding to 33 bytes are
            // refused for their length, not as an error of the decoder.
            let mut buf = Zeroizing::new([0u8; 33]);
            let n = base64::engine::general_purpose::STANDARD.decode_slice(text, buf.as_mut_slice()).ok()?;
            if n != 32 {
                return None;
            }
            key.copy_from_slice(&buf[..32]);
        }
        _ => return None,
    }
    Some(key)
}

/// Refuses a file that group or others can read or write (mode & 0o066 !=
/// 0), with an error naming the file, showing its mode in octal and the fix
/// (`chmod 600 FILE`). Follows symbolic links: the file's own mode is what
/// matters. Unix only; elsewhere `Ok`.
pub fn check_private_file(path: &Path) -> Result<(), FileModeError> {
    #[cfg(unix)]
    {
        let meta =
            std::fs::metadata(path).map_err(|source| FileModeError::Io { path: path.to_owned(), source })?;
        check_mode(path, &meta)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

#[cfg(unix)]
fn check_mode(path: &Path, meta: &std::fs::Metadata) -> Result<(), FileModeError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o066 != 0 {
        return Err(FileModeError::TooOpen { path: path.to_owned(), mode });
    }
    Ok(())
}

/// Makes an existing file mode 0600 (whatever the umask made it), e.g. a
/// SQLite database, its `-wal` and `-shm`; `Ok` if the file does not exist.
/// Unix only; elsewhere `Ok`.
pub fn make_private(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            result => result,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// Creates `path` exclusively (`O_CREAT | O_EXCL`), readable and writable,
/// with mode 0600. An existing file gives an error of kind
/// [`io::ErrorKind::AlreadyExists`], so the caller can tell it apart.
///
/// The mode is given at creation and set again on the open file: the umask
/// can only narrow 0600, but a default ACL on the directory replaces the
/// umask and could leave group bits behind. If that second step fails the
/// new file is removed again.
pub fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Err(err) = file.set_permissions(std::fs::Permissions::from_mode(0o600)) {
            drop(file);
            let _ = std::fs::remove_file(path);
            return Err(err);
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABEL: &str = "server_secrets/jwt_hs384_secret";

    fn random_key() -> MasterKey {
        let mut bytes = [0u8; 32];
        fill_random(&mut bytes);
        MasterKey::from_bytes(bytes)
    }

    #[test]
    fn sealed_values_open_with_their_key_and_label() {
        let key = random_key();
        let sealed = key.seal(LABEL, b"the jwt secret");
        assert!(is_sealed(&sealed));
        assert_eq!(sealed.len(), MIN_SEALED_LEN + b"the jwt secret".len());
        assert_eq!(&sealed[..4], b"\xA7TG\x01");
        assert_eq!(sealed_key_id(&sealed), Ok(key.id()));
        assert_eq!(key.open(LABEL, &sealed).as_deref().map(Vec::as_slice), Ok(&b"the jwt secret"[..]));
        // A fresh nonce each time: equal secrets do not look equal at rest.
        assert_ne!(key.seal(LABEL, b"the jwt secret"), sealed);
        assert_eq!(key.open(LABEL, &key.seal(LABEL, b"")).as_deref().map(Vec::len), Ok(0));
    }

    #[test]
    fn another_key_is_told_apart_from_tampering() {
        let key = random_key();
        let other = random_key();
        let sealed = key.seal(LABEL, b"pepper");
        assert_eq!(other.open(LABEL, &sealed), Err(SealError::WrongKey { found_id: key.id() }));
        assert!(other.open(LABEL, &sealed).expect_err("refused").to_string().contains(&key.id_hex()));
    }

    #[test]
    fn any_flipped_or_missing_byte_is_caught() {
        let key = random_key();
        let sealed = key.seal(LABEL, b"signing key");
        for at in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[at] ^= 0x01;
            let expected = match at {
                0..=2 => SealError::NotSealed,
                3 => SealError::UnsupportedVersion { version: 0 },
                4..=11 => SealError::WrongKey { found_id: bad[4..12].try_into().unwrap_or_default() },
                _ => SealError::Tampered,
            };
            assert_eq!(key.open(LABEL, &bad), Err(expected), "byte {at}");
        }
        for len in 0..sealed.len() {
            assert!(key.open(LABEL, &sealed[..len]).is_err(), "truncated to {len}");
        }
        assert_eq!(key.open(LABEL, &sealed[..sealed.len() - 1]), Err(SealError::Tampered));
    }

    #[test]
    fn a_value_sealed_for_one_label_does_not_open_under_another() {
        let key = random_key();
        let sealed = key.seal("server_secrets/jwt_hs384_secret", b"secret");
        assert_eq!(key.open("server_secrets/credential_pepper", &sealed), Err(SealError::Tampered));
        assert_eq!(key.open("", &sealed), Err(SealError::Tampered));
    }

    #[test]
    fn plain_key_material_is_not_taken_for_sealed() {
        for plain in [
            &b""[..],
            b"\xA7",
            b"\xA7TG",
            b"-----BEGIN PRIVATE KEY-----",
            b"0123abcd",
            b"hDn/LFXIPESM036W+s7VKg==",
        ] {
            assert!(!is_sealed(plain), "{plain:?}");
            assert_eq!(random_key().open(LABEL, plain), Err(SealError::NotSealed));
        }
        assert!(is_sealed(b"\xA7TG\x02 a later format"));
        assert_eq!(
            random_key().open(LABEL, b"\xA7TG\x02 later"),
            Err(SealError::UnsupportedVersion { version: 2 })
        );
    }

    #[test]
    fn reseal_moves_values_from_the_old_key_to_the_new() {
        let old = random_key();
        let new = random_key();
        let sealed = old.seal(LABEL, b"pepper");
        let Ok(Some(resealed)) = new.reseal(&old, LABEL, &sealed) else { panic!("not resealed") };
        assert_eq!(sealed_key_id(&resealed), Ok(new.id()));
        assert_eq!(new.open(LABEL, &resealed).as_deref().map(Vec::as_slice), Ok(&b"pepper"[..]));
        // Running it again finds nothing to do.
        assert_eq!(new.reseal(&old, LABEL, &resealed), Ok(None));
        let stranger = random_key();
        assert_eq!(stranger.reseal(&new, LABEL, &sealed), Err(SealError::WrongKey { found_id: old.id() }));
        assert_eq!(new.reseal(&old, LABEL, b"plain"), Err(SealError::NotSealed));
    }

    #[test]
    fn debug_shows_the_id_and_no_key_bytes() {
        let key = MasterKey::from_bytes([0x42; 32]);
        let shown = format!("{key:?}");
        assert!(shown.contains(&key.id_hex()), "{shown}");
        assert!(!shown.contains("4242") && !shown.contains("66, 66"), "{shown}");
        assert!(!shown.contains("cipher"), "{shown}");
    }

    #[test]
    fn the_id_depends_on_the_key_alone() {
        assert_eq!(MasterKey::from_bytes([7; 32]).id(), MasterKey::from_bytes([7; 32]).id());
        assert_ne!(MasterKey::from_bytes([7; 32]).id(), MasterKey::from_bytes([8; 32]).id());
        assert_ne!(&MasterKey::from_bytes([7; 32]).id(), &[7; 8]);
    }

    #[cfg(unix)]
    mod files {
        use std::fs;
        use std::os::unix::fs::PermissionsExt as _;

        use super::*;

        const KEY: [u8; 32] = [
            0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
        ];

        fn key_file(dir: &tempfile::TempDir, content: &[u8], mode: u32) -> PathBuf {
            let path = dir.path().join("master.key");
            fs::write(&path, content).unwrap_or_else(|e| panic!("write: {e}"));
            fs::set_permissions(&path, fs::Permissions::from_mode(mode))
                .unwrap_or_else(|e| panic!("chmod: {e}"));
            path
        }

        fn mode_of(path: &Path) -> u32 {
            fs::metadata(path)
                .map(|m| m.permissions().mode() & 0o7777)
                .unwrap_or_else(|e| panic!("stat: {e}"))
        }

        fn tempdir() -> tempfile::TempDir {
            tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))
        }

        #[test]
        fn keys_load_from_hex_or_base64_with_or_without_a_newline() {
            let expected = MasterKey::from_bytes(KEY).id();
            let hex_text = hex::encode(KEY);
            let b64_text = base64::engine::general_purpose::STANDARD.encode(KEY);
            assert_eq!(b64_text.len(), 44);
            for content in [
                hex_text.clone(),
                format!("{hex_text}\n"),
                format!("{hex_text}\r\n"),
                hex_text.to_uppercase(),
                b64_text.clone(),
                format!("{b64_text}\n"),
            ] {
                let dir = tempdir();
                let path = key_file(&dir, content.as_bytes(), 0o600);
                let key = MasterKey::load(&path).unwrap_or_else(|e| panic!("{content:?}: {e}"));
                assert_eq!(key.id(), expected, "{content:?}");
            }
            // The key read from a file opens what the same bytes sealed.
            let dir = tempdir();
            let loaded = MasterKey::load(&key_file(&dir, hex_text.as_bytes(), 0o400))
                .unwrap_or_else(|e| panic!("{e}"));
            let sealed = MasterKey::from_bytes(KEY).seal(LABEL, b"x");
            assert_eq!(loaded.open(LABEL, &sealed).as_deref().map(Vec::as_slice), Ok(&b"x"[..]));
        }

        #[test]
        fn key_files_others_can_use_are_refused_naming_the_file_and_the_fix() {
            let content = hex::encode(KEY);
            for mode in [0o644, 0o640, 0o604, 0o620, 0o660, 0o602, 0o666] {
                let dir = tempdir();
                let path = key_file(&dir, content.as_bytes(), mode);
                let err = MasterKey::load(&path).map(|_| ()).expect_err("refused");
                let refused_mode = match &err {
                    MasterKeyError::NotPrivate(FileModeError::TooOpen { mode, .. }) => Some(*mode),
                    _ => None,
                };
                assert_eq!(refused_mode, Some(mode), "{err:?}");
                let message = err.to_string();
                assert!(message.contains(&path.display().to_string()), "{message}");
                assert!(message.contains(&format!("mode {mode:04o}")), "{message}");
                assert!(message.contains(&format!("chmod 600 {}", path.display())), "{message}");
                assert!(check_private_file(&path).is_err());
            }
            for mode in [0o600, 0o400, 0o700] {
                let dir = tempdir();
                let path = key_file(&dir, content.as_bytes(), mode);
                assert!(MasterKey::load(&path).is_ok(), "{mode:o}");
                assert!(check_private_file(&path).is_ok(), "{mode:o}");
            }
        }

        #[test]
        fn other_content_is_refused_without_being_echoed() {
            let hex_text = hex::encode(KEY);
            let long = "ab".repeat(5000);
            for content in [
                "correct horse battery staple, my favourite secret".to_owned(),
                hex_text[..62].to_owned(),
                format!("{hex_text}00"),
                format!("{}zz", &hex_text[..62]),
                format!(" {hex_text}"),
                format!("{hex_text}\n\n"),
                base64::engine::general_purpose::STANDARD.encode([9u8; 33])[..44].to_owned(),
                base64::engine::general_purpose::STANDARD_NO_PAD.encode(KEY) + "!",
                long,
                String::new(),
            ] {
                let dir = tempdir();
                let path = key_file(&dir, content.as_bytes(), 0o600);
                let err = MasterKey::load(&path).map(|_| ()).expect_err("refused");
                assert!(matches!(err, MasterKeyError::Malformed { .. }), "{content:?}: {err:?}");
                let message = err.to_string();
                assert!(message.contains(&path.display().to_string()), "{message}");
                if content.len() >= 8 {
                    assert!(!message.contains(&content[..8]), "{message}");
                }
                assert!(!message.contains("horse") && !message.contains("abab"), "{message}");
            }
        }

        #[test]
        fn a_missing_key_file_is_named() {
            let dir = tempdir();
            let path = dir.path().join("absent.key");
            let err = MasterKey::load(&path).map(|_| ()).expect_err("refused");
            assert!(matches!(err, MasterKeyError::Read { .. }), "{err:?}");
            assert!(err.to_string().contains(&path.display().to_string()));
            assert!(matches!(check_private_file(&path), Err(FileModeError::Io { .. })));
        }

        #[test]
        fn create_private_makes_a_0600_file_once() {
            let dir = tempdir();
            let path = dir.path().join("tollgate.db");
            let file = create_private(&path).unwrap_or_else(|e| panic!("{e}"));
            drop(file);
            assert_eq!(mode_of(&path), 0o600);
            assert!(check_private_file(&path).is_ok());
            let again = create_private(&path).map(|_| ()).expect_err("refused");
            assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);
        }

        #[test]
        fn make_private_narrows_an_existing_file_and_ignores_a_missing_one() {
            let dir = tempdir();
            let path = key_file(&dir, b"database", 0o644);
            make_private(&path).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(mode_of(&path), 0o600);
            assert!(make_private(&dir.path().join("tollgate.db-wal")).is_ok());
        }
    }
}
