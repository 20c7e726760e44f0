// Decryptor turns an age v1 file (https://age-encryption.org/v1) back into
// its plaintext with X25519 identities, as the bytes arrive: push-style,
// like Encryptor.
//
//   auto decryptor = Decryptor::Create(identities, sink);
//   (*decryptor)->Write(ciphertext, size);  // plaintext → sink, by chunk
//   (*decryptor)->Finish();                 // OK only for a whole file
//
// Every byte given to the sink belongs to a 64 KiB chunk that passed
// authentication, but only Finish() returning OK says the stream is whole:
// a cut after any chunk is detected there (the final chunk carries a flag
// in its nonce). A caller that must not act on a partial plaintext waits
// for Finish(). The sink lags the input by up to one sealed chunk (a full
// chunk may be the last, which only the next byte or Finish() tells).
//
// Errors (the first is sticky: every later call returns it):
//   DataLoss           not an age file; a malformed or cut header; a header
//                      MAC that does not verify (altered header); a chunk
//                      that fails authentication (altered or damaged); a
//                      stream cut at a chunk boundary or mid-chunk; bytes
//                      after the final chunk.
//   PermissionDenied   no identity unwraps any X25519 stanza: "none of the
//                      N identities in FILE decrypts it". age's stanzas do
//                      not say whom they are for, so an altered stanza looks
//                      the same as a wrong key.
//   FailedPrecondition the file has no X25519 stanza (e.g. a passphrase-
//                      encrypted one: not supported); Write after Finish.
//   the sink's status  if the sink fails.
// No message contains key material or plaintext.
//
// Memory is bounded: the header (≤ kMaxHeaderSize) while it is read, then
// one sealed chunk in and one plaintext chunk out, allocated once.
//
// Thread-compatible: one stream, one thread at a time. The sink is called
// only from Write and Finish, on the caller's thread.
#ifndef DXBACKUP_SCHEDULER_CRYPTO_AGE_DECRYPTOR_H_
#define DXBACKUP_SCHEDULER_CRYPTO_AGE_DECRYPTOR_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "scheduler/crypto/age_header.h"
#include "scheduler/crypto/age_key_schedule.h"
#include "scheduler/crypto/age_keys.h"
#include "scheduler/crypto/byte_sink.h"

namespace dxbackup::scheduler::crypto {

class Decryptor {
 public:
  static constexpr size_t kMaxBufferedBytes =
      kMaxHeaderSize > kSealedChunkSize ? kMaxHeaderSize : kSealedChunkSize;

  // InvalidArgument if `identities` is empty.
  static absl::StatusOr<std::unique_ptr<Decryptor>> Create(
      std::vector<Identity> identities, ByteSink plaintext_sink);
  ~Decryptor();
  Decryptor(const Decryptor&) = delete;
  Decryptor& operator=(const Decryptor&) = delete;

  absl::Status Write(const char* data, size_t size);
  absl::Status Write(std::string_view data) {
    return Write(data.data(), data.size());
  }
  // Checks the stream ended with its final chunk and gives that chunk's
  // plaintext to the sink.
  absl::Status Finish();

  // Ciphertext held, not yet decrypted (header bytes included).
  size_t buffered_bytes() const;
  // The identity that unwrapped the file key, once the header is read.
  const Identity* matched_identity() const { return matched_; }

 private:
  enum class Stage { kHeader, kNonce, kPayload, kDone };

  Decryptor(std::vector<Identity> identities, ByteSink sink);
  absl::Status Fail(absl::Status status);
  // Consumes header bytes from the front of (*data, *size).
  absl::Status ReadHeader(const char** data, size_t* size);
  absl::Status OpenHeader();
  absl::StatusOr<FileKey> FindFileKey(const std::vector<Stanza>& stanzas);
  absl::Status ReadNonce(const char** data, size_t* size);
  // Opens one sealed chunk; `final` when the input ends after it.
  absl::Status OpenChunk(const uint8_t* data, size_t size, bool final);
  std::string IdentitiesDescription() const;

  std::vector<Identity> identities_;
  ByteSink sink_;
  Stage stage_ = Stage::kHeader;
  std::string header_;
  size_t header_scanned_ = 0;
  const Identity* matched_ = nullptr;
  std::optional<FileKey> file_key_;
  uint8_t nonce_[kPayloadNonceSize] = {};
  size_t nonce_size_ = 0;
  std::unique_ptr<ChunkCipher> cipher_;
  std::unique_ptr<uint8_t[]> sealed_;     // kSealedChunkSize
  std::unique_ptr<uint8_t[]> plaintext_;  // kChunkSize
  size_t buffered_ = 0;                   // in sealed_
  uint64_t chunk_index_ = 0;
  absl::Status status_;
};

}  // namespace dxbackup::scheduler::crypto

#endif  // DXBACKUP_SCHEDULER_CRYPTO_AGE_DECRYPTOR_H_
