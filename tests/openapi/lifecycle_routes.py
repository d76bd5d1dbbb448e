"""The message lifecycle: edits, deletions, reactions, replies, retry-safe sends."""

import uuid
from urllib.parse import quote

from checking import call, delivered, group, group_, msg, msg_, react, react_, unique


def check(s):
    """Checks each outcome; `s` carries the users, rooms and messages the sections share."""
    (dm, m0, m1, m2, name, other, reader, rid, tasks, uid) = (
        s.dm, s.m0, s.m1, s.m2, s.name, s.other, s.reader, s.rid, s.tasks, s.uid)
    # Message lifecycle: edits, deletions, reactions, replies, retry-safe sends.
    me, member, outsider, nobody = ({"user_id": u} for u in (uid, reader["id"], other["id"], 999999999))
    thumbs, tada = quote("\N{THUMBS UP SIGN}", safe=""), quote(":tada:", safe="")
    # Edits: only the author, while a member; the text follows a send's rules.
    edited = call("PATCH", msg_, 200, f"/chat/messages/{rid}/{m0}/", params=me, json={"text": "m0 edited"})["data"]
    assert edited["id"] == m0 and edited["text"] == "m0 edited" and edited["edited_at"], edited
    call("PATCH", msg, 200, f"/chat/messages/{rid}/{m0}", params=me, json={"text": "m0, edited again"})
    call("PATCH", msg_, 400, f"/chat/messages/{rid}/{m0}/", params=me, json={})
    call("PATCH", msg, 400, f"/chat/messages/{rid}/{m0}", params=me, json={"text": ""})
    call("PATCH", msg_, 400, f"/chat/messages/{rid}/{m0}/", params=me, json={"text": 5})
    call("PATCH", msg_, 400, f"/chat/messages/{rid}/{m0}/", params=me, data="{not json",
         headers={"content-type": "application/json"})
    call("PATCH", msg_, 413, f"/chat/messages/{rid}/{m0}/", params=me, json={"text": "x" * 1025})
    call("PATCH", msg_, 400, f"/chat/messages/abc/{m0}/", params=me, json={"text": "t"})
    call("PATCH", msg, 400, f"/chat/messages/{rid}/0", params=me, json={"text": "t"})
    call("PATCH", msg_, 400, f"/chat/messages/{rid}/{m0}/", json={"text": "t"})
    call("PATCH", msg_, 403, f"/chat/messages/{rid}/{m0}/", params=member, json={"text": "not mine"})
    call("PATCH", msg_, 403, f"/chat/messages/{rid}/{m0}/", params=outsider, json={"text": "not a member"})
    call("PATCH", msg_, 404, f"/chat/messages/999999999/{m0}/", params=me, json={"text": "t"})
    call("PATCH", msg_, 404, f"/chat/messages/{rid}/999999999/", params=me, json={"text": "t"})
    call("PATCH", msg, 404, f"/chat/messages/{rid}/{dm}", params=me, json={"text": "another room's"})
    call("PATCH", msg_, 404, f"/chat/messages/{rid}/{m0}/", params=nobody, json={"text": "t"})
    # Reactions: members only, idempotent, one emoji or a short name, at most 20 different.
    mine = call("PUT", react_, 200, f"/chat/messages/{rid}/{m0}/reactions/{thumbs}/", params=member)["data"]
    assert mine == [{"emoji": "\N{THUMBS UP SIGN}", "count": 1, "me": True}], mine
    again = call("PUT", react, 200, f"/chat/messages/{rid}/{m0}/reactions/{thumbs}", params=member)["data"]
    assert again == mine, again
    both = call("PUT", react_, 200, f"/chat/messages/{rid}/{m0}/reactions/{tada}/", params=me)["data"]
    assert [(r["emoji"], r["count"], r["me"]) for r in both] == [("\N{THUMBS UP SIGN}", 1, False), (":tada:", 1, True)], both
    for bad in ["abc", thumbs * 2, quote(":Tada:", safe=""), "%FF"]:
        call("PUT", react_, 400, f"/chat/messages/{rid}/{m0}/reactions/{bad}/", params=me)
    call("PUT", react_, 400, f"/chat/messages/{rid}/abc/reactions/{thumbs}/", params=me)
    call("PUT", react, 400, f"/chat/messages/{rid}/{m0}/reactions/{thumbs}")
    call("PUT", react_, 403, f"/chat/messages/{rid}/{m0}/reactions/{thumbs}/", params=outsider)
    call("PUT", react_, 404, f"/chat/messages/999999999/{m0}/reactions/{thumbs}/", params=me)
    call("PUT", react_, 404, f"/chat/messages/{rid}/999999999/reactions/{thumbs}/", params=me)
    call("PUT", react, 404, f"/chat/messages/{rid}/{dm}/reactions/{thumbs}", params=me)
    call("PUT", react_, 404, f"/chat/messages/{rid}/{m0}/reactions/{thumbs}/", params=nobody)
    for i in range(20):
        call("PUT", react_, 200, f"/chat/messages/{rid}/{m1}/reactions/{quote(f':e{i}:')}/", params=me)
    call("PUT", react_, 409, f"/chat/messages/{rid}/{m1}/reactions/{quote(':one_more:')}/", params=me)
    call("DELETE", react_, 204, f"/chat/messages/{rid}/{m0}/reactions/{thumbs}/", params=member)
    call("DELETE", react, 204, f"/chat/messages/{rid}/{m0}/reactions/{thumbs}", params=member)
    call("DELETE", react_, 400, f"/chat/messages/{rid}/{m0}/reactions/abc/", params=member)
    call("DELETE", react_, 400, f"/chat/messages/{rid}/0/reactions/{thumbs}/", params=member)
    call("DELETE", react_, 403, f"/chat/messages/{rid}/{m0}/reactions/{thumbs}/", params=outsider)
    call("DELETE", react_, 404, f"/chat/messages/{rid}/999999999/reactions/{thumbs}/", params=member)
    call("DELETE", react, 404, f"/chat/messages/999999999/{m0}/reactions/{thumbs}", params=member)
    # Deletions: only the author; again a 204; a deleted message refuses edits and reactions.
    call("DELETE", msg_, 403, f"/chat/messages/{rid}/{m2}/", params=member)
    call("DELETE", msg_, 403, f"/chat/messages/{rid}/{m2}/", params=outsider)
    call("DELETE", msg_, 400, f"/chat/messages/{rid}/abc/", params=me)
    call("DELETE", msg, 400, f"/chat/messages/{rid}/{m2}")
    call("DELETE", msg_, 404, f"/chat/messages/{rid}/999999999/", params=me)
    call("DELETE", msg, 404, f"/chat/messages/{rid}/{dm}", params=me)
    call("DELETE", msg_, 404, f"/chat/messages/{rid}/{m2}/", params=nobody)
    call("DELETE", msg_, 204, f"/chat/messages/{rid}/{m2}/", params=me)
    call("DELETE", msg, 204, f"/chat/messages/{rid}/{m2}", params=me)
    call("PATCH", msg_, 409, f"/chat/messages/{rid}/{m2}/", params=me, json={"text": "too late"})
    call("PUT", react_, 409, f"/chat/messages/{rid}/{m2}/reactions/{thumbs}/", params=me)
    call("DELETE", react_, 204, f"/chat/messages/{rid}/{m2}/reactions/{thumbs}/", params=me)
    tombstone = call("GET", "/chat/task_state/{id}/", 200, f"/chat/task_state/{tasks[2]}/")["result"]
    assert tombstone["deleted"] and tombstone["text"] == "" and tombstone["reactions"] == [], tombstone
    # Replies: a message of the same room that stands, checked before the 202.
    reply = call("POST", group_, 202, f"/chat/group/{rid}/", json={"from": uid, "text": "re", "reply_to": m0})["data"]
    reply2 = call("POST", group, 202, f"/chat/group/{rid}", json={"from": reader["id"], "text": "re", "reply_to": str(m1)})["data"]
    for bad in [999999999, dm, m2, "x", 0]:
        call("POST", group_, 400, f"/chat/group/{rid}/", json={"from": uid, "text": "re", "reply_to": bad})
    direct_reply = call("POST", "/chat/user/{id}/", 202, f"/chat/user/{other['id']}/",
                        json={"from": uid, "text": "re", "reply_to": dm})["data"]
    call("POST", "/chat/user/{id}", 400, f"/chat/user/{other['id']}", json={"from": uid, "text": "re", "reply_to": m0})
    quoted = delivered(reply)["reply_to"]
    assert quoted["id"] == m0 and quoted["msg_from"]["id"] == uid and not quoted["deleted"], quoted
    delivered(reply2)
    assert delivered(direct_reply)["reply_to"]["id"] == dm
    # Retry-safe sends: the same key and body answer the same task; another body is a 422.
    key = {"Idempotency-Key": f"conf-{uuid.uuid4().hex}"}
    once = {"from": uid, "text": "once"}
    first = call("POST", group_, 202, f"/chat/group/{rid}/", headers=key, json=once)["data"]
    assert call("POST", group, 202, f"/chat/group/{rid}", headers=key, json=once)["data"] == first
    call("POST", group_, 422, f"/chat/group/{rid}/", headers=key, json={"from": uid, "text": "twice"})
    call("POST", group_, 422, f"/chat/group/{rid}/", headers=key, json={**once, "reply_to": m0})
    call("POST", "/chat/user/{id}/", 422, f"/chat/user/{other['id']}/", headers=key, json=once)
    call("POST", group_, 400, f"/chat/group/{rid}/", headers={"Idempotency-Key": "not a key"}, json=once)
    call("POST", "/chat/user/{id}", 400, f"/chat/user/{other['id']}", headers={"Idempotency-Key": "k" * 65}, json=once)
    direct_key = {"Idempotency-Key": uuid.uuid4().hex}
    dm_once = call("POST", "/chat/user/{id}/", 202, f"/chat/user/{other['id']}/", headers=direct_key, json=once)["data"]
    assert call("POST", "/chat/user/{id}", 202, f"/chat/user/{other['id']}", headers=direct_key, json=once)["data"] == dm_once
    delivered(first)
    delivered(dm_once)
    # Every message shown carries the lifecycle's fields.
    call("GET", "/chat/messages/unseen/", 200, params=member)
    history = call("GET", "/chat/messages/{id}/", 200, f"/chat/messages/{rid}/", params=member)["data"]["messages"]
    shown = {m["id"]: m for m in history}
    assert shown[m0]["edited_at"] and [r["emoji"] for r in shown[m0]["reactions"]] == [":tada:"], shown[m0]
    assert shown[m2]["deleted"] and shown[m2]["text"] == "", shown[m2]
    assert len(shown[m1]["reactions"]) == 20, shown[m1]
    # A reply whose room is gone: its task shows it deleted, its quote without a sender.
    gone = call("POST", "/chat/chatroom/", 201, json={"room_name": unique("gone"), "room_member": [{"username": name}]})["data"]
    quoted_id = delivered(call("POST", group_, 202, f"/chat/group/{gone['id']}/", json={"from": uid, "text": "q"})["data"])["id"]
    last = call("POST", group_, 202, f"/chat/group/{gone['id']}/", json={"from": uid, "text": "r", "reply_to": quoted_id})["data"]
    delivered(last)
    call("DELETE", "/chat/chatroom/{id}/", 204, f"/chat/chatroom/{gone['id']}/", params=me)
    result = call("GET", "/chat/task_state/{id}", 200, f"/chat/task_state/{last}")["result"]
    assert result["deleted"] and result["reply_to"]["msg_from"] is None, result
    s.__dict__.update(key=key, me=me, member=member, nobody=nobody, outsider=outsider, thumbs=thumbs)
