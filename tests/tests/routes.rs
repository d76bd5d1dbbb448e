//! One route table: the routes each function declares once (its `edge::routes!` table in its
//! lib.rs), the local `cargo lambda watch` router in Cargo.toml and the HttpApi events in
//! template.yaml must be the same set of (path, function), each path with and without its
//! trailing slash (but `/`); and openapi.yaml must document exactly the API's (method, path)
//! pairs, both slash forms. A route missing from any of them fails here.

use edge::routes::RouteTable;
use std::collections::BTreeSet;

type Routes = BTreeSet<(String, String)>;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Each HTTP function's route table: its paths and the methods it answers on each.
fn tables() -> [(&'static str, RouteTable); 6] {
    [
        ("web", web::ROUTES.table()),
        ("auth", auth::ROUTES.table()),
        ("users", users::ROUTES.table()),
        ("chatrooms", chatrooms::ROUTES.table()),
        ("messages", messages::ROUTES.table()),
        ("tasks", tasks::ROUTES.table()),
    ]
}

/// Each function's own routes, with and without the trailing slash.
fn from_functions() -> Routes {
    let mut routes = Routes::new();
    for (function, paths) in tables() {
        for (path, verbs) in paths {
            assert!(!verbs.is_empty(), "{path} answers no method");
            routes.insert((path.to_string(), function.to_string()));
            // The root is the one path that has no form without a slash.
            if path != "/" {
                routes.insert((format!("{path}/"), function.to_string()));
            }
        }
    }
    routes
}

/// Whether `function` routes `method` on `path` (given with or without its trailing slash).
fn answers(function: &str, path: &str, method: &str) -> bool {
    tables()
        .into_iter()
        .filter(|(f, _)| *f == function)
        .flat_map(|(_, paths)| paths)
        .any(|(p, verbs)| p == path.trim_end_matches('/') && verbs.iter().any(|v| v.as_str() == method))
}

fn from_router() -> Routes {
    let text = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let manifest: toml::Table = text.parse().unwrap();
    let router = &manifest["workspace"]["metadata"]["lambda"]["watch"]["router"];
    router
        .as_table()
        .expect("a router table")
        .iter()
        .map(|(path, function)| (path.clone(), function.as_str().unwrap().to_string()))
        .collect()
}

fn from_template() -> Routes {
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    let template: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let mut routes = Routes::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let function =
            resource["Metadata"]["BuildProperties"]["Binary"].as_str().expect("Binary of a function");
        let Some(events) = resource["Properties"]["Events"].as_mapping() else { continue };
        for (_, event) in events {
            if event["Type"] == "HttpApi" {
                let path = event["Properties"]["Path"].as_str().expect("an HttpApi path");
                let method = event["Properties"]["Method"].as_str().expect("an HttpApi method");
                if method != "ANY" {
                    // A route of one method exists for a limit of its own (sign-up): the function
                    // must answer that method there, and an ANY route of the path the others.
                    assert!(answers(function, path, method), "{function} does not answer {method} {path}");
                    continue;
                }
                routes.insert((path.to_string(), function.to_string()));
            }
        }
    }
    routes
}

#[test]
fn functions_router_and_template_route_the_same_paths() {
    let functions = from_functions();
    assert_eq!(from_router(), functions, "Cargo.toml router vs the functions' ROUTES");
    assert_eq!(from_template(), functions, "template.yaml HttpApi events vs the functions' ROUTES");
}

/// Each API route's (method, path), both slash forms; the web client's pages are no API.
fn api_operations() -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (function, paths) in tables() {
        if function == "web" {
            continue;
        }
        for (path, verbs) in paths {
            for verb in verbs {
                for form in [path.to_string(), format!("{path}/")] {
                    operations.insert((verb.as_str().to_string(), form));
                }
            }
        }
    }
    operations
}

fn from_openapi() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(root().join("openapi.yaml")).unwrap();
    let spec: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let mut operations = BTreeSet::new();
    for (path, item) in spec["paths"].as_mapping().expect("openapi paths") {
        for (method, _) in item.as_mapping().expect("a path item") {
            let method = method.as_str().unwrap();
            if ["get", "post", "put", "patch", "delete"].contains(&method) {
                operations.insert((method.to_uppercase(), path.as_str().unwrap().to_string()));
            }
        }
    }
    operations
}

#[test]
fn openapi_documents_every_route_and_only_those() {
    let (documented, routed) = (from_openapi(), api_operations());
    let missing: Vec<_> = routed.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routed).collect();
    assert!(missing.is_empty() && extra.is_empty(), "undocumented: {missing:?}; not routed: {extra:?}");
}

#[test]
fn every_template_function_is_a_workspace_binary() {
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    let template: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let mut binaries: Vec<String> = template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::Serverless::Function")
        .map(|r| r["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap().to_string())
        .collect();
    binaries.sort();
    let mut functions: Vec<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    functions.sort();
    assert_eq!(binaries, functions, "template.yaml's functions vs functions/");
}
