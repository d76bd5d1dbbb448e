//! Each function's routes, declared once: a table of (method, path pattern, handler) written
//! with [`routes!`](crate::routes), from which the function's `dispatch` is generated, so no
//! route can be listed without a handler or answered by another's. The same table is what
//! `tests/tests/routes.rs` holds against the local router, `template.yaml` and `openapi.yaml`.

use crate::error::ApiError;
use lambda_http::http::Method;
use lambda_http::Request;

/// The methods the API answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

/// The methods as route tables spell them (`GET "/users" => list`).
impl Verb {
    pub const GET: Verb = Verb::Get;
    pub const POST: Verb = Verb::Post;
    pub const PUT: Verb = Verb::Put;
    pub const PATCH: Verb = Verb::Patch;
    pub const DELETE: Verb = Verb::Delete;
}

impl Verb {
    pub const ALL: [Verb; 5] = [Verb::Get, Verb::Post, Verb::Patch, Verb::Put, Verb::Delete];

    fn of(method: &Method) -> Option<Verb> {
        Verb::ALL.into_iter().find(|v| v.as_str() == method.as_str())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }
}

/// A function's paths, in table order, and the methods each answers.
pub type RouteTable = Vec<(&'static str, Vec<Verb>)>;

/// A function's routes: (method, path pattern), in the order its handlers are listed. Static
/// paths come before parameterised ones of the same shape (`/unseen` before `/{id}`).
pub struct Routes(pub &'static [(Verb, &'static str)]);

/// The values of a matched path's `{params}`, in order.
#[derive(Debug, PartialEq)]
pub struct Params(pub Vec<String>);

impl Params {
    /// Parameter `i` as an id, a 400 naming `what` otherwise (e.g. "Chat room id").
    pub fn id(&self, i: usize, what: &str) -> Result<u64, ApiError> {
        domain::ids::parse_id(&self.0[i])
            .ok_or_else(|| ApiError::BadRequest(format!("{what} must be a positive integer.")))
    }

    /// Parameter `i` as it came.
    pub fn raw(&self, i: usize) -> &str {
        &self.0[i]
    }

    /// Parameter `i` percent-decoded (a reaction's emoji), a 400 naming `what` when that is
    /// no UTF-8.
    pub fn decoded(&self, i: usize, what: &str) -> Result<String, ApiError> {
        percent_encoding::percent_decode_str(&self.0[i])
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| ApiError::BadRequest(format!("{what} is not valid UTF-8.")))
    }
}

impl Routes {
    /// The index of the route that answers a request, with the path's parameters. Paths match
    /// with or without a trailing slash; the first pattern in table order that matches decides,
    /// then the method: 405 (with `Allow`) when no route of that pattern has it, 404 for a path
    /// no pattern matches.
    pub fn resolve(&self, req: &Request) -> Result<(usize, Params), ApiError> {
        let segments: Vec<&str> = req.uri().path().split('/').filter(|s| !s.is_empty()).collect();
        let Some((pattern, params)) =
            self.0.iter().find_map(|&(_, pattern)| Some((pattern, match_path(pattern, &segments)?)))
        else {
            return Err(ApiError::NotFound("No such route.".into()));
        };
        let verb = Verb::of(req.method());
        match self.0.iter().position(|&(v, p)| p == pattern && Some(v) == verb) {
            Some(index) => Ok((index, Params(params))),
            None => Err(ApiError::MethodNotAllowed {
                message: format!("Method \"{}\" not allowed.", req.method()),
                allow: self.verbs(pattern).iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "),
            }),
        }
    }

    /// The verbs a path pattern answers, in the order of [`Verb::ALL`].
    fn verbs(&self, pattern: &str) -> Vec<Verb> {
        Verb::ALL.into_iter().filter(|&v| self.0.contains(&(v, pattern))).collect()
    }

    /// Every path pattern, in table order, with its verbs.
    pub fn table(&self) -> RouteTable {
        let mut table: RouteTable = Vec::new();
        for &(_, pattern) in self.0 {
            if !table.iter().any(|(p, _)| *p == pattern) {
                table.push((pattern, self.verbs(pattern)));
            }
        }
        table
    }
}

