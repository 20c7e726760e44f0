#include "scheduler/crypto/age_decryptor.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "scheduler/crypto/x25519_stanza.h"

namespace dxbackup::scheduler::crypto {

absl::StatusOr<std::unique_ptr<Decryptor>> Decryptor::Create(
    std::vector<Identity> identities, ByteSink plaintext_sink) {
  if (identities.empty()) {
    return absl::InvalidArgumentError("age decryption needs an identity");
  }
  return std::unique_ptr<Decryptor>(
      new Decryptor(std::move(identities), std::move(plaintext_sink)));
}

Decryptor::Decryptor(std::vector<Identity> identities, ByteSink sink)
    : identities_(std::move(identities)), sink_(std::move(sink)) {}

Decryptor::~Decryptor() {
  if (plaintext_) OPENSSL_cleanse(plaintext_.get(), kChunkSize);
}

size_t Decryptor::buffered_bytes() const {
  return stage_ == Stage::kHeader ? header_.size() : buffered_ + nonce_size_;
}

absl::Status Decryptor::Fail(absl::Status status) {
  status_ = status;
  return status_;
}

std::string Decryptor::IdentitiesDescription() const {
  std::vector<std::string> sources;
  for (const Identity& identity : identities_) {
    const std::string& source =
        identity.source().empty() ? "(given directly)" : identity.source();
    if (std::find(sources.begin(), sources.end(), source) == sources.end()) {
      sources.push_back(source);
    }
  }
  return absl::StrCat(identities_.size(),
                      identities_.size() == 1 ? " identity" : " identities",
                      " in ", absl::StrJoin(sources, ", "));
}

absl::Status Decryptor::Write(const char* data, size_t size) {
  if (!status_.ok()) return status_;
  if (stage_ == Stage::kDone) {
    return absl::FailedPreconditionError("age Decryptor: Write after Finish");
  }
  if (stage_ == Stage::kHeader) {
    if (absl::Status s = ReadHeader(&data, &size); !s.ok()) return Fail(s);
  }
  if (stage_ == Stage::kNonce) {
    if (absl::Status s = ReadNonce(&data, &size); !s.ok()) return Fail(s);
  }
  const uint8_t* in = reinterpret_cast<const uint8_t*>(data);
  while (size > 0) {
    // A full sealed chunk with bytes after it is not the final one.
    if (buffered_ == kSealedChunkSize) {
      if (absl::Status s = OpenChunk(sealed_.get(), buffered_, false);
          !s.ok()) {
        return Fail(s);
      }
      buffered_ = 0;
    }
    if (buffered_ == 0 && size > kSealedChunkSize) {
      if (absl::Status s = OpenChunk(in, kSealedChunkSize, false); !s.ok()) {
        return Fail(s);
      }
      in += kSealedChunkSize;
      size -= kSealedChunkSize;
      continue;
    }
    const size_t take = std::min(size, kSealedChunkSize - buffered_);
    std::memcpy(sealed_.get() + buffered_, in, take);
    buffered_ += take;
    in += take;
    size -= take;
  }
  return absl::OkStatus();
}

absl::Status Decryptor::ReadHeader(const char** data, size_t* size) {
  const size_t old_size = header_.size();
  const size_t take = std::min(*size, kMaxHeaderSize - old_size);
  header_.append(*data, take);
  // Refuse what is not age as soon as the first bytes say so.
  const size_t prefix = std::min(header_.size(), kAgeVersionLine.size());
  if (header_.compare(0, prefix, kAgeVersionLine.substr(0, prefix)) != 0) {
    return absl::DataLossError(
        "not an age v1 file (it does not start with "
        "\"age-encryption.org/v1\"; armored files are not supported)");
  }
  const size_t end = FindHeaderEnd(header_, &header_scanned_);
  if (end == 0) {
    if (header_.size() >= kMaxHeaderSize) {
      return absl::DataLossError(absl::StrCat(
          "age header longer than ", kMaxHeaderSize, " bytes: not accepted"));
    }
    *data += take;
    *size -= take;
    return absl::OkStatus();
  }
  const size_t consumed = end - old_size;
  header_.resize(end);
  *data += consumed;
  *size -= consumed;
  if (absl::Status s = OpenHeader(); !s.ok()) return s;
  std::string().swap(header_);
  stage_ = Stage::kNonce;
  return absl::OkStatus();
}

absl::StatusOr<FileKey> Decryptor::FindFileKey(
    const std::vector<Stanza>& stanzas) {
  int x25519_stanzas = 0;
  for (const Stanza& stanza : stanzas) {
    if (stanza.type != kX25519StanzaType) continue;
    ++x25519_stanzas;
    // age refuses a malformed X25519 stanza even if another one matches.
    if (absl::Status s = CheckX25519Stanza(stanza); !s.ok()) return s;
  }
  if (x25519_stanzas == 0) {
    return absl::FailedPreconditionError(
        "the age file has no X25519 recipient stanza (a passphrase-encrypted "
        "file, or another recipient type): not supported");
  }
  for (const Stanza& stanza : stanzas) {
    if (stanza.type != kX25519StanzaType) continue;
    for (const Identity& identity : identities_) {
      absl::StatusOr<std::optional<FileKey>> file_key =
          UnwrapFileKey(stanza, identity);
      if (!file_key.ok()) return file_key.status();
      if (file_key->has_value()) {
        matched_ = &identity;
        return **file_key;
      }
    }
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "none of the ", IdentitiesDescription(), " decrypts it: the artifact is ",
      "encrypted for ", x25519_stanzas,
      x25519_stanzas == 1 ? " other recipient" : " other recipients",
      " (age does not record which; or the header was altered)"));
}

