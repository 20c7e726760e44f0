// Incompressible test data, the same for the same seed.
#ifndef DXBACKUP_TESTS_SUPPORT_RANDOM_BYTES_H_
#define DXBACKUP_TESTS_SUPPORT_RANDOM_BYTES_H_

#include <random>
#include <string>

namespace dxbackup::testing {

inline std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_RANDOM_BYTES_H_
