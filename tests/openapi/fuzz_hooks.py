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
- Running a room (PATCH of `/chat/chatroom/{id}`, its `members`, `bans` and `admins`) and blocks
  (`/users/{id}/blocks`) likewise act on one room or user. In none mode a valid room id of
  those routes becomes a public room made for the fuzzing, owned by one user, with an admin, a
  member, and two more users: one kicked and added again, one banned and unbanned. A valid
  acting `user_id` (query) becomes the owner, the admin or the member; the target of a kick
  (`member_id`) the owner (a 403) or the one kicked; of a ban or an unban (path `user_id`) the
  owner, the one kicked or the one banned; of an admin grant the owner (a 400), the member or
  the one kicked; an added `username` that is a valid one, the name of the one kicked. So
  kicks, adds, bans, unbans, admin grants and settings changes run for real and go round,
  while the owner, the admin and the member stay; blocks act for the owner, on any of them.
  This is a `map_case` hook, which schemathesis also applies to the coverage phase (whose ids
  are their decimal text), where the container hooks above are not applied. As schemathesis
  sends all the requests of one operation before the next, a kick of the one kicked first puts
  them back in the room, and an add of them first takes them out (without lifting a ban), so
  that each kick and add has something to do rather than one success and then only refusals.
- Upload URLs (`POST /chat/attachments`) are for a member of a room, which random ids never
  are: every answer would be a 404. In none mode a valid `user_id` (query) becomes one of the
  two users of the messages above and a valid body `room` (a number, or a numeric string) their
  room, so the files the fuzzing declares validly are 201s and the body's other refusals
  (400, 413, 415) are checked past the lookup. Also a `map_case` hook. Sends with files stay as
  generated: their ids name no upload (400).
- The fuzzing's users and rooms stay: schemathesis also generates ids it saw in responses, so
  it would delete, rename or take out of their rooms the users above. Such requests (`DELETE`,
  `PUT`, `PATCH /users/{id}` of one of them, `DELETE /chat/chatroom/{id}` of one of their rooms)
  are left out (`filter_case`).
"""

import os
import re
import time
import uuid

import requests
import schemathesis

LIFECYCLE = "/chat/messages/{room}/{id}"
# Routes that run a room (the PATCH of the room itself is picked by method) and blocks.
GOVERNED = re.compile(r"^/chat/chatroom/\{id\}/(members|bans|admins)(/|$)")
ROOM = re.compile(r"^/chat/chatroom/\{id\}/?$")
BLOCKS = "/users/{id}/blocks"
ATTACHMENTS = "/chat/attachments"
MAX_ID = 2**53 - 1
_fixture = {}
_owners = {}


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
    owners = owners_for(case.operation)
    if owners is not None:
        set_the_stage(case, owners)


def valid_id(value):
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def fixture_for(operation, routes=LIFECYCLE):
    """The fuzzing's messages (their users and room) when `operation` is one of `routes` (by
    default the lifecycle routes), fuzzed in none mode."""
    base = operation.schema.get_base_url()
    if not operation.path.startswith(routes) or base != os.environ.get("API_URL", "").rstrip("/"):
        return None
    if base not in _fixture:
        _fixture[base] = fuzz_messages(base)
    return _fixture[base]


def owners_for(operation):
    """The fuzzing's room and users when `operation` runs a room or blocks, in none mode."""
    base = operation.schema.get_base_url()
    if base != os.environ.get("API_URL", "").rstrip("/"):
        return None
    path, method = operation.path, operation.method.upper()
    if not (GOVERNED.match(path) or (ROOM.match(path) and method == "PATCH") or path.startswith(BLOCKS)):
        return None
    if base not in _owners:
        _owners[base] = fuzz_room(base)
    return _owners[base]


@schemathesis.hook
def after_load_schema(context, schema):
    # Made before generation starts, so no generated example waits for the set-up.
    base = schema.get_base_url()
    if base == os.environ.get("API_URL", "").rstrip("/"):
        if base not in _fixture:
            _fixture[base] = fuzz_messages(base)
        if base not in _owners:
            _owners[base] = fuzz_room(base)


def given_id(value):
    """A valid id as generated (an integer, or its decimal text in the coverage phase)."""
    if isinstance(value, str) and re.fullmatch(r"[1-9][0-9]{0,15}", value):
        value = int(value)
    return value if valid_id(value) else None


def pick(params, name, choices):
    """Points a valid id of `params` at one of `choices`, keeping its type."""
    value = params.get(name)
    number = given_id(value)
    if number is not None:
        chosen = choices[number % len(choices)]
        params[name] = str(chosen) if isinstance(value, str) else chosen


