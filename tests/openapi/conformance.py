"""Every documented response shape, checked against the running stack: one request per route
and outcome (success and each error), each response validated against openapi.yaml, so the
document cannot drift from what the functions answer. Run by scripts/test (needs API_URL, and
TOKEN_API_URL for the token mode's 401s and 403s). The checks are in five sections, run in
order, each handing the next the users, rooms and messages it made.
"""

import sys
from types import SimpleNamespace

import attachment_routes
import base_routes
import checking
import lifecycle_routes
import owner_routes
import token_routes
from checking import call


def main():
    shared = SimpleNamespace()
    for section in (base_routes, lifecycle_routes, attachment_routes, owner_routes, token_routes):
        section.check(shared)
    call("DELETE", "/users/{id}/", 204, f"/users/{shared.other['id']}/")
    print(f"openapi.yaml conformance: {checking.checked} responses match their documented schema")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        sys.exit(f"openapi.yaml conformance failed: {e}")
