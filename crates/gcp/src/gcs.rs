//! Cloud Storage through its JSON API (which fake-gcs-server speaks in full): list,
//! metadata, streamed read, streamed upload, server-side rewrite, delete.

use super::{Cloud, CloudError, Result, encode, retry, with_query};
use base64::Engine;
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use reqwest::Method;
use serde::Deserialize;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

/// `gs://bucket/path` split in two.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GsPath {
    pub bucket: String,
    pub path: String,
}

impl GsPath {
    pub fn parse(s: &str) -> Option<GsPath> {
        let rest = s.strip_prefix("gs://")?;
        let (bucket, path) = rest.split_once('/').unwrap_or((rest, ""));
        (!bucket.is_empty()).then(|| GsPath { bucket: bucket.to_string(), path: path.to_string() })
    }

    /// `path` joined with `name` by one slash.
    pub fn join(&self, name: &str) -> String {
        let p = self.path.trim_end_matches('/');
        if p.is_empty() { name.to_string() } else { format!("{p}/{name}") }
    }
}

impl std::fmt::Display for GsPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "gs://{}/{}", self.bucket, self.path)
    }
}

/// One object version.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Object {
    pub bucket: String,
    pub name: String,
    pub size: u64,
    pub generation: i64,
    /// CRC32C of the content, when the server reports it.
    pub crc32c: Option<u32>,
    /// The object's `Content-Encoding` metadata (`gzip` for a `gsutil cp -Z` upload).
    pub content_encoding: Option<String>,
}

impl Object {
    pub fn uri(&self) -> String {
        format!("gs://{}/{}", self.bucket, self.name)
    }

    /// Stored gzip-compressed (`Content-Encoding: gzip`). Cloud Storage serves such an
    /// object decompressed unless the request accepts gzip; [`ObjectReader`] always asks
    /// for the stored bytes, so that sizes, checksums and resumed ranges hold.
    pub fn gzip_encoded(&self) -> bool {
        self.content_encoding.as_deref().is_some_and(|e| e.trim().eq_ignore_ascii_case("gzip"))
    }
}

#[derive(Deserialize)]
struct RawObject {
    bucket: String,
    name: String,
    #[serde(default)]
    size: Option<String>,
    #[serde(default)]
    generation: Option<String>,
    #[serde(default)]
    crc32c: Option<String>,
    #[serde(default, rename = "contentEncoding")]
    content_encoding: Option<String>,
}

impl RawObject {
    fn object(self) -> Object {
        let crc32c = self
            .crc32c
            .and_then(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
            .and_then(|b| <[u8; 4]>::try_from(b.as_slice()).ok().map(u32::from_be_bytes));
        Object {
            bucket: self.bucket,
            name: self.name,
            size: self.size.and_then(|s| s.parse().ok()).unwrap_or(0),
            generation: self.generation.and_then(|s| s.parse().ok()).unwrap_or(0),
            crc32c,
            content_encoding: self.content_encoding.filter(|e| !e.is_empty()),
        }
    }
}

#[derive(Deserialize)]
struct ListPage {
    #[serde(default)]
    items: Vec<RawObject>,
    #[serde(rename = "nextPageToken")]
    next: Option<String>,
}

#[derive(Deserialize)]
struct RewriteAnswer {
    done: bool,
    #[serde(rename = "rewriteToken")]
    token: Option<String>,
    resource: Option<RawObject>,
}

fn http_err(method: &str, url: &str, source: reqwest::Error) -> CloudError {
    CloudError::Http { method: method.into(), url: url.into(), source }
}

impl Cloud {
    fn object_url(&self, bucket: &str, name: &str) -> String {
        format!("{}/storage/v1/b/{}/o/{}", self.storage.endpoint, encode(bucket), encode(name))
    }

