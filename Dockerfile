# The portal's image: web (gunicorn), worker and beat all run it.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# WeasyPrint renders invoice PDFs with the system's Pango and the DejaVu fonts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
        libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

COPY requirements.lock .
RUN pip install --no-cache-dir -r requirements.lock

COPY . .
# collectstatic needs settings to load; the real SECRET_KEY comes at run time.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input \
    && useradd --create-home --uid 1000 portal \
    && mkdir -p /app/media && chown portal /app/media
USER portal

EXPOSE 8000
CMD ["gunicorn", "portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4", "--access-logfile", "-"]
