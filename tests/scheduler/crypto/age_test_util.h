// Helpers for the age tests: whole-buffer encryption and decryption through
// the streaming classes, and key files made by the stock age-keygen.
#ifndef DXBACKUP_TESTS_SCHEDULER_CRYPTO_AGE_TEST_UTIL_H_
#define DXBACKUP_TESTS_SCHEDULER_CRYPTO_AGE_TEST_UTIL_H_

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "scheduler/crypto/age_decryptor.h"
#include "scheduler/crypto/age_encryptor.h"
#include "scheduler/crypto/age_keys.h"
#include "tests/support/child_process.h"

namespace dxbackup::testing {

// Encrypts `plaintext` in writes of `write_size` bytes.
inline absl::StatusOr<std::string> AgeEncrypt(
    const std::vector<scheduler::crypto::Recipient>& recipients,
    const std::string& plaintext, size_t write_size = 1 << 20) {
  std::string out;
  auto encryptor = scheduler::crypto::Encryptor::Create(
      recipients, [&out](const char* data, size_t size) {
        out.append(data, size);
        return absl::OkStatus();
      });
  if (!encryptor.ok()) return encryptor.status();
  for (size_t i = 0; i < plaintext.size(); i += write_size) {
    const size_t n = std::min(write_size, plaintext.size() - i);
    if (absl::Status s = (*encryptor)->Write(plaintext.data() + i, n);
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = (*encryptor)->Finish(); !s.ok()) return s;
  return out;
}

// Decrypts `ciphertext` in writes of `write_size` bytes.
inline absl::StatusOr<std::string> AgeDecrypt(
    const std::vector<scheduler::crypto::Identity>& identities,
    const std::string& ciphertext, size_t write_size = 1 << 20) {
  std::string out;
  auto decryptor = scheduler::crypto::Decryptor::Create(
      identities, [&out](const char* data, size_t size) {
        out.append(data, size);
        return absl::OkStatus();
      });
  if (!decryptor.ok()) return decryptor.status();
  for (size_t i = 0; i < ciphertext.size(); i += write_size) {
    const size_t n = std::min(write_size, ciphertext.size() - i);
    if (absl::Status s = (*decryptor)->Write(ciphertext.data() + i, n);
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = (*decryptor)->Finish(); !s.ok()) return s;
  return out;
}

// A key file written by the stock age-keygen, and the public key it
// printed ("# public key: age1…").
struct StockKey {
  std::string path;
  std::string public_key;
};

inline StockKey MakeStockKey(const std::string& path) {
  std::string output;
  const int code = RunCommand({"age-keygen", "-o", path}, &output);
  StockKey key{path, ""};
  if (code != 0) return key;  // the caller's ASSERT reports it
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const std::string prefix = "# public key: ";
    if (line.rfind(prefix, 0) == 0) key.public_key = line.substr(prefix.size());
  }
  return key;
}

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SCHEDULER_CRYPTO_AGE_TEST_UTIL_H_
