//! Retries for idempotent calls: exponential backoff with jitter on 429, 5xx and
//! dropped or refused connections, bounded in count and in total time (backon).

use super::{CloudError, Result};
use backon::{ExponentialBuilder, Retryable};
use std::future::Future;
use std::time::Duration;

/// The policy: 200 ms doubling to 10 s, with jitter, at most 8 retries and 90 s of waiting.
/// `XML2BQ_RETRY_MAX_TIMES` and `XML2BQ_RETRY_MAX_SECONDS` override the bounds.
pub fn policy() -> ExponentialBuilder {
    let times = std::env::var("XML2BQ_RETRY_MAX_TIMES").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    let secs = std::env::var("XML2BQ_RETRY_MAX_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(90);
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(10))
        .with_factor(2.0)
        .with_jitter()
        .with_max_times(times)
        .with_total_delay(Some(Duration::from_secs(secs)))
}

/// Whether an error is worth another try.
pub fn transient(e: &CloudError) -> bool {
    match e {
        CloudError::Status { status, .. } => matches!(status, 408 | 429 | 500 | 502 | 503 | 504),
        CloudError::Http { source, .. } => {
            source.is_connect() || source.is_timeout() || source.is_request() || source.is_body()
        }
        _ => false,
    }
}

/// Runs an idempotent call with the retry policy.
pub async fn idempotent<T, F, Fut>(call: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    call.retry(policy()).sleep(tokio::time::sleep).when(transient).await
}
