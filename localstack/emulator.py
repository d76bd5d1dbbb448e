"""moto server for the Docker-free stack's SQS and S3 (and the ElastiCache API of the CACHE_NAME
test), with what moto lacks of their behaviour that our code relies on. DynamoDB is Amazon's own
DynamoDB Local; nothing here touches it.

- A queue's messages change under the queue's lock. moto deletes a message by rebuilding the
  queue's list without that lock, so a message sent (or another deleted) meanwhile was lost (or
  came back after its visibility timeout). Receives take the lock for their pass over the queue
  and wait for a change outside it; a delete counts as a change, since it can free a FIFO
  message group (moto's own wait spun while a busy group's messages were visible).
- Speed, not behaviour: the calls the stack makes all the time (SendMessage, ReceiveMessage,
  DeleteMessage, DeleteMessageBatch in the JSON protocol) go straight to moto's SQS backend and
  are answered with the same fields moto's responses build, without its generic request layer;
  any error, and every other call, takes moto's own path. Also: send checks the queue's
  content-based deduplication without computing every queue attribute (three passes over the
  queue per send), moto's backend lookup once per host, the retention check reading the one
  attribute it needs, the clock read straight from time.time(), responses written in one piece.
- S3 presigned URLs are checked as S3 checks them. moto verifies no SigV4 query signature (it
  only compares literal content-type= and content-length= query parameters), so a PUT of another
  size or type than the one signed, an expired URL or a tampered key passed; attachments rely on
  S3 refusing them. Every S3 request with X-Amz-Signature in its query (but CORS preflights,
  which S3 does not authenticate) has its signature recomputed with the emulator's
  AWS_SECRET_ACCESS_KEY (no check without one) and is answered with S3's 403
  (SignatureDoesNotMatch, or AccessDenied "Request has expired") when it does not match. Also: moto's blanket CORS (every origin on every response, of every service)
  is off, so the browser gets what the bucket's CORS rules allow, as from S3.

usage: python localstack/emulator.py PORT
"""

import calendar
import hashlib
import hmac
import io
import json
import logging
import os
import sys
import time
import uuid
from urllib.parse import quote, unquote, urlsplit
from xml.sax.saxutils import escape

from moto.core import DEFAULT_ACCOUNT_ID
import moto.moto_server.werkzeug_app as werkzeug_app
import moto.sqs.models as sqs_models
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.s3.models import s3_backends
from moto.s3.utils import cors_matches_origin
from werkzeug.serving import run_simple


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
    """moto's Queue.delete_message, holding the lock that add_message holds, and waking waiting
    receivers: in a FIFO queue a delete can free a message group."""

    def patched(self, receipt_handle):
        with self._messages_lock:
            result = delete_message(self, receipt_handle)
            self._messages_lock.notify_all()
            return result

    return patched


