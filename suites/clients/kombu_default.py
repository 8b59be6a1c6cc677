"""AMQP 0-9-1 the way kombu's (and so Celery's) users write it: a Connection with the
broker's URL and credentials, and a SimpleQueue. Sends COUNT messages and receives them
back; with --expect-refused, tries a wrong password, the default guest login and SASL
ANONYMOUS and reports how each was answered. Prints one JSON line."""

import json
import secrets
import sys
import time
import uuid

from kombu import Connection


def exchange(host: str, port: str, count: int, user: str, password: str) -> dict[str, object]:
    queue = f"orders-{uuid.uuid4().hex[:10]}"
    started = time.monotonic()
    with Connection(f"amqp://{host}:{port}//", userid=user, password=password, connect_timeout=10) as conn:
        q = conn.SimpleQueue(queue)
        for i in range(count):
            q.put(f"order {i}")
        received = []
        while True:
            try:
                message = q.get(block=True, timeout=3 if len(received) < count else 0.5)
            except q.Empty:
                break
            received.append(message.payload)
            message.ack()
        q.queue.delete()
        q.close()
    return {"client": "kombu", "queue": queue, "sent": [f"order {i}" for i in range(count)], "received": received,
            "seconds": round(time.monotonic() - started, 3)}


def refusals(host: str, port: str, user: str) -> dict[str, object]:
    attempts = {
        "wrong password": {"userid": user, "password": secrets.token_urlsafe(12)},
        "default guest login": {},
        # py-amqp takes a raw mechanism name as bytes (a str trips an assertion before any byte is sent)
        "SASL ANONYMOUS": {"login_method": b"ANONYMOUS", "transport_options": {"login_response": b""}},
    }
    answers = {}
    for label, options in attempts.items():
        try:
            with Connection(f"amqp://{host}:{port}//", connect_timeout=10, **options) as conn:
                conn.connect()
            answers[label] = "accepted"
        except Exception as exc:  # the answer is the point: report whatever it was
            answers[label] = f"{type(exc).__name__}: {exc}"
    return {"client": "kombu", "refusals": answers}


def main() -> None:
    host, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    user, password = sys.stdin.read().splitlines()[:2]
    if "--expect-refused" in sys.argv:
        print(json.dumps(refusals(host, port, user)))
    else:
        print(json.dumps(exchange(host, port, count, user, password)))


if __name__ == "__main__":
    main()
