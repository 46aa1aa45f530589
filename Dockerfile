# syntax=docker/dockerfile:1
# certvc's container image: one gunicorn node (docs/deployment.md). The same image runs
# `certvc worker` and every `certvc` command (init, tokens, keys, audit, ...).
#
#   docker build -t certvc .
#   docker run --read-only --tmpfs /tmp --tmpfs /run/certvc -v certvc-instance:/var/lib/certvc \
#     -e CERTVC_DATABASE_URL=postgresql+psycopg://... -e CERTVC_KEY_PASSPHRASE_FILE=/run/secrets/... \
#     -p 8000:8000 certvc
#
# Runs as an unprivileged user; writes only to the instance volume (/var/lib/certvc), /tmp
# (uploads being received) and /run/certvc (Prometheus multiprocess files): mount the root
# filesystem read-only.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements.lock pyproject.toml README.md ./
COPY contexts contexts
COPY keys keys
COPY verifier verifier
COPY wallet_export wallet_export
COPY issuer issuer
# The runtime dependencies pyproject.toml names, at the versions requirements.lock pins (the
# lock also pins the test tools, which the image does not need).
RUN python -m venv /opt/certvc \
 && /opt/certvc/bin/pip install --constraint requirements.lock . \
 && /opt/certvc/bin/python -m compileall -q /opt/certvc/lib

FROM python:3.11-slim
# Extra Debian packages, e.g. the PKCS#11 module of the body's HSM (softhsm2 for a trial).
# The operator names (and may pin: name=version) what the HSM's vendor asks for.
ARG EXTRA_PACKAGES=""
# hadolint ignore=DL3008
RUN if [ -n "$EXTRA_PACKAGES" ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends $EXTRA_PACKAGES \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
 && groupadd --system --gid 10001 certvc \
 && useradd --system --uid 10001 --gid certvc --home-dir /var/lib/certvc --shell /usr/sbin/nologin certvc \
 && install -d -o certvc -g certvc -m 0700 /var/lib/certvc /run/certvc
COPY --from=build /opt/certvc /opt/certvc
COPY deploy/gunicorn.conf.py /etc/certvc/gunicorn.conf.py
COPY deploy/entrypoint.sh /usr/local/bin/certvc-entrypoint
ENV PATH=/opt/certvc/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CERTVC_INSTANCE=/var/lib/certvc/instance \
    CERTVC_BIND=0.0.0.0:8000 \
    CERTVC_LOG_FORMAT=json \
    PROMETHEUS_MULTIPROC_DIR=/run/certvc/prometheus
USER 10001:10001
WORKDIR /var/lib/certvc
VOLUME ["/var/lib/certvc"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
ENTRYPOINT ["certvc-entrypoint"]
CMD ["gunicorn", "--config", "/etc/certvc/gunicorn.conf.py"]
