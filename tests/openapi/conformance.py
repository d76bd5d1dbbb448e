"""Every documented response shape, checked against the running stack: one request per route
and outcome (success and each error), each response validated against openapi.yaml, so the
document cannot drift from what the functions answer. Run by scripts/test (needs API_URL, and
TOKEN_API_URL for the token mode's 401s and 403s).
"""

import os
import sys
import time
import uuid
from urllib.parse import quote

import requests
import schemathesis
from schemathesis.core.transport import Response

API = os.environ["API_URL"]
TOKEN_API = os.environ["TOKEN_API_URL"]
SCHEMA = schemathesis.openapi.from_path(os.path.join(os.path.dirname(__file__), "..", "..", "openapi.yaml"))
checked = 0


def call(method, template, status, path=None, base=API, **kwargs):
    """Sends the request and validates its response against the operation `template`."""
    global checked
    response = requests.request(method, base + (path or template), timeout=30, **kwargs)
    assert response.status_code == status, f"{method} {path or template}: {response.status_code} {response.text}"
    operation = SCHEMA[template][method]
    operation.validate_response(Response.from_requests(response, verify=True))
    checked += 1
    return response.json() if response.content else None


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def finished(task):
    for _ in range(300):
        state = call("GET", "/chat/task_state/{id}", 200, f"/chat/task_state/{task}")
        if state["state"] != "PENDING":
            return state
        time.sleep(0.1)
    raise AssertionError(f"task {task} still PENDING")


def delivered(task):
    """The message a send stored, once its task succeeded."""
    state = finished(task)
    assert state["state"] == "SUCCESS", f"task {task}: {state}"
    return state["result"]


