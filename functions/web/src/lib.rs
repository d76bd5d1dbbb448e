//! `GET /` and `GET /assets/{name}`: the browser client (`assets/`), built into the binary, so
//! the function reads nothing at run time and may call no AWS service. The page tells the
//! client the stack's `AUTH_MODE`; everything else it learns from the API, on the same origin.

use lambda_http::{Body, Request, Response};
use shared::auth::Mode;
use shared::http::{self, Routes, Verb};
use shared::{ApiError, Style};

#[derive(Clone, Copy, Debug)]
pub enum Path {
    Index,
    Asset,
}

#[derive(Clone, Copy, Debug)]
pub enum Endpoint {
    Index,
    Asset,
}

/// Every route of this function; the template and the local router must list the same paths.
pub const ROUTES: Routes<Path, Endpoint> = Routes {
    paths: &[("/", Path::Index), ("/assets/{name}", Path::Asset)],
    endpoint: |path, verb| match (path, verb) {
        (Path::Index, Verb::Get) => Some(Endpoint::Index),
        (Path::Asset, Verb::Get) => Some(Endpoint::Asset),
        (Path::Index | Path::Asset, Verb::Post | Verb::Put | Verb::Patch | Verb::Delete) => None,
    },
};

/// The client's files other than the page: (name, content type, content).
const ASSETS: [(&str, &str, &str); 3] = [
    ("app.js", "text/javascript; charset=utf-8", include_str!("../assets/app.js")),
    ("app.css", "text/css; charset=utf-8", include_str!("../assets/app.css")),
    ("icon.svg", "image/svg+xml", include_str!("../assets/icon.svg")),
];

/// Scripts, styles and requests from this origin only; no framing.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

pub struct State {
    /// The page, with the stack's auth mode filled in.
    index: String,
}

impl State {
    pub fn new(mode: Mode) -> State {
        let mode = match mode {
            Mode::None => "none",
            Mode::Token => "token",
        };
        State { index: include_str!("../assets/index.html").replace("{{AUTH_MODE}}", mode) }
    }

    pub fn from_env() -> State {
        State::new(shared::auth::mode_from_env())
    }
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    http::respond(&req, Style::Plain, async { route(state, &req) }).await
}

fn route(state: &State, req: &Request) -> Result<Response<Body>, ApiError> {
    let (endpoint, params) = ROUTES.resolve(req)?;
    let (content_type, content, cache) = match endpoint {
        // The page always fresh, so a deploy's new assets are picked up at once.
        Endpoint::Index => ("text/html; charset=utf-8", state.index.as_str(), "no-cache"),
        Endpoint::Asset => {
            let (_, content_type, content) = ASSETS
                .iter()
                .find(|(name, _, _)| *name == params[0])
                .ok_or_else(|| ApiError::NotFound("No such file.".into()))?;
            (*content_type, *content, "public, max-age=300")
        }
    };
    let response = Response::builder()
        .status(200)
        .header("content-type", content_type)
        .header("cache-control", cache)
        .header("content-security-policy", CONTENT_SECURITY_POLICY)
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer")
        .body(Body::Text(content.to_string()))
        .expect("static response parts are valid");
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_the_mode_and_every_asset_it_loads_is_served() {
        let page = &State::new(Mode::Token).index;
        assert!(page.contains(r#"data-auth-mode="token""#));
        for (name, _, _) in ASSETS {
            assert!(page.contains(&format!("/assets/{name}")), "{name} is loaded by the page");
        }
        assert!(State::new(Mode::None).index.contains(r#"data-auth-mode="none""#));
    }
}
