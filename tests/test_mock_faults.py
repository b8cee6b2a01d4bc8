"""The mock under faults and attack, as users run it (``rotor-mock serve`` in a process of its
own on 127.0.0.1): dead workers, slow clients, data changes under load, damaged and missing
files, a full disk, pages on other origins. Bounded in time and count."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from rotor_leads import spec
from rotor_leads.mock_server.engine._data import generate_leads
from tests import loopback
from tests.served import Mock, command, serve, stop, wait_until_healthy
from tests.servers import free_port

KEY = {"x-api-key": "demo-key-unlimited"}
JSON = {"Content-Type": "application/json"}


def _keys_file(tmp: Path, limit: int) -> Path:
    path = tmp / "keys.json"
    path.write_text(
        json.dumps({"limited-key-0123456789": {"daily_limit": limit}, "free-key-0123456789": None})
    )
    return path


def _fixtures(tmp: Path, count: int, *, name: str = "leads.json") -> Path:
    path = tmp / name
    path.write_bytes(orjson.dumps(list(generate_leads(count, seed=8))))
    return path


# -- a worker that dies is replaced, and quotas stay exact ----------------------------------------


def test_worker_killed_under_load__replaced_and_quota_exact(tmp_path: Path) -> None:
    limit, sent = 400, 700
    with serve(tmp_path, "--workers", "2", "--keys", str(_keys_file(tmp_path, limit))) as mock:
        first = mock.workers()
        assert len(first) == 2
        outcomes: list[str] = []
        errors: Counter[str] = Counter()  # what the lost requests met, for a failure's message
        remaining: list[int] = []
        lock = threading.Lock()
        counter = iter(range(sent))

        def client() -> None:
            with loopback.client(timeout=10) as http:
                for n in counter:
                    if n == 150:
                        os.kill(first[0], signal.SIGKILL)
                    try:
                        answer = http.get(
                            f"{mock.url}/leads?limit=1", headers={"x-api-key": "limited-key-0123456789"}
                        )
                    except httpx.TransportError as exc:
                        with lock:
                            outcomes.append("lost")
                            errors[type(exc).__name__] += 1
                        continue
                    with lock:
                        outcomes.append(str(answer.status_code))
                        if answer.status_code == 200:
                            remaining.append(int(answer.headers["X-RateLimit-Remaining"]))

        threads = [threading.Thread(target=client) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        counts = Counter(outcomes)
        assert set(counts) <= {"200", "429", "lost"}, counts
        assert counts["200"] <= limit  # never a request beyond the limit
        assert counts["200"] + counts["lost"] >= limit  # none lost but those the dead worker held
        assert counts["lost"] <= 8, (errors, mock.output()[-3000:])
        assert len(remaining) == len(set(remaining))  # X-RateLimit-Remaining never repeats
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (len(mock.workers()) != 2 or first[0] in mock.workers()):
            time.sleep(0.2)
        assert len(mock.workers()) == 2 and first[0] not in mock.workers()  # replaced
        assert mock.process.poll() is None
        quota = next(
            q
            for q in loopback.get(f"{mock.url}/__admin/quotas", timeout=5).json()["data"]
            if q["limit"] == limit
        )
        assert quota["used"] == limit
        free = loopback.get(f"{mock.url}/leads", headers={"x-api-key": "free-key-0123456789"}, timeout=5)
        assert free.status_code == 200


def test_worker_killed_while_starting__the_server_comes_up(tmp_path: Path) -> None:
    with serve(tmp_path, "--workers", "2", healthy=False) as mock:
        deadline = time.monotonic() + 20
        while not mock.workers() and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(mock.workers()[0], signal.SIGKILL)
        wait_until_healthy(mock)
        deadline = time.monotonic() + 20
        while len(mock.workers()) != 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(mock.workers()) == 2
        answers = [loopback.get(f"{mock.url}/leads", headers=KEY, timeout=5).status_code for _ in range(20)]
        assert answers == [200] * 20


def test_remaining__strictly_decreasing_across_four_workers(tmp_path: Path) -> None:
    limit = 300
    with serve(tmp_path, "--workers", "4", "--keys", str(_keys_file(tmp_path, limit))) as mock:
        with loopback.client(timeout=10, limits=httpx.Limits(max_connections=16)) as http:

            def call(_: int) -> int | None:
                answer = http.get(
                    f"{mock.url}/leads?limit=1", headers={"x-api-key": "limited-key-0123456789"}
                )
                return int(answer.headers["X-RateLimit-Remaining"]) if answer.status_code == 200 else None

            with ThreadPoolExecutor(16) as pool:
                values = [v for v in pool.map(call, range(limit + 40)) if v is not None]
    assert sorted(values) == list(range(limit))


# -- data changes under load: old data or new, never an error; the scenario survives -------------


def test_fixtures_and_reset_under_load__every_answer_whole(tmp_path: Path) -> None:
    fixtures = list(generate_leads(90, seed=8))
    totals = {
        len([lead for lead in leads if not spec.is_archived(lead)])
        for leads in (fixtures, list(generate_leads(300, seed=1)))
    }
    stop = threading.Event()
    problems: list[str] = []
    answered = Counter[int]()
    with serve(tmp_path, "--workers", "2", "--latency", "5-20") as mock:

        def reader() -> None:
            with loopback.client(timeout=10) as http:
                while not stop.is_set():
                    answer = http.get(f"{mock.url}/leads?limit=40&page=2", headers=KEY)
                    answered[answer.status_code] += 1
                    body = answer.json()
                    pagination = body.get("pagination", {})
                    expected = max(0, min(40, pagination.get("total", -1) - 40))
                    if (
                        answer.status_code != 200
                        or pagination.get("total") not in totals
                        or len(body["data"]) != expected
                    ):
                        problems.append(f"{answer.status_code} {answer.text[:200]}")

        def writer(n: int) -> None:
            with loopback.client(timeout=30) as http:
                while not stop.is_set():
                    if n % 2:
                        http.post(
                            f"{mock.url}/__admin/fixtures", content=orjson.dumps(fixtures), headers=JSON
                        )
                    else:
                        http.post(f"{mock.url}/__admin/reset?only=data", content=b"{}", headers=JSON)
                    n += 1

        threads = [threading.Thread(target=reader) for _ in range(16)]
        threads += [threading.Thread(target=writer, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(3)
        stop.set()
        for thread in threads:
            thread.join(30)
    assert problems == []
    assert answered[200] > 200


def test_scenario__survives_a_data_change_in_every_worker(tmp_path: Path) -> None:
    leads = orjson.dumps(list(generate_leads(20, seed=2)))
    with serve(tmp_path, "--workers", "2") as mock, loopback.client(timeout=10) as http:
        for _ in range(20):
            assert (
                http.put(f"{mock.url}/__admin/scenario", content=b'{"code": 429}', headers=JSON).status_code
                == 200
            )
            assert http.post(f"{mock.url}/__admin/fixtures", content=leads, headers=JSON).status_code == 200
            statuses = {http.get(f"{mock.url}/leads", headers=KEY).status_code for _ in range(8)}
            assert statuses == {429}
            assert http.get(f"{mock.url}/__admin/health").json()["scenario"] == 429
            assert http.delete(f"{mock.url}/__admin/scenario").status_code == 200


# -- slow clients cannot starve the others ---------------------------------------------------------


def _slow_upload(url: str, seconds: float, results: list[str]) -> None:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=seconds + 30) as conn:
        conn.sendall(
            b"POST /__admin/fixtures HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000\r\n\r\n["
        )
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                conn.sendall(b" ")
                time.sleep(0.25)
        except OSError:
            pass
        try:
            results.append(conn.recv(4096).decode(errors="replace"))
        except OSError as exc:
            results.append(f"closed: {exc}")


def test_slow_bodies_and_long_delays__a_normal_request_still_answers_and_slow_bodies_time_out(
    tmp_path: Path,
) -> None:
    with serve(tmp_path, "--body-timeout", "1.5") as mock:
        uploads: list[str] = []
        slow = [threading.Thread(target=_slow_upload, args=(mock.url, 8, uploads)) for _ in range(10)]
        delayed = [
            threading.Thread(
                target=lambda: loopback.get(
                    f"{mock.url}/leads", headers={**KEY, "Prefer": "delay=2500"}, timeout=30
                )
            )
            for _ in range(10)
        ]
        for thread in slow + delayed:
            thread.start()
        time.sleep(0.5)
        started = time.monotonic()
        answer = loopback.get(f"{mock.url}/leads?limit=1", headers=KEY, timeout=10)
        waited = time.monotonic() - started
        for thread in slow:
            thread.join(30)
        assert answer.status_code == 200 and waited < 2, waited
        assert len(uploads) == 10 and all(" 408 " in u and "REQUEST_TIMEOUT" in u for u in uploads), uploads[
            :2
        ]
        assert loopback.get(f"{mock.url}/__admin/health", timeout=5).json()["data"] == "seeded"
        for thread in delayed:
            thread.join(30)


def test_huge_body__is_a_413_before_it_is_read(tmp_path: Path) -> None:
    with serve(tmp_path) as mock:
        headers = {**JSON, "Content-Length": str(200 << 20)}
        host, port = mock.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            conn.sendall(f"POST /__admin/fixtures HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n".encode())
            reply = conn.recv(4096).decode()
        assert " 413 " in reply and "PAYLOAD_TOO_LARGE" in reply


# -- bad input: one clear line or a JSON error, never a traceback ---------------------------------


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"x": value}
    return value


def test_deep_fixtures__posted_is_a_400_naming_record_and_field(tmp_path: Path) -> None:
    lead = {"id": "a", "created_at": "2026-01-01T00:00:00Z", "extra": _nested(253)}
    with serve(tmp_path) as mock:
        answer = loopback.post(
            f"{mock.url}/__admin/fixtures", content=json.dumps([lead]), headers=JSON, timeout=10
        )
    assert answer.status_code == 400
    assert "record 0, field extra" in answer.json()["message"]


def _start(tmp: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command("--port", str(free_port()), *args),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TMPDIR": str(tmp), **(env or {})},
        check=False,
    )


def _refused(result: subprocess.CompletedProcess[str], says: str, tmp: Path) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    assert "Rotor mock:" not in output  # refused before the banner
    errors = [line for line in output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and says in errors[0], output
    assert not list(tmp.glob("rotor-mock-*")), "a failed start left its state behind"


@pytest.mark.parametrize(
    ("setup", "says"),
    [
        (
            lambda t: [
                "--fixtures",
                str(
                    _write(
                        t / "deep.json",
                        [{"id": "a", "created_at": "2026-01-01T00:00:00Z", "x": _nested(253)}],
                    )
                ),
            ],
            "record 0, field x",
        ),
        (
            lambda t: ["--db", str(_write(t / "notes.txt", "my notes\n" * 50))],
            "is not a database this mock built",
        ),
        (lambda t: ["--db", str(t)], "is a directory"),
        (lambda t: ["--db", str(t / "missing" / "x.sqlite")], "does not exist"),
        (lambda t: ["--db", "/sys/rotor-mock-test.sqlite"], "cannot use /sys/rotor-mock-test.sqlite"),
        (lambda t: ["--admin-token", "short"], "at least 16"),
    ],
    ids=[
        "deep_fixtures",
        "not_a_database",
        "db_is_a_directory",
        "db_directory_missing",
        "db_read_only",
        "short_token",
    ],
)
def test_bad_start__one_line_and_nothing_left(tmp_path: Path, setup: Any, says: str) -> None:
    result = _start(tmp_path, *setup(tmp_path))
    _refused(result, says, tmp_path)


def _write(path: Path, content: Any) -> Path:
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def _in_a_full_filesystem(tmp: Path, size_kb: int, script: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (sh) with ``$FULL`` a tmpfs of ``size_kb`` KiB of its own (a mount namespace)."""
    full = tmp / "full"
    full.mkdir()
    wrapped = f'mount -t tmpfs -o size={size_kb}k tmpfs "$FULL" && {script}'
    return subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", wrapped],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FULL": str(full)},
        check=False,
    )


