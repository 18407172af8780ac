#!/usr/bin/env python3
"""Checks the AWS emulator against real AWS clients (boto3/botocore, and the AWS CLI v1 if present).

Usage: fidelity.py BASE_URL   (an `aws-emulator` serving the default demo organisation)

Every check drives the emulator through botocore's own service models and parsers, so a wire
detail the SDKs would trip over (a field name, a status, an error header or body, XML framing,
pagination) fails here. Faults are injected through the `/_emulator/` control API. Prints one line
per failure and a final `N passed, M failed`; exits 1 if anything failed.
"""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

import boto3
import botocore.exceptions
from botocore import UNSIGNED
from botocore.config import Config

URL = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else sys.exit("usage: fidelity.py BASE_URL")
REGION = "us-east-1"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
# The demo organisation (Organization::demo()).
ACCOUNTS = ["111111111111", "222222222222", "333333333333", "444444444444", "555555555555"]
PLAT_DEV = "222222222222"
PLAT_PROD = "444444444444"
CI_BOT = ("AKIAFAKEEMULATORBOT1", "EMULATORSECRETciBotDemoKey00000000000000")
CI_BOT_MFA = "arn:aws:iam::111111111111:mfa/ci-bot"

# Nothing from the caller's environment may redirect or sign these clients.
for name in list(os.environ):
    if name.startswith("AWS_"):
        del os.environ[name]
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=5)
RETRY = Config(retries={"total_max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=5)


def client(service, config=NO_RETRY, creds=None, **extra):
    if creds is None:
        creds = ("AKIAFAKEUNUSEDKEY000", "unused")
    keys = {"aws_access_key_id": creds[0], "aws_secret_access_key": creds[1]}
    if len(creds) > 2:
        keys["aws_session_token"] = creds[2]
    return boto3.client(service, endpoint_url=URL, region_name=REGION, config=config, **keys, **extra)


def control(method, route, body=None):
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    request = urllib.request.Request(f"{URL}/_emulator/{route}", data=data, method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read() or b"null")


def inject(op, fault, count=1):
    control("POST", "fault", {"op": op, "fault": fault, "count": count})


def calls(op):
    return control("GET", "calls")["by_op"].get(op, 0)


class Mismatch(Exception):
    pass


def expect(condition, what):
    if not condition:
        raise Mismatch(what)


def expect_error(code, fn, status=None):
    """Runs fn, which must fail with a botocore ClientError carrying `code` (and `status`)."""
    try:
        fn()
    except botocore.exceptions.ClientError as err:
        got = err.response["Error"]["Code"]
        got_status = err.response["ResponseMetadata"]["HTTPStatusCode"]
        expect(got == code, f"expected error {code}, got {got}: {err}")
        expect(status is None or got_status == status, f"expected HTTP {status} for {code}, got {got_status}")
        return err
    raise Mismatch(f"expected error {code}, but the call succeeded")


def expect_failure(fn, what):
    """Runs fn, which must raise something other than a clean success (any exception)."""
    try:
        result = fn()
    except Exception as err:  # the point is that the client noticed
        return err
    raise Mismatch(f"{what}: the call succeeded with {result!r}")


RESULTS = {"passed": 0, "failed": 0}
STATE = {}


def check(name):
    def run(fn):
        try:
            fn()
            RESULTS["passed"] += 1
            print(f"ok    {name}")
        except Exception as err:
            RESULTS["failed"] += 1
            detail = str(err) if isinstance(err, Mismatch) else traceback.format_exc().strip()
            print(f"FAIL  {name}: {detail}")
        return fn

    return run


oidc = client("sso-oidc")
sso = client("sso")


def register():
    return oidc.register_client(
        clientName="fidelity",
        clientType="public",
        scopes=["sso:account:access"],
        grantTypes=[DEVICE_GRANT, "refresh_token"],
    )


def start(reg):
    return oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl="https://example.awsapps.com/start"
    )


def poll(reg, device):
    return oidc.create_token(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType=DEVICE_GRANT, deviceCode=device["deviceCode"]
    )


def browse(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode()


# ---------------------------------------------------------------- SSO OIDC


@check("oidc: RegisterClient returns id, secret and epoch-second times")
def _():
    reg = register()
    now = time.time()
    expect(reg["clientId"] and reg["clientSecret"], "missing clientId/clientSecret")
    expect(abs(reg["clientIdIssuedAt"] - now) < 60, f"clientIdIssuedAt {reg['clientIdIssuedAt']} is not now")
    expect(reg["clientSecretExpiresAt"] > now + 86400, "clientSecretExpiresAt is not in the future (seconds)")
    STATE["reg"] = reg


@check("oidc: StartDeviceAuthorization returns codes, URIs, expiresIn and interval")
def _():
    device = start(STATE["reg"])
    expect(re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", device["userCode"]), f"user code {device['userCode']!r}")
    expect(device["verificationUri"] == f"{URL}/device", f"verificationUri {device['verificationUri']}")
    expect(device["userCode"] in device["verificationUriComplete"], "verificationUriComplete lacks the user code")
    expect(device["expiresIn"] > 0 and device["interval"] >= 0, "expiresIn/interval")
    expect(device["userCode"] in control("GET", "pending")["user_codes"], "code not listed as pending")
    STATE["device"] = device


@check("oidc: CreateToken while pending -> AuthorizationPendingException (400)")
def _():
    expect_error("AuthorizationPendingException", lambda: poll(STATE["reg"], STATE["device"]), 400)


@check("oidc: polling faster than the interval -> SlowDownException")
def _():
    expect_error("SlowDownException", lambda: poll(STATE["reg"], STATE["device"]), 400)


@check("oidc: opening verificationUriComplete approves; CreateToken then succeeds")
def _():
    status, page = browse(STATE["device"]["verificationUriComplete"])
    expect(status == 200 and "approved" in page, f"device page answered {status}: {page[:80]}")
    time.sleep(STATE["device"]["interval"] + 0.1)
    token = poll(STATE["reg"], STATE["device"])
    expect(token["tokenType"] == "Bearer", f"tokenType {token.get('tokenType')}")
    expect(token["accessToken"] and token["refreshToken"], "missing accessToken/refreshToken")
    expect(token["expiresIn"] > 0, "expiresIn")
    STATE["token"] = token


@check("oidc: a device code works once -> InvalidGrantException")
def _():
    time.sleep(STATE["device"]["interval"] + 0.1)
    expect_error("InvalidGrantException", lambda: poll(STATE["reg"], STATE["device"]), 400)


@check("oidc: refresh_token grant returns a new access and refresh token")
def _():
    reg, old = STATE["reg"], STATE["token"]
    new = oidc.create_token(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType="refresh_token", refreshToken=old["refreshToken"]
    )
    expect(new["accessToken"] != old["accessToken"], "access token not renewed")
    expect(new["refreshToken"] != old["refreshToken"], "refresh token not renewed")
    STATE["token"] = new


@check("oidc: denied in the browser -> AccessDeniedException")
def _():
    device = start(STATE["reg"])
    status, _ = browse(device["verificationUriComplete"] + "&deny=1")
    expect(status == 200, f"deny page answered {status}")
    expect_error("AccessDeniedException", lambda: poll(STATE["reg"], device), 400)


@check("oidc: approval through the control API")
def _():
    device = start(STATE["reg"])
    control("POST", "approve?user_code=" + device["userCode"])
    expect(poll(STATE["reg"], device)["accessToken"], "no access token")


@check("oidc: wrong client secret -> InvalidClientException (401)")
def _():
    reg = dict(STATE["reg"], clientSecret="wrong")
    expect_error("InvalidClientException", lambda: poll(reg, STATE["device"]), 401)


@check("oidc: unknown device code -> InvalidGrantException")
def _():
    expect_error("InvalidGrantException", lambda: poll(STATE["reg"], {"deviceCode": "nope"}), 400)


@check("oidc: injected SlowDown and ExpiredToken faults")
def _():
    inject("CreateToken", "slow_down")
    expect_error("SlowDownException", lambda: poll(STATE["reg"], STATE["device"]), 400)
    inject("CreateToken", "expired_token")
    expect_error("ExpiredTokenException", lambda: poll(STATE["reg"], STATE["device"]), 400)


# ---------------------------------------------------------------- SSO OIDC: authorization code with PKCE


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def authorize(reg, redirect_uri, challenge, state="st"):
    """The browser's GET /authorize; returns (status, Location) without following the redirect."""
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": reg["clientId"],
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge_method": "S256",
            "scopes": "sso:account:access",
            "code_challenge": challenge,
        },
        quote_via=urllib.parse.quote,
    )
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(f"{URL}/authorize?{query}", timeout=5) as response:
            return response.status, None
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Location")


@check("oidc: authorization code with PKCE, field names as botocore's model has them")
def _():
    import hashlib

    reg = oidc.register_client(
        clientName="fidelity",
        clientType="public",
        scopes=["sso:account:access"],
        grantTypes=["authorization_code", "refresh_token"],
        redirectUris=["http://127.0.0.1/oauth/callback"],
        issuerUrl="https://example.awsapps.com/start",
    )
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    redirect_uri = "http://127.0.0.1:54321/oauth/callback"
    control("POST", "auto-approve?enabled=true")
    try:
        status, location = authorize(reg, redirect_uri, challenge)
    finally:
        control("POST", "auto-approve?enabled=false")
    expect(status == 302 and location.startswith(redirect_uri + "?"), f"authorize answered {status} {location}")
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    expect(params.get("state") == "st" and params.get("code"), f"redirect carried {params}")

    def exchange(verifier):
        return oidc.create_token(
            clientId=reg["clientId"],
            clientSecret=reg["clientSecret"],
            grantType="authorization_code",
            code=params["code"],
            codeVerifier=verifier,
            redirectUri=redirect_uri,
        )

    token = exchange(verifier)
    expect(token["accessToken"] and token["refreshToken"], "missing accessToken/refreshToken")
    expect_error("InvalidGrantException", lambda: exchange(verifier), 400)
    expect_error(
        "UnauthorizedClientException",
        lambda: oidc.start_device_authorization(
            clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl="https://example.awsapps.com/start"
        ),
        400,
    )
    expect_error(
        "InvalidRedirectUriException",
        lambda: oidc.register_client(
            clientName="f",
            clientType="public",
            grantTypes=["authorization_code"],
            redirectUris=["http://localhost/oauth/callback"],
        ),
        400,
    )


# ---------------------------------------------------------------- SSO portal


@check("sso: ListAccounts paginator walks short pages to nextToken null")
def _():
    token = STATE["token"]["accessToken"]
    pages = list(sso.get_paginator("list_accounts").paginate(accessToken=token))
    ids = [a["accountId"] for page in pages for a in page["accountList"]]
    expect(ids == ACCOUNTS, f"accounts {ids}")
    expect(len(pages) == 3, f"{len(pages)} pages, expected 3 at page size 2")
    expect(all({"accountId", "accountName", "emailAddress"} <= set(a) for p in pages for a in p["accountList"]), "fields")


@check("sso: a page may be shorter than maxResults and still carry nextToken")
def _():
    page = sso.list_accounts(accessToken=STATE["token"]["accessToken"], maxResults=10)
    expect(len(page["accountList"]) == 2 and page.get("nextToken"), f"page {page}")


@check("sso: a made-up nextToken -> InvalidRequestException")
def _():
    token = STATE["token"]["accessToken"]
    expect_error("InvalidRequestException", lambda: sso.list_accounts(accessToken=token, nextToken="bogus"), 400)


@check("sso: ListAccountRoles lists the permission sets of an account")
def _():
    token = STATE["token"]["accessToken"]
    pages = sso.get_paginator("list_account_roles").paginate(accessToken=token, accountId=PLAT_DEV)
    roles = sorted(r["roleName"] for page in pages for r in page["roleList"])
    expect(roles == ["ReadOnlyAccess", "TerraformApplyAccess", "TerraformPlanAccess"], f"roles {roles}")


@check("sso: GetRoleCredentials returns credentials expiring in epoch milliseconds")
def _():
    creds = sso.get_role_credentials(
        accessToken=STATE["token"]["accessToken"], accountId=PLAT_DEV, roleName="TerraformApplyAccess"
    )["roleCredentials"]
    expect(creds["accessKeyId"].startswith("ASIAEMULATOR"), f"key {creds['accessKeyId']}")
    expect(creds["expiration"] > time.time() * 1000 + 60_000, f"expiration {creds['expiration']} not in ms")
    STATE["sso_creds"] = (creds["accessKeyId"], creds["secretAccessKey"], creds["sessionToken"])


@check("sso: the call is recorded with its account and permission set")
def _():
    recorded = [r for r in control("GET", "requests") if r["op"] == "GetRoleCredentials" and r["status"] == 200]
    expect(recorded, "no GetRoleCredentials recorded")
    last = recorded[-1]
    expect((last["account_id"], last["role_name"]) == (PLAT_DEV, "TerraformApplyAccess"), f"recorded {last}")


@check("sso: unassigned role -> ForbiddenException (403)")
def _():
    token = STATE["token"]["accessToken"]
    expect_error(
        "ForbiddenException",
        lambda: sso.get_role_credentials(accessToken=token, accountId=PLAT_PROD, roleName="TerraformApplyAccess"),
        403,
    )


@check("sso: invalid bearer token -> UnauthorizedException (401)")
def _():
    expect_error("UnauthorizedException", lambda: sso.list_accounts(accessToken="not-a-token"), 401)


@check("sso: throttling -> TooManyRequestsException (429), retried by botocore")
def _():
    token = STATE["token"]["accessToken"]
    inject("ListAccounts", "throttle")
    expect_error("TooManyRequestsException", lambda: sso.list_accounts(accessToken=token), 429)
    inject("ListAccounts", "throttle")
    before = calls("ListAccounts")
    client("sso", RETRY).list_accounts(accessToken=token)
    expect(calls("ListAccounts") == before + 2, "botocore did not retry exactly once")


@check("sso: page throttling -> the same page refused (429) `times` times, then served")
def _():
    token = STATE["token"]["accessToken"]
    control("POST", "throttle?op=ListAccountRoles&every=1&times=2")
    try:
        for _ in range(2):
            expect_error(
                "TooManyRequestsException",
                lambda: sso.list_account_roles(accessToken=token, accountId=PLAT_DEV),
                429,
            )
        roles = sso.list_account_roles(accessToken=token, accountId=PLAT_DEV)["roleList"]
        expect(len(roles) == 2, f"first page after the refusals has {len(roles)} roles")
    finally:
        control("POST", "throttle?op=ListAccountRoles&every=0&times=0")
    sso.list_account_roles(accessToken=token, accountId=PLAT_DEV)


@check("sso: Logout ends its sign-in session (access and refresh token), not others")
def _():
    # A sign-in of its own, so the session the later checks use stays open.
    reg = register()
    device = start(reg)
    status, _ = browse(device["verificationUriComplete"])
    expect(status == 200, f"device page answered {status}")
    time.sleep(device["interval"] + 0.1)
    token = poll(reg, device)
    sso.logout(accessToken=token["accessToken"])
    expect_error("UnauthorizedException", lambda: sso.list_accounts(accessToken=token["accessToken"]), 401)
    expect_error(
        "InvalidGrantException",
        lambda: oidc.create_token(
            clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType="refresh_token",
            refreshToken=token["refreshToken"],
        ),
        400,
    )
    sso.list_accounts(accessToken=STATE["token"]["accessToken"])


# ---------------------------------------------------------------- STS


def sts(creds=None, config=NO_RETRY):
    return client("sts", config, creds)


@check("sts: GetCallerIdentity with SSO role credentials names the reserved SSO role")
def _():
    who = sts(STATE["sso_creds"]).get_caller_identity()
    expect(who["Account"] == PLAT_DEV, f"account {who['Account']}")
    pattern = rf"arn:aws:sts::{PLAT_DEV}:assumed-role/AWSReservedSSO_TerraformApplyAccess_[0-9a-f]{{16}}/demo\.user"
    expect(re.fullmatch(pattern, who["Arn"]), f"arn {who['Arn']}")
    expect(who["UserId"].endswith(":demo.user"), f"user id {who['UserId']}")


@check("sts: AssumeRole from SSO credentials, then GetCallerIdentity as the new session")
def _():
    out = sts(STATE["sso_creds"]).assume_role(RoleArn=f"arn:aws:iam::{PLAT_DEV}:role/terraform", RoleSessionName="fidelity")
    expect(out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{PLAT_DEV}:assumed-role/terraform/fidelity", "AssumedRoleUser.Arn")
    expect(out["AssumedRoleUser"]["AssumedRoleId"].endswith(":fidelity"), "AssumedRoleId")
    c = out["Credentials"]
    expect(c["Expiration"].timestamp() > time.time() + 3000, f"expiration {c['Expiration']}")
    chained = (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    who = sts(chained).get_caller_identity()
    expect(who["Arn"] == out["AssumedRoleUser"]["Arn"], f"caller {who['Arn']}")
    STATE["chained"] = chained


@check("sts: role chaining beyond one hour -> ValidationError")
def _():
    expect_error(
        "ValidationError",
        lambda: sts(STATE["chained"]).assume_role(
            RoleArn=f"arn:aws:iam::{PLAT_DEV}:role/other", RoleSessionName="x2", DurationSeconds=7200
        ),
        400,
    )


@check("sts: ExternalId is enforced; a denied role -> AccessDenied (403)")
def _():
    client_ = sts(STATE["sso_creds"])
    arn = f"arn:aws:iam::{PLAT_PROD}:role/terraform"
    expect_error("AccessDenied", lambda: client_.assume_role(RoleArn=arn, RoleSessionName="s1"), 403)
    expect(client_.assume_role(RoleArn=arn, RoleSessionName="s1", ExternalId="atmos-demo")["Credentials"], "no creds")
    expect_error(
        "AccessDenied",
        lambda: client_.assume_role(RoleArn=f"arn:aws:iam::{PLAT_PROD}:role/break-glass", RoleSessionName="s1"),
        403,
    )


@check("sts: bad RoleSessionName -> ValidationError")
def _():
    expect_error(
        "ValidationError",
        lambda: sts(STATE["sso_creds"]).assume_role(RoleArn=f"arn:aws:iam::{PLAT_DEV}:role/t", RoleSessionName="a b"),
        400,
    )


@check("sts: unknown key -> InvalidClientTokenId; missing session token -> InvalidClientTokenId")
def _():
    expect_error("InvalidClientTokenId", lambda: sts(("ASIAFAKENOSUCHKEY000", "x", "y")).get_caller_identity(), 403)
    key, secret, _ = STATE["sso_creds"]
    expect_error("InvalidClientTokenId", lambda: sts((key, secret)).get_caller_identity(), 403)


@check("sts: AssumeRoleWithWebIdentity (unsigned) reads subject, audience and provider from the JWT")
def _():
    claims = {"sub": "repo:acme/infra:ref:refs/heads/main", "aud": "sts.amazonaws.com",
              "iss": "https://token.actions.githubusercontent.com", "exp": int(time.time()) + 300}
    encode = lambda obj: base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    jwt = f"{encode({'alg': 'RS256'})}.{encode(claims)}.c2ln"
    unsigned = client("sts", Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}))
    out = unsigned.assume_role_with_web_identity(
        RoleArn=f"arn:aws:iam::{PLAT_DEV}:role/github-actions", RoleSessionName="gha", WebIdentityToken=jwt
    )
    expect(out["SubjectFromWebIdentityToken"] == claims["sub"], "subject")
    expect(out["Audience"] == "sts.amazonaws.com", "audience")
    expect(out["Provider"].endswith(":oidc-provider/token.actions.githubusercontent.com"), f"provider {out['Provider']}")
    expect(out["AssumedRoleUser"]["Arn"].endswith(":assumed-role/github-actions/gha"), "AssumedRoleUser")
    expired = f"{encode({'alg': 'RS256'})}.{encode(dict(claims, exp=1))}.c2ln"
    expect_error(
        "ExpiredTokenException",
        lambda: unsigned.assume_role_with_web_identity(
            RoleArn=f"arn:aws:iam::{PLAT_DEV}:role/github-actions", RoleSessionName="gha", WebIdentityToken=expired
        ),
        400,
    )


@check("sts: GetSessionToken with a long-term key, MFA checked; refused for session credentials")
def _():
    client_ = sts(CI_BOT)
    out = client_.get_session_token(DurationSeconds=3600)["Credentials"]
    who = sts((out["AccessKeyId"], out["SecretAccessKey"], out["SessionToken"])).get_caller_identity()
    expect(who["Arn"] == "arn:aws:iam::111111111111:user/ci-bot", f"caller {who['Arn']}")
    expect(client_.get_session_token(SerialNumber=CI_BOT_MFA, TokenCode="123456")["Credentials"], "mfa creds")
    expect_error("AccessDenied", lambda: client_.get_session_token(SerialNumber=CI_BOT_MFA, TokenCode="000000"), 403)
    expect_error("AccessDenied", lambda: sts(STATE["sso_creds"]).get_session_token(), 403)


@check("sts: unsigned GetCallerIdentity -> MissingAuthenticationToken")
def _():
    unsigned = client("sts", Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}))
    expect_error("MissingAuthenticationToken", unsigned.get_caller_identity, 403)


