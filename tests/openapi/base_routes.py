"""Users, chat rooms and messages: the original routes."""

import uuid

from checking import call, delivered, finished, unique


def check(s):
    """Checks each outcome; `s` carries the users, rooms and messages the sections share."""
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
    off = call("PATCH", "/users/{id}", 200, f"/users/{uid}", json={"profile": {"read_receipts": False}})
    assert off["profile"]["read_receipts"] is False, off
    call("PATCH", "/users/{id}/", 400, f"/users/{uid}/", json={"profile": {"read_receipts": "no"}})
    call("PATCH", "/users/{id}/", 200, f"/users/{uid}/", json={"profile": {"read_receipts": True}})
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
    s.__dict__.update(direct=direct, dm=dm, m0=m0, m1=m1, m2=m2, name=name, other=other, reader=reader, rid=rid,
                      room_name=room_name, tasks=tasks, uid=uid)
