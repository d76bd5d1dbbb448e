//! Passwords: stored only as salted argon2id hashes (API.md "Users"), checked in about the same
//! time whether or not the username exists.

use crate::ApiError;

/// A salted argon2id hash in PHC format. Parameters are OWASP's 7 MiB / 5 passes option, which
/// keeps the function's memory small on Lambda.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let params = argon2::Params::new(7 * 1024, 5, 1, None).expect("constant argon2 parameters are valid");
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    // 16 bytes from the OS generator (uuid v4 draws them from getrandom).
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes()).expect("16 bytes is a valid salt");
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::unavailable("hash password", e))
}

/// Whether `password` is the one `hash` (PHC format) was made from; its parameters come from
/// the hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash)
        .is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash no password is known to match: checked for unknown usernames, so that refusing them
/// takes as long as refusing a wrong password.
pub fn decoy_hash() -> String {
    hash_password(&uuid::Uuid::new_v4().to_string()).expect("hashing a fixed-length password")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_salted_argon2id_and_verify() {
        let a = hash_password("Passw0rd!").unwrap();
        let b = hash_password("Passw0rd!").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b);
        assert!(verify_password("Passw0rd!", &a));
        assert!(!verify_password("passw0rd!", &a));
        assert!(!verify_password("Passw0rd!", &decoy_hash()));
    }
}
