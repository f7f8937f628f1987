# keyexec: a static binary on a minimal image, meant to be copied into an
# app image:  COPY --from=keyexec:latest /keyexec /usr/local/bin/keyexec
# (see examples/docker/Dockerfile).

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/keyexec ./cmd/keyexec

FROM scratch
# CA certificates for Vault, AWS and the providers over TLS.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/keyexec /keyexec
USER 65532:65532
ENTRYPOINT ["/keyexec"]
CMD ["--help"]
