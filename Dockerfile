# Debrief's image: the same processes as the Procfile (web by default; the clock and the
# migration with another command, as docker-compose.yml does).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=3000

WORKDIR /app

# The dependencies from the lock (pinned, hashes checked), then the package alone.
COPY requirements.txt ./
RUN pip install --require-hashes -r requirements.txt
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-deps . && rm -rf /app/bot /app/pyproject.toml /app/README.md

RUN useradd --create-home --uid 10001 debrief
USER debrief

EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/healthz', timeout=4)"]

# The Procfile's web line, word for word (tests/test_deploy.py checks).
CMD ["gunicorn", "--config", "python:bot.serving", "--workers", "2", "--threads", "8", "bot.web:create_app()"]