def _receive_under_queue_lock(receive_message):
    """moto's receive: each pass over the queue under its lock, the long-poll wait outside it,
    until a message is added or deleted (moto's own wait returns at once while a FIFO queue
    holds visible messages of busy groups, so its long polls spun) or a second passes (a
    visibility timeout may have run out)."""

    def patched(self, queue_name, count, wait_seconds_timeout, visibility_timeout, message_attribute_names=None):
        queue = self.get_queue(queue_name)
        deadline = time.time() + wait_seconds_timeout
        while True:
            with queue._messages_lock:
                result = receive_message(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
                left = deadline - time.time()
                if result or left <= 0:
                    return result
                queue._messages_lock.wait(timeout=min(1, left))

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


class _QueueAttributes(dict):
    """A queue's attributes, computed one at a time: moto's send asks only for
    ContentBasedDeduplication, and computing them all counts the queue's messages three times."""

    def __init__(self, queue, compute):
        super().__init__()
        self._queue, self._compute = queue, compute

    def get(self, key, default=None):
        if key == "ContentBasedDeduplication":
            value = getattr(self._queue, "content_based_deduplication", None)
            return default if value is None else str(value).lower() if isinstance(value, bool) else value
        return self._compute(self._queue).get(key, default)

    # Everything else sees the whole dict.
    def _all(self):
        return self._compute(self._queue)

    def __getitem__(self, key):
        return self._all()[key]

    def __iter__(self):
        return iter(self._all())

    def __len__(self):
        return len(self._all())

    def __contains__(self, key):
        return key in self._all()

    def items(self):
        return self._all().items()

    def keys(self):
        return self._all().keys()

    def values(self):
        return self._all().values()

    def __eq__(self, other):
        return self._all() == (other._all() if isinstance(other, _QueueAttributes) else other)


_all_attributes = sqs_models.Queue.attributes.fget
sqs_models.Queue.attributes = property(lambda queue: _QueueAttributes(queue, _all_attributes))

_SYSTEM_ATTRIBUTES = ("SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp",
                      "MessageDeduplicationId", "MessageGroupId", "SequenceNumber")


class FastSqs:
    """The stack's frequent SQS calls straight to moto's backend (see the module docstring)."""

    ACTIONS = {"SendMessage", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch"}

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        action = target.rpartition(".")[2]
        if not target.startswith("AmazonSQS.") or action not in self.ACTIONS:
            return self.app(environ, start_response)
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        try:
            request = json.loads(raw or b"{}")
            result = getattr(self, action)(self.backend(environ), request["QueueUrl"].rsplit("/", 1)[-1], request)
        except Exception:  # moto's own path answers errors the way SQS does
            environ["wsgi.input"] = io.BytesIO(raw)
            return self.app(environ, start_response)
        body = json.dumps(result).encode()
        start_response("200 OK", [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def backend(environ):
        # The region is the credential scope's: Credential=<key>/<date>/<region>/sqs/aws4_request.
        scope = environ.get("HTTP_AUTHORIZATION", "").split("Credential=", 1)[-1].split("/")
        region = scope[2] if len(scope) > 3 else "us-east-1"
        return sqs_models.sqs_backends[DEFAULT_ACCOUNT_ID][region]

    @staticmethod
    def SendMessage(backend, queue, request):
        if request.get("MessageAttributes") or request.get("MessageSystemAttributes"):
            raise ValueError("not the simple case")
        message = backend.send_message(queue, request["MessageBody"], delay_seconds=request.get("DelaySeconds"),
                                       deduplication_id=request.get("MessageDeduplicationId"),
                                       group_id=request.get("MessageGroupId"))
        result = {"MD5OfMessageBody": message.body_md5, "MessageId": message.id}
        if backend.get_queue(queue).fifo_queue and message.sequence_number:
            result["SequenceNumber"] = message.sequence_number
        return result

    @staticmethod
    def ReceiveMessage(backend, queue, request):
        if request.get("MessageAttributeNames"):
            raise ValueError("not the simple case")
        q = backend.get_queue(queue)
        count = request.get("MaxNumberOfMessages", 1)
        wait = request.get("WaitTimeSeconds", q.receive_message_wait_time_seconds)
        visibility = request.get("VisibilityTimeout", q.visibility_timeout)
        if not (1 <= count <= 10 and 0 <= int(wait) <= 20):
            raise ValueError("moto words the error")
        names = set(request.get("AttributeNames", [])) | set(request.get("MessageSystemAttributeNames", []))
        wanted = [a for a in _SYSTEM_ATTRIBUTES if "All" in names or a in names]
        messages = []
        for m in backend.receive_message(queue, count, int(wait), int(visibility), []):
            values = {"SenderId": m.sender_id, "SentTimestamp": str(m.sent_timestamp),
                      "ApproximateReceiveCount": str(m.approximate_receive_count),
                      "ApproximateFirstReceiveTimestamp": str(m.approximate_first_receive_timestamp),
                      "MessageDeduplicationId": m.deduplication_id, "MessageGroupId": m.group_id,
                      "SequenceNumber": m.sequence_number}
            entry = {"MessageId": m.id, "ReceiptHandle": m.receipt_handle, "MD5OfBody": m.body_md5, "Body": m.body}
            if wanted:
                entry["Attributes"] = {a: values[a] for a in wanted if values[a] is not None}
            messages.append(entry)
        return {"Messages": messages} if messages else {}

    @staticmethod
    def DeleteMessage(backend, queue, request):
        backend.delete_message(queue, request["ReceiptHandle"])
        return {}

    @staticmethod
    def DeleteMessageBatch(backend, queue, request):
        entries = request["Entries"]
        if not entries or len({e["ReceiptHandle"] for e in entries}) != len(entries):
            raise ValueError("moto words the error")
        success, failed = backend.delete_message_batch(queue, entries)
        return {"Successful": [{"Id": i} for i in success], "Failed": failed}


class PresignedS3:
    """S3 requests by presigned URL, their SigV4 query signature checked (see the module
    docstring); moto answers every other request, and these once they pass."""

    REQUIRED = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires")

    def __init__(self, app, access_key, secret_key):
        self.app, self.access_key, self.secret_key = app, access_key, secret_key

    def __call__(self, environ, start_response):
        query = environ.get("QUERY_STRING", "")
        if "X-Amz-Signature=" not in query or environ["REQUEST_METHOD"] == "OPTIONS" or not self.secret_key:
            return self.app(environ, start_response)
        pairs = [(unquote(k), unquote(v)) for k, _, v in (p.partition("=") for p in query.split("&") if p)]
        params = dict(pairs)
        scope = params.get("X-Amz-Credential", "").split("/")
        if len(scope) != 5 or scope[3] != "s3" or scope[4] != "aws4_request":
            return self.app(environ, start_response)  # not S3's, or not SigV4: moto's business
        error = self.check(environ, pairs, params, scope)
        if error is None:
            return self.app(environ, start_response)
        status, code, fields = error
        body = b"" if environ["REQUEST_METHOD"] == "HEAD" else (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>%s<RequestId>%s</RequestId></Error>'
            % (code, "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields), uuid.uuid4().hex[:16].upper())
        ).encode()
        headers = [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
        start_response(status, headers + self.cors(environ))
        return [body]

    def check(self, environ, pairs, params, scope):
        """None when the request is S3's to answer, else (status, error code, [(field, value)])."""
        if any(k not in params for k in self.REQUIRED) or params["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
            return "400 Bad Request", "AuthorizationQueryParametersError", [("Message", (
                "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
                "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."))]
        try:
            signed_at = calendar.timegm(time.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
            expires = int(params["X-Amz-Expires"])
        except ValueError:
            return "400 Bad Request", "AuthorizationQueryParametersError", [
                ("Message", "X-Amz-Date or X-Amz-Expires is malformed.")]
        if not 0 <= expires <= 604800:
            return "400 Bad Request", "AuthorizationQueryParametersError", [
                ("Message", "X-Amz-Expires must be less than a week (in seconds) that is 604800")]
        if scope[0] != self.access_key:
            return "403 Forbidden", "InvalidAccessKeyId", [
                ("Message", "The AWS Access Key Id you provided does not exist in our records."), ("AWSAccessKeyId", scope[0])]
        now = time.time()
        if now > signed_at + expires:
            return "403 Forbidden", "AccessDenied", [
                ("Message", "Request has expired"), ("X-Amz-Expires", expires),
                ("Expires", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(signed_at + expires))),
                ("ServerTime", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)))]
        # The canonical request: S3's URI is the path as sent (not normalized, not encoded again),
        # the query every parameter but the signature, the signed headers as received.
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", "/"))
        path = urlsplit(raw).path if raw.startswith(("http://", "https://")) else raw.split("?", 1)[0]
        encode = lambda text: quote(text, safe="-_.~")  # noqa: E731
        canonical_query = "&".join(f"{k}={v}" for k, v in sorted(
            (encode(k), encode(v)) for k, v in pairs if k != "X-Amz-Signature"))
        names = params["X-Amz-SignedHeaders"].split(";")
        headers = "".join(f"{name}:{' '.join(self.header(environ, name).split())}\n" for name in names)
        canonical = "\n".join([environ["REQUEST_METHOD"], path, canonical_query, headers,
                               params["X-Amz-SignedHeaders"], "UNSIGNED-PAYLOAD"])
        to_sign = "\n".join(["AWS4-HMAC-SHA256", params["X-Amz-Date"], "/".join(scope[1:]),
                             hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + self.secret_key).encode()
        for part in scope[1:]:
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, params.get("X-Amz-Signature", "")):
            return None
        return "403 Forbidden", "SignatureDoesNotMatch", [
            ("Message", "The request signature we calculated does not match the signature you provided. "
                        "Check your key and signing method."),
            ("AWSAccessKeyId", scope[0]), ("StringToSign", to_sign),
            ("SignatureProvided", params.get("X-Amz-Signature", "")), ("CanonicalRequest", canonical)]

    @staticmethod
    def header(environ, name):
        key = name.upper().replace("-", "_")
        return environ.get(key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key, "")

    @staticmethod
    def cors(environ):
        """The bucket's CORS headers on a refusal, as S3 gives them, so that a browser sees the 403."""
        origin = environ.get("HTTP_ORIGIN")
        try:
            bucket = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].buckets.get(environ.get("PATH_INFO", "").split("/")[1])
            if origin and bucket and any(rule.allowed_origins and cors_matches_origin(origin, rule.allowed_origins)
                                         for rule in bucket.cors):
                return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        except (KeyError, IndexError):
            pass
        return []


werkzeug_app.DISABLE_GLOBAL_CORS = True
DomainDispatcherApplication.get_backend_for_host = _remembered(DomainDispatcherApplication.get_backend_for_host)
sqs_models.SQSBackend.is_message_valid_based_on_retention_period = _retained
sqs_models.Queue.delete_message = _under_queue_lock(sqs_models.Queue.delete_message)
sqs_models.SQSBackend.receive_message = _receive_under_queue_lock(sqs_models.SQSBackend.receive_message)
sqs_models.unix_time = _fast_clock(sqs_models.unix_time)
sqs_models.unix_time_millis = lambda dt=None: sqs_models.unix_time(dt) * 1000.0


class _BufferedHandler(MotoRequestHandler):
    """Writes each response in one piece instead of a system call per write."""

    wbufsize = 64 * 1024


def main():
    port = int(sys.argv[1])
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = FastSqs(DomainDispatcherApplication(create_backend_app))
    app = PresignedS3(app, os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY"))
    run_simple("127.0.0.1", port, app, threaded=True, request_handler=_BufferedHandler)


if __name__ == "__main__":
    main()
