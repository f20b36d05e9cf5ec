//! Google Cloud: one HTTP client, one credential chain, one retry policy, shared by
//! the Cloud Storage ([`gcs`]) and BigQuery ([`bigquery`]) clients.
//!
//! Calls are async (reqwest on a small tokio runtime); the pipeline is synchronous,
//! so [`Cloud::block_on`] bridges the two.
#![forbid(unsafe_code)]

pub mod auth;
pub mod bigquery;
pub mod gcs;
pub mod retry;

use std::sync::{Arc, OnceLock};

/// Errors from Google Cloud calls.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    #[error("{0}")]
    Auth(String),
    #[error("{method} {url}: {source}")]
    Http { method: String, url: String, source: reqwest::Error },
    #[error("{method} {url}: HTTP {status}: {body}")]
    Status { method: String, url: String, status: u16, body: String },
    #[error("{0}")]
    Other(String),
}

impl CloudError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            CloudError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, CloudError>;

/// The shared client: runtime, HTTP, credentials, endpoints.
pub struct Cloud {
    runtime: tokio::runtime::Runtime,
    pub http: reqwest::Client,
    pub storage: auth::Service,
    pub bigquery: auth::Service,
}

/// Connects to Google Cloud on first use, once: owned by the command that needs it and
/// passed to whatever reads or writes `gs://` and `bq://` (a run with only local paths
/// never builds a client, so it needs no credentials).
#[derive(Default)]
pub struct Connect(OnceLock<std::result::Result<Arc<Cloud>, String>>);

impl Connect {
    pub const fn new() -> Connect {
        Connect(OnceLock::new())
    }

    /// The client, built on first use from the environment (Application Default
    /// Credentials; `STORAGE_EMULATOR_HOST` / `BIGQUERY_EMULATOR_HOST`).
    pub fn get(&self) -> Result<Arc<Cloud>> {
        self.0
            .get_or_init(|| Cloud::from_env().map(Arc::new).map_err(|e| e.to_string()))
            .clone()
            .map_err(CloudError::Auth)
    }
}

impl Cloud {
    /// A client from the environment (see [`Connect::get`]).
    pub fn from_env() -> Result<Cloud> {
        // One rustls provider for the whole process (ring: no large C build).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("xml2bq-io")
            .enable_all()
            .build()
            .map_err(|e| CloudError::Other(format!("cannot start the I/O runtime: {e}")))?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(std::time::Duration::from_secs(20))
            .read_timeout(std::time::Duration::from_secs(300))
            .user_agent(concat!("xml2bq/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CloudError::Other(format!("cannot build the HTTP client: {e}")))?;
        // google-cloud-auth spawns its token refresher: build inside the runtime.
        let _inside = runtime.enter();
        let adc = auth::Adc::new();
        let storage = auth::Service::from_env("STORAGE_EMULATOR_HOST", "https://storage.googleapis.com", &adc)?;
        let bigquery = auth::Service::from_env("BIGQUERY_EMULATOR_HOST", "https://bigquery.googleapis.com", &adc)?;
        drop(_inside);
        Ok(Cloud { runtime, http, storage, bigquery })
    }

    /// Runs a future to completion from synchronous code.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// A handle to the runtime (for readers that pull from async streams).
    pub fn handle(&self) -> tokio::runtime::Handle {
        self.runtime.handle().clone()
    }
}

impl Cloud {
    /// Sends one request to `svc` with its authorization; a non-2xx answer (other than
    /// 308, which resumable uploads use for "incomplete") becomes [`CloudError::Status`].
    pub async fn send(
        &self,
        svc: &auth::Service,
        method: reqwest::Method,
        url: &str,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response> {
        let headers = svc.headers().await?;
        let req = build(self.http.request(method.clone(), url).headers(headers));
        let resp = req.send().await.map_err(|source| CloudError::Http {
            method: method.to_string(),
            url: url.to_string(),
            source,
        })?;
        let status = resp.status().as_u16();
        if resp.status().is_success() || status == 308 {
            return Ok(resp);
        }
        let body = resp.text().await.unwrap_or_default();
        Err(CloudError::Status { method: method.to_string(), url: url.to_string(), status, body })
    }

    /// An idempotent JSON call with retries; `body` is sent as JSON when given.
    pub async fn json<T: serde::de::DeserializeOwned>(
        &self,
        svc: &auth::Service,
        method: reqwest::Method,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T> {
        retry::idempotent(|| self.json_once(svc, method.clone(), url, body)).await
    }

    /// [`Cloud::json`] in one request, for a caller that retries around it (a retried
    /// call inside a retry would be tried the square of the retry count).
    pub async fn json_once<T: serde::de::DeserializeOwned>(
        &self,
        svc: &auth::Service,
        method: reqwest::Method,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T> {
        let resp = self
            .send(svc, method.clone(), url, |r| match body {
                Some(b) => r.json(b),
                None => r,
            })
            .await?;
        resp.json::<T>().await.map_err(|source| CloudError::Http {
            method: method.to_string(),
            url: url.to_string(),
            source,
        })
    }
}

/// `url` with `pairs` added to its query string, each name and value encoded by the URL
/// library (never concatenated by hand).
pub fn with_query(url: &str, pairs: &[(&str, &str)]) -> Result<String> {
    let mut u = reqwest::Url::parse(url).map_err(|e| CloudError::Other(format!("{url}: {e}")))?;
    if !pairs.is_empty() {
        u.query_pairs_mut().extend_pairs(pairs);
    }
    Ok(u.into())
}

/// Percent-encodes one path segment (object names may hold `/`, spaces, anything).
pub fn encode(segment: &str) -> String {
    const SET: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    percent_encoding::utf8_percent_encode(segment, SET).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_encoded() {
        let url = super::with_query(
            "http://127.0.0.1:4443/storage/v1/b/b/o/a%2Fb.xml",
            &[("prefix", "in/a b&c=d#?"), ("location", "EU")],
        )
        .unwrap();
        assert_eq!(url, "http://127.0.0.1:4443/storage/v1/b/b/o/a%2Fb.xml?prefix=in%2Fa+b%26c%3Dd%23%3F&location=EU");
        assert_eq!(super::with_query("http://h/x", &[]).unwrap(), "http://h/x");
        assert!(super::with_query("not a url", &[("a", "b")]).is_err());
    }
}
