# The production image: one image for the web, worker, beat and migrate services of
# docker-compose.yml, which choose what to run with their `command`.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore

# WeasyPrint's system libraries (Pango, HarfBuzz and its font subsetter) and a font to render
# with. The slim image has no compiler and needs none: every Python dependency ships a wheel.
# Versions are not pinned: bookworm's security updates replace them.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz0b \
        libharfbuzz-subset0 \
        fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# The account the services run as; root only builds the image.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home \
        --shell /usr/sbin/nologin app

WORKDIR /app
COPY . /app

# The project's dependencies. The code itself runs from /app, the working directory, exactly as
# it does from a checkout: gunicorn, celery and manage.py all import it from there.
RUN pip install . \
    && python -c "import weasyprint; weasyprint.HTML(string='<p>ok</p>').write_pdf()"

# Static files are collected into the image and served by WhiteNoise. Settings refuse to load in
# production without these variables, so collectstatic gets throwaway values that exist only
# for this one command and are not kept in the image.
RUN DJANGO_ENV=production \
    DJANGO_SECRET_KEY=collectstatic-at-build-time-only-never-used-to-sign-anything-0123456789 \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    EMAIL_URL=consolemail:// \
    python manage.py collectstatic --noinput

# var/ holds beat's schedule file, media/ the exports and private/ the meeting readings (named
# volumes in compose): the only places the services write to. The code and static files stay
# owned by root, read-only to app.
RUN mkdir -p /app/var /app/media /app/private \
    && chown app:app /app/var /app/media /app/private

USER 10001:10001

ENV DJANGO_ENV=production \
    MEDIA_ROOT=/app/media \
    PRIVATE_MEDIA_ROOT=/app/private \
    PORT=8000

EXPOSE 8000

# gunicorn binds 0.0.0.0:$PORT when PORT is set and takes its worker count from WEB_CONCURRENCY.
CMD ["gunicorn", "asi_wg.wsgi"]
