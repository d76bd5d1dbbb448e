"""Schemathesis hooks for the fuzz run of scripts/test. Each one keeps a generated request
meaning what it meant, and only works around the local stack:

- A valid `wait` (0-20) holds an unseen request for up to 20 s when nothing arrives; thousands
  of them would take hours. Valid waits become at most 1 s, which runs the same code; invalid
  ones (21, -1, text) are sent as generated, so their 400 is still checked.
- `cargo lambda watch` answers a JSON-typed body that is not UTF-8 with its own 500, before any
  function runs (API Gateway hands such bytes to the function, which answers 400; see the unit
  test `bodies_that_are_not_a_json_object_are_400_and_oversized_ones_413` in shared/src/http.rs).
  Such bodies are sent as UTF-8 text that is still not JSON.
"""

import schemathesis


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
