"""A local stand-in for the Hugging Face Hub, for tests that push and pull without internet.

`weditor push` and stock `DiffusionPipeline.from_pretrained("user/name")` are exercised here through
the real huggingface_hub client, so this server answers the requests that huggingface_hub 2.4
actually sends (read from its source: hf_api.py, _commit_api.py, lfs.py, file_download.py,
_snapshot_download.py) with the shapes the client parses. It is deliberately strict where the
real Hub is strict, so that a test passing here means the client would get the same answers:

  upload side                                             download side
  GET  /api/whoami-v2                                     GET  /api/models/{repo}[/revision/{rev}]
  POST /api/repos/create            (409 if it exists)    GET  /api/models/{repo}/tree/{rev}[/{path}]
  POST /api/validate-yaml           (README.md metadata)  GET  /api/models/{repo}/commits/{rev}
  POST /api/models/{repo}/preupload/{rev}                 HEAD /{repo}/resolve/{rev}/{path}
  POST /{repo}.git/info/lfs/objects/batch                 GET  /{repo}/resolve/{rev}/{path}
  PUT  /lfs-storage/{oid}           (the "S3" PUT, unauthenticated like a signed URL)
  POST /{repo}.git/info/lfs/objects/verify
  POST /api/models/{repo}/commit/{rev}   (NDJSON)
  POST /api/models/{repo}/branch/{branch}
  GET  /api/agent-harnesses         (the client's agent detection: an empty registry)

Auth mirrors the Hub: a request carrying a token other than the server's gets 401 "Invalid
credentials in Authorization header" (even on public reads); writes need the right token; private
repos look missing (404 RepoNotFound) without it.

Xet: the client uploads through hf_xet whenever the package is installed (it is in this venv) and
`HF_HUB_DISABLE_XET` is not set, without asking the server first, so the tests set
`HF_HUB_DISABLE_XET=1` (env for subprocesses, `huggingface_hub.constants.HF_HUB_DISABLE_XET` in
process) to take the plain LFS path. Downloads only use Xet when the server sends Xet headers or
`xetHash` fields, which this server never does.

Files are "LFS" like on the Hub: the extensions of the Hub's default .gitattributes, any file whose
first 512 bytes contain a NUL byte (binary), and anything of 10 MB or more. Everything lives in
memory; `hub.fail[name] = 500` makes the named route (e.g. "commit") answer that status.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

import yaml

LFS_PATTERNS = (
    "*.7z *.arrow *.bin *.bz2 *.ckpt *.ftz *.gz *.h5 *.joblib *.lfs.* *.mlmodel *.model *.msgpack *.npy *.npz "
    "*.onnx *.ot *.parquet *.pb *.pickle *.pkl *.pt *.pth *.rar *.safetensors saved_model/**/* *.tar.* *.tar "
    "*.tflite *.tgz *.wasm *.xz *.zip *.zst *tfevents*"
).split()
GITATTRIBUTES = "".join(f"{p} filter=lfs diff=lfs merge=lfs -text\n" for p in LFS_PATTERNS).encode()
LFS_SIZE_THRESHOLD = 10 * 1024 * 1024
BASE_MODEL_RELATIONS = {"adapter", "merge", "quantized", "finetune"}
REPO = r"(?P<repo>[\w.-]+/[\w.-]+)"


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def is_lfs_path(path: str, size: int, sample: bytes) -> bool:
    from fnmatch import fnmatch

    name = path.rsplit("/", 1)[-1]
    if any(fnmatch(name, p) or fnmatch(path, p) for p in LFS_PATTERNS):
        return True
    return size >= LFS_SIZE_THRESHOLD or b"\0" in sample


@dataclass(frozen=True)
class Blob:
    size: int
    oid: str  # git blob oid: of the content, or of the pointer file for LFS
    sha256: str | None = None  # set for LFS files
    content: bytes | None = None  # set for regular files; LFS content lives in HubState.lfs

    @property
    def pointer_size(self) -> int:
        return len(lfs_pointer(self.sha256, self.size)) if self.sha256 else 0


@dataclass
class Commit:
    oid: str
    title: str
    message: str
    date: str
    parent: str | None
    files: dict[str, Blob]


@dataclass
class Repo:
    repo_id: str
    private: bool
    created: str
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)  # name -> commit oid

    def resolve(self, rev: str) -> Commit | None:
        if rev in self.branches:
            return self.commits[self.branches[rev]]
        return self.commits.get(rev)

    def history(self, rev: str) -> list[Commit]:
        out, commit = [], self.resolve(rev)
        while commit is not None:
            out.append(commit)
            commit = self.commits.get(commit.parent) if commit.parent else None
        return out


class HubState:
    def __init__(self, token: str, user: str):
        self.token = token
        self.user = user
        self.repos: dict[str, Repo] = {}
        self.lfs: dict[str, bytes] = {}  # sha256 -> content, filled only by LFS PUTs
        self.lfs_puts: list[str] = []  # sha256 of every LFS upload, in order
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.fail: dict[str, int] = {}  # route name -> status to answer instead
        self.lock = threading.Lock()
        self._counter = 0

    def new_commit_oid(self, *parts: str) -> str:
        self._counter += 1
        return hashlib.sha1("\0".join((str(self._counter), *parts)).encode()).hexdigest()


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, headers: dict | None = None, **extra):
        super().__init__(message)
        self.status, self.message, self.code, self.headers, self.extra = status, message, code, headers or {}, extra


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _card_data(readme: bytes | None) -> dict:
    if not readme:
        return {}
    match = re.match(r"^\s*---\r?\n(.*?)\r?\n---", readme.decode("utf-8", "replace"), re.S)
    try:
        data = yaml.safe_load(match.group(1)) if match else None
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "weditor-test-hub/1"
    hub: HubState  # set on the subclass built by LocalHub

    ROUTES = [
        ("GET", "whoami", r"/api/whoami-v2"),
        ("GET", "harnesses", r"/api/agent-harnesses"),
        ("POST", "create", r"/api/repos/create"),
        ("POST", "validate_yaml", r"/api/validate-yaml"),
        ("POST", "preupload", rf"/api/models/{REPO}/preupload/(?P<rev>[^/]+)"),
        ("POST", "commit", rf"/api/models/{REPO}/commit/(?P<rev>[^/]+)"),
        ("POST", "branch", rf"/api/models/{REPO}/branch/(?P<rev>[^/]+)"),
        ("GET", "commits", rf"/api/models/{REPO}/commits/(?P<rev>[^/]+)"),
        ("GET", "tree", rf"/api/models/{REPO}/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?"),
        ("GET", "info", rf"/api/models/{REPO}(?:/revision/(?P<rev>[^/]+))?"),
        ("POST", "lfs_batch", rf"/{REPO}\.git/info/lfs/objects/batch"),
        ("POST", "lfs_verify", rf"/{REPO}\.git/info/lfs/objects/verify"),
        ("PUT", "lfs_put", r"/lfs-storage/(?P<oid>[0-9a-f]{64})"),
        ("HEAD", "resolve", rf"/{REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)"),
        ("GET", "resolve", rf"/{REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)"),
    ]

    def log_message(self, *args):  # keep pytest output clean
        pass

    # -- plumbing --------------------------------------------------------------------------------

    def do_GET(self):
        self._dispatch("GET")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _dispatch(self, method: str):
        url = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.body = self._read_body() if method in ("POST", "PUT") else b""
        hub = self.hub
        with hub.lock:
            hub.requests.append((method, url.path))
        try:
            for verb, name, pattern in self.ROUTES:
                match = re.fullmatch(pattern, url.path)
                if verb == method and match:
                    args = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
                    self._check_token()
                    if name in hub.fail:
                        raise HubError(hub.fail[name], f"injected failure on {name}")
                    with hub.lock:
                        status, payload, headers = getattr(self, f"r_{name}")(**args)
                    return self._send(status, payload, headers)
            raise HubError(404, f"no route for {method} {url.path}")
        except HubError as e:
            headers = {"X-Error-Message": e.message, **e.headers}
            if e.code:
                headers["X-Error-Code"] = e.code
            self._send(e.status, {"error": e.message, **e.extra}, headers)

    def _send(self, status: int, payload, headers: dict | None = None):
        if isinstance(payload, (bytes, bytearray)):
            body, ctype = bytes(payload), "application/octet-stream"
        else:
            body, ctype = json.dumps(payload).encode(), "application/json"
        headers = dict(headers or {})
        length = headers.pop("Content-Length", None)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length if length is not None else len(body)))
        for key, value in headers.items():
            self.send_header(key, str(value))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    # -- auth and lookups ------------------------------------------------------------------------

    def _token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        return auth[7:].strip() if auth.lower().startswith("bearer ") else None

    def _check_token(self):
        token = self._token()
        if token is not None and token != self.hub.token:
            raise HubError(401, "Invalid credentials in Authorization header")

    def _require_write(self, repo_id: str | None = None):
        if self._token() != self.hub.token:
            raise HubError(401, "You must be authenticated to write")
        if repo_id is not None and repo_id.split("/")[0] != self.hub.user:
            raise HubError(403, f"You don't have the rights to write to {repo_id}")

    def _repo(self, repo_id: str) -> Repo:
        repo = self.hub.repos.get(repo_id)
        if repo is None or (repo.private and self._token() != self.hub.token):
            raise HubError(404, "Repository not found", code="RepoNotFound")
        return repo

    def _commit(self, repo: Repo, rev: str) -> Commit:
        commit = repo.resolve(rev)
        if commit is None:
            raise HubError(404, f"Invalid rev id: {rev}", code="RevisionNotFound")
        return commit

    def _base(self) -> str:
        return f"http://{self.headers.get('Host')}"

    # -- upload side -----------------------------------------------------------------------------

    def r_whoami(self):
        if self._token() is None:
            raise HubError(401, "Invalid username or password.")
        return (
            200,
            {
                "type": "user",
                "name": self.hub.user,
                "fullname": self.hub.user,
                "orgs": [],
                "auth": {"type": "access_token", "accessToken": {"role": "write"}},
            },
            {},
        )

    def r_harnesses(self):  # the client's best-effort agent detection asks for this registry
        return 200, {"standardEnvVars": [], "harnesses": {}}, {}

    def r_create(self):
        payload = json.loads(self.body or b"{}")
        repo_id = f"{payload.get('organization') or self.hub.user}/{payload['name']}"
        self._require_write(repo_id)
        if payload.get("type", "model") != "model":
            raise HubError(400, "this test hub only hosts model repos")
        url = f"{self._base()}/{repo_id}"
        if repo_id in self.hub.repos:
            raise HubError(409, "You already created this model repo", url=url)  # the client reads "url"
        private = payload.get("visibility") == "private" or bool(payload.get("private"))
        repo = Repo(repo_id, private=private, created=_now())
        initial = Commit(
            self.hub.new_commit_oid(repo_id),
            "initial commit",
            "",
            _now(),
            None,
            {".gitattributes": Blob(len(GITATTRIBUTES), git_blob_oid(GITATTRIBUTES), content=GITATTRIBUTES)},
        )
        repo.commits[initial.oid] = initial
        repo.branches["main"] = initial.oid
        self.hub.repos[repo_id] = repo
        return 200, {"url": url, "name": repo_id, "id": repo_id}, {}

    def r_validate_yaml(self):
        content = json.loads(self.body)["content"]
        errors = []
        match = re.match(r"^\s*---\r?\n(.*?)\r?\n---", content, re.S)
        if match:
            try:
                data = yaml.safe_load(match.group(1))
            except yaml.YAMLError as e:
                data, errors = None, [{"message": f"YAML error: {e}"}]
            if data is not None and not isinstance(data, dict):
                errors.append({"message": "metadata must be a mapping"})
            elif isinstance(data, dict):
                relation = data.get("base_model_relation")
                if relation is not None and relation not in BASE_MODEL_RELATIONS:
                    errors.append({"message": f'"base_model_relation" must be one of {sorted(BASE_MODEL_RELATIONS)}'})
                if relation is not None and not data.get("base_model"):
                    errors.append({"message": '"base_model_relation" requires "base_model"'})
                for key in ("tags", "base_model"):
                    value = data.get(key)
                    if value is not None and not isinstance(value, (str, list)):
                        errors.append({"message": f'"{key}" must be a string or a list of strings'})
        if errors:
            return 400, {"errors": errors, "warnings": []}, {}
        return 200, {"errors": [], "warnings": []}, {}

    def r_preupload(self, repo, rev):
        self._require_write(repo)
        commit = self._commit(self._repo(repo), rev)
        files = []
        for f in json.loads(self.body)["files"]:
            sample = base64.b64decode(f["sample"])
            lfs = is_lfs_path(f["path"], int(f["size"]), sample)
            existing = commit.files.get(f["path"])
            oid = None
            if existing is not None:
                oid = existing.sha256 if existing.sha256 else existing.oid
            files.append(
                {"path": f["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False, "oid": oid}
            )
        return 200, {"files": files, "commitOid": commit.oid}, {}

    def r_lfs_batch(self, repo):
        self._require_write(repo)
        self._repo(repo)
        payload = json.loads(self.body)
        if payload.get("operation") != "upload" or "basic" not in payload.get("transfers", ["basic"]):
            raise HubError(400, "only basic LFS uploads are supported here")
        objects = []
        for obj in payload["objects"]:
            oid, size = obj["oid"], obj["size"]
            entry = {"oid": oid, "size": size, "authenticated": True}
            if oid not in self.hub.lfs:
                entry["actions"] = {
                    "upload": {"href": f"{self._base()}/lfs-storage/{oid}?size={size}", "header": {}},
                    "verify": {"href": f"{self._base()}/{repo}.git/info/lfs/objects/verify", "header": {}},
                }
            objects.append(entry)
        return 200, {"transfer": "basic", "objects": objects}, {}

    def r_lfs_put(self, oid):
        data = self.body
        if hashlib.sha256(data).hexdigest() != oid or len(data) != int(self.query.get("size", -1)):
            raise HubError(400, "uploaded content does not match its oid/size")
        self.hub.lfs[oid] = data
        self.hub.lfs_puts.append(oid)
        return 200, b"", {"ETag": f'"{hashlib.md5(data).hexdigest()}"'}

    def r_lfs_verify(self, repo):
        self._require_write(repo)
        payload = json.loads(self.body)
        data = self.hub.lfs.get(payload["oid"])
        if data is None or len(data) != payload["size"]:
            raise HubError(404, f"LFS object {payload['oid']} was not uploaded")
        return 200, {"success": True}, {}

    def r_commit(self, repo, rev):
        self._require_write(repo)
        if self.query.get("create_pr"):
            raise HubError(400, "pull requests are not supported by this test hub")
        repository = self._repo(repo)
        parent = self._commit(repository, rev)
        if rev not in repository.branches:
            raise HubError(400, f"can only commit on a branch, not {rev}")
        lines = [json.loads(line) for line in self.body.splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "first NDJSON line must be the commit header")
        header = lines[0]["value"]
        if header.get("parentCommit") and header["parentCommit"] != parent.oid:
            raise HubError(412, "parent commit is not the head of the branch")
        files = dict(parent.files)
        for line in lines[1:]:
            key, value = line["key"], line["value"]
            path = value["path"]
            if key == "file":
                data = base64.b64decode(value["content"])
                files[path] = Blob(len(data), git_blob_oid(data), content=data)
            elif key == "lfsFile":
                data = self.hub.lfs.get(value["oid"])
                if data is None or ("size" in value and value["size"] != len(data)):
                    raise HubError(422, f"LFS file {path} was not uploaded (oid {value['oid']})")
                files[path] = Blob(len(data), git_blob_oid(lfs_pointer(value["oid"], len(data))), sha256=value["oid"])
            elif key == "deletedFile":
                if files.pop(path, None) is None:
                    raise HubError(404, f"{path} does not exist", code="EntryNotFound")
            elif key == "deletedFolder":
                prefix = path.rstrip("/") + "/"
                for p in [p for p in files if p.startswith(prefix)]:
                    del files[p]
            else:
                raise HubError(400, f"unknown commit operation {key}")
        commit = Commit(
            self.hub.new_commit_oid(repo, parent.oid),
            header.get("summary", ""),
            header.get("description", ""),
            _now(),
            parent.oid,
            files,
        )
        repository.commits[commit.oid] = commit
        repository.branches[rev] = commit.oid
        return (
            200,
            {
                "success": True,
                "commitOid": commit.oid,
                "commitUrl": f"{self._base()}/{repo}/commit/{commit.oid}",
                "pullRequestUrl": None,
            },
            {},
        )

    def r_branch(self, repo, rev):
        self._require_write(repo)
        repository = self._repo(repo)
        if rev in repository.branches:
            raise HubError(409, f"Reference already exists: refs/heads/{rev}")
        start = json.loads(self.body or b"{}").get("startingPoint") or "main"
        repository.branches[rev] = self._commit(repository, start).oid
        return 200, {}, {}

    # -- download side ---------------------------------------------------------------------------

    def r_info(self, repo, rev="main"):
        repository = self._repo(repo)
        commit = self._commit(repository, rev)
        card = _card_data(commit.files["README.md"].content if "README.md" in commit.files else None)
        tags = list(card.get("tags") or [])
        if card.get("library_name"):
            tags.insert(0, card["library_name"])
        siblings = []
        for path, blob in sorted(commit.files.items()):
            sibling = {"rfilename": path}
            if self.query.get("blobs"):
                sibling.update(size=blob.size, blobId=blob.oid)
                if blob.sha256:
                    sibling["lfs"] = {"size": blob.size, "sha256": blob.sha256, "pointerSize": blob.pointer_size}
            siblings.append(sibling)
        return (
            200,
            {
                "_id": repo,
                "id": repo,
                "modelId": repo,
                "author": repo.split("/")[0],
                "sha": commit.oid,
                "lastModified": commit.date,
                "createdAt": repository.created,
                "private": repository.private,
                "gated": False,
                "disabled": False,
                "downloads": 0,
                "likes": 0,
                "tags": tags,
                "pipeline_tag": card.get("pipeline_tag"),
                "library_name": card.get("library_name"),
                "cardData": card or None,
                "siblings": siblings,
            },
            {},
        )

    def r_tree(self, repo, rev, path=""):
        commit = self._commit(self._repo(repo), rev)
        recursive = self.query.get("recursive", "").lower() in ("1", "true")
        prefix = path.strip("/") + "/" if path.strip("/") else ""
        if prefix and not any(p.startswith(prefix) for p in commit.files):
            raise HubError(404, f"{path} does not exist", code="EntryNotFound")
        entries, folders = [], set()
        for p, blob in sorted(commit.files.items()):
            if not p.startswith(prefix):
                continue
            parts = p[len(prefix) :].split("/")
            for depth in range(1, len(parts)):
                folder = prefix + "/".join(parts[:depth])
                if (recursive or depth == 1) and folder not in folders:
                    folders.add(folder)
                    entries.append(
                        {
                            "type": "directory",
                            "oid": hashlib.sha1(folder.encode()).hexdigest(),
                            "size": 0,
                            "path": folder,
                        }
                    )
            if recursive or len(parts) == 1:
                entry = {"type": "file", "oid": blob.oid, "size": blob.size, "path": p}
                if blob.sha256:
                    entry["lfs"] = {"oid": blob.sha256, "size": blob.size, "pointerSize": blob.pointer_size}
                entries.append(entry)
        return 200, entries, {}

    def r_commits(self, repo, rev):
        history = self._repo(repo).history(rev)
        if not history:
            raise HubError(404, f"Invalid rev id: {rev}", code="RevisionNotFound")
        return (
            200,
            [
                {
                    "id": c.oid,
                    "title": c.title,
                    "message": c.message,
                    "date": c.date,
                    "authors": [{"user": self.hub.user}],
                }
                for c in history
            ],
            {},
        )

    def r_resolve(self, repo, rev, path):
        commit = self._commit(self._repo(repo), rev)
        blob = commit.files.get(path)
        if blob is None:
            raise HubError(404, "Entry not found", code="EntryNotFound", headers={"X-Repo-Commit": commit.oid})
        headers = {
            "X-Repo-Commit": commit.oid,
            "Accept-Ranges": "bytes",
            "Last-Modified": email.utils.formatdate(usegmt=True),
        }
        if blob.sha256:
            data = self.hub.lfs[blob.sha256]
            headers.update(
                {"ETag": f'"{blob.sha256}"', "X-Linked-Etag": f'"{blob.sha256}"', "X-Linked-Size": blob.size}
            )
        else:
            data = blob.content
            headers["ETag"] = f'"{blob.oid}"'
        status = 200
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if match:
            start = int(match.group(1))
            end = int(match.group(2)) if match.group(2) else len(data) - 1
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            data, status = data[start : end + 1], 206
        if self.command == "HEAD":
            headers["Content-Length"] = len(data)
            return status, b"", headers
        return status, data, headers


class LocalHub:
    """Runs the server on 127.0.0.1 (a free port) in a daemon thread; use as a context manager."""

    def __init__(self, token: str = "hf_test_write_token", user: str = "user"):
        self.state = HubState(token, user)
        handler = type("BoundHandler", (Handler,), {"hub": self.state})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="local-hub", daemon=True)

    @property
    def token(self) -> str:
        return self.state.token

    @property
    def user(self) -> str:
        return self.state.user

    @property
    def fail(self) -> dict[str, int]:
        return self.state.fail

    def __enter__(self) -> "LocalHub":
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def repo(self, repo_id: str) -> Repo:
        return self.state.repos[repo_id]

    def file_url(self, repo_id: str, path: str, rev: str = "main") -> str:
        return f"{self.url}/{repo_id}/resolve/{quote(rev, safe='')}/{path}"


try:
    import pytest
except ImportError:  # the server itself needs only the standard library and PyYAML
    pytest = None

if pytest is not None:

    @pytest.fixture
    def hub_server():
        """A fresh, empty local Hub per test; it stops when the test ends."""
        with LocalHub() as hub:
            yield hub
