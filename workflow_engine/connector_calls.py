"""Connectors without the database: checking an admin's settings, and one HTTP call to another agency.

A connector names an HTTP API of another agency (OPD): its URL and method, which case data fields go
out (``send``: case field -> name in the request) and which answer fields come back (``receive``:
answer field, dotted for nested objects -> case field), a timeout, how many times a failed call is
tried again, and the name of an ``ALUR_CONNECTOR_*`` environment variable whose value is sent as
the credential. Secrets never live in the BPMN or the database.

The credential value is sent as ``Authorization: Bearer <value>``; a value with a space
("Basic dXNlcjpwYXNz") is sent as the whole Authorization header, and a value of the form
"X-Api-Key: secret" names its own header.
"""
from __future__ import annotations

import json
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Mapping

from .errors import FormError

METHODS = ("POST", "GET", "PUT", "PATCH")
CREDENTIAL_PREFIX = "ALUR_CONNECTOR_"
CREDENTIAL_NAME = re.compile(r"ALUR_CONNECTOR_[A-Z0-9_]{1,85}")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
CASE_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}")  # case data keys are read as Python names
REMOTE_FIELD = re.compile(r"[A-Za-z0-9_$@-]{1,100}(\.[A-Za-z0-9_$@-]{1,100}){0,9}")
MAX_URL = 1000
MAX_TIMEOUT = 120
MAX_RETRIES = 10
MAX_FIELDS = 50
MAX_ANSWER_BYTES = 1_000_000
_HEADER = re.compile(r"([A-Za-z0-9-]{1,60}):\s*(\S.*)")


class ConnectorInputError(FormError):
    """An admin's connector settings are wrong; `problems` maps field -> (code, English message, params)."""

    def __init__(self, problems: dict[str, tuple[str, str, dict]]):
        self.problems = dict(problems)
        super().__init__({key: message for key, (_code, message, _params) in problems.items()})


@dataclass(frozen=True)
class ConnectorSpec:
    """A connector as the worker uses it (a plain copy of the row)."""

    name: str
    url: str
    method: str = "POST"
    send: tuple[tuple[str, str], ...] = ()
    receive: tuple[tuple[str, str], ...] = ()
    timeout_seconds: int = 10
    retries: int = 3
    credential: str | None = None

    @property
    def host(self) -> str:
        return urllib.parse.urlsplit(self.url).hostname or self.url


