"""A private PostgreSQL cluster for one test run, one that demands a password.

The shared test server trusts every local connection, so it cannot prove that a
password typed by an agent or kept in the keyring really reaches the server. This
cluster listens on a free TCP port of 127.0.0.1 where every login needs SCRAM-SHA-256,
and on a Unix socket in its own temporary folder where the ``postgres`` superuser is
trusted (for setting up, never for the tests' sign-ins).

initdb refuses to run as root, so as root the server programs run as the ``postgres``
system user. Connections and statements are logged so a test can prove how each
sign-in was authenticated and that no password ever reached the server as text.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

SUPERUSER = "postgres"
_PROGRAMS = ("initdb", "pg_ctl", "postgres")


class ClusterUnavailable(Exception):
    """No PostgreSQL server programs here, or no way to run them: a reason to skip."""


@dataclass(frozen=True)
class PrivateCluster:
    root: Path  # the temporary folder: data/, server.log and the socket
    port: int
    bindir: Path

    @property
    def socket_dir(self) -> Path:
        return self.root

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def superuser_url(self, database: str = "postgres") -> URL:
        """The superuser over the Unix socket (trusted): for set-up only."""
        return URL.create(
            "postgresql+psycopg",
            username=SUPERUSER,
            database=database,
            query={"host": str(self.socket_dir), "port": str(self.port)},
        )

    def tcp_url(self, database: str, user: str | None = None) -> str:
        """A URL as a person types it: TCP, where the server demands a password."""
        who = f"{user}@" if user else ""
        return f"postgresql://{who}127.0.0.1:{self.port}/{database}"

    def server_log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")


def find_bindir() -> Path:
    """The folder with initdb and pg_ctl: ``pg_config --bindir``, else the newest
    ``/usr/lib/postgresql/*/bin``."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if out:
                candidates.append(Path(out))

    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.name
        return tuple(int(part) for part in name.split(".") if part.isdigit())

    candidates += [
        Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    ]
    for folder in candidates:
        if all((folder / program).is_file() for program in _PROGRAMS):
            return folder
    raise ClusterUnavailable(
        "No PostgreSQL server programs (initdb, pg_ctl) found via pg_config --bindir "
        "or in /usr/lib/postgresql/*/bin"
    )


def _as_server_user(command: list[str]) -> list[str]:
    """initdb and the server refuse root: run them as the postgres system user then."""
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", SUPERUSER, "--", *command]
    return ["su", SUPERUSER, "-s", "/bin/sh", "-c", shlex.join(command)]


def _run(command: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _as_server_user(command),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _configure(data: Path, root: Path, port: int) -> None:
    (data / "pg_hba.conf").write_text(
        "# Set-up over the socket is trusted; every TCP sign-in needs a password.\n"
        "local all all trust\n"
        "host all all 127.0.0.1/32 scram-sha-256\n",
        encoding="utf-8",
    )
    settings = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(port),
        "unix_socket_directories": f"'{root}'",
        "password_encryption": "'scram-sha-256'",
        "log_statement": "'all'",
        "log_connections": "on",
        "max_connections": "40",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }
    with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write("\n# agent-desk tests: a private, password-demanding server\n")
        conf.writelines(f"{key} = {value}\n" for key, value in settings.items())


# Runs beside the tests: if they die hard (a crash in Qt, SIGKILL) and cannot run their
# clean-up, it stops the server and removes its files. argv: tests' pid, folder, stop.
_WATCHDOG = """
import os, shutil, subprocess, sys, time
tests, root, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
while os.getppid() == tests:
    time.sleep(0.5)
subprocess.run(stop, cwd=root, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
shutil.rmtree(root, ignore_errors=True)
"""


def _start_watchdog(root: Path, stop: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(root), *stop],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl+C to the tests does not stop it first
    )


def _initdb(bindir: Path, data: Path, root: Path) -> None:
    options = ["-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]
    init = _run([str(bindir / "initdb"), "-D", str(data), *options, "--no-instructions"], root, 60)
    if init.returncode != 0:
        raise RuntimeError(f"initdb failed: {(init.stderr or init.stdout).strip()}")


def _start(bindir: Path, data: Path, root: Path) -> int:
    """Start the server on a free port; returns the port."""
    log_file = root / "server.log"
    for _attempt in range(3):  # a port taken between choosing and binding: try another
        port = _free_port()
        _configure(data, root, port)
        pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log_file)]
        start = _run([*pg_ctl, "-w", "-t", "30", "-s", "start"], root, 60)
        if start.returncode == 0:
            return port
        log = log_file.read_text(errors="replace") if log_file.exists() else ""
        if "could not bind" not in log and "in use" not in log:
            raise RuntimeError(f"pg_ctl start failed: {start.stderr.strip()}\n{log[-2000:]}")
    raise RuntimeError("pg_ctl start failed three times: no free port on 127.0.0.1")


@contextlib.contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """Start a fresh cluster; stop it and remove every file afterwards, even on failure."""
    bindir = find_bindir()
    if os.geteuid() == 0:
        try:
            server_user = pwd.getpwnam(SUPERUSER)
        except KeyError:
            raise ClusterUnavailable(
                f"Running as root but there is no '{SUPERUSER}' system user to run the server as"
            ) from None
    root = Path(tempfile.mkdtemp(prefix="agent-desk-pg-"))
    data = root / "data"
    stop = _as_server_user(
        [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "-s", "stop"]
    )
    watchdog = _start_watchdog(root, stop)
    try:
        if os.geteuid() == 0:
            os.chown(root, server_user.pw_uid, server_user.pw_gid)
        root.chmod(0o700)
        _initdb(bindir, data, root)
        port = _start(bindir, data, root)
        yield PrivateCluster(root, port, bindir)
    finally:
        if (data / "postmaster.pid").exists():  # also a half-started server
            subprocess.run(stop, cwd=root, capture_output=True, timeout=60, check=False)
        shutil.rmtree(root, ignore_errors=True)
        watchdog.terminate()
        watchdog.wait(timeout=10)
