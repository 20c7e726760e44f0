// Encryptor turns a byte stream into an age v1 file
// (https://age-encryption.org/v1) for one or more X25519 recipients, as it
// is written: the stock tool decrypts the result (`age -d -i key.txt`).
//
//   auto encryptor = Encryptor::Create(recipients, sink);  // header → sink
//   (*encryptor)->Write(data, size);  // …as often as needed
//   (*encryptor)->Finish();           // the final chunk → sink
//
// Memory is bounded whatever the input: one 64 KiB plaintext chunk is
// buffered (buffered_bytes() ≤ kMaxBufferedBytes) plus one sealed chunk of
// output, allocated once. A chunk is sealed when the next byte arrives (a
// full chunk may be the last), so the sink lags the input by ≤ 64 KiB.
//
// The first error (the sink's, or OpenSSL's) is sticky: every later call
// returns it. Output already given to the sink is then an incomplete age
// file, which any reader rejects (the final chunk is missing). Writing
// after Finish() is FailedPrecondition.
//
// Thread-compatible: one stream, one thread at a time. The sink is called
// only from Create, Write and Finish, on the caller's thread.
#ifndef DXBACKUP_SCHEDULER_CRYPTO_AGE_ENCRYPTOR_H_
#define DXBACKUP_SCHEDULER_CRYPTO_AGE_ENCRYPTOR_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "scheduler/crypto/age_key_schedule.h"
#include "scheduler/crypto/age_keys.h"
#include "scheduler/crypto/byte_sink.h"

namespace dxbackup::scheduler::crypto {

class Encryptor {
 public:
  static constexpr size_t kMaxBufferedBytes = kChunkSize;

  // Draws a fresh file key, writes the header (one stanza per recipient)
  // and the payload nonce to `sink`. InvalidArgument if `recipients` is
  // empty; the sink's error if it fails.
  static absl::StatusOr<std::unique_ptr<Encryptor>> Create(
      const std::vector<Recipient>& recipients, ByteSink sink);
  ~Encryptor();
  Encryptor(const Encryptor&) = delete;
  Encryptor& operator=(const Encryptor&) = delete;

  absl::Status Write(const char* data, size_t size);
  absl::Status Write(std::string_view data) {
    return Write(data.data(), data.size());
  }
  // Seals the last chunk (empty for an empty stream). The file is complete
  // once this returns OK.
  absl::Status Finish();

  // Plaintext held, not yet sealed.
  size_t buffered_bytes() const { return buffered_; }
  // Bytes given to the sink so far (header included).
  uint64_t bytes_out() const { return bytes_out_; }

 private:
  Encryptor(ByteSink sink, const SecretKey32& payload_key);
  absl::Status Emit(const uint8_t* data, size_t size);
  absl::Status SealChunk(const uint8_t* data, size_t size, bool last);

  ByteSink sink_;
  ChunkCipher cipher_;
  std::unique_ptr<uint8_t[]> plaintext_;  // kChunkSize
  std::unique_ptr<uint8_t[]> sealed_;     // kSealedChunkSize
  size_t buffered_ = 0;
  uint64_t chunk_index_ = 0;
  uint64_t bytes_out_ = 0;
  bool finished_ = false;
  absl::Status status_;
};

}  // namespace dxbackup::scheduler::crypto

#endif  // DXBACKUP_SCHEDULER_CRYPTO_AGE_ENCRYPTOR_H_