def test_full_disk__building_a_db_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    serve_cmd = " ".join(
        command("--port", str(free_port()), "--leads", "3000", "--db", '"$FULL/leads.sqlite"')
    )
    result = _in_a_full_filesystem(tmp_path, 256, f'{serve_cmd}; echo "exit=$?"; ls -A "$FULL"')
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert "cannot build" in result.stderr and "disk is full" in result.stderr, output
    assert result.stdout.strip().endswith("exit=1"), output  # and `ls` found nothing left


def test_full_disk__no_room_for_the_state_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "leads.sqlite"
    with serve(tmp_path, "--db", str(db), "--leads", "30"):
        pass
    shutil.rmtree(tmp_path / "leads.sqlite.state")
    (tmp_path / "leads.sqlite.state").symlink_to(tmp_path / "full")  # the state on a full disk
    serve_cmd = " ".join(command("--port", str(free_port()), "--leads", "30", "--db", str(db)))
    filler = 'dd if=/dev/zero of="$FULL/filler" bs=1k count=64 2>/dev/null; '
    result = _in_a_full_filesystem(tmp_path, 64, f"{filler}{serve_cmd}; echo exit=$?")
    output = result.stdout + result.stderr
    assert "Traceback" not in output and result.stdout.strip().endswith("exit=1"), output
    assert "Error: cannot keep the mock's state in" in result.stderr and "disk is full" in result.stderr, (
        output
    )


