"""moto server for the Docker-free stack: DynamoDB and SQS on one port, with what moto lacks
of DynamoDB's behaviour that our code relies on:

- Conditional writes are atomic. moto handles requests on parallel threads without a lock, so
  two conditional writes could both pass their condition; DynamoDB requests are serialized here.
  SQS stays parallel: its long polls block for seconds.
- TransactWriteItems is idempotent per ClientRequestToken for 10 minutes. The AWS SDKs send one
  token per call and reuse it on retries, so a retry of a transaction that succeeded but timed
  out returns the first answer instead of failing its own conditions.

usage: python localstack/emulator.py PORT
"""

import json
import logging
import sys
import threading
import time

import copy

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


TOKEN_LIFETIME = 600


def _partition_query(query):
    """Table.query over the asked partition instead of the whole table (base table only)."""

    def patched(self, hash_key, *args, **kwargs):
        if kwargs.get("index_name") or hash_key is None:
            return query(self, hash_key, *args, **kwargs)
        partition = self.items.get(hash_key, {})
        items = list(partition.values()) if self.has_range_key else [partition]
        self.all_items = lambda: items  # shadows the method for this call only
        try:
            return query(self, hash_key, *args, **kwargs)
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


Table.query = _partition_query(Table.query)
dynamodb_models.copy = _CopyWithoutTables
DynamoDBBackend.transact_write_items = _item_rollback(DynamoDBBackend.transact_write_items)


class FaithfulDynamoDB:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.answers = {}  # ClientRequestToken -> (time, status, headers, body)

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("DynamoDB_"):
            return self.app(environ, start_response)
        token = None
        if target.endswith(".TransactWriteItems"):
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = _Replay(body)
            token = json.loads(body or b"{}").get("ClientRequestToken")
        with self.lock:
            now = time.monotonic()
            self.answers = {t: a for t, a in self.answers.items() if now - a[0] < TOKEN_LIFETIME}
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


def main():
    port = int(sys.argv[1])
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = FaithfulDynamoDB(DomainDispatcherApplication(create_backend_app))
    run_simple("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
