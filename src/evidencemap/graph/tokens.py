"""Write tokens: who may change a living map. Created, revoked and listed with ``evidencemap token``.

A token is ``evm_<id>_<secret>``: ``id`` (8 hex digits) names the token's entry, ``secret`` is 32 random bytes
(URL-safe base64). The state folder's ``tokens.json`` keeps, per token, its map, its holder, when it was made and
revoked, and the SHA-256 of the secret, never the secret itself, which is shown once when the token is made. A
slow hash (scrypt) protects guessable passwords; a secret of 256 random bits cannot be guessed, so one SHA-256 is as
safe and keeps a write's check in microseconds. Hashes are compared with :func:`hmac.compare_digest`.

The file is rewritten whole (a temporary file, fsync, rename), so a crash leaves the old list or the new one; the
server reads it at each write, so a token made or revoked from the command line takes effect at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from evidencemap.errors import BadRequest, NotFound

TOKENS_FILE = "tokens.json"
TOKEN = re.compile(r"evm_([0-9a-f]{8})_([A-Za-z0-9_-]{43})")
HOLDER = re.compile(r"[^\x00-\x1f\x7f]{1,200}")


@dataclass(frozen=True)
class TokenEntry:
    id: str
    map: str
    holder: str
    created: str
    digest: str
    revoked: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked is None

    def listing(self) -> dict[str, object]:
        """What ``token list`` shows: everything but the digest."""
        return {"id": self.id, "map": self.map, "holder": self.holder, "created": self.created,
                "revoked": self.revoked}


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class TokenStore:
    """The tokens of a state folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / TOKENS_FILE

    def entries(self) -> list[TokenEntry]:
        if not self.path.exists():
            return []
        data = json.loads(self.path.read_text(encoding="utf-8"))
        return [TokenEntry(**item) for item in data.get("tokens", [])]

    def _save(self, entries: list[TokenEntry]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            json.dump({"tokens": [asdict(e) for e in entries]}, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, self.path)

    def create(self, map_slug: str, holder: str) -> tuple[TokenEntry, str]:
        """A new token for ``holder`` to write to ``map_slug``: its entry and the token itself (shown once)."""
        if not HOLDER.fullmatch(holder.strip()):
            raise BadRequest("A token's holder is a name of 1 to 200 printable characters (\"Review team: A. Smith\").")
        entries = self.entries()
        taken = {e.id for e in entries}
        token_id = secrets.token_hex(4)
        while token_id in taken:
            token_id = secrets.token_hex(4)
        secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")
        entry = TokenEntry(id=token_id, map=map_slug, holder=holder.strip(), created=_now(), digest=_digest(secret))
        self._save([*entries, entry])
        return entry, f"evm_{token_id}_{secret}"

    def revoke(self, token_id: str) -> TokenEntry:
        entries = self.entries()
        for i, entry in enumerate(entries):
            if entry.id == token_id:
                if entry.active:
                    entries[i] = replace(entry, revoked=_now())
                    self._save(entries)
                return entries[i]
        raise NotFound(f"No token {token_id!r}.", hint="`evidencemap token list` shows the tokens' ids.")

    def verify(self, token: str) -> TokenEntry | None:
        """The active entry ``token`` belongs to, or None (unknown, malformed, wrong secret or revoked)."""
        found = TOKEN.fullmatch(token.strip())
        if not found:
            return None
        token_id, secret = found.groups()
        for entry in self.entries():
            if entry.id == token_id and entry.active and hmac.compare_digest(entry.digest, _digest(secret)):
                return entry
        return None
