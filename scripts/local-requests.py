"""The main job's requests through `stackctl local`: register, confirm,
log in, create a guitar and list the guitars, each printed with its answer.
Exits non-zero when an answer is not the one the API documents."""

import json
import sys
import urllib.error
import urllib.request

ready = json.load(open(sys.argv[1]))
base = ready["apis"][0]["url"]


def call(method, path, body=None, token=None, expect=200):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request) as answer:
            status, text = answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    shown = text if len(text) <= 160 else text[:157] + "..."
    print(f"{method} {path} -> {status} {shown}")
    if status != expect:
        sys.exit(f"expected {expect}")
    return json.loads(text) if text else None


user = {"email": "ada@example.com", "password": "Str0ng!Passw0rd", "name": "Ada"}
call("POST", "/auth/register", user, expect=201)
# The emulator's ConfirmSignUp takes any code; on AWS it is the e-mailed one.
call("POST", "/auth/confirm", {"email": user["email"], "code": "123456"})
login = call("POST", "/auth/login", {"email": user["email"], "password": user["password"]})
token = login["data"]["idToken"]
call("GET", "/guitars", expect=401)
guitar = {"brand": "Fender", "model": "Jazzmaster", "year": 1958, "type": "electric"}
call("POST", "/guitars", guitar, token=token, expect=201)
call("GET", "/guitars", token=token)
