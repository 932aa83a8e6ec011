"""deploy/nginx.conf, run for real: TLS, a password in front of everything (sign-in page, uploads,
websocket), no /_stcore/metrics, anti-framing headers sent once. `make test` installs Debian's
nginx-light; without it these tests fail (they once skipped, so CI never ran them).

The app behind it is `dashboard.py` run directly, without ui/guard.py: the proxy alone must
close the doors. The test changes only the config's addresses, certificate and password file.
"""

import asyncio
import os
import re
import shutil
import ssl
import subprocess
import time
from pathlib import Path

import pytest
import requests
import urllib3

from browser_support import _free_port, start_server

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PASSWORD = "proxy-password-123"

@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nginx")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", folder / "key.pem",
                    "-out", folder / "cert.pem", "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    hashed = subprocess.run(["openssl", "passwd", "-5", PASSWORD], check=True, capture_output=True, text=True).stdout.strip()
    (folder / "htpasswd").write_text(f"ann:{hashed}\n")
    app_url, app = start_server(folder / "store", script="dashboard.py")
    port = _free_port()
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site = site[: site.index("server {\n    listen 80;")]  # the plain-HTTP redirect needs port 80
    site = (site.replace("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;")
                .replace("/etc/ssl/certs/kpi.example.com.pem", str(folder / "cert.pem"))
                .replace("/etc/ssl/private/kpi.example.com.key", str(folder / "key.pem"))
                .replace("/etc/nginx/repurchase.htpasswd", str(folder / "htpasswd"))
                .replace("http://127.0.0.1:8501", app_url))
    assert f"auth_basic_user_file {folder / 'htpasswd'};" in site and f"proxy_pass {app_url};" in site
    temp = folder / "temp"
    temp.mkdir()
    (folder / "nginx.conf").write_text(
        # one process, as the test's user: a worker switched to `nobody` could not read the temp folder
        f"master_process off;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\nevents {{}}\n"
        f"http {{\n access_log off;\n client_body_temp_path {temp}/body;\n proxy_temp_path {temp}/proxy;\n"
        f" fastcgi_temp_path {temp}/fcgi;\n uwsgi_temp_path {temp}/uwsgi;\n scgi_temp_path {temp}/scgi;\n{site}\n}}\n"
    )
    nginx = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"https://127.0.0.1:{port}"
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    for _ in range(100):
        try:
            requests.get(url, verify=False, timeout=2)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    yield url
    nginx.terminate()
    nginx.wait(timeout=10)
    app.terminate()
    app.wait(timeout=10)


def test_nothing_without_the_proxy_password(proxied):
    for method, path in (("GET", "/"), ("GET", "/_stcore/health"), ("PUT", "/_stcore/upload_file/s/1"),
                         ("GET", "/_stcore/stream")):
        answer = requests.request(method, proxied + path, verify=False, timeout=10, data=b"x" * 1024)
        assert answer.status_code == 401, (method, path, answer.status_code)
    # `return 404` runs before the password check: closed for everyone, the app never asked
    assert requests.get(proxied + "/_stcore/metrics", verify=False, timeout=10).status_code == 404


def test_with_the_password_the_app_works_but_metrics_and_framing_do_not(proxied):
    http = requests.Session()
    http.auth = ("ann", PASSWORD)
    page = http.get(proxied, timeout=10, verify=False)
    assert page.status_code == 200 and "<title>" in page.text.lower()
    assert page.headers["x-frame-options"] == "DENY"  # once: "DENY, DENY" would be ignored by browsers
    assert page.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert http.get(proxied + "/_stcore/metrics", timeout=10, verify=False).status_code == 404
    assert http.get(proxied + "/_stcore/health", timeout=10, verify=False).text == "ok"


def test_the_websocket_goes_through_with_the_password(proxied):
    import base64

    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    credentials = base64.b64encode(f"ann:{PASSWORD}".encode()).decode()

    async def first_message_kind() -> str:
        async with websockets.connect(proxied.replace("https://", "wss://") + "/_stcore/stream", ssl=context,
                                      subprotocols=["streamlit"], origin=proxied,
                                      additional_headers={"Authorization": f"Basic {credentials}"}) as ws:
            message = BackMsg()
            message.rerun_script.query_string = ""
            await ws.send(message.SerializeToString())
            forward = ForwardMsg()
            forward.ParseFromString(await asyncio.wait_for(ws.recv(), 30))
            return forward.WhichOneof("type")

    assert asyncio.run(first_message_kind()) == "new_session"


def test_the_app_s_scripts_come_compressed_through_the_proxy(proxied):
    """A first visit loads about 9 MB of scripts and styles, which Streamlit sends uncompressed."""
    import gzip
    import re

    import streamlit

    http = requests.Session()
    http.auth = ("ann", PASSWORD)
    (script,) = re.findall(r'src="\./(static/js/index\.[^"]+\.js)"', http.get(proxied, timeout=10, verify=False).text)
    answer = http.get(f"{proxied}/{script}", timeout=10, verify=False, stream=True, headers={"Accept-Encoding": "gzip"})
    sent = answer.raw.read(decode_content=False)
    original = (Path(streamlit.__file__).parent / "static" / script).read_bytes()
    assert answer.headers["content-encoding"] == "gzip" and gzip.decompress(sent) == original
    assert len(sent) < len(original) / 2
