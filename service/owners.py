"""Who is calling: owners and their bearer tokens, from ``--token`` or a ``--tokens`` file.

A tokens file holds one ``owner token`` pair per line, and an optional third word ``admin``; a word that
starts with ``#`` begins a comment, to the end of its line::

    # owner   token                             role
    alice     4f1c0f6ad2b0e8c3d7a9f1e2b3c4d5e6
    bob       9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b
    ops       0a1b2c3d4e5f60718293a4b5c6d7e8f9  admin

An owner may have several tokens (to rotate one); a token names one owner. Every job belongs to the owner
whose token submitted it, and a caller sees only its own jobs, except an admin, who sees all. A single
``--token`` is one owner, :data:`DEFAULT_OWNER`; so is every caller of a service without tokens (on
loopback only), and so are the jobs of a store written before owners existed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from catterms.errors import CattermsError

#: The one owner of a service with a single ``--token`` or none.
DEFAULT_OWNER = "default"

#: Owner names: short, and safe to print in logs and messages.
OWNER_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")

log = logging.getLogger("catterms.service")


class TokensFileError(CattermsError, ValueError):
    """A tokens file that cannot be used; the message names the file, the line and what is wrong."""


@dataclass(frozen=True)
class Caller:
    """The owner a request speaks for."""

    owner: str
    admin: bool = False

    def sees(self, owner: str) -> bool:
        """Whether this caller may see (and cancel) a job of ``owner``."""
        return self.admin or owner == self.owner


#: The caller of a service without tokens.
ANONYMOUS = Caller(DEFAULT_OWNER)


def _digest(token: str | bytes) -> bytes:
    return hashlib.sha256(token.encode() if isinstance(token, str) else token).digest()


def parse(text: str, source: str = "the tokens file") -> dict[bytes, Caller]:
    """``{sha256(token): caller}`` from a tokens file's text; :class:`TokensFileError` names the bad line."""
    table: dict[bytes, Caller] = {}
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        words = words[:next((i for i, w in enumerate(words) if w.startswith("#")), len(words))]
        if not words:
            continue
        where = f"{source}, line {number}"
        if len(words) not in (2, 3) or (len(words) == 3 and words[2] != "admin"):
            raise TokensFileError(f"{where}: expected 'owner token' or 'owner token admin', got {len(words)} words")
        owner, token = words[:2]
        if not OWNER_NAME.fullmatch(owner):
            raise TokensFileError(f"{where}: owner names are 1 to 64 letters, digits and _ . @ -, got {owner!r}")
        if not (token.isascii() and token.isprintable()):
            raise TokensFileError(f"{where}: a token must be printable ASCII (it travels in an HTTP header)")
        digest = _digest(token)
        if digest in table:
            raise TokensFileError(f"{where}: this token is already {table[digest].owner!r}'s; a token names one owner")
        table[digest] = Caller(owner, len(words) == 3)
    if not table:
        raise TokensFileError(f"{source} holds no tokens: nobody could use the service")
    return table


class Tokens:
    """The tokens a service accepts; :meth:`reload` replaces them from their file, or keeps them."""

    def __init__(self, table: dict[bytes, Caller], path: Path | None = None) -> None:
        self.table, self.path = table, path

    @classmethod
    def single(cls, token: str) -> Tokens:
        """``--token``: one token, of :data:`DEFAULT_OWNER`."""
        return cls({_digest(token): ANONYMOUS})

    @classmethod
    def from_file(cls, path: str | Path) -> Tokens:
        path = Path(path)
        return cls(cls._read(path), path)

    @staticmethod
    def _read(path: Path) -> dict[bytes, Caller]:
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as e:
            raise TokensFileError(f"cannot read the tokens file {path}: {e}") from None
        return parse(text, str(path))

    def reload(self) -> bool:
        """Read the file again (on SIGHUP); a file that cannot be used keeps the tokens there were, and is
        logged with the reason. Returns whether the new tokens are in force."""
        if self.path is None:
            return False
        try:
            table = self._read(self.path)
        except TokensFileError as e:
            log.error("tokens not reloaded, the old ones stay in force: %s", e)
            return False
        self.table = table  # one assignment: a request sees the old table or the new one, never a mix
        log.warning("tokens reloaded from %s: %d tokens, %d owners", self.path, len(table),
                    len({c.owner for c in table.values()}))
        return True

    def caller(self, authorization: bytes) -> Caller | None:
        """The caller an ``Authorization`` header value names, or None.

        The scheme is matched case-insensitively (RFC 9110). The token's SHA-256 digest is compared with
        every known digest by :func:`hmac.compare_digest`, match or not: the time taken says nothing about
        which token, or how much of one, was right.
        """
        scheme, _, credentials = authorization.partition(b" ")
        if scheme.lower() != b"bearer":
            return None
        given, found = _digest(credentials.strip()), None
        for digest, caller in self.table.items():
            if hmac.compare_digest(given, digest):
                found = caller
        return found
