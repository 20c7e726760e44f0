# The dxbackup agent: the sidecar tools/dx-post-renderer adds to DX's core
# and DAM pods. Small: the agent, the libraries it links, and kubectl for
# the core quiesce hooks (`kubectl exec -c core`).
#
#   docker build -f images/agent.Dockerfile -t dxbackup/agent:0.1.0 .
ARG KUBECTL_IMAGE=registry.k8s.io/kubectl:v1.30.4

FROM debian:12 AS build
COPY tools/install-deps.sh /src/tools/install-deps.sh
RUN /src/tools/install-deps.sh --no-helm && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build -j"$(nproc)" --target dxbackup-agent \
 && strip /build/bin/dxbackup-agent

FROM ${KUBECTL_IMAGE} AS kubectl

FROM debian:12-slim
# Runtime libraries only (tests/images/image_deps_test.py checks that these
# cover every library the binary links).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libgrpc++1.51 libprotobuf32 libabsl20220623 libarchive13 libzstd1 \
      libboost-program-options1.74.0 libssl3 ca-certificates \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
COPY --from=build /build/bin/dxbackup-agent /usr/local/bin/dxbackup-agent
COPY --from=kubectl /bin/kubectl /usr/local/bin/kubectl
# DX's user, so that captured and restored files keep their owner; the
# post-renderer sets the same user in the pod spec.
USER 1000:1000
ENTRYPOINT ["/usr/local/bin/dxbackup-agent"]