FILL_WHILE_RUNNING = """
import os, signal, subprocess, sys, time
import httpx
http = httpx.Client(verify=False)  # plain HTTP: no TLS context to build
full, port = os.environ["FULL"], sys.argv[1]
mock = subprocess.Popen(sys.argv[2:], env={**os.environ, "TMPDIR": full},
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
url = f"http://127.0.0.1:{port}"
for _ in range(300):
    try:
        if http.get(url + "/__admin/health", timeout=1).status_code == 200:
            break
    except httpx.TransportError:
        time.sleep(0.1)
with open(os.path.join(full, "filler"), "wb") as filler:
    try:
        while True:
            filler.write(bytes(1 << 16))
            filler.flush()
    except OSError:
        pass
json = {"Content-Type": "application/json"}
scenario = http.put(url + "/__admin/scenario", content=b'{"code": 500}', headers=json, timeout=10)
lead = b'[{"id": "a", "created_at": "2026-01-01T00:00:00Z"}]'
fixtures = http.post(url + "/__admin/fixtures", content=lead, headers=json, timeout=10)
key = {"x-api-key": "demo-key"}
leads = [http.get(url + "/leads", headers=key, timeout=10).status_code for _ in range(20)]
print("scenario", scenario.status_code, scenario.headers.get("content-type"), scenario.text)
print("fixtures", fixtures.status_code, fixtures.headers.get("content-type"))
print("leads", sorted(set(leads)))
print("alive", mock.poll() is None)
mock.terminate()
try:
    print("stderr", mock.communicate(timeout=20)[1].decode(errors="replace").count("Traceback"))
finally:  # nothing left running, whatever happened
    try:
        os.killpg(mock.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
"""


