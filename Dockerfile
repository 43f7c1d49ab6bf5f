# Debrief's image: the same processes as the Procfile (web by default; the clock and the
# migration with another command, as docker-compose.yml does).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=3000 \
    SPOOL_DIR=/var/lib/debrief/spool

WORKDIR /app

# The dependencies from the lock (pinned, hashes checked; setuptools, the build backend,
# among them), then the package alone, built without fetching anything: no build isolation.
COPY requirements.txt ./
RUN pip install --require-hashes -r requirements.txt
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-deps --no-build-isolation . \
    && rm -rf /app/bot /app/pyproject.toml /app/README.md /app/build /app/*.egg-info

# The user it runs as, and the spool it writes events to while the database is down
# (bot/spool.py), its own: mount a volume there (docker-compose.yml's `spool`), so kept
# events outlive the container.
RUN useradd --create-home --uid 10001 debrief \
    && mkdir -p /var/lib/debrief/spool \
    && chown -R debrief:debrief /var/lib/debrief \
    && chmod 700 /var/lib/debrief/spool
USER debrief

EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/healthz', timeout=4)"]

# The Procfile's web line, word for word (tests/test_deploy.py checks).
CMD ["gunicorn", "--config", "python:bot.serving", "--workers", "2", "--threads", "8", "bot.web:create_app()"]
