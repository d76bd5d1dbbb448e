//! Who is asking (API.md, "Authentication"). `AUTH_MODE=none`: the user a request names with
//! `?user_id=` or `from`, trusted as given (the original API). `AUTH_MODE=token`: the user of
//! the request's access token, a JWT (HS256) signed with a key derived from the stack's secret;
//! a request that names another user is a 403. Every function asks this module, the same way.

use crate::error::ApiError;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use lambda_http::Request;
use serde::{Deserialize, Serialize};
use services::signing::Signing;
use store::Store;

/// `AUTH_MODE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    None,
    Token,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

/// The claims of both token types, as simplejwt names them.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    user_id: u64,
    token_type: TokenType,
    exp: u64,
    iat: u64,
    jti: String,
}

pub const ACCESS_TOKEN_SECONDS: u64 = 15 * 60;
pub const REFRESH_TOKEN_SECONDS: u64 = 24 * 60 * 60;
/// How long failed sign-ins count against a username (`LOGIN_WINDOW_SECONDS`).
pub const LOGIN_WINDOW_SECONDS: u64 = 15 * 60;

const NOT_PROVIDED: &str = "Authentication credentials were not provided.";
const NOT_VALID: &str = "Given token not valid for any token type";

pub struct Auth {
    pub mode: Mode,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_seconds: u64,
    refresh_seconds: u64,
    /// Seconds failed sign-ins count against a username.
    pub login_window: u64,
}

/// The user a request acts for, once authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// None mode: whoever the request names.
    Named,
    /// Token mode: the token's user, who exists.
    User(u64),
}

impl Auth {
    pub fn new(
        mode: Mode,
        signing: &Signing,
        access_seconds: u64,
        refresh_seconds: u64,
        login_window: u64,
    ) -> Auth {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry to the second: a token expires when it says, not a minute later.
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iat"]);
        Auth {
            mode,
            encoding: EncodingKey::from_secret(&signing.token_key).expect("an HMAC key of 32 bytes"),
            decoding: DecodingKey::from_secret(&signing.token_key).expect("an HMAC key of 32 bytes"),
            validation,
            access_seconds,
            refresh_seconds,
            login_window,
        }
    }

    /// From `AUTH_MODE` ([`mode_from_env`]), `ACCESS_TOKEN_SECONDS`, `REFRESH_TOKEN_SECONDS` and
    /// `LOGIN_WINDOW_SECONDS`.
    pub fn from_env(signing: &Signing) -> Auth {
        let mode = mode_from_env();
        let seconds = |name: &str, default: u64| {
            std::env::var(name).ok().filter(|v| !v.is_empty()).map_or(default, |v| {
                v.parse().unwrap_or_else(|_| panic!("{name} must be a whole number of seconds"))
            })
        };
        Auth::new(
            mode,
            signing,
            seconds("ACCESS_TOKEN_SECONDS", ACCESS_TOKEN_SECONDS),
            seconds("REFRESH_TOKEN_SECONDS", REFRESH_TOKEN_SECONDS),
            seconds("LOGIN_WINDOW_SECONDS", LOGIN_WINDOW_SECONDS),
        )
    }

    /// The auth of a function that signs nothing else: in none mode no token is ever checked,
    /// so the signing secret is not read (a faster cold start); token mode reads it.
    pub async fn load(config: &aws_config::SdkConfig) -> Auth {
        match mode_from_env() {
            Mode::None => Auth::from_env(&Signing::from_secret(&uuid::Uuid::new_v4().to_string())),
            Mode::Token => Auth::from_env(&services::config::signing(config).await),
        }
    }

    /// A new token for `user_id`, issued at `now` (seconds since the epoch).
    pub fn issue(&self, user_id: u64, token_type: TokenType, now: u64) -> String {
        let lifetime = match token_type {
            TokenType::Access => self.access_seconds,
            TokenType::Refresh => self.refresh_seconds,
        };
        let claims = Claims {
            user_id,
            token_type,
            exp: now + lifetime,
            iat: now,
            jti: uuid::Uuid::new_v4().simple().to_string(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 with a secret key always encodes")
    }

    /// The user of a valid, unexpired token of `token_type`; a 401 for anything else (a bad
    /// signature, another algorithm, `none` included, the other token type, missing claims).
    pub fn verify(&self, token: &str, token_type: TokenType) -> Result<u64, ApiError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| ApiError::Unauthorized(NOT_VALID.into()))?;
        if data.claims.token_type != token_type {
            return Err(ApiError::Unauthorized(NOT_VALID.into()));
        }
        Ok(data.claims.user_id)
    }

    /// Who the request acts for. Token mode: its `Authorization: Bearer` access token, whose
    /// user must still exist ([`Auth::user_of`]).
    pub async fn caller(&self, req: &Request, store: &Store) -> Result<Caller, ApiError> {
        if self.mode == Mode::None {
            return Ok(Caller::Named);
        }
        let header = req.headers().get("authorization").and_then(|v| v.to_str().ok());
        let Some(header) = header else { return Err(ApiError::Unauthorized(NOT_PROVIDED.into())) };
        let token = header
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::Unauthorized(NOT_VALID.into()))?;
        Ok(Caller::User(self.user_of(token, TokenType::Access, store).await?))
    }

    /// The user of a valid token of `token_type` who still exists (one GetItem): a deleted
    /// user's tokens stop working at once. A 401 otherwise.
    pub async fn user_of(&self, token: &str, token_type: TokenType, store: &Store) -> Result<u64, ApiError> {
        let user = self.verify(token, token_type)?;
        if store.get_user(user).await?.is_none() {
            return Err(ApiError::Unauthorized("User not found".into()));
        }
        Ok(user)
    }
}