absl::Status Decryptor::OpenHeader() {
  absl::StatusOr<ParsedHeader> header = ParseHeader(header_);
  if (!header.ok()) return header.status();
  absl::StatusOr<FileKey> file_key = FindFileKey(header->stanzas);
  if (!file_key.ok()) return file_key.status();
  absl::StatusOr<std::array<uint8_t, 32>> mac =
      HeaderMac(*file_key, header->mac_input);
  if (!mac.ok()) return mac.status();
  if (CRYPTO_memcmp(mac->data(), header->mac.data(), mac->size()) != 0) {
    return absl::DataLossError(
        "the age header's MAC does not verify: the header was altered");
  }
  file_key_ = *file_key;
  return absl::OkStatus();
}

absl::Status Decryptor::ReadNonce(const char** data, size_t* size) {
  const size_t take = std::min(*size, kPayloadNonceSize - nonce_size_);
  std::memcpy(nonce_ + nonce_size_, *data, take);
  nonce_size_ += take;
  *data += take;
  *size -= take;
  if (nonce_size_ < kPayloadNonceSize) return absl::OkStatus();
  absl::StatusOr<SecretKey32> payload_key = PayloadKey(*file_key_, nonce_);
  if (!payload_key.ok()) return payload_key.status();
  file_key_.reset();
  cipher_ = std::make_unique<ChunkCipher>(*payload_key);
  sealed_.reset(new uint8_t[kSealedChunkSize]);
  plaintext_.reset(new uint8_t[kChunkSize]);
  nonce_size_ = 0;
  stage_ = Stage::kPayload;
  return absl::OkStatus();
}

absl::Status Decryptor::OpenChunk(const uint8_t* data, size_t size,
                                  bool final) {
  const std::string which = absl::StrCat("chunk ", chunk_index_);
  if (final && size == 0) {
    return absl::DataLossError(
        chunk_index_ == 0
            ? "the age file is cut after its header: no payload"
            : absl::StrCat("the age file is cut at a chunk boundary: ", which,
                           ", the final one, is missing"));
  }
  if (size < kTagSize) {
    return absl::DataLossError(
        absl::StrCat("the age file is cut inside ", which));
  }
  uint8_t nonce[kNonceSize];
  ChunkNonce(chunk_index_, final, nonce);
  absl::StatusOr<bool> opened =
      cipher_->Open(nonce, data, size, plaintext_.get());
  if (!opened.ok()) return opened.status();
  if (!*opened && (!final || size == kSealedChunkSize)) {
    // Diagnose with the other flag: a final chunk followed by bytes, or a
    // full middle chunk where the stream was cut.
    ChunkNonce(chunk_index_, !final, nonce);
    absl::StatusOr<bool> other =
        cipher_->Open(nonce, data, size, plaintext_.get());
    if (!other.ok()) return other.status();
    if (*other) {
      return absl::DataLossError(
          final ? absl::StrCat("the age file is cut at a chunk boundary: ",
                               "the final chunk after ", which, " is missing")
                : absl::StrCat("bytes follow the age file's final chunk (",
                               which, ")"));
    }
  }
  if (!*opened) {
    return absl::DataLossError(absl::StrCat(
        "the age payload's ", which,
        " fails authentication: the artifact is cut, damaged or altered"));
  }
  const size_t plaintext_size = size - kTagSize;
  if (final && plaintext_size == 0 && chunk_index_ > 0) {
    return absl::DataLossError(
        absl::StrCat("the age payload's final ", which, " is empty"));
  }
  ++chunk_index_;
  return sink_(reinterpret_cast<const char*>(plaintext_.get()), plaintext_size);
}

absl::Status Decryptor::Finish() {
  if (!status_.ok()) return status_;
  switch (stage_) {
    case Stage::kDone:
      return absl::FailedPreconditionError(
          "age Decryptor: Finish called twice");
    case Stage::kHeader:
      return Fail(absl::DataLossError(
          header_.empty() ? "empty input: not an age file"
                          : "the age file is cut inside its header"));
    case Stage::kNonce:
      return Fail(absl::DataLossError(
          "the age file is cut after its header: no payload"));
    case Stage::kPayload:
      break;
  }
  if (absl::Status s = OpenChunk(sealed_.get(), buffered_, true); !s.ok()) {
    return Fail(s);
  }
  buffered_ = 0;
  stage_ = Stage::kDone;
  return absl::OkStatus();
}

}  // namespace dxbackup::scheduler::crypto
