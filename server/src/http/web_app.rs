//! The head-office web application, built from `web/` and embedded into the binary, served at
//! `/` for every path the API does not own.
//!
//! A path naming a built file gets that file with its content type; hashed files under
//! `assets/` are cached for a year (their names change when they do), everything else is
//! revalidated by ETag. Any other path gets `index.html`, where the app's router takes over
//! (`/accounts/…` opened from a bookmark). Text files are sent gzip-compressed to browsers that
//! accept it, compressed once per process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use flate2::Compression;
use flate2::write::GzEncoder;

/// The built app (`npm run build` in `web/` writes `web/dist`, which is committed).
#[derive(rust_embed::RustEmbed)]
#[folder = "../web/dist/"]
struct Built;

/// What a page may load: only this server's own scripts, styles, images and API.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Serves the app: a built file, or `index.html` for the app's own routes.
pub async fn serve(request: HttpRequest) -> HttpResponse {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, "GET, HEAD"))
            .finish();
    }
    let path = request.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    let (name, file) = match Built::get(path) {
        Some(file) => (path, file),
        // A missing hashed asset is a stale page asking for an old build: say so, do not
        // answer JavaScript with HTML.
        None if path.starts_with("assets/") || path.starts_with("api/") => {
            return HttpResponse::NotFound()
                .content_type("text/plain; charset=utf-8")
                .body("not found\n");
        }
        None => match Built::get("index.html") {
            Some(file) => ("index.html", file),
            None => {
                return HttpResponse::NotFound()
                    .content_type("text/plain; charset=utf-8")
                    .body("the web app is not built into this binary\n");
            }
        },
    };
    let etag = format!(
        "\"{}\"",
        bs58::encode(&file.metadata.sha256_hash()[..12]).into_string()
    );
    let mut response = HttpResponse::build(StatusCode::OK);
    response
        .insert_header((header::ETAG, etag.clone()))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::VARY, "Accept-Encoding"));
    if name.starts_with("assets/") {
        response.insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"));
    } else {
        response.insert_header((header::CACHE_CONTROL, "no-cache"));
    }
    if name.ends_with(".html") {
        response
            .insert_header(("content-security-policy", CONTENT_SECURITY_POLICY))
            .insert_header((header::REFERRER_POLICY, "same-origin"));
    }
    let not_modified = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag));
    if not_modified {
        return response.status(StatusCode::NOT_MODIFIED).finish();
    }
    let content_type = content_type(name, file.metadata.mimetype());
    response.content_type(content_type.clone());
    if accepts_gzip(&request) && compressible(&content_type) {
        let gzipped = gzipped(name, &file.data);
        response.insert_header((header::CONTENT_ENCODING, "gzip"));
        return response.body(gzipped.to_vec());
    }
    response.body(file.data.into_owned())
}

/// The content type, with the charset browsers need for text.
fn content_type(name: &str, guessed: &str) -> String {
    let text = guessed.starts_with("text/")
        || guessed.ends_with("javascript")
        || guessed.ends_with("json")
        || guessed.ends_with("svg+xml");
    if name.ends_with(".js") || name.ends_with(".mjs") {
        return "text/javascript; charset=utf-8".into();
    }
    if text {
        format!("{guessed}; charset=utf-8")
    } else {
        guessed.to_owned()
    }
}

fn compressible(content_type: &str) -> bool {
    content_type.contains("charset=utf-8")
}

fn accepts_gzip(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accepted| {
            accepted
                .split(',')
                .any(|coding| coding.split(';').next().is_some_and(|c| c.trim() == "gzip"))
        })
}

/// The gzip of a built file, compressed on first use.
fn gzipped(name: &str, data: &[u8]) -> Arc<[u8]> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<[u8]>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(found) = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(name)
    {
        return found.clone();
    }
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    // Writing to a Vec cannot fail.
    let compressed: Arc<[u8]> =
        match std::io::Write::write_all(&mut encoder, data).and_then(|()| encoder.finish()) {
            Ok(bytes) => bytes.into(),
            Err(_) => data.into(),
        };
    cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(name.to_owned(), compressed.clone());
    compressed
}

/// The gzip size of every built file, for the figures: `(name, bytes, gzip bytes)`.
pub fn built_sizes() -> Vec<(String, usize, usize)> {
    Built::iter()
        .filter_map(|name| {
            let file = Built::get(&name)?;
            let gzip = gzipped(&name, &file.data).len();
            Some((name.into_owned(), file.data.len(), gzip))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;
    use actix_web::test::TestRequest;

    use super::*;

    async fn get(path: &str, gzip: bool) -> HttpResponse {
        let mut request = TestRequest::get().uri(path);
        if gzip {
            request = request.insert_header((header::ACCEPT_ENCODING, "gzip, br"));
        }
        serve(request.to_http_request()).await
    }

    fn header_of(response: &HttpResponse, name: header::HeaderName) -> String {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    #[actix_web::test]
    async fn routes_of_the_app_get_index_html_and_assets_are_cached_for_good() {
        let index = get("/accounts/some-id", false).await;
        assert_eq!(index.status(), StatusCode::OK);
        assert_eq!(
            header_of(&index, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
        assert_eq!(header_of(&index, header::CACHE_CONTROL), "no-cache");
        assert!(
            !header_of(
                &index,
                header::HeaderName::from_static("content-security-policy")
            )
            .is_empty()
        );
        let script = Built::iter()
            .find(|name| name.starts_with("assets/") && name.ends_with(".js"))
            .expect("the build has a script");
        let asset = get(&format!("/{script}"), true).await;
        assert_eq!(
            header_of(&asset, header::CONTENT_TYPE),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            header_of(&asset, header::CACHE_CONTROL),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(header_of(&asset, header::CONTENT_ENCODING), "gzip");
        let body = asset.into_body().try_into_bytes().expect("bytes");
        assert_eq!(&body[..2], &[0x1f, 0x8b]);
        assert_eq!(
            get("/assets/gone-1234.js", false).await.status(),
            StatusCode::NOT_FOUND
        );
    }

    #[actix_web::test]
    async fn an_unchanged_file_is_not_sent_again() {
        let first = get("/", false).await;
        let etag = header_of(&first, header::ETAG);
        let again = serve(
            TestRequest::get()
                .uri("/")
                .insert_header((header::IF_NONE_MATCH, etag))
                .to_http_request(),
        )
        .await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    }
}
