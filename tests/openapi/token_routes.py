"""Tokens: both routes in both modes; token mode's 401 on every route, its 403 for another user, send limits."""

from checking import (TOKEN_API, admins, admins_, ban, ban_, bans, bans_, bearer, block, block_, blocks_, call, kick,
                      members_, msg, msg_, new_user, react, react_, room, room_, unique)


def check(s):
    """Checks each outcome; `s` carries the users, rooms and messages the sections share."""
    (aid, by, direct, key, m0, member, name, oid, other, outsider, owner, qid, rid, thumbs, uid, xid) = (
        s.aid, s.by, s.direct, s.key, s.m0, s.member, s.name, s.oid, s.other, s.outsider, s.owner, s.qid, s.rid, s.thumbs, s.uid, s.xid)
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
        ("PATCH", room_, f"/chat/chatroom/{qid}/"),
        ("POST", members_, f"/chat/chatroom/{qid}/members/"),
        ("DELETE", kick, f"/chat/chatroom/{qid}/members/{aid}"),
        ("GET", bans_, f"/chat/chatroom/{qid}/bans/"),
        ("PUT", ban, f"/chat/chatroom/{qid}/bans/{xid}"),
        ("DELETE", ban_, f"/chat/chatroom/{qid}/bans/{xid}/"),
        ("PUT", admins_, f"/chat/chatroom/{qid}/admins/{aid}/"),
        ("DELETE", admins, f"/chat/chatroom/{qid}/admins/{aid}"),
        ("GET", blocks_, f"/users/{oid}/blocks/"),
        ("PUT", block, f"/users/{oid}/blocks/{xid}"),
        ("DELETE", block_, f"/users/{oid}/blocks/{xid}/"),
    ]:
        # An empty body: the token is checked before the body.
        body = {} if method in ("POST", "PUT", "PATCH") else None
        call(method, template, 401, path, base=TOKEN_API, json=body)
    as_user = bearer(name, "q")
    call("GET", "/users/{id}/", 200, f"/users/{other['id']}/", base=TOKEN_API, headers=as_user)
    call("PATCH", "/users/{id}/", 403, f"/users/{other['id']}/", base=TOKEN_API, headers=as_user, json={})
    call("DELETE", "/users/{id}", 403, f"/users/{other['id']}", base=TOKEN_API, headers=as_user)
    call("PATCH", msg_, 200, f"/chat/messages/{rid}/{m0}/", base=TOKEN_API, headers=as_user, json={"text": "by token"})
    call("PATCH", msg, 403, f"/chat/messages/{rid}/{m0}", base=TOKEN_API, headers=as_user, params=outsider,
         json={"text": "as another"})
    call("DELETE", msg_, 403, f"/chat/messages/{rid}/{m0}/", base=TOKEN_API, headers=as_user, params=member)
    call("PUT", react_, 200, f"/chat/messages/{rid}/{m0}/reactions/{thumbs}/", base=TOKEN_API, headers=as_user)
    call("PUT", react, 403, f"/chat/messages/{rid}/{m0}/reactions/{thumbs}", base=TOKEN_API, headers=as_user,
         params=member)
    call("DELETE", react_, 403, f"/chat/messages/{rid}/{m0}/reactions/{thumbs}/", base=TOKEN_API, headers=as_user,
         params=outsider)
    call("POST", "/chat/group/{id}/", 422, f"/chat/group/{rid}/", base=TOKEN_API, headers={**as_user, **key},
         json={"text": "twice"})
    # Rooms with owners and blocks in token mode: the token's user acts, another user_id is a 403.
    as_owner = bearer(owner["username"])
    mine = call("POST", "/chat/chatroom/", 201, base=TOKEN_API, headers=as_owner, json={"room_name": unique("tok")})["data"]
    assert mine["owner"]["id"] == oid, mine
    call("POST", "/chat/chatroom/", 403, base=TOKEN_API, headers=as_owner, params=by[aid], json={"room_name": unique("tok")})
    call("PATCH", room_, 200, f"/chat/chatroom/{qid}/", base=TOKEN_API, headers=as_owner, json={"topic": "by token"})
    call("PATCH", room, 403, f"/chat/chatroom/{qid}", base=TOKEN_API, headers=as_owner, params=by[aid], json={})
    call("GET", bans_, 200, f"/chat/chatroom/{qid}/bans/", base=TOKEN_API, headers=as_owner)
    call("GET", bans, 403, f"/chat/chatroom/{qid}/bans", base=TOKEN_API, headers=as_owner, params=by[aid])
    call("PUT", block_, 200, f"/users/{oid}/blocks/{aid}/", base=TOKEN_API, headers=as_owner)
    call("PUT", block, 403, f"/users/{aid}/blocks/{oid}", base=TOKEN_API, headers=as_owner)
    call("GET", blocks_, 403, f"/users/{aid}/blocks/", base=TOKEN_API, headers=as_owner)
    call("DELETE", block_, 403, f"/users/{aid}/blocks/{oid}/", base=TOKEN_API, headers=as_owner)
    call("DELETE", block, 204, f"/users/{oid}/blocks/{aid}", base=TOKEN_API, headers=as_owner)
    # Send limits (the token-mode copy keeps the contract's 10 per room and 30 in all per 10 s):
    # the 11th send into a room, or to one recipient, is a 429 with Retry-After.
    fast = new_user("fast")
    as_fast = bearer(fast["username"])
    lane = call("POST", "/chat/chatroom/", 201, base=TOKEN_API, headers=as_fast, json={"room_name": unique("fast")})["data"]["id"]
    for target, template in [(f"/chat/group/{lane}/", "/chat/group/{id}/"), (f"/chat/user/{oid}", "/chat/user/{id}")]:
        for i in range(10):
            call("POST", template, 202, target, base=TOKEN_API, headers=as_fast, json={"text": f"fast {i}"})
        over = call("POST", template, 429, target, base=TOKEN_API, headers=as_fast, json={"text": "too fast"}, full=True)
        assert 1 <= int(over.headers["retry-after"]) <= 10, over.headers
