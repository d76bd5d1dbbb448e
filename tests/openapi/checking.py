"""What the conformance checks share: the two APIs, the document, route templates, and `call`,
which sends a request and validates its response against its documented operation."""

import os
import time
import uuid

import requests
import schemathesis
from schemathesis.core.transport import Response

API = os.environ["API_URL"]
TOKEN_API = os.environ["TOKEN_API_URL"]
SCHEMA = schemathesis.openapi.from_path(os.path.join(os.path.dirname(__file__), "..", "..", "openapi.yaml"))
checked = 0

# Route templates as openapi.yaml names them; a name ending in `_` is the form with the slash.
msg = "/chat/messages/{room}/{id}"
msg_ = msg + "/"
react = "/chat/messages/{room}/{id}/reactions/{emoji}"
react_ = react + "/"
group, group_ = "/chat/group/{id}", "/chat/group/{id}/"
room, room_ = "/chat/chatroom/{id}", "/chat/chatroom/{id}/"
members_, kick = "/chat/chatroom/{id}/members/", "/chat/chatroom/{id}/members/{member_id}"
kick_ = kick + "/"
bans, bans_ = "/chat/chatroom/{id}/bans", "/chat/chatroom/{id}/bans/"
ban, admins = "/chat/chatroom/{id}/bans/{user_id}", "/chat/chatroom/{id}/admins/{user_id}"
ban_, admins_ = ban + "/", admins + "/"
block, blocks_ = "/users/{id}/blocks/{other_id}", "/users/{id}/blocks/"
block_ = block + "/"


def call(method, template, status, path=None, base=API, full=False, **kwargs):
    """Sends the request and validates its response against the operation `template`; answers
    the JSON body, or the response itself when `full`."""
    global checked
    response = requests.request(method, base + (path or template), timeout=30, **kwargs)
    assert response.status_code == status, f"{method} {path or template}: {response.status_code} {response.text}"
    operation = SCHEMA[template][method]
    operation.validate_response(Response.from_requests(response, verify=True))
    checked += 1
    if full:
        return response
    return response.json() if response.content else None


def new_user(prefix="conf", password="p"):
    return call("POST", "/users/", 201, json={"username": unique(prefix), "password": password, "profile": {}})


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


def bearer(username, password="p"):
    """The Authorization header of a token-mode access token."""
    pair = call("POST", "/auth/token/", 200, base=TOKEN_API, json={"username": username, "password": password})
    return {"authorization": "Bearer " + pair["access"]}