def main():
    # Users
    call("GET", "/users/", 200)
    call("GET", "/users/", 200, params={"limit": 2, "after": 3})
    call("GET", "/users/", 400, params={"limit": 0})
    call("GET", "/users", 200, params={"username": "user_1"})
    call("GET", "/users/", 400, params={"id": "x"})
    name = unique("conf")
    user = call("POST", "/users/", 201, json={"username": name, "password": "p", "profile": {"status_msg": 5}})
    uid = user["id"]
    call("POST", "/users/", 400, json={"username": name, "password": "p", "profile": {}})
    call("POST", "/users", 400, json={})
    call("POST", "/users/", 400, data="{not json", headers={"content-type": "application/json"})
    call("POST", "/users/", 413, json={"username": unique("big"), "password": "p", "profile": {}, "x": "x" * 70000})
    call("GET", "/users/{id}/", 200, f"/users/{uid}/")
    call("GET", "/users/{id}", 404, "/users/999999999")
    call("GET", "/users/{id}/", 400, "/users/abc/")
    call("PATCH", "/users/{id}/", 200, f"/users/{uid}/", json={"profile": {"status": "Busy"}})
    call("PATCH", "/users/{id}/", 400, f"/users/{uid}/", json={"email": "nope"})
    call("PUT", "/users/{id}/", 200, f"/users/{uid}/", json={"username": name, "password": "q", "profile": {}})
    other = call("POST", "/users/", 201, json={"username": unique("conf"), "password": "p", "profile": {}})
    reader = call("POST", "/users/", 201, json={"username": unique("conf"), "password": "p", "profile": {}})

    # Chat rooms
    call("GET", "/chat/chatroom/", 200)
    call("GET", "/chat/chatroom/", 200, params={"limit": 1})
    call("GET", "/chat/chatroom", 400, params={"after": "x"})
    room_name = unique("room")
    members = [{"username": name}, {"username": reader["username"]}]
    room = call("POST", "/chat/chatroom/", 201, json={"room_name": room_name, "room_member": members})["data"]
    rid = room["id"]
    call("POST", "/chat/chatroom/", 409, json={"room_name": room_name})
    call("POST", "/chat/chatroom", 400, json={"room_name": unique("r"), "room_member": [{"username": unique("ghost")}]})
    call("GET", "/chat/chatroom/", 200, params={"user_id": uid})
    call("GET", "/chat/chatroom/", 404, params={"user_id": 999999999})
    call("GET", "/chat/chatroom/{id}/", 200, f"/chat/chatroom/{rid}/")
    call("GET", "/chat/chatroom/{id}/", 200, f"/chat/chatroom/{rid}/", params={"user_id": uid})
    call("GET", "/chat/chatroom/{id}", 403, f"/chat/chatroom/{rid}", params={"user_id": other["id"]})
    call("GET", "/chat/chatroom/{id}/", 404, "/chat/chatroom/999999999/")
    call("PUT", "/chat/chatroom/{id}/", 200, f"/chat/chatroom/{rid}/", params={"user_id": other["id"]})
    call("PUT", "/chat/chatroom/{id}/", 400, f"/chat/chatroom/{rid}/", params={"user_id": other["id"]})
    call("DELETE", "/chat/chatroom/{id}/", 204, f"/chat/chatroom/{rid}/", params={"user_id": other["id"]})
    call("DELETE", "/chat/chatroom/{id}", 400, f"/chat/chatroom/{rid}", params={"user_id": other["id"]})

    # Messages
    tasks = [call("POST", "/chat/group/{id}/", 202, f"/chat/group/{rid}/", json={"from": uid, "text": f"m{i}"})["data"]
             for i in range(3)]
    call("POST", "/chat/group/{id}/", 403, f"/chat/group/{rid}/", json={"from": other["id"], "text": "t"})
    call("POST", "/chat/group/{id}", 413, f"/chat/group/{rid}", json={"from": uid, "text": "x" * 1025})
    call("POST", "/chat/group/{id}/", 400, f"/chat/group/{rid}/", json={"from": uid})
    call("POST", "/chat/group/{id}/", 404, "/chat/group/999999999/", json={"from": uid, "text": "t"})
    direct = call("POST", "/chat/user/{id}/", 202, f"/chat/user/{other['id']}/", json={"from": uid, "text": "dm"})["data"]
    call("POST", "/chat/user/{id}", 404, "/chat/user/999999999", json={"from": uid, "text": "t"})
    m0, m1, m2 = (delivered(task)["id"] for task in tasks)
    dm = delivered(direct)["id"]
    call("GET", "/chat/messages/{id}/", 200, f"/chat/messages/{rid}/", params={"user_id": uid, "limit": 2})
    call("GET", "/chat/messages/{id}", 403, f"/chat/messages/{rid}", params={"user_id": other["id"]})
    call("GET", "/chat/messages/{id}/", 400, f"/chat/messages/{rid}/", params={"user_id": uid, "limit": 0})
    call("GET", "/chat/messages/unseen/", 200, params={"user_id": reader["id"]})
    call("GET", "/chat/messages/unseen", 200, params={"user_id": reader["id"], "wait": 0})
    call("GET", "/chat/messages/unseen/", 404, params={"user_id": 999999999})
    call("GET", "/chat/task_state/{id}/", 200, f"/chat/task_state/{direct}/")
    call("GET", "/chat/task_state/{id}", 404, f"/chat/task_state/{uuid.uuid4()}")
    # A send racing the deletion of its room ends SUCCESS or FAILURE; either shape is checked.
    lone = call("POST", "/chat/chatroom/", 201, json={"room_name": unique("lone"), "room_member": [{"username": name}]})["data"]
    raced = call("POST", "/chat/group/{id}/", 202, f"/chat/group/{lone['id']}/", json={"from": uid, "text": "bye"})["data"]
    call("DELETE", "/chat/chatroom/{id}/", 204, f"/chat/chatroom/{lone['id']}/", params={"user_id": uid})
    finished(raced)

    # Message lifecycle: edits, deletions, reactions, replies, retry-safe sends.
    msg = "/chat/messages/{room}/{id}"
    msg_ = msg + "/"
    react = "/chat/messages/{room}/{id}/reactions/{emoji}"
    react_ = react + "/"
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
    group, group_ = "/chat/group/{id}", "/chat/group/{id}/"
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

    # Tokens: both routes in both modes; token mode's 401 on every route and 403 for another user.
    pair = call("POST", "/auth/token/", 200, json={"username": name, "password": "q"})
    call("POST", "/auth/token", 401, json={"username": name, "password": "wrong"})
    call("POST", "/auth/token/", 400, json={"username": name})
    call("POST", "/auth/token/refresh/", 200, json={"refresh": pair["refresh"]})
    call("POST", "/auth/token/refresh", 401, json={"refresh": pair["access"]})
    call("POST", "/auth/token/refresh/", 400, json={})
    locked = call("POST", "/users/", 201, json={"username": unique("locked"), "password": "p", "profile": {}})
    for _ in range(10):
        call("POST", "/auth/token/", 401, json={"username": locked["username"], "password": "wrong"})
    call("POST", "/auth/token/", 429, json={"username": locked["username"], "password": "p"})
    for method, template, path in [
        ("GET", "/users/", "/users/"),
        ("GET", "/users/{id}/", f"/users/{uid}/"),
        ("PATCH", "/users/{id}", f"/users/{uid}"),
        ("PUT", "/users/{id}/", f"/users/{uid}/"),
        ("DELETE", "/users/{id}/", f"/users/{uid}/"),
        ("GET", "/chat/chatroom/", "/chat/chatroom/"),
        ("POST", "/chat/chatroom/", "/chat/chatroom/"),
        ("GET", "/chat/chatroom/{id}/", f"/chat/chatroom/{rid}/"),
        ("PUT", "/chat/chatroom/{id}/", f"/chat/chatroom/{rid}/"),
        ("DELETE", "/chat/chatroom/{id}", f"/chat/chatroom/{rid}"),
        ("POST", "/chat/group/{id}/", f"/chat/group/{rid}/"),
        ("POST", "/chat/user/{id}/", f"/chat/user/{uid}/"),
        ("GET", "/chat/messages/{id}/", f"/chat/messages/{rid}/"),
        ("GET", "/chat/messages/unseen/", "/chat/messages/unseen/"),
        ("GET", "/chat/task_state/{id}/", f"/chat/task_state/{direct}/"),
        ("PATCH", msg_, f"/chat/messages/{rid}/{m0}/"),
        ("DELETE", msg, f"/chat/messages/{rid}/{m0}"),
        ("PUT", react_, f"/chat/messages/{rid}/{m0}/reactions/{thumbs}/"),
        ("DELETE", react, f"/chat/messages/{rid}/{m0}/reactions/{thumbs}"),
    ]:
        # An empty body: the token is checked before the body.
        body = {} if method in ("POST", "PUT", "PATCH") else None
        call(method, template, 401, path, base=TOKEN_API, json=body)
    bearer = {"authorization": "Bearer " + call("POST", "/auth/token/", 200, base=TOKEN_API,
                                                json={"username": name, "password": "q"})["access"]}
    call("GET", "/users/{id}/", 200, f"/users/{other['id']}/", base=TOKEN_API, headers=bearer)
    call("PATCH", "/users/{id}/", 403, f"/users/{other['id']}/", base=TOKEN_API, headers=bearer, json={})
    call("DELETE", "/users/{id}", 403, f"/users/{other['id']}", base=TOKEN_API, headers=bearer)
    call("PATCH", msg_, 200, f"/chat/messages/{rid}/{m0}/", base=TOKEN_API, headers=bearer, json={"text": "by token"})
    call("PATCH", msg, 403, f"/chat/messages/{rid}/{m0}", base=TOKEN_API, headers=bearer, params=outsider,
         json={"text": "as another"})
    call("DELETE", msg_, 403, f"/chat/messages/{rid}/{m0}/", base=TOKEN_API, headers=bearer, params=member)
    call("PUT", react_, 200, f"/chat/messages/{rid}/{m0}/reactions/{thumbs}/", base=TOKEN_API, headers=bearer)
    call("PUT", react, 403, f"/chat/messages/{rid}/{m0}/reactions/{thumbs}", base=TOKEN_API, headers=bearer,
         params=member)
    call("DELETE", react_, 403, f"/chat/messages/{rid}/{m0}/reactions/{thumbs}/", base=TOKEN_API, headers=bearer,
         params=outsider)
    call("POST", "/chat/group/{id}/", 422, f"/chat/group/{rid}/", base=TOKEN_API, headers={**bearer, **key},
         json={"text": "twice"})

    call("DELETE", "/users/{id}/", 204, f"/users/{other['id']}/")
    print(f"openapi.yaml conformance: {checked} responses match their documented schema")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        sys.exit(f"openapi.yaml conformance failed: {e}")
