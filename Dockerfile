# syntax=docker/dockerfile:1
#
# Hookgate's image: the static binary (CGO_ENABLED=0) on distroless/static,
# run as its non-root user, with the data dir a volume at /data. Build and run
# it as docs/deploy.md says:
#
#   docker build --build-arg VERSION="$(git describe --tags --always --dirty)" -t hookgate .
#   docker run -d -p 8080:8080 -v hookgate-data:/data hookgate
#
# Why distroless/static and not scratch: it has what the binary needs and
# nothing else (CA certificates for HTTPS receivers and PostgreSQL over TLS,
# tzdata, an /etc/passwd naming the nonroot user 65532), no shell and no
# package manager, and it is rebuilt when Debian patches those files; with
# scratch we would copy them from the build stage and keep them current
# ourselves.

# go.mod asks for go 1.26.8; the golang images set GOTOOLCHAIN=local, so an
# older 1.26 image fails the build saying so rather than downloading one.
ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# The modules first: a change of the code alone reuses this layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The version `hookgate version` prints and the User-Agent carries.
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/hookgate ./cmd/hookgate
# The data dir, made here: the final stage has no shell to make it.
RUN mkdir -m 0700 /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hookgate /usr/local/bin/hookgate
COPY --from=build --chown=65532:65532 /out/data /data
# nonroot in distroless's /etc/passwd; numeric, so that Kubernetes'
# runAsNonRoot can check it.
USER 65532:65532
# As environment, not flags: `docker run … hookgate migrate`, `rotate-key`
# and the CLI (which reads the admin key from the data dir) get them too.
ENV HOOKGATE_ADDR=0.0.0.0:8080 \
    HOOKGATE_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
# Liveness, not readiness: a database outage must not get every container
# restarted. healthcheck reads HOOKGATE_ADDR and asks 127.0.0.1.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/usr/local/bin/hookgate", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/hookgate"]
CMD ["serve"]
