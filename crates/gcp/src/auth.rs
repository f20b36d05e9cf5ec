//! Credentials, as Google's tools find them: Application Default Credentials
//! (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud's ADC file, the metadata server on GKE
//! and Composer) through `google-cloud-auth`; anonymous and plain HTTP for a service
//! whose `*_EMULATOR_HOST` is set (`host:port` or `http://host:port`).

use super::{CloudError, Result};
use google_cloud_auth::credentials::{CacheableResource, Credentials};
use http::HeaderMap;
use std::sync::OnceLock;

const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// ADC, built once and only if a non-emulated service needs it.
pub struct Adc(OnceLock<std::result::Result<Credentials, String>>);

impl Adc {
    pub fn new() -> Self {
        Adc(OnceLock::new())
    }

    fn get(&self) -> Result<Credentials> {
        self.0
            .get_or_init(|| {
                google_cloud_auth::credentials::Builder::default().with_scopes([SCOPE]).build().map_err(|e| {
                    format!(
                        "no Google Cloud credentials found ({e}); run `gcloud auth application-default login`, \
                         set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, or run where a \
                         metadata server is available (GKE Workload Identity, Composer)"
                    )
                })
            })
            .clone()
            .map_err(CloudError::Auth)
    }
}

impl Default for Adc {
    fn default() -> Self {
        Self::new()
    }
}

/// One Google API: its endpoint and how requests to it are authorized.
pub struct Service {
    /// Root URL, e.g. `https://bigquery.googleapis.com` or `http://127.0.0.1:9050`.
    pub endpoint: String,
    /// True when talking to an emulator (anonymous, plain HTTP).
    pub emulated: bool,
    credentials: Credentials,
}

/// `host:port` or `http://host:port` → `http://host:port`.
pub fn emulator_url(v: &str) -> String {
    let v = v.trim().trim_end_matches('/');
    if v.starts_with("http://") || v.starts_with("https://") { v.to_string() } else { format!("http://{v}") }
}

impl Service {
    pub fn from_env(var: &str, default: &str, adc: &Adc) -> Result<Service> {
        match std::env::var(var).ok().filter(|v| !v.trim().is_empty()) {
            Some(host) => Ok(Service {
                endpoint: emulator_url(&host),
                emulated: true,
                credentials: google_cloud_auth::credentials::anonymous::Builder::new().build(),
            }),
            None => Ok(Service { endpoint: default.to_string(), emulated: false, credentials: adc.get()? }),
        }
    }

    /// The authorization headers for one request (cached and refreshed by google-cloud-auth).
    pub async fn headers(&self) -> Result<HeaderMap> {
        match self.credentials.headers(http::Extensions::new()).await {
            Ok(CacheableResource::New { data, .. }) => Ok(data),
            Ok(CacheableResource::NotModified) => Ok(HeaderMap::new()),
            Err(e) => Err(CloudError::Auth(format!("cannot get an access token: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn emulator_hosts_take_both_forms() {
        assert_eq!(super::emulator_url("127.0.0.1:4443"), "http://127.0.0.1:4443");
        assert_eq!(super::emulator_url("http://127.0.0.1:9050/"), "http://127.0.0.1:9050");
    }
}
