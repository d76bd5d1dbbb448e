//! Files of messages (API.md "Attachments"): the upload URL of a file about to be sent, and
//! the check of a send's `attachments`. The bytes never pass through here.

use crate::State;
use domain::attachments::{self, Attachment, Upload, MAX_PER_MESSAGE, UPLOAD_URL_SECONDS};
use domain::ids::{parse_id, MAX_ID};
use edge::http::{self, envelope, json_object};
use edge::routes::Params;
use edge::ApiError;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// A file as its body declares it: the room it is for, and what it is.
fn parse_upload(body: &Map<String, Value>) -> Result<(u64, Attachment), ApiError> {
    let room = match body.get("room") {
        Some(Value::Number(n)) => n.as_u64().filter(|&id| id > 0 && id <= MAX_ID),
        Some(Value::String(s)) => parse_id(s),
        _ => None,
    }
    .ok_or_else(|| ApiError::BadRequest("room must be a positive chat room id.".into()))?;
    let text = |name: &str| match body.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(ApiError::BadRequest(format!("{name} is required, as a string."))),
    };
    let filename = text("filename")?;
    attachments::check_filename(&filename)?;
    let size = body
        .get("size")
        .and_then(Value::as_u64)
        .ok_or_else(|| ApiError::BadRequest("size must be a whole number of bytes.".into()))?;
    attachments::check_size(size)?;
    let content_type = text("content_type")?;
    attachments::check_content_type(&content_type)?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    Ok((room, Attachment { id, filename, content_type, size }))
}

/// `POST /chat/attachments/?user_id=N`: a presigned PUT for exactly the declared file, to a
/// member of the room. The send's lookup, then 1 PutItem (the upload's record); the URL is
/// signed here, without a call.
pub async fn upload(state: &State, req: &Request, _: Params) -> Result<Response<Body>, ApiError> {
    let caller = state.auth.caller(req, &state.store).await?;
    let user = caller.acting(http::optional_user_id(req)?, http::missing_user_id)?;
    let (room, attachment) = parse_upload(&json_object(req)?)?;
    let found = state.store.lookup_with(room, Some(user), false, None).await?;
    found.member(room, user)?;
    let upload = state.files.upload_url(room, &attachment).await?;
    let record = Upload { attachment, user, room, sent: None };
    state.store.put_upload(&record).await?;
    let headers: Map<String, Value> = upload.headers.into_iter().map(|(k, v)| (k, json!(v))).collect();
    let data = json!({
        "id": record.attachment.id,
        "upload": {"url": upload.url, "method": "PUT", "headers": headers},
        "expires_in": UPLOAD_URL_SECONDS,
    });
    Ok(envelope(201, Some(data)))
}

/// A send's `attachments`: at most 10 distinct ids, as strings (400 otherwise); none when left
/// out.
pub fn parse_ids(body: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
    let list = match body.get("attachments") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(ApiError::BadRequest("attachments must be a list of attachment ids.".into())),
    };
    if list.len() > MAX_PER_MESSAGE {
        return Err(ApiError::BadRequest(format!(
            "A message carries at most {MAX_PER_MESSAGE} attachments."
        )));
    }
    let mut ids: Vec<String> = Vec::new();
    for item in list {
        let id = item
            .as_str()
            .filter(|s| !s.is_empty() && s.len() <= 64)
            .ok_or_else(|| ApiError::BadRequest("attachments must be a list of attachment ids.".into()))?;
        if ids.iter().any(|known| known == id) {
            return Err(ApiError::BadRequest(format!("Attachment {id} is listed twice.")));
        }
        ids.push(id.to_string());
    }
    Ok(ids)
}

/// The files of a send by `user` into `room`, from their uploads (read beside the send's
/// lookup: one BatchGetItem, none without files): each must be this user's, for this room,
/// and not sent yet (400). Whether the bytes arrived the worker checks, as it stores the message.
pub fn of_send(
    ids: &[String],
    mut uploads: HashMap<String, Upload>,
    user: u64,
    room: u64,
) -> Result<Vec<Attachment>, ApiError> {
    ids.iter()
        .map(|id| {
            let refused = |why: &str| ApiError::BadRequest(format!("Attachment {id} {why}."));
            let upload = uploads.remove(id).ok_or_else(|| refused("does not exist"))?;
            if upload.user != user {
                return Err(refused("was uploaded by another user"));
            }
            if upload.room != room {
                return Err(refused("was uploaded for another chat room"));
            }
            if upload.sent.is_some() {
                return Err(refused("was sent already"));
            }
            Ok(upload.attachment)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(v: Value) -> Result<(u64, Attachment), ApiError> {
        parse_upload(v.as_object().unwrap())
    }

    #[test]
    fn a_declared_file_has_a_room_a_name_a_size_and_a_type() {
        let ok = json!({"room": 3, "filename": "cat.png", "content_type": "image/png", "size": 10});
        let (room, file) = upload(ok.clone()).unwrap();
        assert_eq!((room, file.filename.as_str(), file.size), (3, "cat.png", 10));
        assert_eq!(file.id.len(), 32);
        let with = |k: &str, v: Value| {
            let mut body = ok.clone();
            body[k] = v;
            upload(body).map(|_| ()).unwrap_err().status()
        };
        assert_eq!(with("room", json!(0)), 400);
        assert_eq!(with("room", json!(u64::MAX)), 400);
        assert_eq!(with("filename", json!("a/b")), 400);
        assert_eq!(with("filename", json!(5)), 400);
        assert_eq!(with("size", json!(0)), 400);
        assert_eq!(with("size", json!(1.5)), 400);
        assert_eq!(with("size", json!(25 * 1024 * 1024 + 1)), 413);
        assert_eq!(with("content_type", json!("text/html")), 415);
    }

    #[test]
    fn a_send_lists_at_most_10_distinct_ids() {
        let ids = |v: Value| parse_ids(json!({ "attachments": v }).as_object().unwrap());
        assert_eq!(ids(json!(["a", "b"])).unwrap(), ["a", "b"]);
        assert!(parse_ids(json!({}).as_object().unwrap()).unwrap().is_empty());
        for bad in [json!("a"), json!([1]), json!(["a", "a"]), json!([""]), json!(vec!["x"; 11])] {
            assert!(ids(bad.clone()).is_err(), "{bad}");
        }
    }
}
