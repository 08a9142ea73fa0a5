# Production image: gunicorn web, Celery worker and beat all run from this image.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk postgresql-client \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --system --uid 1000 mes && mkdir -p /app/var /app/staticfiles && chown -R mes /app/var /app/staticfiles
USER mes
RUN DATABASE_URL=sqlite:////tmp/build.sqlite3 python manage.py collectstatic --no-input -v 0
EXPOSE 8000
CMD ["gunicorn", "mes.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "8", "--threads", "2", "--access-logfile", "-"]
