"""moto server for the Docker-free stack, with what moto lacks of DynamoDB's and SQS's behaviour
that our code relies on. It serves every service on its port; the stack runs one for DynamoDB
and one for SQS, so the two use a core each.

- Conditional writes are atomic. moto handles requests on parallel threads without a lock, so
  two conditional writes could both pass their condition; DynamoDB requests are serialized here.
  SQS stays parallel: its long polls block for seconds.
- A queue's messages change under the queue's lock. moto deletes a message by rebuilding the
  queue's list without that lock, so a message sent (or another deleted) meanwhile was lost (or
  came back after its visibility timeout). Receives take the lock for their pass over the queue
  and wait for new messages outside it.
- TransactWriteItems is idempotent per ClientRequestToken for 10 minutes. The AWS SDKs send one
  token per call and reuse it on retries, so a retry of a transaction that succeeded but timed
  out returns the first answer instead of failing its own conditions.

For benchmarks it counts DynamoDB calls by caller and operation (`users:GetItem`, the caller
being the app name in the SDK's user agent): GET /_chat/dynamodb-calls returns them as JSON,
DELETE /_chat/dynamodb-calls resets them.

usage: python localstack/emulator.py PORT
"""

import inspect
import json
import logging
from collections import OrderedDict
import sys
import threading
import time

import copy

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoResult
import moto.sqs.models as sqs_models
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


TOKEN_LIFETIME = 600


def _partition_query(query):
    """Table.query over the asked partition instead of the whole table (base table only), and
    over the sort-key range asked; when nothing else narrows the result (no start key, no
    filter), over the first `limit` items of it in the asked order, as DynamoDB reads no more
    either. Results are moto's, except that a last page may now end without the
    LastEvaluatedKey that moto adds when non-matching items follow (both are valid answers)."""
    signature = inspect.signature(query)

    def patched(*args, **kwargs):
        call = signature.bind(*args, **kwargs)
        call.apply_defaults()
        a = call.arguments
        self, hash_key = a["self"], a["hash_key"]
        if a["index_name"] or hash_key is None:
            return query(*args, **kwargs)
        partition = self.items.get(hash_key, {})
        items = list(partition.values()) if self.has_range_key else [partition]
        if self.has_range_key and a["range_comparison"]:
            items = [i for i in items if i.range_key.compare(a["range_comparison"], a["range_objs"])]
        narrowed = a["exclusive_start_key"] or a["filter_expression"] is not None or a["filter_kwargs"]
        if self.has_range_key and a["limit"] and not narrowed:
            items.sort(key=lambda i: i.range_key, reverse=a["scan_index_forward"] is False)
            items = items[: a["limit"] + 1]  # one more, for moto to see that more follow
        self.all_items = lambda: items  # shadows the method for this call only
        try:
            return query(*args, **kwargs)
        finally:
            del self.all_items

    return patched


class _CopyWithoutTables:
    """Stands in for the copy module inside moto's DynamoDB backend: tables are not copied."""

    @staticmethod
    def deepcopy(value, *args):
        return value if isinstance(value, Table) else copy.deepcopy(value, *args)