def protected():
    """The ids of the fuzzing's users and rooms."""
    users, rooms = set(), set()
    for made in list(_fixture.values()) + list(_owners.values()):
        users.update(made["users"])
        rooms.add(made["room"])
    return users, rooms


@schemathesis.hook
def filter_case(context, case):
    path, method = case.operation.path.rstrip("/"), case.operation.method.upper()
    params = case.path_parameters if isinstance(case.path_parameters, dict) else {}
    users, rooms = protected()
    if path == "/users/{id}" and method in ("DELETE", "PUT", "PATCH"):
        return given_id(params.get("id")) not in users
    if path == "/chat/chatroom/{id}" and method == "DELETE":
        return given_id(params.get("id")) not in rooms
    return True


def set_the_stage(case, owners):
    """Puts the one kicked back in the room before a kick of them, and takes them out before
    an add of them, through the owner."""
    path, method = case.operation.path.rstrip("/"), case.operation.method.upper()
    room, owner, kicked = owners["room"], owners["users"][0], owners["users"][3]
    params = case.path_parameters if isinstance(case.path_parameters, dict) else {}
    if given_id(params.get("id")) != room:
        return
    session = owners["session"]
    as_owner = {"user_id": owner}
    if path == "/chat/chatroom/{id}/members/{member_id}" and given_id(params.get("member_id")) == kicked:
        session.delete(f"{owners['base']}/chat/chatroom/{room}/bans/{kicked}/", params=as_owner, timeout=30)
        session.post(f"{owners['base']}/chat/chatroom/{room}/members/", params=as_owner, timeout=30,
                     json={"username": owners["names"][3]})
    elif path == "/chat/chatroom/{id}/members" and method == "POST" and isinstance(case.body, dict):
        if case.body.get("username") == owners["names"][3]:
            session.delete(f"{owners['base']}/chat/chatroom/{room}/members/{kicked}/", params=as_owner, timeout=30)


@schemathesis.hook
def map_case(context, case):
    uploads = fixture_for(case.operation, ATTACHMENTS)
    if uploads is not None:
        if isinstance(case.query, dict):
            pick(case.query, "user_id", uploads["users"])
        if isinstance(case.body, dict):
            room = case.body.get("room")
            if isinstance(room, str) and re.fullmatch(r"\s*0*[1-9][0-9]{0,14}\s*", room):
                case.body["room"] = str(uploads["room"])
            else:
                pick(case.body, "room", [uploads["room"]])
        return case
    owners = owners_for(case.operation)
    if owners is None:
        return case
    owner, admin, member, kicked, banned = owners["users"]
    path, params, query = case.operation.path, case.path_parameters, case.query
    if isinstance(params, dict) and path.startswith(BLOCKS):
        pick(params, "id", [owner])
        pick(params, "other_id", owners["users"])
    elif isinstance(params, dict):
        pick(params, "id", [owners["room"]])
        pick(params, "member_id", [owner, kicked])
        pick(params, "user_id", [owner, member, kicked] if "/admins/" in path else [owner, kicked, banned])
    if isinstance(query, dict):
        pick(query, "user_id", [owner, admin, member])
    body = case.body
    if path.startswith("/chat/chatroom/{id}/members") and isinstance(body, dict):
        if isinstance(body.get("username"), str) and body["username"]:
            body["username"] = owners["names"][3]
    return case


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


def fuzz_room(base):
    """Five users (an owner, an admin, a member, one to kick and one to ban) and a public room
    of the first four, owned by the first, the second its admin."""
    session = requests.Session()

    def send(method, path, body=None):
        response = session.request(method, base + path, json=body, timeout=30)
        assert response.ok, f"fuzz set-up: {method} {path}: {response.status_code} {response.text}"
        return response.json()

    names = [f"fuzz_own_{uuid.uuid4().hex[:10]}" for _ in range(5)]
    users = [send("POST", "/users/", {"username": n, "password": "p", "profile": {}})["id"] for n in names]
    body = {"room_name": f"fuzz_own_{uuid.uuid4().hex[:10]}", "room_member": [{"username": n} for n in names[1:4]]}
    room = send("POST", f"/chat/chatroom/?user_id={users[0]}", body)["data"]["id"]
    send("PUT", f"/chat/chatroom/{room}/admins/{users[1]}/?user_id={users[0]}")
    return {"room": room, "users": users, "names": names, "base": base, "session": session}