# --- checking an admin's settings ------------------------------------------------------------------
def parse_mapping(value, *, remote_first: bool) -> list[dict]:
    """Mappings from text ("nik -> nik_pemohon", one per line or comma) or from [{"field", "as"}] lists."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items = []
        for part in re.split(r"[\n,]", value):
            if part.strip():
                source, _, target = part.partition("->")
                items.append({"field": source.strip(), "as": target.strip() or source.strip()})
        return items
    if isinstance(value, (list, tuple)):
        return [{"field": str(item.get("field", "")).strip(), "as": str(item.get("as") or item.get("field", "")).strip()}
                if isinstance(item, Mapping) else {"field": str(item).strip(), "as": str(item).strip()}
                for item in value]
    raise ConnectorInputError({"send" if not remote_first else "receive":
                               ("mapping", "write one mapping per line, e.g. nik -> nik_pemohon", {})})


def mapping_text(items: list[dict]) -> str:
    """The text form of a mapping, one per line, as the admin page shows it."""
    return "\n".join(i["field"] if i["field"] == i["as"] else f"{i['field']} -> {i['as']}" for i in items or ())


def clean_connector(values: Mapping) -> dict:
    """Check and normalise connector settings; ConnectorInputError names every wrong field."""
    problems: dict[str, tuple[str, str, dict]] = {}
    name = str(values.get("name") or "").strip()
    if not name:
        problems["name"] = ("required", "enter a name", {})
    elif not NAME.fullmatch(name):
        problems["name"] = ("name", "use letters, digits, '.', '_' and '-' only (at most 100, no spaces)", {})
    url = str(values.get("url") or "").strip()
    url_problem = _url_problem(url)
    if url_problem:
        problems["url"] = url_problem
    method = str(values.get("method") or "POST").strip().upper()
    if method not in METHODS:
        problems["method"] = ("method", f"choose one of {', '.join(METHODS)}", {"methods": ", ".join(METHODS)})
    cleaned = {}
    for key, remote_first in (("send", False), ("receive", True)):
        try:
            items = parse_mapping(values.get(key), remote_first=remote_first)
        except ConnectorInputError as exc:
            problems.update(exc.problems)
            continue
        problem = _mapping_problem(items, remote_first)
        if problem:
            problems[key] = problem
        cleaned[key] = items
    timeout = _whole(values.get("timeout_seconds"), 10, 1, MAX_TIMEOUT, "timeout_seconds", problems)
    retries = _whole(values.get("retries"), 3, 0, MAX_RETRIES, "retries", problems)
    credential = str(values.get("credential") or "").strip() or None
    if credential is not None and not CREDENTIAL_NAME.fullmatch(credential):
        problems["credential"] = ("credential", f"give the name of an environment variable that starts with "
                                  f"{CREDENTIAL_PREFIX}, in capitals, e.g. ALUR_CONNECTOR_DINKES", {})
    if problems:
        raise ConnectorInputError(problems)
    return {"name": name, "url": url, "method": method, "send": cleaned["send"], "receive": cleaned["receive"],
            "timeout_seconds": timeout, "retries": retries, "credential": credential}


def _url_problem(url: str) -> tuple[str, str, dict] | None:
    if not url:
        return ("required", "enter the address of the other agency's API", {})
    if len(url) > MAX_URL:
        return ("url_long", f"the address may have at most {MAX_URL} characters", {"n": MAX_URL})
    if re.search(r"[\s\x00-\x1f]", url):
        return ("url", "the address must not contain spaces", {})
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return ("url", "this is not a web address", {})
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ("url_scheme", "give an http:// or https:// address", {})
    if parts.username or parts.password:
        return ("url_secret", f"do not put a user name or password in the address; put the credential in an "
                f"{CREDENTIAL_PREFIX}... environment variable", {})
    return None


def _mapping_problem(items: list[dict], remote_first: bool) -> tuple[str, str, dict] | None:
    if len(items) > MAX_FIELDS:
        return ("mapping_many", f"at most {MAX_FIELDS} fields", {"n": MAX_FIELDS})
    seen = set()
    for line, item in enumerate(items, start=1):
        local, remote = (item["as"], item["field"]) if remote_first else (item["field"], item["as"])
        if not CASE_FIELD.fullmatch(local):
            return ("mapping_case_field", f"line {line}: {local[:100]!r} is not a case data field name (letters, "
                    "digits and _, starting with a letter)", {"line": line, "value": local[:100]})
        if not REMOTE_FIELD.fullmatch(remote):
            return ("mapping_remote_field", f"line {line}: {remote[:100]!r} is not a field name of the other "
                    "agency's API (letters, digits, _ - $ @, parts joined by dots)", {"line": line, "value": remote[:100]})
        target = item["as"]
        if target in seen:
            return ("mapping_twice", f"line {line}: {target!r} is given twice", {"line": line, "value": target})
        seen.add(target)
    return None


def _whole(value, default: int, low: int, high: int, key: str, problems: dict) -> int:
    if value is None or str(value).strip() == "":
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        problems[key] = ("range", f"give a whole number from {low} to {high}", {"low": low, "high": high})
        return default
    return number


# --- one call ----------------------------------------------------------------------------------------
class CallError(Exception):
    """Why a call failed: a kind (see describe), a detail, and whether trying again may help."""

    def __init__(self, kind: str, detail: str = "", *, retryable: bool = True):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind, self.detail, self.retryable = kind, detail, retryable


@dataclass(frozen=True)
class Answer:
    """A successful call: the HTTP status and the case data fields taken from the answer."""

    status: int
    values: dict = field(default_factory=dict)


def outgoing(spec: ConnectorSpec, case_data: Mapping) -> dict:
    """The request fields built from the case data by the send mapping."""
    payload = {}
    for case_field, remote in spec.send:
        if case_field not in case_data:
            raise CallError("missing_field", case_field, retryable=False)
        payload[remote] = case_data[case_field]
    return payload


def credential_header(spec: ConnectorSpec, environ: Mapping) -> tuple[str, str] | None:
    """The header that carries the connector's credential, read from its ALUR_CONNECTOR_* variable."""
    if not spec.credential:
        return None
    if not CREDENTIAL_NAME.fullmatch(spec.credential):  # only our own variables may ever be read
        raise CallError("credential_name", spec.credential, retryable=False)
    value = (environ.get(spec.credential) or "").strip()
    if not value:
        raise CallError("credential_missing", spec.credential, retryable=False)
    if "\r" in value or "\n" in value:
        raise CallError("credential_name", spec.credential, retryable=False)
    custom = _HEADER.fullmatch(value)
    if custom and " " not in custom.group(1):
        return custom.group(1), custom.group(2)
    return "Authorization", value if " " in value else f"Bearer {value}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would carry the credential to wherever it points: treat it as an error instead.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect())


