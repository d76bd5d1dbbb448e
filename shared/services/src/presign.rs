//! Presigned GETs of the files bucket, signed here with SigV4 (`aws-sigv4`, what the SDK signs
//! with) instead of through the S3 client, which builds and runs a whole request per URL: a
//! page of 50 files took some 8 ms of CPU that way (PERFORMANCE.md, run K). The URL is the one
//! S3 checks: the signature in the query, `UNSIGNED-PAYLOAD`, the key's path encoded once and
//! not normalized, the session token signed with the rest.

use aws_config::SdkConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::Mutex;

/// Everything but SigV4's unreserved characters is percent-encoded, in paths and queries alike.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
/// In a path, `/` stays.
const PATH: &AsciiSet = &QUERY.remove(b'/');

/// Credentials are fetched again this long before they expire.
const FRESH_FOR: Duration = Duration::from_secs(300);

#[derive(Clone)]
pub struct Presigner {
    /// The bucket's URL: `https://<bucket>.s3.<region>.amazonaws.com`, or `<endpoint>/<bucket>`
    /// for a custom endpoint (moto locally), addressed by path.
    base: String,
    region: String,
    provider: Option<SharedCredentialsProvider>,
    cached: Arc<Mutex<Option<Credentials>>>,
}

impl std::fmt::Debug for Presigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presigner").field("base", &self.base).field("region", &self.region).finish()
    }
}

/// Credentials could not be had, or a URL could not be signed.
#[derive(Debug)]
pub struct PresignFailed(pub String);

impl Presigner {
    pub fn new(config: &SdkConfig, bucket: &str) -> Presigner {
        let region = config.region().map_or("us-east-1".to_string(), |r| r.to_string());
        let base = match config.endpoint_url() {
            Some(endpoint) => format!("{}/{bucket}", endpoint.trim_end_matches('/')),
            None => format!("https://{bucket}.s3.{region}.amazonaws.com"),
        };
        let provider = config.credentials_provider();
        Presigner { base, region, provider, cached: Arc::new(Mutex::new(None)) }
    }

    /// The credentials to sign with: the provider's, kept until shortly before they expire
    /// (in Lambda they come from the environment and never do).
    pub async fn credentials(&self) -> Result<Credentials, PresignFailed> {
        let mut cached = self.cached.lock().await;
        let fresh = |c: &Credentials| c.expiry().is_none_or(|e| e > SystemTime::now() + FRESH_FOR);
        if let Some(c) = cached.as_ref().filter(|c| fresh(c)) {
            return Ok(c.clone());
        }
        let provider =
            self.provider.as_ref().ok_or_else(|| PresignFailed("no credentials provider".into()))?;
        let got =
            provider.provide_credentials().await.map_err(|e| PresignFailed(format!("credentials: {e}")))?;
        *cached = Some(got.clone());
        Ok(got)
    }

    /// A GET of `key` valid for `seconds` from `now`, with `query` (response overrides) signed
    /// into it. CPU only.
    pub fn get(
        &self,
        credentials: &Credentials,
        key: &str,
        query: &[(&str, String)],
        seconds: u64,
        now: SystemTime,
    ) -> Result<String, PresignFailed> {
        let mut url = format!("{}/{}", self.base, utf8_percent_encode(key, PATH));
        for (i, (name, value)) in query.iter().enumerate() {
            let sep = if i == 0 { '?' } else { '&' };
            url.push_str(&format!(
                "{sep}{}={}",
                utf8_percent_encode(name, QUERY),
                utf8_percent_encode(value, QUERY)
            ));
        }
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(seconds));
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
        let identity = credentials.clone().into();
        let failed = |e: &dyn std::fmt::Display| PresignFailed(format!("sign: {e}"));
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("s3")
            .time(now)
            .settings(settings)
            .build()
            .map_err(|e| failed(&e))?
            .into();
        let request = SignableRequest::new("GET", &url, std::iter::empty(), SignableBody::UnsignedPayload)
            .map_err(|e| failed(&e))?;
        let (instructions, _) = sign(request, &params).map_err(|e| failed(&e))?.into_parts();
        for (name, value) in instructions.params() {
            let sep = if url.contains('?') { '&' } else { '?' };
            url.push_str(&format!("{sep}{name}={}", utf8_percent_encode(value, QUERY)));
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of S3's documentation ("Authenticating Requests: Using Query Parameters"):
    /// the same credentials, time, key and expiry give its signature.
    #[test]
    fn a_get_is_signed_as_s3_documents_it() {
        // The documentation's host: S3's global endpoint, virtual-hosted.
        let presigner = Presigner {
            base: "https://examplebucket.s3.amazonaws.com".into(),
            region: "us-east-1".into(),
            provider: None,
            cached: Arc::new(Mutex::new(None)),
        };
        let credentials = Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "test",
        );
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600); // 20130524T000000Z
        let url = presigner.get(&credentials, "test.txt", &[], 86_400, at).unwrap();
        assert!(url.starts_with("https://examplebucket.s3.amazonaws.com/test.txt?"), "{url}");
        assert!(
            url.contains("X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"),
            "{url}"
        );
    }
}