def _item_rollback(transact):
    """TransactWriteItems that restores only the items it touched when it is cancelled."""

    def patched(self, transact_items):
        saved = []
        for entry in transact_items:
            op = next(iter(entry.values()))
            table = self.tables.get(op.get("TableName"))
            attrs = op.get("Key") or op.get("Item")
            if table is None or not attrs:
                continue
            hash_key = DynamoType(attrs[table.hash_key_attr])
            range_key = DynamoType(attrs[table.range_key_attr]) if table.has_range_key else None
            saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
        try:
            return transact(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(saved):
                if item is None:
                    table.delete_item(hash_key, range_key)
                elif range_key is not None:
                    table.items[hash_key][range_key] = item
                else:
                    table.items[hash_key] = item
            raise

    return patched


def _plain_json(execute_result):
    """DynamoDB results are JSON already (moto turned its types into dicts): dump them as such."""

    def patched(self, context):
        try:
            body = json.dumps(self.result)
        except TypeError:  # something that is not plain JSON, e.g. a timestamp: moto's way
            return execute_result(self, context)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    return patched


def _fast_clock(unix_time):
    """moto's unix_time(), but the current time straight from time.time() (same value)."""

    def patched(dt=None):
        return time.time() if dt is None else unix_time(dt)

    return patched


def _retained(self, queue_name, message):
    """moto's retention check, reading the one attribute it needs."""
    retention = int(self.get_queue(queue_name).message_retention_period)
    return retention + message.sent_timestamp / 1000 > time.time()


def _under_queue_lock(delete_message):
    """moto's Queue.delete_message, holding the lock that add_message holds."""

    def patched(self, receipt_handle):
        with self._messages_lock:
            return delete_message(self, receipt_handle)

    return patched


def _receive_under_queue_lock(receive_message):
    """moto's receive: each pass over the queue under its lock, the long-poll wait outside it."""

    def patched(self, queue_name, count, wait_seconds_timeout, visibility_timeout, message_attribute_names=None):
        queue = self.get_queue(queue_name)
        deadline = time.time() + wait_seconds_timeout
        while True:
            with queue._messages_lock:
                result = receive_message(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
            left = deadline - time.time()
            if result or left <= 0:
                return result
            queue.wait_for_messages(min(1, left))

    return patched


def _remembered(get_backend_for_host):
    """moto's backend lookup, once per host: it lists moto's package directory and tries the
    URL patterns of every service on each request, a tenth of the emulator's time under load."""
    known = {}

    def patched(self, host):
        if host not in known:  # called under the dispatcher's lock
            known[host] = get_backend_for_host(self, host)
        return known[host]

    return patched


Table.query = _partition_query(Table.query)
DomainDispatcherApplication.get_backend_for_host = _remembered(DomainDispatcherApplication.get_backend_for_host)
sqs_models.SQSBackend.is_message_valid_based_on_retention_period = _retained
sqs_models.Queue.delete_message = _under_queue_lock(sqs_models.Queue.delete_message)
sqs_models.SQSBackend.receive_message = _receive_under_queue_lock(sqs_models.SQSBackend.receive_message)
sqs_models.unix_time = _fast_clock(sqs_models.unix_time)
sqs_models.unix_time_millis = lambda dt=None: sqs_models.unix_time(dt) * 1000.0
DynamoResult.execute_result = _plain_json(DynamoResult.execute_result)
dynamodb_models.copy = _CopyWithoutTables
DynamoDBBackend.transact_write_items = _item_rollback(DynamoDBBackend.transact_write_items)


class FaithfulDynamoDB:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.answers = OrderedDict()  # ClientRequestToken -> (time, status, headers, body), oldest first
        self.calls = {}  # operation -> count

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/_chat/dynamodb-calls":
            if environ["REQUEST_METHOD"] == "DELETE":
                self.calls = {}
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(self.calls).encode()]
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("DynamoDB_"):
            return self.app(environ, start_response)
        token = None
        if target.endswith(".TransactWriteItems"):
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = _Replay(body)
            token = json.loads(body or b"{}").get("ClientRequestToken")
        agent = environ.get("HTTP_X_AMZ_USER_AGENT", "") + " " + environ.get("HTTP_USER_AGENT", "")
        app = next((part[4:] for part in agent.split() if part.startswith("app/")), "")
        key = f"{app}:{target.split('.', 1)[-1]}"
        with self.lock:
            self.calls[key] = self.calls.get(key, 0) + 1
            now = time.monotonic()
            while self.answers and now - next(iter(self.answers.values()))[0] > TOKEN_LIFETIME:
                self.answers.popitem(last=False)
            if token in self.answers:
                _, status, headers, body = self.answers[token]
                start_response(status, headers)
                return [body]
            captured = {}

            def capture(status, headers, exc_info=None):
                captured.update(status=status, headers=headers)
                return start_response(status, headers, exc_info)

            # Consume the whole response inside the lock: werkzeug may evaluate lazily.
            body = b"".join(self.app(environ, capture))
            if token:
                self.answers[token] = (now, captured["status"], captured["headers"], body)
            return [body]


class _Replay:
    """A request body read once and handed on."""

    def __init__(self, data):
        import io
        self._stream = io.BytesIO(data)

    def read(self, *args):
        return self._stream.read(*args)

    def readline(self, *args):
        return self._stream.readline(*args)


class _BufferedHandler(MotoRequestHandler):
    """Writes each response in one piece instead of a system call per write."""

    wbufsize = 64 * 1024


def main():
    port = int(sys.argv[1])
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = FaithfulDynamoDB(DomainDispatcherApplication(create_backend_app))
    run_simple("127.0.0.1", port, app, threaded=True, request_handler=_BufferedHandler)


if __name__ == "__main__":
    main()
