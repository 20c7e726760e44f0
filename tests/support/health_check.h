// grpc.health.v1.Health/Check as Kubernetes' gRPC probes call it, for the
// integration tests: a generic call, so no generated health stub is needed.
#ifndef DXBACKUP_TESTS_SUPPORT_HEALTH_CHECK_H_
#define DXBACKUP_TESTS_SUPPORT_HEALTH_CHECK_H_

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

namespace dxbackup::testing {

// The serving status of `service` ("": the server as a whole) at the
// plaintext `address`: 1 SERVING, 2 NOT_SERVING, 3 SERVICE_UNKNOWN; -1 if
// the call failed.
inline int HealthStatus(const std::string& address,
                        const std::string& service = "") {
  auto channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  // HealthCheckRequest{service = 1}: field 1, length-delimited.
  std::string encoded;
  if (!service.empty()) {
    encoded = std::string(1, '\x0a') +
              std::string(1, static_cast<char>(service.size())) + service;
  }
  grpc::Slice slice(encoded);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", {}, &request,
                 &response, [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mu);
                   status = s;
                   done = true;
                   cv.notify_all();
                 });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return 3;
  if (!status.ok()) return -1;
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return -1;
  std::string bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  // HealthCheckResponse{status = 1}: field 1, varint.
  if (bytes.size() != 2 || bytes[0] != 0x08) return -1;
  return bytes[1];
}

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_HEALTH_CHECK_H_