def test_full_disk__filling_while_running_is_a_json_error_and_leads_go_on(tmp_path: Path) -> None:
    script = tmp_path / "fill.py"
    script.write_text(FILL_WHILE_RUNNING)
    port = free_port()
    run = " ".join([sys.executable, str(script), str(port), *command("--port", str(port))])
    result = _in_a_full_filesystem(tmp_path, 4096, run)
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    assert lines.get("scenario", "").startswith("507 application/json"), result.stdout + result.stderr
    assert "disk is full" in lines["scenario"]
    assert lines["fixtures"] == "507 application/json"
    assert lines["leads"] == "[200]"  # counted in words written at start: no page fault
    assert lines["alive"] == "True"
    assert lines["stderr"] == "0"


# -- damaged database files are never served ------------------------------------------------------


def test_damaged_db__built_again_on_restart_and_every_page_whole(tmp_path: Path) -> None:
    db = tmp_path / "leads.sqlite"
    with serve(tmp_path, "--db", str(db), "--leads", "400"):
        pass
    data = bytearray(db.read_bytes())
    at = data.find(b'"email":"') + 12
    data[at] ^= 0x01
    db.write_bytes(bytes(data))
    with serve(tmp_path, "--db", str(db), "--leads", "400") as mock:
        assert "it is damaged" in mock.output()
        seen = 0
        for page in range(1, 5):
            answer = loopback.get(
                f"{mock.url}/leads?archived=true&limit=100&page={page}", headers=KEY, timeout=10
            )
            assert answer.status_code == 200
            seen += len(answer.json()["data"])
        assert seen == 400


# -- one data file, one owner -----------------------------------------------------------------------


def _seed_of(mock: Mock) -> int:
    return int(loopback.get(f"{mock.url}/__admin/health", timeout=5).json()["seed"])


def _file_state(db: Path) -> tuple[int, int, bytes]:
    stat = db.stat()
    return stat.st_ino, stat.st_mtime_ns, db.with_name(db.name + ".check").read_bytes()


