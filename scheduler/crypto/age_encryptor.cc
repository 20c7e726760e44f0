#include "scheduler/crypto/age_encryptor.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

#include "scheduler/crypto/age_header.h"
#include "scheduler/crypto/x25519_stanza.h"

namespace dxbackup::scheduler::crypto {

absl::StatusOr<std::unique_ptr<Encryptor>> Encryptor::Create(
    const std::vector<Recipient>& recipients, ByteSink sink) {
  if (recipients.empty()) {
    return absl::InvalidArgumentError("age encryption needs a recipient");
  }
  FileKey file_key;
  if (absl::Status s = RandomBytes(file_key.data(), kFileKeySize); !s.ok()) {
    return s;
  }
  std::vector<Stanza> stanzas;
  for (const Recipient& recipient : recipients) {
    absl::StatusOr<Stanza> stanza = WrapFileKey(file_key, recipient);
    if (!stanza.ok()) return stanza.status();
    stanzas.push_back(*std::move(stanza));
  }
  std::string header = EncodeHeaderForMac(stanzas);
  absl::StatusOr<std::array<uint8_t, 32>> mac = HeaderMac(file_key, header);
  if (!mac.ok()) return mac.status();
  header += EncodeMacLine(std::string_view(
      reinterpret_cast<const char*>(mac->data()), mac->size()));

  uint8_t nonce[kPayloadNonceSize];
  if (absl::Status s = RandomBytes(nonce, sizeof(nonce)); !s.ok()) return s;
  absl::StatusOr<SecretKey32> payload_key = PayloadKey(file_key, nonce);
  if (!payload_key.ok()) return payload_key.status();

  std::unique_ptr<Encryptor> encryptor(
      new Encryptor(std::move(sink), *payload_key));
  if (absl::Status s = encryptor->Emit(
          reinterpret_cast<const uint8_t*>(header.data()), header.size());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = encryptor->Emit(nonce, sizeof(nonce)); !s.ok()) {
    return s;
  }
  return encryptor;
}

Encryptor::Encryptor(ByteSink sink, const SecretKey32& payload_key)
    : sink_(std::move(sink)),
      cipher_(payload_key),
      plaintext_(new uint8_t[kChunkSize]),
      sealed_(new uint8_t[kSealedChunkSize]) {}

Encryptor::~Encryptor() { OPENSSL_cleanse(plaintext_.get(), kChunkSize); }

absl::Status Encryptor::Emit(const uint8_t* data, size_t size) {
  status_ = sink_(reinterpret_cast<const char*>(data), size);
  if (status_.ok()) bytes_out_ += size;
  return status_;
}

absl::Status Encryptor::SealChunk(const uint8_t* data, size_t size, bool last) {
  uint8_t nonce[kNonceSize];
  ChunkNonce(chunk_index_, last, nonce);
  status_ = cipher_.Seal(nonce, data, size, sealed_.get());
  if (!status_.ok()) return status_;
  ++chunk_index_;
  return Emit(sealed_.get(), size + kTagSize);
}

absl::Status Encryptor::Write(const char* data, size_t size) {
  if (!status_.ok()) return status_;
  if (finished_) {
    return absl::FailedPreconditionError("age Encryptor: Write after Finish");
  }
  const uint8_t* in = reinterpret_cast<const uint8_t*>(data);
  while (size > 0) {
    // A full buffer is not the last chunk: more bytes follow.
    if (buffered_ == kChunkSize) {
      if (absl::Status s = SealChunk(plaintext_.get(), kChunkSize, false);
          !s.ok()) {
        return s;
      }
      buffered_ = 0;
    }
    // Whole chunks with bytes after them go straight from the caller's
    // buffer, saving a copy.
    if (buffered_ == 0 && size > kChunkSize) {
      if (absl::Status s = SealChunk(in, kChunkSize, false); !s.ok()) return s;
      in += kChunkSize;
      size -= kChunkSize;
      continue;
    }
    const size_t take = std::min(size, kChunkSize - buffered_);
    std::memcpy(plaintext_.get() + buffered_, in, take);
    buffered_ += take;
    in += take;
    size -= take;
  }
  return absl::OkStatus();
}

absl::Status Encryptor::Finish() {
  if (!status_.ok()) return status_;
  if (finished_) {
    return absl::FailedPreconditionError("age Encryptor: Finish called twice");
  }
  // Only an empty stream ends with an empty chunk: a full buffer is sealed
  // only once more bytes arrive.
  if (absl::Status s = SealChunk(plaintext_.get(), buffered_, true); !s.ok()) {
    return s;
  }
  buffered_ = 0;
  finished_ = true;
  return absl::OkStatus();
}

}  // namespace dxbackup::scheduler::crypto
