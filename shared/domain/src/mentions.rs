//! Mentions (API.md, "Live room state"): `@username` in a message's text naming a member of the
//! room. Pure.

use crate::model::Member;

/// Mentions a message carries at most.
pub const MAX_MENTIONS: usize = 20;

/// A character a username may hold (letters, digits and `@ . + - _`).
fn in_username(c: char) -> bool {
    c.is_alphanumeric() || "@.+-_".contains(c)
}

/// The members `text` mentions, in the order of their first mention, at most [`MAX_MENTIONS`].
/// A mention starts at an `@` that follows no username character (so `ann@x.org` is none) and
/// is the longest member name there that no username character follows, a final `.` aside
/// (`@ann.` at a sentence's end names ann; `@anna` does not).
pub fn mentioned(text: &str, members: &[Member]) -> Vec<Member> {
    let mut by_length: Vec<&Member> = members.iter().collect();
    by_length.sort_by_key(|m| std::cmp::Reverse(m.username.len()));
    let mut found: Vec<Member> = Vec::new();
    let mut previous = None;
    for (at, c) in text.char_indices() {
        let starts = c == '@' && !previous.is_some_and(in_username);
        previous = Some(c);
        if !starts || found.len() == MAX_MENTIONS {
            continue;
        }
        let rest = &text[at + 1..];
        let named = by_length.iter().find(|m| {
            rest.strip_prefix(m.username.as_str()).is_some_and(|after| {
                let mut next = after.chars();
                match next.next() {
                    None => true,
                    Some('.') => !next.next().is_some_and(in_username),
                    Some(c) => !in_username(c),
                }
            })
        });
        if let Some(member) = named.filter(|m| !found.iter().any(|f| f.id == m.id)) {
            found.push((*member).clone());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: u64, username: &str) -> Member {
        Member { id, username: username.into() }
    }

    fn ids(text: &str, members: &[Member]) -> Vec<u64> {
        mentioned(text, members).iter().map(|m| m.id).collect()
    }

    #[test]
    fn members_named_after_an_at_sign_in_order_once_each() {
        let members = [member(1, "ann"), member(2, "anna"), member(3, "bob.smith"), member(4, "x@y")];
        assert_eq!(ids("@anna and @ann, then @ann again", &members), [2, 1]);
        assert_eq!(ids("hi @bob.smith.", &members), [3]);
        assert_eq!(ids("@ann.", &members), [1]);
        assert_eq!(ids("(@ann)", &members), [1]);
        assert_eq!(ids("@x@y!", &members), [4]);
        assert_eq!(ids("mail ann@x.org, @annie, @ANN, @ nobody, @carol", &members), Vec::<u64>::new());
        assert_eq!(ids("@ann.b", &members), Vec::<u64>::new(), "ann.b is another name");
    }

    #[test]
    fn at_most_twenty() {
        let members: Vec<Member> = (1..=30).map(|i| member(i, &format!("u{i}"))).collect();
        let text: String = (1..=30).map(|i| format!("@u{i} ")).collect();
        assert_eq!(ids(&text, &members), (1..=20).collect::<Vec<u64>>());
    }
}
