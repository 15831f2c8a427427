"""The embedded default database: a SecantusDB server *process* (GPL-2.0, never imported)
on a free loopback port, its data under the data dir, so data survives restarts.

A second Fidus process on the same data dir (e.g. ``fidus tenant create`` while
``fidus serve`` runs) attaches to the running server instead of starting another."""

import contextlib
import importlib.util
import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

log = logging.getLogger(__name__)


class EmbeddedMongoError(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def mongo_answers(url: str, timeout_ms: int = 500) -> bool:
    client: MongoClient[dict[str, object]] = MongoClient(
        url, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


class EmbeddedMongo:
    """``port`` pins the port (a restart on the same data dir keeps its address);
    ``sync_on_commit`` fsyncs SecantusDB's journal on every commit: without it, writes
    acknowledged in the last few hundred milliseconds are lost when the server is killed."""

    def __init__(
        self,
        data_dir: Path,
        host: str = "127.0.0.1",
        *,
        port: int | None = None,
        sync_on_commit: bool = False,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.host = host
        self.port: int | None = port
        self._fixed_port = port
        self.sync_on_commit = sync_on_commit
        self._process: subprocess.Popen[bytes] | None = None
        self._state_file = self.data_dir / "secantus.json"

    @property
    def url(self) -> str:
        if self.port is None:
            raise EmbeddedMongoError("embedded MongoDB is not running")
        return f"mongodb://{self.host}:{self.port}/?directConnection=true"

    @property
    def owned(self) -> bool:
        return self._process is not None

    def start(self, timeout: float = 60.0) -> str:
        if importlib.util.find_spec("secantus") is None:
            raise EmbeddedMongoError(
                "No MONGODB_URL is set and SecantusDB is not installed: "
                "install the embedded extra (pip install 'fidus[embedded]') or set MONGODB_URL"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        attached = self._attach_to_running()
        if attached:
            return attached
        self.port = self._fixed_port or free_port(self.host)
        config = self.data_dir / "secantusd.toml"
        config.touch()
        log_file = (self.data_dir / "secantus.log").open("ab")
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "secantus",
                "--config",
                str(config),
                "--host",
                self.host,
                "--port",
                str(self.port),
                "--storage-path",
                str(self.data_dir / "db"),
                "--log-level",
                "WARNING",
                *(["--sync-on-commit"] if self.sync_on_commit else []),
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log_file.close()
        deadline = time.monotonic() + timeout
        while not mongo_answers(self.url):
            if self._process.poll() is not None:
                raise EmbeddedMongoError(
                    f"SecantusDB exited with {self._process.returncode}; "
                    f"see {self.data_dir / 'secantus.log'}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise EmbeddedMongoError(f"SecantusDB did not answer within {timeout:.0f}s")
            time.sleep(0.1)
        self._state_file.write_text(json.dumps({"pid": self._process.pid, "port": self.port}))
        log.info("embedded SecantusDB started", extra={"port": self.port, "pid": self._process.pid})
        return self.url

    def _attach_to_running(self) -> str | None:
        try:
            state = json.loads(self._state_file.read_text())
            pid, port = int(state["pid"]), int(state["port"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not _pid_alive(pid):
            return None
        self.port = port
        if mongo_answers(self.url):
            log.info("attached to running embedded SecantusDB", extra={"port": port})
            return self.url
        self.port = self._fixed_port
        return None

    def stop(self, timeout: float = 15.0) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
        with contextlib.suppress(OSError):
            self._state_file.unlink()
        log.info("embedded SecantusDB stopped")
