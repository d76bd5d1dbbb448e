"""Schemathesis hooks for the fuzz run of scripts/test. Each one keeps a generated request
meaning what it meant, and only works around the local stack:

- A valid `wait` (0-20) holds an unseen request for up to 20 s when nothing arrives; thousands
  of them would take hours. Valid waits become at most 1 s, which runs the same code; invalid
  ones (21, -1, text) are sent as generated, so their 400 is still checked.
- `cargo lambda watch` answers a JSON-typed body that is not UTF-8 with its own 500, before any
  function runs (API Gateway hands such bytes to the function, which answers 400; see the unit
  test `bodies_that_are_not_a_json_object_are_400_and_oversized_ones_413` in shared/src/http.rs).
  Such bodies are sent as UTF-8 text that is still not JSON.
- The message lifecycle's routes (`/chat/messages/{room}/{id}` and its reactions) act on one
  message of one room, which random ids never hit: every answer would be a 404. In none mode
  (the run against API_URL) a valid room id, message id and `user_id` of those routes, as they
  are generated, become those of a few messages made for the fuzzing (by one user, in a room
  of two), so edits, reactions and deletions run for real: their 200s and 204s, the other
  member's 403s, a deleted message's 409s, the 21st emoji's 409. Deletions take only the last
  of those messages, so the others stand for the edits and reactions. Invalid ids are sent as
  generated, so their 400 is still checked; token mode (no token: every 401) is left as
  generated. (This maps the values while they are generated, not in `before_call`: a case a
  hook edits is validated again with its path values percent-encoded, and an encoded emoji
  such as `%3Atada%3A` fails the schema, which made a valid request count as an invalid one.)
"""

import os
import time
import uuid

import requests
import schemathesis

LIFECYCLE = "/chat/messages/{room}/{id}"
MAX_ID = 2**53 - 1
_fixture = {}


@schemathesis.hook
def before_call(context, case, kwargs):
    query = case.query or {}
    if "wait" in query:
        text = str(query["wait"])
        if text.isdigit() and 0 <= int(text) <= 20:
            query["wait"] = min(int(text), 1)
    if isinstance(case.body, bytes):
        try:
            case.body.decode("utf-8")
        except UnicodeDecodeError:
            case.body = b"{{" + case.body.decode("utf-8", "replace").encode("utf-8")


def valid_id(value):
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def fixture_for(operation):
    """The fuzzing's messages when `operation` is a lifecycle route fuzzed in none mode."""
    base = operation.schema.get_base_url()
    if not operation.path.startswith(LIFECYCLE) or base != os.environ.get("API_URL", "").rstrip("/"):
        return None
    if base not in _fixture:
        _fixture[base] = fuzz_messages(base)
    return _fixture[base]


@schemathesis.hook
def after_load_schema(context, schema):
    # Made before generation starts, so no generated example waits for the set-up.
    base = schema.get_base_url()
    if base == os.environ.get("API_URL", "").rstrip("/") and base not in _fixture:
        _fixture[base] = fuzz_messages(base)


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    fixture = fixture_for(context.operation)
    if fixture is not None and isinstance(path_parameters, dict):
        if valid_id(path_parameters.get("room")):
            path_parameters["room"] = fixture["room"]
        if valid_id(path_parameters.get("id")):
            standing = fixture["messages"][:-1]
            deletion = context.operation.method.upper() == "DELETE" and "emoji" not in path_parameters
            chosen = path_parameters["id"] % len(standing)
            path_parameters["id"] = fixture["messages"][-1] if deletion else standing[chosen]
    return path_parameters


@schemathesis.hook
def map_query(context, query):
    fixture = fixture_for(context.operation)
    if fixture is not None and isinstance(query, dict) and valid_id(query.get("user_id")):
        query["user_id"] = fixture["users"][query["user_id"] % 2]
    return query


def fuzz_messages(base):
    """Two users, a room of both and four delivered messages of the first."""
    session = requests.Session()

    def post(path, body):
        response = session.post(base + path, json=body, timeout=30)
        assert response.ok, f"fuzz set-up: POST {path}: {response.status_code} {response.text}"
        return response.json()

    names = [f"fuzz_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    users = [post("/users/", {"username": n, "password": "p", "profile": {}})["id"] for n in names]
    members = [{"username": n} for n in names]
    room = post("/chat/chatroom/", {"room_name": f"fuzz_{uuid.uuid4().hex[:10]}", "room_member": members})["data"]["id"]
    tasks = [post(f"/chat/group/{room}/", {"from": users[0], "text": f"fuzz {i}"})["data"] for i in range(4)]
    messages = []
    for task in tasks:
        for _ in range(300):
            state = session.get(f"{base}/chat/task_state/{task}/", timeout=30).json()
            if state["state"] not in ("PENDING", "STARTED"):
                break
            time.sleep(0.1)
        assert state["state"] == "SUCCESS", f"fuzz set-up: task {task}: {state}"
        messages.append(state["result"]["id"])
    return {"room": room, "users": users, "messages": messages}
