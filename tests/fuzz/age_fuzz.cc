// libFuzzer: the age Decryptor (scheduler/crypto/age_decryptor.h) over any
// input, fed in writes of any sizes, never crashes, stays within its memory
// bound and decides as documented:
//
//  - the outcome (OK or the error code) and the plaintext do not depend on
//    how the input is split into writes;
//  - an input it accepts is exactly a header, the payload nonce and the
//    chunks its plaintext makes (nothing cut, nothing after), and that
//    plaintext encrypted again decrypts back to itself;
//  - an error is DataLoss, PermissionDenied or FailedPrecondition;
//  - the sink is given at most a chunk (64 KiB) at a time.
//
// The identity is fixed (FuzzIdentity below, a test-only key); the seed
// corpus holds files the stock age made for it (tests/fuzz/corpus/age).
// Input: one byte choosing the write size, then the file. A failed check
// prints the case and aborts.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "scheduler/crypto/age_decryptor.h"
#include "scheduler/crypto/age_encryptor.h"
#include "scheduler/crypto/age_header.h"
#include "scheduler/crypto/age_keys.h"
#include "scheduler/crypto/bech32.h"

namespace crypto = dxbackup::scheduler::crypto;

namespace {

// The fuzz identity: the secret key is these 32 bytes, spelled out rather
// than written as a key string. Its public key (for the seed corpus) is
// age1kn207rzrgp9jmsufjvul9xvgnqkmvt6ft4de6u0tpsv985mwaursmq6af6.
constexpr char kSecretKeyBytes[] = "dxbackup age fuzz: test key only";

crypto::Identity FuzzIdentity() {
  std::string text =
      crypto::Bech32Encode("age-secret-key-", std::string(kSecretKeyBytes, 32));
  for (char& c : text) c = static_cast<char>(std::toupper(c));
  absl::StatusOr<crypto::Identity> identity = crypto::Identity::Parse(text);
  if (!identity.ok()) std::abort();
  return *identity;
}

void Fail(const char* what) {
  std::fprintf(stderr, "age_fuzz: %s\n", what);
  std::abort();
}

struct Outcome {
  absl::Status status;
  std::string plaintext;
};

Outcome Decrypt(const crypto::Identity& identity, const uint8_t* data,
                size_t size, size_t write_size) {
  Outcome outcome;
  auto decryptor = crypto::Decryptor::Create(
      {identity}, [&outcome](const char* d, size_t n) {
        if (n > crypto::kChunkSize) Fail("a piece larger than a chunk");
        outcome.plaintext.append(d, n);
        return absl::OkStatus();
      });
  if (!decryptor.ok()) Fail("Decryptor::Create");
  for (size_t i = 0; i < size && outcome.status.ok(); i += write_size) {
    const size_t n = std::min(write_size, size - i);
    outcome.status =
        (*decryptor)->Write(reinterpret_cast<const char*>(data) + i, n);
    if ((*decryptor)->buffered_bytes() > crypto::Decryptor::kMaxBufferedBytes) {
      Fail("buffered beyond the bound");
    }
  }
  if (outcome.status.ok()) outcome.status = (*decryptor)->Finish();
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const crypto::Identity identity = FuzzIdentity();
  if (size < 1) return 0;
  static const size_t kWriteSizes[] = {1, 7, 64, 4096, 65552, 1 << 20};
  const size_t write_size = kWriteSizes[data[0] % 6];
  ++data;
  --size;

  const Outcome whole = Decrypt(identity, data, size, size + 1);
  const Outcome split = Decrypt(identity, data, size, write_size);
  if (whole.status.code() != split.status.code()) {
    Fail("the outcome depends on the split");
  }
  if (!whole.status.ok()) {
    const absl::StatusCode code = whole.status.code();
    if (code != absl::StatusCode::kDataLoss &&
        code != absl::StatusCode::kPermissionDenied &&
        code != absl::StatusCode::kFailedPrecondition) {
      Fail("an unexpected error code");
    }
    return 0;
  }
  if (whole.plaintext != split.plaintext)
    Fail("the plaintext depends on split");

  // Accepted: the payload's length is what the format says for it.
  std::string again;
  auto encryptor = crypto::Encryptor::Create({identity.recipient()},
                                             [&again](const char* d, size_t n) {
                                               again.append(d, n);
                                               return absl::OkStatus();
                                             });
  if (!encryptor.ok() || !(*encryptor)->Write(whole.plaintext).ok() ||
      !(*encryptor)->Finish().ok()) {
    Fail("re-encryption failed");
  }
  const size_t chunks =
      whole.plaintext.empty()
          ? 1
          : (whole.plaintext.size() + crypto::kChunkSize - 1) /
                crypto::kChunkSize;
  const size_t payload = crypto::kPayloadNonceSize + whole.plaintext.size() +
                         chunks * crypto::kTagSize;
  size_t scanned = 0;
  const size_t header = crypto::FindHeaderEnd(
      std::string_view(reinterpret_cast<const char*>(data), size), &scanned);
  if (header == 0 || size != header + payload) {
    Fail("accepted a file whose length is not its header's and payload's");
  }
  const Outcome round_trip =
      Decrypt(identity, reinterpret_cast<const uint8_t*>(again.data()),
              again.size(), write_size);
  if (!round_trip.status.ok() || round_trip.plaintext != whole.plaintext) {
    Fail("the re-encrypted plaintext does not decrypt back");
  }
  return 0;
}
