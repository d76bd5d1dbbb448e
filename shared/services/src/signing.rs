//! What the stack signs with its one secret (a Secrets Manager secret the template creates;
//! locally one generated per stack start): task ids, and in token mode the access and refresh
//! tokens. Each use gets a key of its own, derived from the secret, so one can never stand in
//! for another.

use aws_lc_rs::hmac;

/// The keys derived from the stack's secret.
pub struct Signing {
    task_ids: hmac::Key,
    bodies: hmac::Key,
    /// The key tokens are signed with (HS256).
    pub token_key: Vec<u8>,
}

impl Signing {
    pub fn from_secret(secret: &str) -> Signing {
        let derive = |purpose: &str| {
            hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()), purpose.as_bytes())
        };
        Signing {
            task_ids: hmac::Key::new(hmac::HMAC_SHA256, derive("task ids").as_ref()),
            bodies: hmac::Key::new(hmac::HMAC_SHA256, derive("send bodies").as_ref()),
            token_key: derive("tokens").as_ref().to_vec(),
        }
    }

    /// A digest of a send's body, for telling a retry from another send under the same
    /// `Idempotency-Key` without keeping the text: keyed, so it cannot be tested against
    /// guessed texts by someone who reads the table.
    pub fn body_digest(&self, body: &str) -> String {
        hmac::sign(&self.bodies, body.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A new task id issued at `now_ms`: a UUID (version 8, RFC 9562) holding the time it was
    /// issued and a signature of it. So a task id needs no record to be known as ours: a send
    /// writes nothing for its task, and `task_state` answers PENDING for a genuine id without a
    /// record (yet), 404 for any other.
    pub fn issue_task_id(&self, now_ms: u64) -> String {
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(&now_ms.to_be_bytes()[2..]);
        bytes[6..8].copy_from_slice(&uuid::Uuid::new_v4().as_bytes()[..2]);
        bytes[6] = 0x80 | (bytes[6] & 0x0f); // version 8
        let tag = hmac::sign(&self.task_ids, &bytes[..8]);
        bytes[8..].copy_from_slice(&tag.as_ref()[..8]);
        bytes[8] = 0x80 | (bytes[8] & 0x3f); // RFC 9562 variant
        uuid::Uuid::from_bytes(bytes).to_string()
    }

    /// When a task id was issued, if it is one of ours: canonical form, version 8, and its
    /// signature right.
    pub fn task_id_issued_at(&self, id: &str) -> Option<u64> {
        let uuid = uuid::Uuid::parse_str(id).ok().filter(|u| u.to_string() == id)?;
        let bytes = uuid.as_bytes();
        if bytes[6] >> 4 != 8 || bytes[8] >> 6 != 2 {
            return None;
        }
        let tag = hmac::sign(&self.task_ids, &bytes[..8]);
        let mut expected = [0u8; 8];
        expected.copy_from_slice(&tag.as_ref()[..8]);
        expected[0] = 0x80 | (expected[0] & 0x3f);
        // Compared in constant time, like any signature.
        aws_lc_rs::constant_time::verify_slices_are_equal(&expected, &bytes[8..]).ok()?;
        let mut time = [0u8; 8];
        time[2..].copy_from_slice(&bytes[..6]);
        Some(u64::from_be_bytes(time))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_carry_their_time_and_only_ours_verify() {
        let signing = Signing::from_secret("a secret");
        let id = signing.issue_task_id(1_796_000_000_123);
        assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 8);
        assert_eq!(signing.task_id_issued_at(&id), Some(1_796_000_000_123));
        assert_ne!(signing.issue_task_id(1_796_000_000_123), id, "random bits differ");
        // Another stack's ids, a v4 UUID, an altered id, a non-canonical spelling: not ours.
        assert_eq!(Signing::from_secret("another").task_id_issued_at(&id), None);
        assert_eq!(signing.task_id_issued_at("00000000-0000-4000-8000-000000000000"), None);
        let mut altered = id.clone().into_bytes();
        altered[3] = if altered[3] == b'0' { b'1' } else { b'0' };
        assert_eq!(signing.task_id_issued_at(std::str::from_utf8(&altered).unwrap()), None);
        assert_eq!(signing.task_id_issued_at(&id.to_uppercase()), None);
        assert_eq!(signing.task_id_issued_at("not-a-uuid"), None);
    }

    #[test]
    fn each_use_has_a_key_of_its_own() {
        let signing = Signing::from_secret("a secret");
        assert_ne!(signing.token_key, b"a secret".to_vec());
        assert_eq!(signing.token_key, Signing::from_secret("a secret").token_key);
        assert_ne!(signing.token_key, Signing::from_secret("other").token_key);
    }
}
