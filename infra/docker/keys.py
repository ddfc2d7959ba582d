"""The compose `keys` service: keep the master key directory and publish what each container may read.

    docker compose run --rm keys init                  # what `docker compose up` runs: create if missing, publish
    docker compose run --rm keys list                  # kids, no key material
    docker compose run --rm keys rotate [--keep N]     # new signing key; the previous public key stays accepted
    docker compose run --rm keys rotate --data         # new reporter-data master key (then restart intake)
    docker compose run --rm keys retire <kid>          # stop accepting tokens of an old signing key
    docker compose run --rm keys token issue --role ops --person ops-1    # print a token (needs the signing key)
    docker compose run --rm keys grafana-password      # print Grafana's generated admin password

Every command is `fangfei keys …` / `fangfei token …` (shared/fangfei/clients/auth_cli.py) run on the
master directory FANGFEI_AUTH_KEYS_DIR (a volume only this service mounts: it holds the signing key),
followed by a publish step that copies, atomically, file by file:

    <master>/tokens/*.pub.pem, active  ->  FANGFEI_KEYS_PUBLISH_DIR/tokens   (every service, read-only)
    <master>/data/*.key, active        ->  FANGFEI_KEYS_PUBLISH_DIR/data     (intake only, read-only)

and removes from the published folders what the master no longer has (a retired kid). Private
signing keys (*.key.pem) are never published. `init` also writes a random Grafana admin password to
FANGFEI_GRAFANA_ADMIN_PASSWORD_FILE when there is none (a volume only this service and Grafana mount).
Services reload verification keys by themselves (within 5 s for a new kid, 60 s for a retired one)."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from typing import Callable

from fangfei.auth.keys import ACTIVE, DATA, DATA_SUFFIX, PUB_SUFFIX, TOKENS
from fangfei.cli import main as fangfei

FANGFEI_COMMANDS = {"list", "rotate", "retire"}


def _copy(src: str, dst: str, mode: int) -> None:
    tmp = f"{dst}.tmp-{secrets.token_hex(4)}"
    shutil.copyfile(src, tmp)
    os.chmod(tmp, mode)
    os.replace(tmp, dst)


def _sync(src_dir: str, dst_dir: str, wanted: Callable[[str], bool], mode: int) -> list[str]:
    os.makedirs(dst_dir, exist_ok=True)
    names = sorted(n for n in (os.listdir(src_dir) if os.path.isdir(src_dir) else []) if wanted(n))
    # keys first, `active` last: a reader never sees an active kid whose key is not there yet
    for name in sorted(names, key=lambda n: n == ACTIVE):
        _copy(os.path.join(src_dir, name), os.path.join(dst_dir, name), mode)
    for name in os.listdir(dst_dir):
        if name not in names and not name.startswith("."):
            os.remove(os.path.join(dst_dir, name))
    return names


def publish(master: str, target: str) -> None:
    tokens = _sync(os.path.join(master, TOKENS), os.path.join(target, TOKENS),
                   lambda n: n.endswith(PUB_SUFFIX) or n == ACTIVE, 0o644)
    data = _sync(os.path.join(master, DATA), os.path.join(target, DATA),
                 lambda n: n.endswith(DATA_SUFFIX) or n == ACTIVE, 0o600)
    print(f"published {sum(n != ACTIVE for n in tokens)} verification key(s) to {target}/{TOKENS} "
          f"and {sum(n != ACTIVE for n in data)} data key(s) to {target}/{DATA}", flush=True)


def grafana_password(path: str) -> bool:
    """Create Grafana's admin password if there is none; True if it did."""
    if os.path.exists(path):
        return False
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp-{secrets.token_hex(4)}"
    with open(tmp, "w", encoding="ascii") as fh:
        fh.write(secrets.token_urlsafe(24) + "\n")
    # Grafana runs as another user (uid 472); only it and this service mount the volume.
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return True


def main(argv: list[str]) -> int:
    master = os.environ["FANGFEI_AUTH_KEYS_DIR"]
    target = os.environ["FANGFEI_KEYS_PUBLISH_DIR"]
    password_file = os.environ.get("FANGFEI_GRAFANA_ADMIN_PASSWORD_FILE", "")
    command = argv[0] if argv else "init"
    if command == "grafana-password":
        with open(password_file, encoding="ascii") as fh:
            print(fh.read().strip())
        return 0
    if command == "token":
        return fangfei(argv)
    if command == "init":
        code = fangfei(["keys", "init"])
        if password_file and grafana_password(password_file):
            print(f"generated Grafana's admin password in {password_file} "
                  "(read it with `docker compose run --rm keys grafana-password`)", flush=True)
    elif command in FANGFEI_COMMANDS:
        code = fangfei(["keys", *argv])
    else:
        print(__doc__, file=sys.stderr)
        return 64
    if code == 0:
        publish(master, target)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