/// `AUTH_MODE`: `none` (also when unset) or `token`. Anything else stops the cold start: a typo
/// must not open the API.
pub fn mode_from_env() -> Mode {
    match std::env::var("AUTH_MODE").unwrap_or_default().as_str() {
        "" | "none" => Mode::None,
        "token" => Mode::Token,
        other => panic!("AUTH_MODE must be none or token, not {other:?}"),
    }
}

impl Caller {
    /// The acting user where the request names one (`?user_id=`, `from`): none mode, the one
    /// named, else `missing`; token mode, the token's, and a 403 when another is named.
    pub fn acting(self, named: Option<u64>, missing: impl FnOnce() -> ApiError) -> Result<u64, ApiError> {
        match self {
            Caller::Named => named.ok_or_else(missing),
            Caller::User(user) => self.named(named).map(|_| user),
        }
    }

    /// A user named where naming one is optional (`GET /chat/chatroom/?user_id=`): token mode
    /// allows only the token's own.
    pub fn named(self, named: Option<u64>) -> Result<Option<u64>, ApiError> {
        match (self, named) {
            (Caller::User(user), Some(other)) if other != user => {
                Err(ApiError::Forbidden("You may act only as the user of your token.".into()))
            }
            _ => Ok(named),
        }
    }

    /// The acting user where acting as nobody is allowed too (creating a room without
    /// `user_id`, as the original did): none mode, the one named if any; token mode, the token's.
    pub fn optional(self, named: Option<u64>) -> Result<Option<u64>, ApiError> {
        match self {
            Caller::Named => Ok(named),
            Caller::User(user) => self.named(named).map(|_| Some(user)),
        }
    }

    /// A change to user `id` (`PATCH`, `PUT`, `DELETE /users/{id}/`): token mode, only one's own.
    pub fn may_change(self, id: u64) -> Result<(), ApiError> {
        match self {
            Caller::User(user) if user != id => {
                Err(ApiError::Forbidden("You do not have permission to perform this action.".into()))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::clock;

    fn auth(secret: &str) -> Auth {
        Auth::new(Mode::Token, &Signing::from_secret(secret), 60, 3600, 900)
    }

    #[test]
    fn tokens_verify_only_as_their_type_with_our_key_and_unexpired() {
        let a = auth("one");
        let access = a.issue(7, TokenType::Access, clock::unix_seconds());
        let refresh = a.issue(7, TokenType::Refresh, clock::unix_seconds());
        assert_eq!(a.verify(&access, TokenType::Access).unwrap(), 7);
        assert_eq!(a.verify(&refresh, TokenType::Refresh).unwrap(), 7);
        let unauthorized = |r: Result<u64, ApiError>| matches!(r, Err(ApiError::Unauthorized(_)));
        assert!(unauthorized(a.verify(&refresh, TokenType::Access)), "a refresh token is no access token");
        assert!(unauthorized(a.verify(&access, TokenType::Refresh)));
        assert!(unauthorized(auth("two").verify(&access, TokenType::Access)), "another stack's key");
        let expired = a.issue(7, TokenType::Access, clock::unix_seconds() - 61);
        assert!(unauthorized(a.verify(&expired, TokenType::Access)));
        // Tampered claims: the signature no longer matches.
        let mut parts: Vec<String> = access.split('.').map(str::to_string).collect();
        parts[1] = parts[1].chars().rev().collect();
        assert!(unauthorized(a.verify(&parts.join("."), TokenType::Access)));
        assert!(unauthorized(a.verify("not a token", TokenType::Access)));
    }

    #[test]
    fn unsigned_tokens_are_refused() {
        let a = auth("one");
        let claims =
            a.issue(7, TokenType::Access, clock::unix_seconds()).split('.').nth(1).unwrap().to_string();
        // {"alg":"none","typ":"JWT"}, our claims, no signature.
        let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{claims}.");
        assert!(matches!(a.verify(&unsigned, TokenType::Access), Err(ApiError::Unauthorized(_))));
    }

    #[test]
    fn a_token_user_acts_only_as_themselves() {
        let missing = || ApiError::BadRequest("missing".into());
        assert_eq!(Caller::Named.acting(Some(3), missing).unwrap(), 3);
        assert!(matches!(Caller::Named.acting(None, missing), Err(ApiError::BadRequest(_))));
        assert_eq!(Caller::User(3).acting(None, missing).unwrap(), 3);
        assert_eq!(Caller::User(3).acting(Some(3), missing).unwrap(), 3);
        assert!(matches!(Caller::User(3).acting(Some(4), missing), Err(ApiError::Forbidden(_))));
        assert!(matches!(Caller::User(3).named(Some(4)), Err(ApiError::Forbidden(_))));
        assert_eq!(Caller::User(3).named(None).unwrap(), None);
        assert!(Caller::User(3).may_change(3).is_ok());
        assert!(matches!(Caller::User(3).may_change(4), Err(ApiError::Forbidden(_))));
        assert!(Caller::Named.may_change(4).is_ok());
    }
}
