#!/usr/bin/python3
"""Makes the certificates of the wss:// tests, at test time, with the
OpenSSL command line (Debian's ca-certificates depends on `openssl`).
No key is ever committed.

Usage: make_certs.py OUTDIR

Writes into OUTDIR (PEM, keys unencrypted):
  ca.pem / ca.key            "wschannel test CA" (the anchor the tests give
                             through SSL_CERT_FILE)
  inter.pem / inter.key      an intermediate CA under ca
  other_ca.pem / .key        a CA nobody trusts
  <name>.pem / <name>.key    server certificates (leaf first, then any
                             intermediate), for:
    server        localhost, 127.0.0.1, ::1 — EC P-256, by ca
    server_rsa    the same names, RSA 2048, by ca
    chain         the same names, by inter (the file holds leaf + inter)
    wronghost     only wrong.example, by ca
    expired       valid 2020-01-01 .. 2021-01-01, by ca
    notyet        valid from next year on, by ca
    selfsigned    localhost, self-signed (not a CA)
    unknownca     localhost, by other_ca
    nosan         CN=localhost and no subjectAltName, by ca
    wildcard      *.example.test, by ca
    partial       f*.example.test (a partial wildcard), by ca
    noserverauth  localhost, extendedKeyUsage clientAuth only, by ca
Prints nothing on success; exits non-zero with openssl's message otherwise.
"""
import datetime
import os
import subprocess
import sys

OUT = sys.argv[1]
NAMES = "DNS:localhost,IP:127.0.0.1,IP:::1"


def run(*args):
    r = subprocess.run(["openssl", *args], cwd=OUT, capture_output=True,
                       text=True)
    if r.returncode != 0:
        sys.stderr.write("openssl %s failed:\n%s" % (" ".join(args), r.stderr))
        sys.exit(1)


def key(name, rsa=False):
    if rsa:
        run("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
            "-out", name + ".key")
    else:
        run("genpkey", "-algorithm", "EC", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-out", name + ".key")


def self_signed_ca(name, cn):
    key(name)
    run("req", "-x509", "-new", "-key", name + ".key", "-subj", "/CN=" + cn,
        "-days", "3650", "-sha256",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-addext", "subjectKeyIdentifier=hash",
        "-out", name + ".pem")


def stamp(d):
    return d.strftime("%Y%m%d%H%M%SZ")


def ca_conf(ca):
    """A minimal `openssl ca` setup for signing with ca (dates explicit)."""
    d = os.path.join(OUT, ca + ".db")
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, "index.txt"), "a").close()
    serial = os.path.join(d, "serial")
    if not os.path.exists(serial):
        with open(serial, "w") as f:
            f.write("%016X\n" % int.from_bytes(os.urandom(7), "big"))
    conf = os.path.join(d, "ca.cnf")
    with open(conf, "w") as f:
        f.write("""[ca]
default_ca = CA_default
[CA_default]
database = %(d)s/index.txt
new_certs_dir = %(d)s
serial = %(d)s/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
[policy_any]
commonName = supplied
organizationName = optional
""" % {"d": d})
    return conf


def leaf(name, ca, subject="/CN=localhost", san=NAMES, start=None, end=None,
         rsa=False, is_ca=False, eku="serverAuth", chain=None):
    key(name, rsa)
    run("req", "-new", "-key", name + ".key", "-subj", subject,
        "-out", name + ".csr")
    now = datetime.datetime.now(datetime.timezone.utc)
    start = start or now - datetime.timedelta(days=1)
    end = end or now + datetime.timedelta(days=30)
    ext = os.path.join(OUT, name + ".ext")
    with open(ext, "w") as f:
        f.write("[ext]\n")
        if is_ca:
            f.write("basicConstraints=critical,CA:TRUE\n"
                    "keyUsage=critical,keyCertSign,cRLSign\n")
        else:
            f.write("basicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=%s\n" % eku)
        if san:
            f.write("subjectAltName=%s\n" % san)
        f.write("subjectKeyIdentifier=hash\n"
                "authorityKeyIdentifier=keyid\n")
    run("ca", "-batch", "-config", ca_conf(ca), "-cert", ca + ".pem",
        "-keyfile", ca + ".key", "-in", name + ".csr", "-out", name + ".pem",
        "-startdate", stamp(start), "-enddate", stamp(end),
        "-extfile", ext, "-extensions", "ext", "-notext")
    if chain:
        with open(os.path.join(OUT, name + ".pem"), "a") as f:
            f.write(open(os.path.join(OUT, chain + ".pem")).read())


def main():
    os.makedirs(OUT, exist_ok=True)
    self_signed_ca("ca", "wschannel test CA")
    self_signed_ca("other_ca", "wschannel untrusted CA")
    now = datetime.datetime.now(datetime.timezone.utc)
    leaf("inter", "ca", subject="/CN=wschannel test intermediate", san=None,
         end=now + datetime.timedelta(days=365), is_ca=True)
    leaf("server", "ca")
    leaf("server_rsa", "ca", rsa=True)
    leaf("chain", "inter", chain="inter")
    leaf("wronghost", "ca", subject="/CN=wrong.example", san="DNS:wrong.example")
    leaf("expired", "ca", start=datetime.datetime(2020, 1, 1),
         end=datetime.datetime(2021, 1, 1))
    leaf("notyet", "ca", start=now + datetime.timedelta(days=365),
         end=now + datetime.timedelta(days=730))
    leaf("unknownca", "other_ca")
    leaf("nosan", "ca", san=None)
    leaf("wildcard", "ca", subject="/CN=*.example.test", san="DNS:*.example.test")
    leaf("partial", "ca", subject="/CN=f*.example.test", san="DNS:f*.example.test")
    leaf("noserverauth", "ca", eku="clientAuth")
    key("selfsigned")
    run("req", "-x509", "-new", "-key", "selfsigned.key", "-subj", "/CN=localhost",
        "-days", "30", "-sha256",
        "-addext", "basicConstraints=critical,CA:FALSE",
        "-addext", "subjectAltName=" + NAMES,
        "-addext", "extendedKeyUsage=serverAuth",
        "-out", "selfsigned.pem")


if __name__ == "__main__":
    main()
