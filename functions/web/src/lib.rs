//! `GET /` and `GET /assets/{name}`: the browser client (`assets/`), built into the binary, so
//! the function reads nothing at run time and may call no AWS service. The page tells the
//! client the stack's `AUTH_MODE` and `WEBSOCKET_URL` (live push; none: long polling only);
//! everything else it learns from the API, on the same origin. Files of messages go to and come
//! from the bucket's origin, `FILES_ORIGIN`, which the page's policy allows.

use edge::auth::Mode;
use edge::http;
use edge::routes::Params;
use edge::{ApiError, Style};
use lambda_http::{Body, Request, Response};

edge::routes! { State;
    GET "/" => index,
    GET "/assets/{name}" => asset,
}

/// The client's files other than the page: (name, content type, content).
const ASSETS: [(&str, &str, &str); 14] = [
    ("app.js", "text/javascript; charset=utf-8", include_str!("../assets/app.js")),
    ("api.js", "text/javascript; charset=utf-8", include_str!("../assets/api.js")),
    ("rooms.js", "text/javascript; charset=utf-8", include_str!("../assets/rooms.js")),
    ("conversation.js", "text/javascript; charset=utf-8", include_str!("../assets/conversation.js")),
    ("message.js", "text/javascript; charset=utf-8", include_str!("../assets/message.js")),
    ("files.js", "text/javascript; charset=utf-8", include_str!("../assets/files.js")),
    ("actions.js", "text/javascript; charset=utf-8", include_str!("../assets/actions.js")),
    ("live.js", "text/javascript; charset=utf-8", include_str!("../assets/live.js")),
    ("dialogs.js", "text/javascript; charset=utf-8", include_str!("../assets/dialogs.js")),
    ("members.js", "text/javascript; charset=utf-8", include_str!("../assets/members.js")),
    ("settings.js", "text/javascript; charset=utf-8", include_str!("../assets/settings.js")),
    ("blocks.js", "text/javascript; charset=utf-8", include_str!("../assets/blocks.js")),
    ("app.css", "text/css; charset=utf-8", include_str!("../assets/app.css")),
    ("icon.svg", "image/svg+xml", include_str!("../assets/icon.svg")),
];

/// Scripts and styles from this origin only; requests to it, the WebSocket API and the files'
/// origin (uploads), images from it and the files' origin (images in messages); no framing.
fn content_security_policy(websocket_url: &str, files_origin: &str) -> String {
    let sources = |more: &[&str]| {
        more.iter().filter(|s| !s.is_empty()).fold("'self'".to_string(), |all, s| format!("{all} {s}"))
    };
    let connect = sources(&[websocket_url, files_origin]);
    let img = sources(&[files_origin]);
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src {connect}; \
         img-src {img}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
}

/// A URL of the deployment, not of a user; still kept to what an attribute or a policy may hold.
fn plain_url(url: &str) -> String {
    url.chars().filter(|c| !matches!(c, '"' | '<' | '>' | '&' | '\'' | ' ' | ';' | ',')).collect()
}

pub struct State {
    /// The page, with the stack's auth mode and WebSocket URL filled in.
    index: String,
    policy: String,
}

impl State {
    /// `files_origin`: where files are uploaded to and shown from (none: nothing more allowed).
    pub fn new(mode: Mode, websocket_url: &str, files_origin: &str) -> State {
        let mode = match mode {
            Mode::None => "none",
            Mode::Token => "token",
        };
        let websocket_url = plain_url(websocket_url);
        let index = include_str!("../assets/index.html")
            .replace("{{AUTH_MODE}}", mode)
            .replace("{{WEBSOCKET_URL}}", &websocket_url);
        State { index, policy: content_security_policy(&websocket_url, &plain_url(files_origin)) }
    }

    pub fn from_env() -> State {
        let var = |name: &str| std::env::var(name).unwrap_or_default();
        State::new(edge::auth::mode_from_env(), &var("WEBSOCKET_URL"), &var("FILES_ORIGIN"))
    }
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    http::respond(&req, Style::Plain, dispatch(state, &req)).await
}

/// `GET /`: the page, always fresh, so a deploy's new assets are picked up at once.
async fn index(state: &State, _: &Request, _: Params) -> Result<Response<Body>, ApiError> {
    Ok(file(state, "text/html; charset=utf-8", &state.index, "no-cache"))
}

/// `GET /assets/{name}`: a script, style or icon of the page.
async fn asset(state: &State, _: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let (_, content_type, content) = ASSETS
        .iter()
        .find(|(name, _, _)| *name == params.raw(0))
        .ok_or_else(|| ApiError::NotFound("No such file.".into()))?;
    Ok(file(state, content_type, content, "public, max-age=300"))
}

fn file(state: &State, content_type: &str, content: &str, cache: &str) -> Response<Body> {
    Response::builder()
        .status(200)
        .header("content-type", content_type)
        .header("cache-control", cache)
        .header("content-security-policy", &state.policy)
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer")
        .body(Body::Text(content.to_string()))
        .expect("static response parts are valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_the_mode_and_the_websocket_and_every_asset_it_loads_is_served() {
        let state = State::new(Mode::Token, "wss://x.example/live", "");
        assert!(state.index.contains(r#"data-auth-mode="token""#));
        assert!(state.index.contains(r#"data-websocket-url="wss://x.example/live""#));
        assert!(state.policy.contains("connect-src 'self' wss://x.example/live;"));
        assert!(state.policy.contains("img-src 'self';"));
        for (name, _, _) in ASSETS {
            assert!(state.index.contains(&format!("/assets/{name}")), "{name} is loaded by the page");
        }
        let plain = State::new(Mode::None, "", "");
        assert!(plain.index.contains(r#"data-auth-mode="none""#));
        assert!(plain.index.contains(r#"data-websocket-url="""#));
        assert!(plain.policy.contains("connect-src 'self';"));
        assert!(State::new(Mode::None, "wss://a\"><script>", "")
            .index
            .contains(r#"data-websocket-url="wss://ascript""#));
    }

    #[test]
    fn the_files_origin_may_take_uploads_and_show_images_and_nothing_else() {
        let state = State::new(Mode::None, "ws://localhost:3001/", "http://127.0.0.1:5000");
        assert!(state.policy.contains("connect-src 'self' ws://localhost:3001/ http://127.0.0.1:5000;"));
        assert!(state.policy.contains("img-src 'self' http://127.0.0.1:5000;"));
        assert!(state.policy.contains("script-src 'self';") && state.policy.contains("default-src 'none';"));
        assert!(!state.index.contains("127.0.0.1:5000"), "the page itself need not know it");
        // One origin, never a second directive smuggled in.
        let hostile = State::new(Mode::None, "", "https://b.example; script-src *");
        assert!(hostile.policy.contains("img-src 'self' https://b.examplescript-src*;"));
        assert_eq!(hostile.policy.split(';').count(), state.policy.split(';').count());
    }
}
