"""Attachments: upload URLs, sends with files, files on messages with their download URLs, a
file never uploaded, and a deleted message's files."""

import re
import uuid

import requests

from checking import TOKEN_API, bearer, call, delivered, finished, group, group_, msg, msg_

up, up_ = "/chat/attachments", "/chat/attachments/"
direct, direct_ = "/chat/user/{id}", "/chat/user/{id}/"
BYTES = b"\x89PNG\r\n\x1a\n" + b"conformance " * 20


def declare(user, into, status=201, template=up_, **fields):
    """`POST /chat/attachments/` of a file for room `into` (the fields given replace those of a
    small PNG's)."""
    body = {"room": into, "filename": "cat.png", "content_type": "image/png", "size": len(BYTES), **fields}
    answer = call("POST", template, status, params={"user_id": user}, json=body)
    return answer["data"] if status == 201 else answer


def upload(user, room, data=BYTES):
    """A file declared and uploaded, as a client does: the PUT with the signed headers (but the
    length, which requests sets itself)."""
    file = declare(user, room, size=len(data))
    headers = {k: v for k, v in file["upload"]["headers"].items() if k.lower() != "content-length"}
    put = requests.request(file["upload"]["method"], file["upload"]["url"], data=data, headers=headers, timeout=30)
    assert put.status_code == 200, f"PUT of {file['id']}: {put.status_code} {put.text}"
    return file["id"]


