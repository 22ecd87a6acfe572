# One image for web, worker and beat.
FROM python:3.13-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN DEBUG=1 python manage.py compilemessages -v0 && DEBUG=0 SECRET_KEY=build python manage.py collectstatic --no-input -v0
RUN useradd --system --home /app ipplan && mkdir -p /app/var /app/media /app/private && chown -R ipplan /app/var /app/media /app/private
USER ipplan
EXPOSE 8000
CMD ["gunicorn", "ipplan.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
