//! A send's files before its message is stored (API.md "Attachments"): each must be in the
//! bucket with the declared size and type, and no other message may have taken it. A send whose
//! file never arrived ends in FAILURE with the reason, never as a message with a broken file.
//! Per file: 1 HeadObject and 1 DeleteObjectTagging (kept from the bucket's rule for unsent
//! uploads), the files of a send at once; per send, its uploads taken all or none (1
//! conditional UpdateItem for one file, 1 TransactWriteItems for several). Sends without files
//! cost nothing here.

use crate::{QueuedSend, State};
use domain::attachments::Attachment;
use services::files::Uploaded;

/// How a send's files stand.
enum Checked {
    Ready,
    /// A reason for its task's FAILURE.
    Refused(String),
}

/// Why a file cannot go out with its message, if it cannot.
fn refusal(file: &Attachment, uploaded: &Uploaded) -> Option<String> {
    let name = &file.filename;
    match uploaded {
        Uploaded::Missing => Some(format!("Attachment {} ({name}) was never uploaded.", file.id)),
        Uploaded::Found { size, .. } if *size != file.size => {
            Some(format!("Attachment {} ({name}) has {size} bytes, not the {} declared.", file.id, file.size))
        }
        Uploaded::Found { content_type, .. }
            if content_type.as_deref() != Some(file.content_type.as_str()) =>
        {
            Some(format!(
                "Attachment {} ({name}) is not of the declared type {}.",
                file.id, file.content_type
            ))
        }
        Uploaded::Found { .. } => None,
    }
}

/// Checks and takes one send's files. An error (S3 or DynamoDB failed) leaves the job to
/// SQS's next delivery.
async fn check(state: &State, send: &QueuedSend) -> Result<Checked, String> {
    let m = &send.message;
    let heads = m.attachments.iter().map(|a| state.files.uploaded(m.room, &a.id));
    let found = futures_util::future::try_join_all(heads).await.map_err(|e| e.0)?;
    if let Some(reason) = m.attachments.iter().zip(&found).find_map(|(a, u)| refusal(a, u)) {
        return Ok(Checked::Refused(reason));
    }
    let ids: Vec<String> = m.attachments.iter().map(|a| a.id.clone()).collect();
    if let Some(id) = state.store.take_uploads(&ids, m.id).await.map_err(|e| e.to_string())? {
        return Ok(Checked::Refused(format!("Attachment {id} was sent with another message.")));
    }
    let kept = m.attachments.iter().map(|a| state.files.keep(m.room, &a.id));
    futures_util::future::try_join_all(kept).await.map_err(|e| e.0)?;
    Ok(Checked::Ready)
}

/// The sends of `group` whose files are ready, and the records to retry. Refused sends end
/// their task in FAILURE here.
pub async fn ready(state: &State, group: &[QueuedSend]) -> (Vec<QueuedSend>, Vec<String>) {
    let (mut ready, mut retry) = (Vec::new(), Vec::new());
    for send in group {
        if send.message.attachments.is_empty() {
            ready.push(send.clone());
            continue;
        }
        let failed = match check(state, send).await {
            Ok(Checked::Ready) => {
                ready.push(send.clone());
                continue;
            }
            Ok(Checked::Refused(reason)) => {
                tracing::info!(task_id = %send.task_id, reason, "send refused: its files");
                let sender = Some(send.message.from_id);
                state.store.fail_task(&send.task_id, sender, &reason).await.map_err(|e| e.to_string())
            }
            Err(err) => Err(err),
        };
        if let Err(err) = failed {
            tracing::warn!(message_id = %send.record, error = err, "files not checked, SQS will deliver it again");
            retry.push(send.record.clone());
        }
    }
    (ready, retry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_goes_out_only_as_declared() {
        let file = Attachment {
            id: "f".into(),
            filename: "a.png".into(),
            content_type: "image/png".into(),
            size: 3,
        };
        let found =
            |size, content_type: &str| Uploaded::Found { size, content_type: Some(content_type.into()) };
        assert_eq!(refusal(&file, &found(3, "image/png")), None);
        assert!(refusal(&file, &Uploaded::Missing).unwrap().contains("never uploaded"));
        assert!(refusal(&file, &found(4, "image/png")).unwrap().contains("4 bytes, not the 3"));
        assert!(refusal(&file, &found(3, "image/gif")).unwrap().contains("type image/png"));
    }
}
