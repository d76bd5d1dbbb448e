"""moto server for the Docker-free stack's SQS (and the ElastiCache API of the CACHE_NAME test),
with what moto lacks of SQS's behaviour that our code relies on. DynamoDB is Amazon's own
DynamoDB Local; nothing here touches it.

- A queue's messages change under the queue's lock. moto deletes a message by rebuilding the
  queue's list without that lock, so a message sent (or another deleted) meanwhile was lost (or
  came back after its visibility timeout). Receives take the lock for their pass over the queue
  and wait for new messages outside it.
- Speed, not behaviour: moto's backend lookup once per host, the retention check reading the one
  attribute it needs, the clock read straight from time.time(), responses written in one piece.

usage: python localstack/emulator.py PORT
"""

import logging
import sys
import time

import moto.sqs.models as sqs_models
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
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
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, app, threaded=True, request_handler=_BufferedHandler)


if __name__ == "__main__":
    main()