def check(s):
    """Checks each outcome; `s` carries the users, rooms and messages the sections share."""
    (name, other, reader, rid, uid) = (s.name, s.other, s.reader, s.rid, s.uid)
    pair = finished(s.direct)["result"]["room"]["id"]
    # Upload URLs: a member declares a file of the room; the body is checked before the reads.
    made = declare(uid, rid)
    assert re.fullmatch(r"[0-9a-f]{32}", made["id"]) and made["expires_in"] == 900, made
    assert made["upload"]["method"] == "PUT" and made["upload"]["url"].startswith("http"), made
    declare(reader["id"], str(rid), template=up, filename="report.pdf", content_type="application/pdf", size=3)
    declare(uid, pair, filename="\"quoted\" <b>name; é &amp; co.txt", content_type="text/plain", size=26214400)
    call("POST", up_, 400, json={"room": rid, "filename": "a.png", "content_type": "image/png", "size": 1})
    call("POST", up, 400, params={"user_id": "x"}, json={"room": rid, "filename": "a.png", "content_type": "image/png", "size": 1})
    call("POST", up_, 400, params={"user_id": uid}, data="{not json", headers={"content-type": "application/json"})
    call("POST", up_, 400, params={"user_id": uid}, json=[rid])
    for bad in [{"room": None}, {"room": 0}, {"room": "abc"}, {"filename": ""}, {"filename": "a/b.png"},
                {"filename": "..\\x.png"}, {"filename": "new\nline.png"}, {"filename": "a" * 256},
                {"filename": 5}, {"size": 0}, {"size": 1.5}, {"size": "10"}, {"size": -1},
                {"content_type": None}, {"content_type": 5}]:
        declare(uid, rid, 400, **bad)
    declare(uid, rid, 413, size=26214401)
    call("POST", up_, 413, params={"user_id": uid},
         json={"room": rid, "filename": "a.png", "content_type": "image/png", "size": 1, "x": "x" * 70000})
    for refused in ["text/html", "image/svg+xml", "IMAGE/PNG", ""]:
        declare(uid, rid, 415, template=up, content_type=refused)
    declare(uid, 999999999, 404)
    declare(999999999, rid, 404, template=up)
    declare(other["id"], rid, 403)
    # Token mode: the token's user declares; no token is a 401, another user's user_id a 403.
    # (The token after the 401s, which start the function: its access token lasts 20 s here.)
    body = {"room": rid, "filename": "t.png", "content_type": "image/png", "size": 1}
    call("POST", up_, 401, base=TOKEN_API, json=body)
    call("POST", up, 401, base=TOKEN_API, json={})
    as_user = bearer(name, "q")
    call("POST", up_, 201, base=TOKEN_API, headers=as_user, json=body)
    call("POST", up, 403, base=TOKEN_API, headers=as_user, params={"user_id": reader["id"]}, json=body)

    # Sends with files: checked at once (400), the text may be "" or left out.
    image, other_users, other_rooms = upload(uid, rid), upload(reader["id"], rid), upload(uid, pair)
    never = declare(uid, rid)["id"]
    files_only = call("POST", group_, 202, f"/chat/group/{rid}/", json={"from": uid, "attachments": [image]})["data"]
    sent = delivered(files_only)
    assert sent["text"] == "" and [a["id"] for a in sent["attachments"]] == [image], sent
    shown = sent["attachments"][0]
    assert (shown["filename"], shown["content_type"], shown["size"]) == ("cat.png", "image/png", len(BYTES)), shown
    got = requests.get(shown["url"], timeout=30)
    assert got.status_code == 200 and got.content == BYTES, (got.status_code, got.content[:100])
    mid = sent["id"]
    for bad in [[image], [uuid.uuid4().hex], [other_users], [other_rooms], "abc", [5], [""], [never, never],
                [uuid.uuid4().hex for _ in range(11)]]:
        call("POST", group_, 400, f"/chat/group/{rid}/", json={"from": uid, "text": "t", "attachments": bad})
    call("POST", group, 400, f"/chat/group/{rid}", json={"from": uid, "text": "", "attachments": []})
    call("POST", group_, 400, f"/chat/group/{rid}/", json={"from": uid, "text": 5, "attachments": [never]})
    call("POST", direct_, 400, f"/chat/user/{other['id']}/", json={"from": uid, "text": "", "attachments": [never]})
    call("POST", direct, 400, f"/chat/user/{other['id']}", json={"from": uid, "attachments": [uuid.uuid4().hex]})
    # The same Idempotency-Key with other files is a 422.
    key = {"Idempotency-Key": f"conf-files-{uuid.uuid4().hex}"}
    call("POST", group_, 202, f"/chat/group/{rid}/", headers=key, json={"from": uid, "text": "k"})
    call("POST", group_, 422, f"/chat/group/{rid}/", headers=key, json={"from": uid, "text": "k", "attachments": [never]})
    # A direct message with a text and a file of the pair's room.
    in_pair = call("POST", direct_, 202, f"/chat/user/{other['id']}/",
                   json={"from": uid, "text": "with a file", "attachments": [other_rooms]})["data"]
    in_pair = delivered(in_pair)
    assert [a["id"] for a in in_pair["attachments"]] == [other_rooms], in_pair
    # A file never uploaded: the send is accepted, its task ends in FAILURE with the reason.
    failed = finished(call("POST", group_, 202, f"/chat/group/{rid}/", json={"from": uid, "attachments": [never]})["data"])
    assert failed["state"] == "FAILURE" and "never uploaded" in failed["result"]["error"], failed

    # Files on messages: history, unseen and an edit show them with download URLs to members;
    # a reply quotes a message of files only with its empty text.
    page = call("GET", "/chat/messages/{id}/", 200, f"/chat/messages/{rid}/", params={"user_id": reader["id"]})["data"]
    listed = {m["id"]: m for m in page["messages"]}[mid]
    assert listed["text"] == "" and listed["attachments"][0]["url"], listed
    got = requests.get(listed["attachments"][0]["url"], timeout=30)
    assert got.status_code == 200 and got.content == BYTES, (got.status_code, got.content[:300])
    call("GET", "/chat/messages/unseen/", 200, params={"user_id": reader["id"]})
    reply = call("POST", group_, 202, f"/chat/group/{rid}/", json={"from": reader["id"], "text": "nice", "reply_to": mid})["data"]
    reply = delivered(reply)
    assert reply["reply_to"]["id"] == mid and reply["reply_to"]["text"] == "", reply
    edited = call("PATCH", msg_, 200, f"/chat/messages/{rid}/{mid}/", params={"user_id": uid}, json={"text": "a cat"})["data"]
    assert edited["text"] == "a cat" and [a["id"] for a in edited["attachments"]] == [image], edited
    # A deleted message: a tombstone without files, its bytes gone from the bucket.
    call("DELETE", msg, 204, f"/chat/messages/{rid}/{mid}", params={"user_id": uid})
    tombstone = call("GET", "/chat/task_state/{id}/", 200, f"/chat/task_state/{files_only}/")["result"]
    assert tombstone["deleted"] and tombstone["attachments"] == [], tombstone
    page = call("GET", "/chat/messages/{id}", 200, f"/chat/messages/{rid}", params={"user_id": uid})["data"]
    assert {m["id"]: m for m in page["messages"]}[mid]["attachments"] == [], page
    gone = requests.get(listed["attachments"][0]["url"], timeout=30)
    assert gone.status_code in (403, 404) and BYTES not in gone.content, (gone.status_code, gone.text[:300])