fn match_path(pattern: &str, segments: &[&str]) -> Option<Vec<String>> {
    let parts: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    for (part, segment) in parts.iter().zip(segments) {
        if part.starts_with('{') {
            params.push(segment.to_string());
        } else if part != segment {
            return None;
        }
    }
    Some(params)
}

/// A function's route table and its dispatch, from one list of `METHOD "path" => handler`.
/// Each handler is `async fn(&State, &Request, Params) -> Result<Response<Body>, ApiError>`.
/// Generates `pub const ROUTES: Routes` and `async fn dispatch(&State, &Request)`.
#[macro_export]
macro_rules! routes {
    ($state:ty; $($verb:ident $path:literal => $handler:path),+ $(,)?) => {
        /// Every route of this function, declared once; `tests/tests/routes.rs` holds it against
        /// the local router, `template.yaml` and `openapi.yaml`.
        pub const ROUTES: $crate::routes::Routes =
            $crate::routes::Routes(&[$(($crate::routes::Verb::$verb, $path)),+]);

        /// The handler of the route that answers `req`: 404 or 405 when none does.
        async fn dispatch(
            state: &$state,
            req: &$crate::lambda_http::Request,
        ) -> Result<$crate::lambda_http::Response<$crate::lambda_http::Body>, $crate::ApiError> {
            let (route, params) = ROUTES.resolve(req)?;
            let mut index = 0;
            $(
                if route == index {
                    return $handler(state, req, params).await;
                }
                index += 1;
            )+
            unreachable!("route {route} of {index} resolved outside the table")
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::Body;

    fn request(method: &str, uri: &str) -> Request {
        lambda_http::http::Request::builder().method(method).uri(uri).body(Body::Empty).unwrap()
    }

    const ROUTES: Routes = Routes(&[
        (Verb::Get, "/things/new"),
        (Verb::Get, "/things"),
        (Verb::Post, "/things"),
        (Verb::Get, "/things/{id}"),
    ]);

    #[test]
    fn routes_resolve_with_and_without_trailing_slash_and_name_their_verbs() {
        for uri in ["/things", "/things/"] {
            assert_eq!(ROUTES.resolve(&request("GET", uri)).unwrap(), (1, Params(vec![])));
        }
        assert_eq!(ROUTES.resolve(&request("POST", "/things")).unwrap().0, 2);
        assert_eq!(ROUTES.resolve(&request("GET", "/things/7/")).unwrap(), (3, Params(vec!["7".into()])));
        // A static path wins over the pattern it also matches, for every method.
        assert_eq!(ROUTES.resolve(&request("GET", "/things/new")).unwrap().0, 0);
        match ROUTES.resolve(&request("DELETE", "/things/new")) {
            Err(ApiError::MethodNotAllowed { allow, .. }) => assert_eq!(allow, "GET"),
            other => panic!("{other:?}"),
        }
        match ROUTES.resolve(&request("DELETE", "/things")) {
            Err(ApiError::MethodNotAllowed { allow, .. }) => assert_eq!(allow, "GET, POST"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            ROUTES.resolve(&request("OPTIONS", "/things/1")),
            Err(ApiError::MethodNotAllowed { .. })
        ));
        assert!(matches!(ROUTES.resolve(&request("GET", "/things/7/x")), Err(ApiError::NotFound(_))));
        assert_eq!(
            ROUTES.table(),
            vec![
                ("/things/new", vec![Verb::Get]),
                ("/things", vec![Verb::Get, Verb::Post]),
                ("/things/{id}", vec![Verb::Get])
            ]
        );
    }

    #[test]
    fn ids_in_paths_are_positive_whole_numbers() {
        let params = Params(vec!["7".into(), "0".into()]);
        assert_eq!(params.id(0, "Room id").unwrap(), 7);
        assert!(
            matches!(params.id(1, "Room id"), Err(ApiError::BadRequest(m)) if m == "Room id must be a positive integer.")
        );
    }
}
