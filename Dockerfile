# trimtab's image: the `trimtab` command and its runtime dependencies (with the PostgreSQL driver), nothing else.
#   docker build -t trimtab .
#   docker run --rm -v "$PWD:/work" -w /work trimtab plan --portfolio P --policy C --market M
# compose.yaml runs `trimtab run` and `trimtab serve` on a PostgreSQL journal.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels '.[postgres]'

FROM python:3.12-slim
RUN useradd --create-home --uid 10001 trimtab
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels 'trimtab[postgres]' && rm -rf /wheels
USER trimtab
WORKDIR /home/trimtab
# SIGTERM (docker stop) ends a run cleanly after its cycle; see docs/live.md, "Stopping a run".
STOPSIGNAL SIGTERM
ENTRYPOINT ["trimtab"]
CMD ["--help"]