def call(spec: ConnectorSpec, payload: dict, header: tuple[str, str] | None) -> Answer:
    """Send one request and map the answer; raises CallError on any failure."""
    url, data = spec.url, None
    headers = {"Accept": "application/json", "User-Agent": "Alur-connector/1"}
    if spec.method == "GET":
        if payload:
            query = urllib.parse.urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in payload.items()})
            url = f"{url}{'&' if urllib.parse.urlsplit(url).query else '?'}{query}"
    else:
        data = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
        headers["Content-Type"] = "application/json; charset=utf-8"
    if header is not None:
        headers[header[0]] = header[1]
    request = urllib.request.Request(url, data=data, method=spec.method, headers=headers)
    try:
        with _OPENER.open(request, timeout=spec.timeout_seconds) as response:
            status = response.status
            body = response.read(MAX_ANSWER_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise CallError("http", str(exc.code)) from None
    except (TimeoutError, socket.timeout):
        raise CallError("timeout", str(spec.timeout_seconds)) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, (TimeoutError, socket.timeout)):
            raise CallError("timeout", str(spec.timeout_seconds)) from None
        raise CallError("network", _reason(exc.reason)) from None
    except (OSError, ValueError) as exc:  # connection reset mid-answer, a malformed status line
        raise CallError("network", _reason(exc)) from None
    if len(body) > MAX_ANSWER_BYTES:
        raise CallError("too_large", str(MAX_ANSWER_BYTES))
    return Answer(status, take_answer(spec, body))


def take_answer(spec: ConnectorSpec, body: bytes) -> dict:
    """The case data fields the receive mapping takes from a JSON answer."""
    if not spec.receive:
        return {}
    try:
        answer = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CallError("bad_json") from None
    if not isinstance(answer, dict):
        raise CallError("not_object")
    values = {}
    for remote, case_field in spec.receive:
        found: Any = answer
        for part in remote.split("."):
            if not isinstance(found, dict) or part not in found:
                raise CallError("missing_answer_field", remote)
            found = found[part]
        values[case_field] = found
    return values


def _reason(reason) -> str:
    text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return str(text)[:200]


# --- saying what went wrong --------------------------------------------------------------------------
ERRORS = {
    "id": {
        "http": "HTTP {detail}",
        "timeout": "tidak ada jawaban dalam {detail} detik",
        "network": "tidak dapat terhubung ({detail})",
        "bad_json": "jawabannya bukan JSON yang sah",
        "not_object": "jawabannya bukan objek JSON",
        "missing_answer_field": "jawabannya tidak memuat field '{detail}'",
        "too_large": "jawabannya lebih besar dari 1 MB",
        "missing_field": "data berkas tidak memuat field '{detail}' yang harus dikirim",
        "no_connector": "konektor '{detail}' belum diatur oleh administrator",
        "credential_missing": "variabel lingkungan {detail} (kredensial) belum diisi di server",
        "credential_name": "kredensial {detail} tidak dapat dipakai",
        "apply": "SOP gagal berjalan setelah jawaban diterima: {detail}",
    },
    "en": {
        "http": "HTTP {detail}",
        "timeout": "no answer within {detail} s",
        "network": "could not connect ({detail})",
        "bad_json": "the answer is not valid JSON",
        "not_object": "the answer is not a JSON object",
        "missing_answer_field": "the answer has no field '{detail}'",
        "too_large": "the answer is larger than 1 MB",
        "missing_field": "the case data has no field '{detail}' to send",
        "no_connector": "no connector named '{detail}' is set up by an administrator",
        "credential_missing": "the environment variable {detail} (the credential) is not set on the server",
        "credential_name": "the credential {detail} cannot be used",
        "apply": "the SOP failed after the answer came: {detail}",
    },
}
FAILED = {
    "id": "Panggilan ke {connector} ({host}) gagal: {error} setelah {attempts} percobaan.",
    "en": "The call to {connector} ({host}) failed: {error} after {attempts} attempt(s).",
}


def describe(error: CallError, language: str) -> str:
    table = ERRORS.get(language, ERRORS["id"])
    return table.get(error.kind, "{detail}").format(detail=error.detail)


def failure_message(connector: str, host: str, error: str, attempts: int, language: str) -> str:
    """The sentence a case shows when its call failed for good."""
    return FAILED.get(language, FAILED["id"]).format(connector=connector, host=host, error=error,
                                                     attempts=attempts)
