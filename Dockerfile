# payflow's one binary; docker-compose.yml runs it as api, worker, migrate
# and sandbox.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/payflow ./cmd/payflow

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/payflow /payflow
USER nonroot
ENTRYPOINT ["/payflow"]
CMD ["help"]
