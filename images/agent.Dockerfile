# The dxbackup agent: the sidecar tools/dx-post-renderer adds to DX's core
# and DAM pods, so it is pulled onto every node that runs DX: one layer
# that images/rootfs.sh assembles, 18 MB and kubectl: the agent, linked
# against static archives (cmake/link-static-archives) so that it loads only
# the C library and libacl (15 MB); /bin/sh (dash) for shell hooks; kubectl
# for the core quiesce hooks (`kubectl exec -c core`); passwd and group
# naming uid 1000. No package manager, no CA bundle and no other tools.
#
#   docker build -f images/agent.Dockerfile -t dxbackup/agent:0.1.0 .
ARG KUBECTL_IMAGE=registry.k8s.io/kubectl:v1.30.4

FROM ${KUBECTL_IMAGE} AS kubectl

FROM debian:12 AS build
COPY tools/install-deps.sh /src/tools/install-deps.sh
RUN /src/tools/install-deps.sh --no-helm && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build -j"$(nproc)" --target dxbackup-agent
COPY --from=kubectl /bin/kubectl /build/kubectl
# tests/images/image_deps_test.py runs the agent in a root built this way.
RUN /src/images/rootfs.sh /rootfs /build/bin/dxbackup-agent:/usr/local/bin/dxbackup-agent \
      /bin/dash:/bin/sh /build/kubectl:/usr/local/bin/kubectl

FROM scratch
COPY --from=build /rootfs /
# DX's user, so that captured and restored files keep their owner; the
# post-renderer sets the same user in the pod spec. kubectl keeps its
# cache under $HOME.
ENV HOME=/tmp PATH=/usr/local/bin:/bin
USER 1000:1000
ENTRYPOINT ["/usr/local/bin/dxbackup-agent"]
