# syntax=docker/dockerfile:1.7
#
# newswatch image: the four static binaries (fetcher, analyzer, notifier and
# the all-in-one newswatch) on distroless, running as the nonroot user.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t newswatch .
#
# .ci/deploy-checks builds the same binaries with the same flags without a
# Docker engine; keep the two in step.

ARG GO_VERSION=1.26.8

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src

# Modules first, so that a source change reuses the downloaded modules.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .

ARG VERSION=dev
ARG TARGETOS
ARG TARGETARCH
# CGO_ENABLED=0 gives static binaries that need no libc in the final image;
# -trimpath keeps the build machine's paths out of them.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath \
      -ldflags "-s -w -X github.com/newswatch/newswatch/pkg/version.Version=${VERSION}" \
      -o /out/ ./cmd/fetcher ./cmd/analyzer ./cmd/notifier ./cmd/newswatch

# The all-in-one keeps JetStream data here; created in this stage because
# the final image has no shell, and owned by nonroot so that a volume mounted
# on it starts out writable.
RUN mkdir -p /out/data/var/lib/newswatch

# distroless/static carries CA certificates (feeds and sinks are HTTPS),
# tzdata and an /etc/passwd with the nonroot user (65532), and no shell.
FROM gcr.io/distroless/static-debian12:nonroot

LABEL org.opencontainers.image.title="newswatch" \
      org.opencontainers.image.description="Defence and security news monitoring: fetcher, analyzer and notifier over NATS JetStream" \
      org.opencontainers.image.source="https://github.com/newswatch/newswatch" \
      org.opencontainers.image.licenses="Apache-2.0"

COPY --from=build /out/fetcher /out/analyzer /out/notifier /out/newswatch /usr/local/bin/
COPY --from=build --chown=65532:65532 /out/data/var/lib/newswatch /var/lib/newswatch

# Inside a container the status server must listen beyond loopback for
# `docker run -p` and for the kubelet's probes.
ENV NEWSWATCH_HTTP_LISTEN=0.0.0.0:9090 \
    NEWSWATCH_NATS_STORE_DIR=/var/lib/newswatch
EXPOSE 9090
VOLUME ["/var/lib/newswatch"]

USER 65532:65532
# With no arguments the image runs the all-in-one on a config mounted at
# /etc/newswatch/config.yaml; the Kubernetes Deployments set their own command.
ENTRYPOINT ["/usr/local/bin/newswatch"]
CMD ["run", "--config", "/etc/newswatch/config.yaml"]