def test_db__a_second_server_on_the_file_is_refused_naming_the_first(tmp_path: Path) -> None:
    db = tmp_path / "leads.sqlite"
    with serve(tmp_path, "--db", str(db), "--leads", "50", "--seed", "1", "--workers", "2") as first:
        before = _file_state(db)
        second = subprocess.run(
            command("--port", str(free_port()), "--db", str(db), "--leads", "60", "--seed", "7"),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1, second.stdout + second.stderr
        pid = first.process.pid
        assert second.stderr.splitlines() == [
            f"Error: {db} is in use by another rotor-mock serve (pid {pid}, {first.url}, since"
            f" {second.stderr.split('since ')[1].split(')')[0]}): give --db another path, or stop that server"
        ]
        # A worker replaced meanwhile opens the file as it is: built by the first, not again.
        worker = first.workers()[0]
        os.kill(worker, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (len(first.workers()) != 2 or worker in first.workers()):
            time.sleep(0.1)
        assert len(first.workers()) == 2
        for _ in range(6):
            answer = loopback.get(f"{first.url}/leads?archived=true&limit=1000", headers=KEY, timeout=10)
            assert answer.status_code == 200 and answer.json()["pagination"]["total"] == 50
        assert _seed_of(first) == 1 and _file_state(db) == before


def test_db__two_servers_started_at_once_one_serves_the_other_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "leads.sqlite"
    mocks = []
    for seed in (1, 7):
        port, log = free_port(), tmp_path / f"mock-{seed}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command("--port", str(port), "--db", str(db), "--leads", "40", "--seed", str(seed)),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        mocks.append(Mock(f"http://127.0.0.1:{port}", process, log))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and all(m.process.poll() is None for m in mocks):
            time.sleep(0.1)
        (refused,) = [m for m in mocks if m.process.poll() is not None]
        assert "is in use by another rotor-mock serve" in refused.output()
        (serving,) = [m for m in mocks if m is not refused]
        wait_until_healthy(serving)
        answer = loopback.get(f"{serving.url}/leads?archived=true", headers=KEY, timeout=10)
        assert answer.json()["pagination"]["total"] == 40
    finally:
        for mock in mocks:
            stop(mock)


def test_db__released_when_its_server_is_killed(tmp_path: Path) -> None:
    db = tmp_path / "leads.sqlite"
    with serve(tmp_path, "--db", str(db), "--leads", "30", "--seed", "1") as first:
        os.killpg(first.process.pid, signal.SIGKILL)  # no clean-up of any kind
        first.process.wait(timeout=10)
    with serve(tmp_path, "--db", str(db), "--leads", "30", "--seed", "7") as second:
        assert _seed_of(second) == 7
        assert "Building 30 leads" in second.output()  # it held other data: built again, by its owner
    with serve(tmp_path, "--db", str(db), "--leads", "30", "--seed", "7") as third:
        assert "Reusing 30 leads from" in third.output() and "Building" not in third.output()


def test_quotas__kept_across_a_restart_beside_the_db(tmp_path: Path) -> None:
    db, keys = tmp_path / "leads.sqlite", _keys_file(tmp_path, 50)
    headers = {"x-api-key": "limited-key-0123456789"}
    with serve(tmp_path, "--db", str(db), "--leads", "30", "--keys", str(keys)) as mock:
        for _ in range(3):
            loopback.get(f"{mock.url}/leads", headers=headers, timeout=5)
    with serve(tmp_path, "--db", str(db), "--leads", "30", "--keys", str(keys)) as mock:
        assert (
            loopback.get(f"{mock.url}/leads", headers=headers, timeout=5).headers["X-RateLimit-Remaining"]
            == "46"
        )


# -- the admin API is no open door -----------------------------------------------------------------


def test_admin__a_page_on_another_origin_changes_nothing(tmp_path: Path) -> None:
    with serve(tmp_path) as mock:
        before = loopback.get(f"{mock.url}/__admin/health", timeout=5).json()
        for method, path, body in (
            ("POST", "/__admin/fixtures", b'[{"id": "x", "created_at": "2026-01-01T00:00:00Z"}]'),
            ("POST", "/__admin/reset", b""),
            ("GET", "/__admin/requests", b""),
        ):
            answer = loopback.request(
                method,
                f"{mock.url}{path}",
                content=body,
                headers={"Origin": "http://evil.example", "Content-Type": "text/plain"},
                timeout=5,
            )
            assert answer.status_code == 403 and "access-control-allow-origin" not in answer.headers
        assert loopback.get(f"{mock.url}/__admin/health", timeout=5).json() == before


def test_admin__beyond_loopback_a_token_is_required_and_printed(tmp_path: Path) -> None:
    with serve(tmp_path, "--host", "0.0.0.0", healthy=False) as mock:
        deadline = time.monotonic() + 30
        while "#token=" not in mock.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        token = mock.output().split("#token=")[1].split()[0]
        wait_until_healthy(mock, headers={"X-Admin-Token": token})
        assert "anyone who can reach this machine" in mock.output()
        assert loopback.get(f"{mock.url}/__admin/health", timeout=5).status_code == 401
        quotas = loopback.get(f"{mock.url}/__admin/quotas", headers={"X-Admin-Token": token}, timeout=5)
        assert quotas.status_code == 200
        assert loopback.get(f"{mock.url}/leads", headers=KEY, timeout=5).status_code == 200


# -- bytes as clients send them --------------------------------------------------------------------


def _raw_get(url: str, target: bytes, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    """GET ``target`` as these bytes, not percent-encoded (as curl sends UTF-8): status, content
    type, body."""
    host, port = url.removeprefix("http://").split(":")
    head = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items()).encode()
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(
            b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + head + b"\r\n"
        )
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    head_bytes, _, body = reply.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    kind = next(
        (line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("content-type:")), ""
    )
    return int(lines[0].split()[1]), kind, body


UTF8_LEADS = [
    {"id": "u1", "created_at": "2026-11-30T09:00:00Z", "name": "José Núñez", "email": "jose@example.com"},
    {"id": "u2", "created_at": "2026-11-29T09:00:00Z", "name": "王 你好", "email": "wang@example.com"},
    {"id": "u3", "created_at": "2026-11-28T09:00:00Z", "name": "Ann Lee", "email": "ann@example.com"},
]


def test_raw_utf8__read_as_utf8_anywhere_and_found_as_its_encoded_form(tmp_path: Path) -> None:
    fixtures = _write(tmp_path / "utf8.json", UTF8_LEADS)
    with serve(tmp_path, "--fixtures", str(fixtures)) as mock:
        for target in ("/docs?q=你好", "/__admin/health?q=你好", "/leads/?q=你好", "/l你好?q=José"):
            status, kind, _ = _raw_get(mock.url, target.encode())
            assert status < 500 and (kind.startswith("text/html") or kind == "application/json"), target
        for term in ("José", "你好", "Núñez"):
            raw = _raw_get(mock.url, f"/leads?search={term}".encode(), KEY)
            encoded = loopback.get(f"{mock.url}/leads", params={"search": term}, headers=KEY, timeout=10)
            assert raw[0] == 200 and orjson.loads(raw[2]) == encoded.json(), term
            assert encoded.json()["pagination"]["total"] == 1, term
        requests = loopback.get(f"{mock.url}/__admin/requests", timeout=10).json()["data"]
        assert "search=José" in [r["query"] for r in requests]
        # Bytes that are not UTF-8: percent-encoded, the mock's 400 naming the parameter; raw,
        # granian's own empty 400 before the mock sees the request (a line it cannot read).
        status, kind, body = _raw_get(mock.url, b"/leads?search=%FF%FE", KEY)
        assert (status, kind) == (400, "application/json")
        assert orjson.loads(body)["message"] == "Invalid value for 'search': it is not valid UTF-8."
        assert _raw_get(mock.url, b"/leads?search=\xff\xfe", KEY)[0] == 400


# -- small things a client might send ---------------------------------------------------------------


@pytest.fixture(scope="session")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mock]:
    with serve(tmp_path_factory.mktemp("mock")) as running:
        yield running


@pytest.mark.parametrize(
    ("method", "headers", "status"),
    [
        ("TRACE", KEY, 405),
        ("GET", {"x_api_key": "demo-key-unlimited"}, 401),
        ("GET", {"X-API-KEY": "demo-key-unlimited"}, 200),
    ],
)
def test_request__small_oddities(mock: Mock, method: str, headers: dict[str, Any], status: int) -> None:
    answer = loopback.request(method, f"{mock.url}/leads", headers=headers, timeout=5)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json"
    if status == 405:
        assert answer.headers["allow"] == "GET, OPTIONS"