@check("sts: unknown Action -> InvalidAction XML error")
def _():
    body = urllib.parse.urlencode({"Action": "DecodeAuthorizationMessage", "Version": "2011-06-15"}).encode()
    request = urllib.request.Request(URL + "/", data=body, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        urllib.request.urlopen(request, timeout=5)
        raise Mismatch("unknown action succeeded")
    except urllib.error.HTTPError as err:
        text = err.read().decode()
        expect(err.code == 400 and "<Code>InvalidAction</Code>" in text, f"{err.code}: {text}")


@check("sts: throttling -> Throttling (400), retried by botocore")
def _():
    inject("GetCallerIdentity", "throttle")
    err = expect_error("Throttling", sts(STATE["sso_creds"]).get_caller_identity, 400)
    expect("Rate exceeded" in str(err), str(err))
    inject("GetCallerIdentity", "throttle")
    before = calls("GetCallerIdentity")
    sts(STATE["sso_creds"], RETRY).get_caller_identity()
    expect(calls("GetCallerIdentity") == before + 2, "botocore did not retry exactly once")


@check("sts: server error 500 -> InternalFailure, retried by botocore")
def _():
    inject("AssumeRole", {"status": 500})
    expect_error(
        "InternalFailure",
        lambda: sts(STATE["sso_creds"]).assume_role(RoleArn=f"arn:aws:iam::{PLAT_DEV}:role/t", RoleSessionName="s1"),
        500,
    )
    inject("AssumeRole", {"status": 503})
    sts(STATE["sso_creds"], RETRY).assume_role(RoleArn=f"arn:aws:iam::{PLAT_DEV}:role/t", RoleSessionName="s1")


@check("sts: injected ExpiredToken and AccessDenied faults")
def _():
    inject("GetCallerIdentity", "expired_token")
    expect_error("ExpiredToken", sts(STATE["sso_creds"]).get_caller_identity, 400)
    inject("GetCallerIdentity", "access_denied")
    expect_error("AccessDenied", sts(STATE["sso_creds"]).get_caller_identity, 403)


# ---------------------------------------------------------------- delivery faults


@check("faults: malformed bodies are rejected by the parsers")
def _():
    inject("GetCallerIdentity", "malformed_body")
    expect_failure(sts(STATE["sso_creds"]).get_caller_identity, "malformed STS XML")
    # botocore's JSON parser turns an unparseable body into {"message": ...}, so for JSON services
    # the symptom is a response without its fields.
    inject("ListAccounts", "malformed_body")
    page = sso.list_accounts(accessToken=STATE["token"]["accessToken"])
    expect("accountList" not in page, f"malformed JSON parsed as {page}")


@check("faults: wrong content type (captive-portal HTML) is not taken for an answer")
def _():
    inject("GetCallerIdentity", "wrong_content_type")
    expect_failure(sts(STATE["sso_creds"]).get_caller_identity, "HTML instead of STS XML")
    inject("GetRoleCredentials", "wrong_content_type")
    out = sso.get_role_credentials(accessToken=STATE["token"]["accessToken"], accountId=PLAT_DEV, roleName="ReadOnlyAccess")
    expect("roleCredentials" not in out, f"HTML parsed as {out}")


@check("faults: a truncated body fails fast instead of hanging")
def _():
    inject("GetRoleCredentials", "truncated_body")
    started = time.time()
    expect_failure(
        lambda: sso.get_role_credentials(accessToken=STATE["token"]["accessToken"], accountId=PLAT_DEV, roleName="ReadOnlyAccess"),
        "truncated body",
    )
    expect(time.time() - started < 4, "the client waited for the read timeout")
    inject("AssumeRole", "truncated_body")
    expect_failure(
        lambda: sts(STATE["sso_creds"]).assume_role(RoleArn=f"arn:aws:iam::{PLAT_DEV}:role/t", RoleSessionName="s1"),
        "truncated STS body",
    )


@check("faults: a delayed answer does not hold up other requests")
def _():
    inject("ListAccountRoles", {"delay_ms": 1500})
    token = STATE["token"]["accessToken"]
    slow = threading.Thread(target=lambda: client("sso").list_account_roles(accessToken=token, accountId=PLAT_DEV))
    started = time.time()
    slow.start()
    time.sleep(0.2)
    client("sso").list_accounts(accessToken=token)
    fast = time.time() - started
    slow.join()
    total = time.time() - started
    expect(fast < 1.0, f"a concurrent call took {fast:.2f}s")
    expect(total >= 1.5, f"the delayed call took only {total:.2f}s")


@check("faults: a count applies the fault to that many calls only")
def _():
    inject("GetCallerIdentity", {"status": 500}, 2)
    c = sts(STATE["sso_creds"])
    expect_error("InternalFailure", c.get_caller_identity, 500)
    expect_error("InternalFailure", c.get_caller_identity, 500)
    c.get_caller_identity()


# ---------------------------------------------------------------- expiry and revocation (last: they end sessions)


@check("expiry: expired credentials -> ExpiredToken (400)")
def _():
    control("POST", "expire-credentials")
    expect_error("ExpiredToken", sts(STATE["sso_creds"]).get_caller_identity, 400)
    sts(CI_BOT).get_caller_identity()  # long-term keys do not expire


@check("expiry: expired access token -> UnauthorizedException (401)")
def _():
    control("POST", "expire-access-tokens")
    expect_error("UnauthorizedException", lambda: sso.list_accounts(accessToken=STATE["token"]["accessToken"]), 401)


@check("expiry: revoked refresh token -> InvalidGrantException")
def _():
    reg = STATE["reg"]
    control("POST", "revoke-refresh-tokens")
    expect_error(
        "InvalidGrantException",
        lambda: oidc.create_token(
            clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType="refresh_token",
            refreshToken=STATE["token"]["refreshToken"],
        ),
        400,
    )


@check("expiry: expired client registration -> InvalidClientException (401)")
def _():
    control("POST", "expire-clients")
    expect_error("InvalidClientException", lambda: start(STATE["reg"]), 401)


# ---------------------------------------------------------------- control API and the AWS CLI


@check("control: counters and issued secrets")
def _():
    counters = control("GET", "calls")
    expect(counters["total"] == sum(counters["by_op"].values()), f"counters {counters}")
    expect(counters["by_op"]["CreateToken"] >= 5, "CreateToken count")
    secrets = control("GET", "secrets")["secrets"]
    for value in (STATE["reg"]["clientSecret"], STATE["token"]["accessToken"], STATE["sso_creds"][1], STATE["sso_creds"][2]):
        expect(value in secrets, "an issued secret is missing from /_emulator/secrets")


@check("aws cli v1: sts get-caller-identity and sso list-accounts")
def _():
    aws = shutil.which("aws")
    if aws is None:
        print("      (aws not installed; skipped)")
        return
    reg = register()
    device = start(reg)
    control("POST", "approve?user_code=" + device["userCode"])
    token = poll(reg, device)["accessToken"]
    env = dict(os.environ, AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION,
               AWS_ACCESS_KEY_ID=CI_BOT[0], AWS_SECRET_ACCESS_KEY=CI_BOT[1])
    run = lambda *args: subprocess.run([aws, *args, "--endpoint-url", URL, "--output", "json"],
                                       env=env, capture_output=True, text=True, timeout=60)
    who = run("sts", "get-caller-identity")
    expect(who.returncode == 0, f"aws sts get-caller-identity: {who.stderr}")
    expect(json.loads(who.stdout)["Arn"].endswith(":user/ci-bot"), who.stdout)
    accounts = run("sso", "list-accounts", "--access-token", token)
    expect(accounts.returncode == 0, f"aws sso list-accounts: {accounts.stderr}")
    expect(len(json.loads(accounts.stdout)["accountList"]) == len(ACCOUNTS), "the CLI did not follow pages")


print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
sys.exit(1 if RESULTS["failed"] else 0)
