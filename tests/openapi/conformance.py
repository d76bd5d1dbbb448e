"""Every documented response shape, checked against the running stack: one request per route
and outcome (success and each error), each response validated against openapi.yaml, so the
document cannot drift from what the functions answer. Run by scripts/test (needs API_URL, and
TOKEN_API_URL for the token mode's 401s and 403s).
"""

import os
import sys
import time
import uuid

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
    for task in tasks + [direct]:
        assert finished(task)["state"] == "SUCCESS"
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
    ]:
        call(method, template, 401, path, base=TOKEN_API, json={} if method in ("POST", "PUT", "PATCH") else None)
    bearer = {"authorization": "Bearer " + call("POST", "/auth/token/", 200, base=TOKEN_API,
                                                json={"username": name, "password": "q"})["access"]}
    call("GET", "/users/{id}/", 200, f"/users/{other['id']}/", base=TOKEN_API, headers=bearer)
    call("PATCH", "/users/{id}/", 403, f"/users/{other['id']}/", base=TOKEN_API, headers=bearer, json={})
    call("DELETE", "/users/{id}", 403, f"/users/{other['id']}", base=TOKEN_API, headers=bearer)

    call("DELETE", "/users/{id}/", 204, f"/users/{other['id']}/")
    print(f"openapi.yaml conformance: {checked} responses match their documented schema")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        sys.exit(f"openapi.yaml conformance failed: {e}")
