"""Rooms with owners: creating, private rooms, settings, members, kicks, bans, admins; and blocks."""

import os

import requests

from checking import (API, admins, admins_, ban, ban_, bans, bans_, block, block_, blocks_, call, delivered, finished,
                      kick, kick_, members_, msg_, new_user, room, room_, unique)


def check(s):
    """Checks each outcome; `s` carries the users, rooms and messages the sections share."""
    direct, me, nobody, other, room_name = s.direct, s.me, s.nobody, s.other, s.room_name
    # Rooms with owners: creating, private rooms, settings, members, kicks, bans, admins.
    owner, admin, plain, guest, victim, extra = (new_user("own") for _ in range(6))
    (oid, aid, pid_, gid, vid, xid) = (u["id"] for u in (owner, admin, plain, guest, victim, extra))
    by = {u["id"]: {"user_id": u["id"]} for u in (owner, admin, plain, guest, victim, extra)}
    direct_room = finished(direct)["result"]["room"]["id"]

    def named(*users):
        return [{"username": u["username"]} for u in users]

    # The acting user owns what they create and is a member; without one, no member no owner.
    private = call("POST", "/chat/chatroom/", 201, params=by[oid], json={
        "room_name": unique("private"), "room_member": named(admin, plain), "visibility": "private", "topic": "plans"})["data"]
    assert private["owner"] == {"id": oid, "username": owner["username"]} and private["admins"] == [], private
    assert (private["visibility"], private["topic"]) == ("private", "plans"), private
    assert owner["username"] in [m["username"] for m in private["room_member"]], private
    public = call("POST", "/chat/chatroom", 201, params=by[oid], json={
        "room_name": unique("public"), "room_member": named(admin, plain, victim), "visibility": "public"})["data"]
    pid, qid = private["id"], public["id"]
    assert (public["visibility"], public["topic"]) == ("public", ""), public
    unowned = call("POST", "/chat/chatroom/", 201, json={"room_name": unique("unowned")})["data"]
    assert unowned["owner"] is None and unowned["room_member"] == [], unowned
    call("POST", "/chat/chatroom/", 400, params=by[oid], json={"room_name": unique("r"), "visibility": "secret"})
    call("POST", "/chat/chatroom/", 400, params=by[oid], json={"room_name": unique("r"), "topic": "t" * 251})
    call("POST", "/chat/chatroom/", 400, params={"user_id": "x"}, json={"room_name": unique("r")})
    call("POST", "/chat/chatroom/", 404, params=nobody, json={"room_name": unique("r")})
    # A private room exists for its members only.
    call("GET", room_, 404, f"/chat/chatroom/{pid}/")
    call("GET", room, 404, f"/chat/chatroom/{pid}", params=by[gid])
    shown = call("GET", room_, 200, f"/chat/chatroom/{pid}/", params=by[pid_])["data"]
    assert shown["owner"]["id"] == oid and shown["visibility"] == "private", shown
    call("PUT", room_, 403, f"/chat/chatroom/{pid}/", params=by[gid])
    listed = call("GET", "/chat/chatroom/", 200, params={"after": pid - 1, "limit": 1})["data"]
    assert [r["id"] for r in listed] == [qid], listed
    mine = call("GET", "/chat/chatroom/", 200, params=by[pid_])["data"]
    assert {r["id"]: r["visibility"] for r in mine} == {pid: "private", qid: "public"}, mine
    history = call("GET", "/chat/messages/{id}/", 200, f"/chat/messages/{pid}/", params=by[pid_])["data"]
    assert history["owner"]["id"] == oid and history["topic"] == "plans", history
    # Admins: the owner makes and unmakes them.
    call("PUT", admins_, 200, f"/chat/chatroom/{qid}/admins/{aid}/", params=by[oid])
    call("PUT", admins, 200, f"/chat/chatroom/{qid}/admins/{aid}", params=by[oid])
    call("PUT", admins_, 403, f"/chat/chatroom/{qid}/admins/{pid_}/", params=by[aid])
    call("PUT", admins_, 400, f"/chat/chatroom/{qid}/admins/{oid}/", params=by[oid])
    call("PUT", admins_, 400, f"/chat/chatroom/{qid}/admins/abc/", params=by[oid])
    call("PUT", admins, 400, f"/chat/chatroom/{qid}/admins/{aid}")
    call("PUT", admins_, 404, f"/chat/chatroom/{qid}/admins/{gid}/", params=by[oid])
    call("PUT", admins_, 404, f"/chat/chatroom/{qid}/admins/999999999/", params=by[oid])
    call("PUT", admins_, 404, f"/chat/chatroom/{pid}/admins/{aid}/", params=by[gid])
    # Settings: admins only; the name stays unique.
    renamed = call("PATCH", room_, 200, f"/chat/chatroom/{qid}/", params=by[aid],
                   json={"room_name": unique("renamed"), "topic": "news"})["data"]
    assert renamed["topic"] == "news" and renamed["admins"] == [{"id": aid, "username": admin["username"]}], renamed
    call("PATCH", room, 200, f"/chat/chatroom/{pid}", params=by[oid], json={})
    for body in [{"topic": 5}, {"topic": "t" * 251}, {"visibility": "secret"}, {"room_name": ""}]:
        call("PATCH", room_, 400, f"/chat/chatroom/{qid}/", params=by[oid], json=body)
    call("PATCH", room_, 400, f"/chat/chatroom/{qid}/", params=by[oid], data="{not json",
         headers={"content-type": "application/json"})
    call("PATCH", room, 400, "/chat/chatroom/abc", params=by[oid], json={})
    call("PATCH", room_, 400, f"/chat/chatroom/{qid}/", json={"topic": "t"})
    call("PATCH", room_, 413, f"/chat/chatroom/{qid}/", params=by[oid], json={"topic": "x" * 70000})
    call("PATCH", room_, 403, f"/chat/chatroom/{qid}/", params=by[pid_], json={"topic": "not an admin"})
    call("PATCH", room_, 403, f"/chat/chatroom/{qid}/", params=by[gid], json={"topic": "not a member"})
    call("PATCH", room_, 403, f"/chat/chatroom/{direct_room}/", params=me, json={"topic": "a direct room"})
    call("PATCH", room_, 404, f"/chat/chatroom/{pid}/", params=by[gid], json={"topic": "private"})
    call("PATCH", room_, 404, "/chat/chatroom/999999999/", params=by[oid], json={})
    call("PATCH", room, 404, f"/chat/chatroom/{qid}", params=nobody, json={})
    call("PATCH", room_, 409, f"/chat/chatroom/{qid}/", params=by[oid], json={"room_name": room_name})
    # Adding members: any member to a public room, admins to a private one.
    added = call("POST", members_, 201, f"/chat/chatroom/{qid}/members/", params=by[pid_],
                 json={"username": guest["username"]})["data"]
    assert guest["username"] in [m["username"] for m in added["room_member"]], added
    call("POST", "/chat/chatroom/{id}/members", 400, f"/chat/chatroom/{qid}/members", params=by[pid_],
         json={"username": guest["username"]})
    for body in [{}, {"username": 5}, {"username": ""}]:
        call("POST", members_, 400, f"/chat/chatroom/{qid}/members/", params=by[pid_], json=body)
    call("POST", members_, 400, "/chat/chatroom/abc/members/", params=by[pid_], json={"username": extra["username"]})
    call("POST", members_, 400, f"/chat/chatroom/{qid}/members/", json={"username": extra["username"]})
    call("POST", members_, 413, f"/chat/chatroom/{qid}/members/", params=by[pid_],
         json={"username": extra["username"], "pad": "x" * 70000})
    call("POST", members_, 404, f"/chat/chatroom/{qid}/members/", params=by[pid_], json={"username": unique("ghost")})
    call("POST", members_, 404, "/chat/chatroom/999999999/members/", params=by[pid_], json={"username": extra["username"]})
    call("POST", members_, 404, f"/chat/chatroom/{qid}/members/", params=nobody, json={"username": extra["username"]})
    call("POST", members_, 404, f"/chat/chatroom/{pid}/members/", params=by[xid], json={"username": guest["username"]})
    call("POST", members_, 403, f"/chat/chatroom/{qid}/members/", params=by[xid], json={"username": extra["username"]})
    call("POST", members_, 403, f"/chat/chatroom/{pid}/members/", params=by[pid_], json={"username": extra["username"]})
    call("POST", members_, 403, f"/chat/chatroom/{direct_room}/members/", params=me, json={"username": extra["username"]})
    call("POST", members_, 201, f"/chat/chatroom/{pid}/members/", params=by[oid], json={"username": extra["username"]})
    # A full room (MAX_ROOM_MEMBERS, 40 in the test stack) takes nobody more.
    cap = int(os.environ.get("MAX_ROOM_MEMBERS", "1000"))
    assert cap <= 100, "conformance fills a room: run it with a small MAX_ROOM_MEMBERS, as scripts/test does"
    fill = [requests.post(API + "/users/", json={"username": unique("fill"), "password": "p", "profile": {}},
                          timeout=30).json()["username"] for _ in range(cap - 1)]
    full = requests.post(API + "/chat/chatroom/", params=by[oid], timeout=30,
                         json={"room_name": unique("full"), "room_member": [{"username": n} for n in fill]})
    assert full.status_code == 201, full.text
    call("POST", members_, 409, f"/chat/chatroom/{full.json()['data']['id']}/members/", params=by[oid],
         json={"username": extra["username"]})
    # An admin deletes another's message.
    said = delivered(call("POST", "/chat/group/{id}/", 202, f"/chat/group/{qid}/", json={"from": pid_, "text": "hi"})["data"])
    call("DELETE", msg_, 204, f"/chat/messages/{qid}/{said['id']}/", params=by[aid])
    # Kicks: admins kick members, only the owner kicks admins, nobody the owner.
    call("PUT", admins_, 200, f"/chat/chatroom/{qid}/admins/{gid}/", params=by[oid])
    call("DELETE", kick_, 403, f"/chat/chatroom/{qid}/members/{vid}/", params=by[pid_])
    call("DELETE", kick_, 403, f"/chat/chatroom/{qid}/members/{oid}/", params=by[aid])
    call("DELETE", kick_, 403, f"/chat/chatroom/{qid}/members/{gid}/", params=by[aid])
    call("DELETE", kick_, 403, f"/chat/chatroom/{direct_room}/members/{other['id']}/", params=me)
    call("DELETE", admins_, 204, f"/chat/chatroom/{qid}/admins/{gid}/", params=by[oid])
    call("DELETE", kick_, 400, f"/chat/chatroom/{qid}/members/abc/", params=by[aid])
    call("DELETE", kick, 400, f"/chat/chatroom/{qid}/members/{vid}")
    call("DELETE", kick_, 404, f"/chat/chatroom/{qid}/members/{xid}/", params=by[aid])
    call("DELETE", kick_, 404, f"/chat/chatroom/{qid}/members/999999999/", params=by[aid])
    call("DELETE", kick_, 404, f"/chat/chatroom/999999999/members/{vid}/", params=by[aid])
    call("DELETE", kick_, 404, f"/chat/chatroom/{pid}/members/{aid}/", params=by[gid])
    call("DELETE", kick_, 204, f"/chat/chatroom/{qid}/members/{vid}/", params=by[aid])
    call("DELETE", kick, 404, f"/chat/chatroom/{qid}/members/{vid}", params=by[aid])
    # Bans: kick a member, bar an outsider, until lifted.
    call("PUT", ban_, 200, f"/chat/chatroom/{qid}/bans/{vid}/", params=by[aid])
    call("PUT", ban, 200, f"/chat/chatroom/{qid}/bans/{pid_}", params=by[oid])
    call("PUT", ban_, 200, f"/chat/chatroom/{qid}/bans/{pid_}/", params=by[oid])
    call("PUT", ban_, 403, f"/chat/chatroom/{qid}/bans/{oid}/", params=by[aid])
    call("PUT", ban_, 403, f"/chat/chatroom/{qid}/bans/{xid}/", params=by[gid])
    call("PUT", ban_, 403, f"/chat/chatroom/{direct_room}/bans/{other['id']}/", params=me)
    call("PUT", ban_, 400, f"/chat/chatroom/{qid}/bans/0/", params=by[oid])
    call("PUT", ban, 400, f"/chat/chatroom/{qid}/bans/{xid}")
    call("PUT", ban_, 404, f"/chat/chatroom/{qid}/bans/999999999/", params=by[oid])
    call("PUT", ban_, 404, f"/chat/chatroom/999999999/bans/{xid}/", params=by[oid])
    call("PUT", ban_, 404, f"/chat/chatroom/{pid}/bans/{xid}/", params=by[gid])
    call("PUT", room_, 403, f"/chat/chatroom/{qid}/", params=by[vid])
    call("POST", members_, 403, f"/chat/chatroom/{qid}/members/", params=by[oid], json={"username": plain["username"]})
    banned = call("GET", bans_, 200, f"/chat/chatroom/{qid}/bans/", params=by[oid])["data"]
    assert banned == sorted([{"id": u["id"], "username": u["username"]} for u in (plain, victim)], key=lambda b: b["id"]), banned
    first = call("GET", bans, 200, f"/chat/chatroom/{qid}/bans", params={**by[aid], "limit": 1}, full=True)
    assert 'rel="next"' in first.headers.get("link", ""), first.headers
    call("GET", bans_, 400, f"/chat/chatroom/{qid}/bans/", params={**by[oid], "limit": 0})
    call("GET", bans_, 400, f"/chat/chatroom/{qid}/bans/")
    call("GET", bans_, 403, f"/chat/chatroom/{qid}/bans/", params=by[gid])
    call("GET", bans, 404, "/chat/chatroom/999999999/bans", params=by[oid])
    call("GET", bans_, 404, f"/chat/chatroom/{pid}/bans/", params=by[gid])
    call("DELETE", ban_, 204, f"/chat/chatroom/{qid}/bans/{vid}/", params=by[aid])
    call("DELETE", ban, 204, f"/chat/chatroom/{qid}/bans/{vid}", params=by[aid])
    call("DELETE", ban_, 403, f"/chat/chatroom/{qid}/bans/{pid_}/", params=by[gid])
    call("DELETE", ban_, 400, f"/chat/chatroom/{qid}/bans/abc/", params=by[aid])
    call("DELETE", ban_, 404, f"/chat/chatroom/999999999/bans/{pid_}/", params=by[aid])
    call("PUT", room_, 200, f"/chat/chatroom/{qid}/", params=by[vid])
    # Admin rights taken back by the owner only.
    call("DELETE", admins_, 403, f"/chat/chatroom/{qid}/admins/{aid}/", params=by[aid])
    call("DELETE", admins_, 400, f"/chat/chatroom/{qid}/admins/{oid}/", params=by[oid])
    call("DELETE", admins, 400, f"/chat/chatroom/{qid}/admins/x", params=by[oid])
    call("DELETE", admins_, 404, f"/chat/chatroom/{qid}/admins/999999999/", params=by[oid])
    call("DELETE", admins_, 204, f"/chat/chatroom/{qid}/admins/{aid}/", params=by[oid])
    call("DELETE", admins, 204, f"/chat/chatroom/{qid}/admins/{aid}", params=by[oid])

    # Blocks: a blocked user's direct messages are refused at once.
    blocked = call("PUT", block_, 200, f"/users/{oid}/blocks/{xid}/")
    assert blocked["id"] == xid and blocked["username"] == extra["username"], blocked
    call("PUT", block, 200, f"/users/{oid}/blocks/{vid}")
    call("PUT", block_, 200, f"/users/{oid}/blocks/{vid}/")
    call("PUT", block_, 400, f"/users/{oid}/blocks/{oid}/")
    call("PUT", block_, 400, f"/users/{oid}/blocks/abc/")
    call("PUT", block, 404, f"/users/{oid}/blocks/999999999")
    call("PUT", block_, 404, f"/users/999999999/blocks/{oid}/")
    call("POST", "/chat/user/{id}/", 403, f"/chat/user/{oid}/", json={"from": xid, "text": "let me in"})
    listed = call("GET", blocks_, 200, f"/users/{oid}/blocks/")
    assert [u["id"] for u in listed] == sorted([xid, vid]), listed
    first = call("GET", "/users/{id}/blocks", 200, f"/users/{oid}/blocks", params={"limit": 1}, full=True)
    assert 'rel="next"' in first.headers.get("link", ""), first.headers
    call("GET", blocks_, 400, f"/users/{oid}/blocks/", params={"limit": 0})
    call("GET", blocks_, 400, "/users/abc/blocks/")
    call("GET", blocks_, 404, "/users/999999999/blocks/")
    call("DELETE", block_, 204, f"/users/{oid}/blocks/{xid}/")
    call("DELETE", block, 204, f"/users/{oid}/blocks/{xid}")
    call("DELETE", block_, 400, f"/users/{oid}/blocks/0/")
    call("DELETE", block_, 404, f"/users/999999999/blocks/{oid}/")
    call("POST", "/chat/user/{id}", 202, f"/chat/user/{oid}", json={"from": xid, "text": "thanks"})
    s.__dict__.update(aid=aid, by=by, oid=oid, owner=owner, qid=qid, xid=xid)
