"""Clients generated from spec/openapi.yaml by widely used generators nobody here wrote, driven
against a running mock with no hand-patching: openapi-python-client (PyPI), and
openapi-typescript's types with openapi-fetch (npm).

    python interop/clients.py        (make interop installs the generators first)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from prism import free_port, wait_for

from rotor_leads import spec

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
NODE_BIN = CACHE / "node_modules" / ".bin"
PY_VENV = CACHE / "python-client-venv"
VENV_BIN = Path(sys.executable).parent


def _run(*args: str | Path, cwd: Path = HERE, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600, env=env, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, args))} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return done.stdout


def python_client(base: str) -> None:
    """openapi-python-client, in a virtual environment of its own (uv), then the driver there."""
    python = PY_VENV / "bin" / "python"
    if not python.exists():
        _run(VENV_BIN / "uv", "venv", "--quiet", PY_VENV, "--python", sys.executable)
    env = {**os.environ, "VIRTUAL_ENV": str(PY_VENV)}
    _run(VENV_BIN / "uv", "pip", "install", "--quiet", "openapi-python-client>=0.29,<0.30", env=env)
    out = CACHE / "python-client" / "rotor_leads_client"
    shutil.rmtree(out, ignore_errors=True)
    _run(
        PY_VENV / "bin" / "openapi-python-client",
        "generate",
        "--path",
        spec.document_path(),
        "--output-path",
        out,
        "--meta",
        "none",
    )
    version = _run(PY_VENV / "bin" / "openapi-python-client", "--version").strip()
    print(f"3. The Python client {version} generated, driven against the mock:")
    print(_run(python, HERE / "drive_python.py", base, env={**env, "PYTHONPATH": str(out.parent)}), end="")


def typescript_client(base: str) -> None:
    """openapi-typescript's types and openapi-fetch, compiled with tsc, run with node."""
    work = CACHE / "ts"
    work.mkdir(parents=True, exist_ok=True)
    _run(NODE_BIN / "openapi-typescript", spec.document_path(), "-o", work / "schema.d.ts")
    shutil.copy(HERE / "drive_typescript.ts", work / "drive.ts")
    (work / "package.json").write_text('{"type": "module"}\n')
    _run(
        NODE_BIN / "tsc",
        "--strict",
        "--target",
        "es2022",
        "--module",
        "nodenext",
        "--moduleResolution",
        "nodenext",
        "--skipLibCheck",
        "--outDir",
        work / "out",
        work / "drive.ts",
        cwd=CACHE,
    )
    (work / "out" / "package.json").write_text('{"type": "module"}\n')
    print("4. The TypeScript client (openapi-typescript types + openapi-fetch), tsc --strict, driven:")
    print(_run("node", work / "out" / "drive.js", base, cwd=CACHE), end="")


def main() -> int:
    if not (NODE_BIN / "openapi-typescript").exists():
        raise SystemExit("the generators are not installed: run `make interop`")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (CACHE / "mock.log").open("wb")
    mock = subprocess.Popen(
        [VENV_BIN / "rotor-mock", "serve", "--port", str(port), "--leads", "250"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"{base}/__admin/health", mock)  # type: ignore[arg-type]
        python_client(base)
        typescript_client(base)
    finally:
        mock.terminate()
        mock.wait(timeout=15)
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
