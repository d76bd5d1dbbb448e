//! Paging of every list (API.md "Paging of lists"): `limit`, `after`, and `Link: <...>;
//! rel="next"` to the next page with the same filters; walking the links returns every item
//! exactly once, also while items are created meanwhile.

use e2e::*;
use serde_json::{json, Value};

/// Follows the links from `first`, returning each page's items (`pick` finds them in the body).
async fn walk(first: &str, pick: fn(&Value) -> &Value) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut next = Some(first.to_string());
    while let Some(path) = next {
        let r = get(&path).await;
        assert_eq!(r.status(), 200, "{path}: {}", r.text);
        pages
            .push(pick(&r.json).as_array().unwrap_or_else(|| panic!("{path}: a list in {}", r.text)).clone());
        next = r.next_page();
        assert!(pages.len() < 1000, "the links never end");
    }
    pages
}

fn ids(pages: &[Vec<Value>]) -> Vec<u64> {
    pages.iter().flatten().map(|item| item["id"].as_u64().unwrap()).collect()
}

fn users(body: &Value) -> &Value {
    body
}

fn rooms(body: &Value) -> &Value {
    &body["data"]
}

#[tokio::test]
async fn walking_the_user_list_returns_every_user_once_while_users_are_created() {
    let mut known = Vec::new();
    for _ in 0..6 {
        known.push(new_user("walked").await.0);
    }
    let creating = tokio::spawn(async {
        let mut made = Vec::new();
        for _ in 0..10 {
            made.push(new_user("meanwhile").await.0);
        }
        made
    });
    let pages = walk("/users/?limit=7", users).await;
    let made = creating.await.unwrap();
    let walked = ids(&pages);
    assert!(walked.windows(2).all(|w| w[0] < w[1]), "by id, each once: {walked:?}");
    assert!(pages.iter().all(|p| p.len() <= 7));
    for id in known.iter().chain([1, 15].iter()) {
        assert!(walked.contains(id), "user {id} was there before the walk");
    }
    // Those created meanwhile have larger ids than the walk had passed, or were passed: a walk
    // started now finds them all.
    let again = ids(&walk("/users/?limit=50", users).await);
    assert!(made.iter().all(|id| again.contains(id)));
}

#[tokio::test]
async fn filters_combine_with_paging_and_links_keep_them() {
    let family = unique("Family");
    let mut members = Vec::new();
    for i in 0..12 {
        let first = if i % 3 == 0 { "Third" } else { "Other" };
        let r = post(
            "/users/",
            json!({"username": unique("kin"), "password": "p", "last_name": family, "first_name": first,
            "profile": {"status": if i % 2 == 0 { "Busy" } else { "Online" }}}),
        )
        .await;
        assert_eq!(r.status(), 201, "{}", r.text);
        members.push(r.json["id"].as_u64().unwrap());
    }
    let pages = walk(&format!("/users/?last_name={family}&limit=5"), users).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [5, 5, 2]);
    assert_eq!(ids(&pages), members);
    let thirds: Vec<u64> = members.iter().copied().step_by(3).collect();
    let pages = walk(&format!("/users/?last_name={family}&first_name=Third&limit=2"), users).await;
    assert_eq!(ids(&pages), thirds);
    let busy_thirds: Vec<u64> = members.iter().copied().step_by(6).collect();
    let pages =
        walk(&format!("/users/?first_name=Third&profile__status=Busy&last_name={family}&limit=1"), users)
            .await;
    assert_eq!(ids(&pages), busy_thirds);
    // `after` alone starts anywhere.
    let r = get(&format!("/users/?last_name={family}&after={}", members[9])).await;
    assert_eq!(ids(&[r.json.as_array().unwrap().clone()]), members[10..]);
    assert_eq!(r.next_page(), None);
}

#[tokio::test]
async fn page_parameters_out_of_range_are_400() {
    for bad in ["limit=0", "limit=201", "limit=x", "after=0", "after=-1", "after=x"] {
        let r = get(&format!("/users/?{bad}")).await;
        assert_eq!(r.status(), 400, "{bad}: {}", r.text);
        let field = bad.split('=').next().unwrap();
        assert!(r.json[field][0].is_string(), "a field error naming {field}: {}", r.text);
        assert_error(&get(&format!("/chat/chatroom/?{bad}")).await, 400);
        assert_error(&get(&format!("/chat/chatroom/?user_id=1&{bad}")).await, 400);
    }
}

#[tokio::test]
async fn a_users_rooms_page_with_links_that_keep_the_user() {
    let (user, name) = new_user("pager").await;
    let mut mine = Vec::new();
    for _ in 0..7 {
        mine.push(new_room(&[&name]).await.0);
    }
    let pages = walk(&format!("/chat/chatroom/?user_id={user}&limit=3"), rooms).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1]);
    assert_eq!(ids(&pages), mine);
    assert!(pages.iter().flatten().all(|room| member_names(room) == [name.clone()]));
}

#[tokio::test]
async fn walking_the_group_rooms_returns_each_once_while_rooms_are_created() {
    let mut known = Vec::new();
    for _ in 0..5 {
        known.push(new_room(&[]).await.0);
    }
    let creating = tokio::spawn(async {
        for _ in 0..8 {
            new_room(&[]).await;
        }
    });
    let pages = walk("/chat/chatroom/?limit=4", rooms).await;
    creating.await.unwrap();
    let walked = ids(&pages);
    assert!(walked.windows(2).all(|w| w[0] < w[1]), "by id, each once");
    assert!(known.iter().all(|id| walked.contains(id)));
    assert!(pages.iter().flatten().all(|room| room.as_object().unwrap().len() == 2));
}
