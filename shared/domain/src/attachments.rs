//! Files of messages (API.md "Attachments"): what an upload may be, where its bytes live and how
//! a download names them. Pure: the presigning is `services::files`, the records `store::uploads`.

use serde::{Deserialize, Serialize};

/// Largest file, in bytes (25 MiB; larger is a 413).
pub const MAX_FILE_BYTES: u64 = 25 * 1024 * 1024;
/// Most files one message carries.
pub const MAX_PER_MESSAGE: usize = 10;
/// Longest file name, in characters.
pub const MAX_FILENAME_CHARS: usize = 255;
/// How long an upload URL stays valid.
pub const UPLOAD_URL_SECONDS: u64 = 900;
/// How long a download URL stays valid.
pub const DOWNLOAD_URL_SECONDS: u64 = 3600;
/// The tag an upload carries until its message is stored: the bucket's lifecycle rule deletes
/// tagged objects after a day, so uploads never sent do not stay.
pub const UNSENT_TAG: &str = "state=unsent";
/// The types a file may have (anything else is a 415).
pub const CONTENT_TYPES: [&str; 7] = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "application/zip",
];

/// A file of a message, as stored on it and shown (with a download URL) to members.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
}

impl Attachment {
    /// Where its bytes live in the bucket: by room and id, never by its (user-given) name.
    pub fn object_key(&self, room: u64) -> String {
        object_key(room, &self.id)
    }

    /// `Content-Disposition` of its download: images inline, other files saved, under their
    /// own name in RFC 5987 form (any character is safe there, quotes and newlines too).
    pub fn disposition(&self) -> String {
        let how = if self.content_type.starts_with("image/") { "inline" } else { "attachment" };
        format!("{how}; filename*=UTF-8''{}", rfc5987(&self.filename))
    }
}

pub fn object_key(room: u64, id: &str) -> String {
    format!("files/{room}/{id}")
}

/// A file uploaded for `room` by `user`, or about to be; `sent` is the message that took it.
#[derive(Clone, Debug, PartialEq)]
pub struct Upload {
    pub attachment: Attachment,
    pub user: u64,
    pub room: u64,
    pub sent: Option<u64>,
}

/// Why a declared file is refused, by status: 400, 413, 415.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    Invalid(String),
    TooLarge(String),
    Unsupported(String),
}

/// `filename`: 1-255 characters, no `/`, `\` or control characters.
pub fn check_filename(name: &str) -> Result<(), Refusal> {
    let count = name.chars().count();
    if count == 0 || count > MAX_FILENAME_CHARS {
        return Err(Refusal::Invalid(format!("filename must have 1 to {MAX_FILENAME_CHARS} characters.")));
    }
    if name.chars().any(|c| c == '/' || c == '\\' || c.is_control()) {
        return Err(Refusal::Invalid("filename must not contain /, \\ or control characters.".into()));
    }
    Ok(())
}

/// `size`: 1 byte to [`MAX_FILE_BYTES`].
pub fn check_size(size: u64) -> Result<(), Refusal> {
    match size {
        0 => Err(Refusal::Invalid("size must be at least 1 byte.".into())),
        s if s > MAX_FILE_BYTES => {
            Err(Refusal::TooLarge(format!("A file may have at most {MAX_FILE_BYTES} bytes (25 MiB).")))
        }
        _ => Ok(()),
    }
}

/// `content_type`: one of [`CONTENT_TYPES`].
pub fn check_content_type(content_type: &str) -> Result<(), Refusal> {
    if CONTENT_TYPES.contains(&content_type) {
        Ok(())
    } else {
        Err(Refusal::Unsupported(format!("content_type must be one of {}.", CONTENT_TYPES.join(", "))))
    }
}

/// Percent-encodes all but RFC 5987's attr-chars, byte by byte of the UTF-8.
fn rfc5987(text: &str) -> String {
    let keep = |b: u8| b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b);
    text.bytes().map(|b| if keep(b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_1_to_255_characters_without_separators_or_controls() {
        assert!(check_filename("cat.png").is_ok());
        assert!(check_filename(&"é".repeat(255)).is_ok());
        assert!(check_filename("\"quoted\" <b>name<b>; x=1.txt").is_ok());
        for bad in ["", "a/b.png", "..\\x", "new\nline", "nul\0", "tab\t"] {
            assert!(matches!(check_filename(bad), Err(Refusal::Invalid(_))), "{bad:?}");
        }
        assert!(matches!(check_filename(&"a".repeat(256)), Err(Refusal::Invalid(_))));
    }

    #[test]
    fn sizes_and_types_have_their_own_refusals() {
        assert!(check_size(1).is_ok() && check_size(MAX_FILE_BYTES).is_ok());
        assert!(matches!(check_size(0), Err(Refusal::Invalid(_))));
        assert!(matches!(check_size(MAX_FILE_BYTES + 1), Err(Refusal::TooLarge(_))));
        assert!(check_content_type("image/webp").is_ok());
        for bad in ["image/svg+xml", "text/html", "IMAGE/PNG", ""] {
            assert!(matches!(check_content_type(bad), Err(Refusal::Unsupported(_))), "{bad}");
        }
    }

    #[test]
    fn downloads_keep_hostile_names_inert() {
        let file = |name: &str, content_type: &str| Attachment {
            id: "x".into(),
            filename: name.into(),
            content_type: content_type.into(),
            size: 1,
        };
        assert_eq!(file("a b.png", "image/png").disposition(), "inline; filename*=UTF-8''a%20b.png");
        assert_eq!(
            file("\"x\";\r\n.pdf", "application/pdf").disposition(),
            "attachment; filename*=UTF-8''%22x%22%3B%0D%0A.pdf"
        );
        assert_eq!(file("é", "text/plain").disposition(), "attachment; filename*=UTF-8''%C3%A9");
        assert_eq!(file("../../etc", "text/plain").object_key(7), "files/7/x");
    }
}
