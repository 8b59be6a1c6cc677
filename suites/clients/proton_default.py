"""AMQP 1.0 the way python-qpid-proton's documentation writes it: BlockingConnection with
the server's URL and the credentials, no other option. Sends COUNT messages to a fresh
queue and receives them back; prints one JSON line."""

import json
import sys
import time
import uuid

from proton import Message, Timeout
from proton.utils import BlockingConnection


def main() -> None:
    host, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    virtual_host = sys.argv[4] if len(sys.argv) > 4 else None  # a name a client would put in its URL
    user, password = sys.stdin.read().splitlines()[:2]
    queue = f"orders-{uuid.uuid4().hex[:10]}"
    started = time.monotonic()
    options = {"virtual_host": virtual_host} if virtual_host else {}
    conn = BlockingConnection(f"amqp://{host}:{port}", user=user, password=password, **options)
    try:
        sender = conn.create_sender(queue)
        for i in range(count):
            sender.send(Message(body=f"order {i}"))
        receiver = conn.create_receiver(queue)
        received = []
        while True:
            try:
                message = receiver.receive(timeout=3 if len(received) < count else 0.5)
            except Timeout:
                break
            received.append(message.body)
            receiver.accept()
    finally:
        conn.close()
    print(json.dumps({"client": "proton", "queue": queue, "sent": [f"order {i}" for i in range(count)],
                      "received": received, "seconds": round(time.monotonic() - started, 3)}))


if __name__ == "__main__":
    main()
