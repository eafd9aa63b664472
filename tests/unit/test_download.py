"""``data.download`` against a real HTTP server on 127.0.0.1: an interrupted download or a
size/sha256 mismatch is rejected, and neither the destination nor a temporary file remains."""

from __future__ import annotations

import hashlib
import http.server
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from shopbench.data import download
from shopbench.errors import ShopbenchError

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "demo"
BODY = bytes(range(256)) * 40  # 10 240 bytes
SHA = hashlib.sha256(BODY).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    """/ok: the body; /short: announces more bytes than it sends, then closes; /chunked: a
    chunked body cut mid-chunk; /demo/<file>: a demo data file; anything else: 404."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.path == "/ok":
            self._send(BODY, len(BODY))
        elif self.path == "/short":
            self._send(BODY[:1000], len(BODY))
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"%x\r\n" % len(BODY) + BODY[:500])
            self.close_connection = True
        elif self.path.startswith("/demo/"):
            data = (DEMO / self.path.removeprefix("/demo/")).read_bytes()
            self._send(data, len(data))
        else:
            self.send_error(404)

    def _send(self, data: bytes, length: int) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def assert_nothing_left(folder: Path) -> None:
    left = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    assert left == [], f"left behind: {left}"


def test_download_ok(server, tmp_path):
    dest = tmp_path / "data" / "examples.parquet"
    download(f"{server}/ok", dest, sha256=SHA, size=len(BODY))
    assert dest.read_bytes() == BODY
    assert sorted(p.name for p in dest.parent.iterdir()) == ["examples.parquet"]


@pytest.mark.parametrize("route, kwargs, message", [
    ("/short", {}, r"download of .*/short was interrupted: 1000 of 10240 bytes; the partial "
                   r"file was removed\. Run again\."),
    ("/chunked", {}, r"download of .*/chunked failed \(IncompleteRead.*\); nothing was written"),
    ("/ok", {"size": 10000}, r"download of .*/ok: size 10240 bytes differs from the expected "
                             r"10000; the file was removed\."),
    ("/ok", {"sha256": "0" * 64}, rf"download of .*/ok: sha256 {SHA} differs from the expected "
                                  rf"0{{64}}; the file was removed\."),
    ("/missing", {}, r"download of .*/missing failed \(HTTP Error 404: Not Found\); nothing was "
                     r"written to .*examples\.parquet\. Check the network or set data\.download: "
                     r"false"),
])
def test_bad_download_is_rejected_and_removed(server, tmp_path, route, kwargs, message):
    dest = tmp_path / "data" / "examples.parquet"
    with pytest.raises(ShopbenchError, match=message):
        download(f"{server}{route}", dest, **kwargs)
    assert_nothing_left(dest.parent)


def test_unreachable_server(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dest = tmp_path / "data" / "examples.parquet"
    with pytest.raises(ShopbenchError, match=r"download of .* failed \(.*Connection refused"):
        download(f"http://127.0.0.1:{port}/ok", dest, timeout=5)
    assert_nothing_left(dest.parent)


def test_failed_download_never_replaces_an_existing_file(server, tmp_path):
    dest = tmp_path / "examples.parquet"
    dest.write_bytes(b"previous")
    with pytest.raises(ShopbenchError):
        download(f"{server}/short", dest)
    assert dest.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["examples.parquet"]


def test_workflow_download_rule(server, tmp_path):
    """Through snakemake: a checksum mismatch fails the rule and leaves no data file; the
    matching checksum downloads it."""
    names = {w: f"shopping_queries_dataset_{w}.parquet" for w in ("examples", "products")}
    config = {
        "name": "download",
        "data": {"download": True,
                 **{w: str(tmp_path / "data" / n) for w, n in names.items()},
                 **{f"{w}_url": f"{server}/demo/{n}" for w, n in names.items()},
                 "examples_sha256": "0" * 64},
        "models": [{"name": "m", "kind": "bi-encoder", "path": "x"}],
        "approaches": [{"name": "bm25", "type": "bm25"}],
    }
    configfile = tmp_path / "download.yaml"
    configfile.write_text(yaml.safe_dump(config), encoding="utf-8")
    target = str(tmp_path / "data" / names["examples"])

    def run() -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "snakemake", target, "--cores", "1", "-s",
               str(REPO / "Snakefile"), "--directory", str(tmp_path), "--configfile",
               str(configfile)]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300)

    proc = run()
    assert proc.returncode != 0
    log = (tmp_path / "results" / "download" / "logs" / "download_examples.log").read_text()
    assert "differs from the expected 0000" in log
    assert_nothing_left(tmp_path / "data")

    real = hashlib.sha256((DEMO / names["examples"]).read_bytes()).hexdigest()
    config["data"]["examples_sha256"] = real
    configfile.write_text(yaml.safe_dump(config), encoding="utf-8")
    proc = run()
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert Path(target).read_bytes() == (DEMO / names["examples"]).read_bytes()
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [names["examples"]]