    /// Lists the objects under `prefix`, sorted by name.
    pub async fn gcs_list(&self, bucket: &str, prefix: &str) -> Result<Vec<Object>> {
        let mut out = vec![];
        let mut token: Option<String> = None;
        loop {
            let mut query = vec![("prefix", prefix)];
            if let Some(t) = &token {
                query.push(("pageToken", t));
            }
            let url = with_query(&format!("{}/storage/v1/b/{}/o", self.storage.endpoint, encode(bucket)), &query)?;
            let page: ListPage = self.json(&self.storage, Method::GET, &url, None).await?;
            out.extend(page.items.into_iter().map(RawObject::object));
            match page.next {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => break,
            }
        }
        out.sort();
        Ok(out)
    }

    /// The object's metadata, or None when it does not exist.
    pub async fn gcs_get(&self, bucket: &str, name: &str) -> Result<Option<Object>> {
        match self.json::<RawObject>(&self.storage, Method::GET, &self.object_url(bucket, name), None).await {
            Ok(o) => Ok(Some(o.object())),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Opens a byte stream of `obj` (this generation) from byte `offset`: the stored
    /// bytes, also for a `Content-Encoding: gzip` object (see [`Object::gzip_encoded`]).
    async fn gcs_stream(&self, obj: &Object, offset: u64) -> Result<BoxStream<'static, reqwest::Result<Bytes>>> {
        let generation = obj.generation.to_string();
        let url =
            with_query(&self.object_url(&obj.bucket, &obj.name), &[("alt", "media"), ("generation", &generation)])?;
        let gzip = obj.gzip_encoded();
        let resp = retry::idempotent(|| async {
            self.send(&self.storage, Method::GET, &url, |r| {
                // Without it, Cloud Storage (and fake-gcs-server) decompress the object and
                // ignore the range ("decompressive transcoding").
                let r = if gzip { r.header("Accept-Encoding", "gzip") } else { r };
                if offset > 0 { r.header("Range", format!("bytes={offset}-")) } else { r }
            })
            .await
        })
        .await?;
        let served = resp.headers().get("content-encoding").and_then(|v| v.to_str().ok()).unwrap_or("");
        if gzip && obj.size > 0 && !served.trim().eq_ignore_ascii_case("gzip") {
            return Err(CloudError::Other(format!(
                "{}: stored with Content-Encoding: gzip, but the server sent it decompressed although the \
                 request accepted gzip (Content-Encoding {served:?}); refusing bytes whose size and checksum \
                 cannot be checked",
                obj.uri()
            )));
        }
        Ok(resp.bytes_stream().boxed())
    }

    /// A media upload of `bucket/name` (replacing any object of that name), retried
    /// whole: `body()` makes the request body, and its length when known, per attempt.
    async fn upload_media<F, Fut>(&self, bucket: &str, name: &str, content_type: &str, body: F) -> Result<Object>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<(reqwest::Body, Option<u64>)>>,
    {
        let url = with_query(
            &format!("{}/upload/storage/v1/b/{}/o", self.storage.endpoint, encode(bucket)),
            &[("uploadType", "media"), ("name", name)],
        )?;
        retry::idempotent(|| async {
            let (body, len) = body().await?;
            let resp = self
                .send(&self.storage, Method::POST, &url, |r| {
                    let r = r.header("Content-Type", content_type);
                    let r = match len {
                        Some(n) => r.header("Content-Length", n),
                        None => r,
                    };
                    r.body(body)
                })
                .await?;
            Ok(resp.json::<RawObject>().await.map_err(|e| http_err("POST", &url, e))?.object())
        })
        .await
    }

    /// Uploads bytes as `bucket/name`.
    pub async fn gcs_put(&self, bucket: &str, name: &str, body: Bytes, content_type: &str) -> Result<Object> {
        self.upload_media(bucket, name, content_type, || async { Ok((body.clone().into(), None)) }).await
    }

    /// Uploads a local file as `bucket/name`, streamed from disk.
    pub async fn gcs_put_file(&self, bucket: &str, name: &str, path: &Path) -> Result<Object> {
        self.upload_media(bucket, name, "application/octet-stream", || async {
            let file = tokio::fs::File::open(path)
                .await
                .map_err(|e| CloudError::Other(format!("cannot open {}: {e}", path.display())))?;
            let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
            Ok((reqwest::Body::wrap_stream(file_stream(file)), Some(len)))
        })
        .await
    }

    /// Copies `src` to `bucket/name` inside Cloud Storage (no bytes through this machine).
    pub async fn gcs_rewrite(&self, src: &Object, bucket: &str, name: &str) -> Result<Object> {
        let base =
            format!("{}/rewriteTo/b/{}/o/{}", self.object_url(&src.bucket, &src.name), encode(bucket), encode(name));
        let generation = src.generation.to_string();
        let mut token: Option<String> = None;
        loop {
            let mut query = vec![("sourceGeneration", generation.as_str())];
            if let Some(t) = &token {
                query.push(("rewriteToken", t));
            }
            let url = with_query(&base, &query)?;
            let ans: RewriteAnswer = self.json(&self.storage, Method::POST, &url, Some(&serde_json::json!({}))).await?;
            if ans.done {
                return ans.resource.map(RawObject::object).ok_or_else(|| {
                    CloudError::Other(format!("rewrite of {} answered done without the new object", src.uri()))
                });
            }
            token = ans.token;
        }
    }

    /// Deletes an object; with `generation`, only that version (a newer upload is kept).
    pub async fn gcs_delete(&self, bucket: &str, name: &str, generation: Option<i64>) -> Result<()> {
        let generation = generation.map(|g| g.to_string());
        let query: Vec<(&str, &str)> = generation.iter().map(|g| ("ifGenerationMatch", g.as_str())).collect();
        let url = with_query(&self.object_url(bucket, name), &query)?;
        retry::idempotent(|| async {
            match self.send(&self.storage, Method::DELETE, &url, |r| r).await {
                Ok(_) => Ok(()),
                Err(e) if e.status() == Some(404) => Ok(()),
                Err(e) => Err(e),
            }
        })
        .await
    }
}

/// Streams a tokio file as chunks for a request body.
pub fn file_stream(file: tokio::fs::File) -> impl futures_util::Stream<Item = io::Result<Bytes>> {
    futures_util::stream::unfold((file, vec![0u8; 1 << 20]), |(mut f, mut buf)| async move {
        use tokio::io::AsyncReadExt;
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => Some((Ok(Bytes::copy_from_slice(&buf[..n])), (f, buf))),
            Err(e) => Some((Err(e), (f, buf))),
        }
    })
}

/// A blocking reader over one object version. A dropped connection is resumed from
/// the byte it stopped at (a ranged read of the same generation), a bounded number of times.
pub struct ObjectReader {
    cloud: Arc<Cloud>,
    obj: Object,
    stream: Option<BoxStream<'static, reqwest::Result<Bytes>>>,
    cur: Bytes,
    offset: u64,
    resumes: u32,
}

impl ObjectReader {
    pub fn new(cloud: Arc<Cloud>, obj: Object) -> Self {
        ObjectReader { cloud, obj, stream: None, cur: Bytes::new(), offset: 0, resumes: 0 }
    }
}

impl Read for ObjectReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if !self.cur.is_empty() {
                let n = self.cur.len().min(out.len());
                out[..n].copy_from_slice(&self.cur[..n]);
                self.cur = self.cur.slice(n..);
                self.offset += n as u64;
                return Ok(n);
            }
            if self.offset >= self.obj.size && self.stream.is_none() && self.offset > 0 {
                return Ok(0);
            }
            let cloud = self.cloud.clone();
            if self.stream.is_none() {
                let s = cloud.block_on(cloud.gcs_stream(&self.obj, self.offset)).map_err(io::Error::other)?;
                self.stream = Some(s);
            }
            let next = cloud.block_on(self.stream.as_mut().expect("opened").next());
            match next {
                Some(Ok(b)) => self.cur = b,
                None if self.offset >= self.obj.size => {
                    self.stream = None;
                    return Ok(0);
                }
                None | Some(Err(_)) if self.resumes < 5 => {
                    // Dropped mid-object: resume from here.
                    self.resumes += 1;
                    self.stream = None;
                }
                None => {
                    return Err(io::Error::other(format!("{}: stream ended at byte {}", self.obj.uri(), self.offset)));
                }
                Some(Err(e)) => return Err(io::Error::other(format!("{}: {e}", self.obj.uri()))),
            }
        }
    }
}
