"""An S3-compatible server for the tests of the object attachment store: moto's, in a thread on a free
loopback port, with made-up credentials in the environment (boto3 reads them), and a fresh bucket."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "guantong-test",
    "AWS_SECRET_ACCESS_KEY": "guantong-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    bucket: str

    def url(self, prefix: str = "attachments") -> str:
        return f"s3://{self.bucket}/{prefix}"

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url)


@pytest.fixture
def s3_server(monkeypatch) -> Iterator[S3Server]:
    from moto.server import ThreadedMotoServer

    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    found = S3Server(f"http://{host}:{port}", f"guantong-{secrets.token_hex(4)}")
    found.client().create_bucket(Bucket=found.bucket)
    try:
        yield found
    finally:
        server.stop()
