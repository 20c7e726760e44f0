// dxbackup-crypto-bench: encrypt and decrypt throughput of dxbackup's age
// implementation (scheduler/crypto) against the stock `age` tool on the
// same input, in the same run: file to file, page cache warm.
//
//   dxbackup-crypto-bench [--mib 512] [--runs 3] [--dir D]
//
// Both sides read the same input file and write their output to a file in
// D; ours runs in this process (1 MiB reads into Encryptor/Decryptor, a
// sink that write()s), age as a child (`age -r`, `age -d -i`). Each figure
// is the median of --runs. Every decryption is compared with the input,
// and each side decrypts the other's file; a mismatch exits 1. Ours is
// also timed without output files (the cipher's own speed).
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/process.h"
#include "scheduler/crypto/age_decryptor.h"
#include "scheduler/crypto/age_encryptor.h"
#include "scheduler/crypto/age_keys.h"
#include "scheduler/crypto/primitives.h"
#include "tools/bench/bench_util.h"

namespace po = boost::program_options;
namespace crypto = dxbackup::scheduler::crypto;

namespace {

constexpr size_t kBlock = 1 << 20;

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "crypto-bench: " << message << "\n";
  std::exit(1);
}

void Check(const absl::Status& status, const std::string& what) {
  if (!status.ok()) Die(absl::StrCat(what, ": ", status.ToString()));
}

// A sink that writes to `fd`.
crypto::ByteSink FileSink(int fd) {
  return [fd](const char* data, size_t size) {
    while (size > 0) {
      const ssize_t n = write(fd, data, size);
      if (n < 0) return absl::InternalError(std::strerror(errno));
      data += n;
      size -= static_cast<size_t>(n);
    }
    return absl::OkStatus();
  };
}

// Streams `in_path` through a Write/Finish pair in 1 MiB reads.
template <typename Stream>
void Pump(const std::string& in_path, Stream* stream) {
  const int in = open(in_path.c_str(), O_RDONLY);
  if (in < 0) Die("cannot open " + in_path);
  std::vector<char> buffer(kBlock);
  ssize_t n;
  while ((n = read(in, buffer.data(), buffer.size())) > 0) {
    Check(stream->Write(buffer.data(), static_cast<size_t>(n)), in_path);
  }
  close(in);
  if (n < 0) Die("cannot read " + in_path);
  Check(stream->Finish(), in_path);
}

int CreateOutput(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) Die("cannot create " + path);
  return fd;
}

void OursEncrypt(const crypto::Recipient& recipient, const std::string& in,
                 const std::string& out) {
  const int fd = CreateOutput(out);
  auto encryptor = crypto::Encryptor::Create({recipient}, FileSink(fd));
  Check(encryptor.status(), "Encryptor");
  Pump(in, encryptor->get());
  close(fd);
}

void OursDecrypt(const std::vector<crypto::Identity>& identities,
                 const std::string& in, const std::string& out) {
  const int fd = CreateOutput(out);
  auto decryptor = crypto::Decryptor::Create(identities, FileSink(fd));
  Check(decryptor.status(), "Decryptor");
  Pump(in, decryptor->get());
  close(fd);
}

void Run(const std::vector<std::string>& argv) {
  dxbackup::common::ProcessSpec spec;
  spec.argv = argv;
  auto process = dxbackup::common::Subprocess::Start(spec);
  Check(process.status(), argv[0]);
  absl::StatusOr<int> code = (*process)->Wait();
  Check(code.status(), argv[0]);
  if (*code != 0) {
    Die(absl::StrCat(argv[0], " exited ", *code, ": ",
                     (*process)->stderr_text()));
  }
}

// Seconds taken by `f`, the median of `runs`.
double MedianSeconds(int runs, const std::function<void()>& f) {
  std::vector<double> seconds;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    f();
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

void ExpectSameFile(const std::string& a, const std::string& b) {
  std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
  std::vector<char> ba(kBlock), bb(kBlock);
  while (fa && fb) {
    fa.read(ba.data(), ba.size());
    fb.read(bb.data(), bb.size());
    if (fa.gcount() != fb.gcount() ||
        std::memcmp(ba.data(), bb.data(), fa.gcount()) != 0) {
      Die(a + " and " + b + " differ");
    }
  }
  if (fa.good() != fb.good()) Die(a + " and " + b + " differ in length");
}

}  // namespace

int main(int argc, char** argv) {
  size_t mib = 512;
  int runs = 3;
  std::string dir;
  po::options_description options("dxbackup-crypto-bench");
  options.add_options()("help", "this text")(
      "mib", po::value(&mib)->default_value(512), "input size in MiB")(
      "runs", po::value(&runs)->default_value(3), "runs per figure (median)")(
      "dir", po::value(&dir), "work directory (default: a fresh one in /tmp)");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, options), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << options;
    return 0;
  }
  const bool own_dir = dir.empty();
  if (own_dir) {
    std::string pattern = "/tmp/crypto-bench-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) Die("mkdtemp failed");
    dir = pattern;
  }
  const std::string input = dir + "/input";
  const std::string key_file = dir + "/key.txt";

  // Incompressible input, written once; the page cache keeps it warm.
  {
    const int fd = CreateOutput(input);
    std::vector<uint8_t> block(kBlock);
    auto sink = FileSink(fd);
    for (size_t i = 0; i < mib; ++i) {
      Check(crypto::RandomBytes(block.data(), block.size()), "RAND_bytes");
      Check(sink(reinterpret_cast<const char*>(block.data()), block.size()),
            input);
    }
    close(fd);
  }
  absl::StatusOr<crypto::Identity> identity = crypto::Identity::Generate();
  Check(identity.status(), "key");
  std::ofstream(key_file) << identity->SecretKeyString() << "\n";
  auto identities = crypto::LoadIdentities(key_file);
  Check(identities.status(), "key file");
  const crypto::Recipient recipient = identity->recipient();
  const std::string r = recipient.ToString();

  const std::string ours_age = dir + "/ours.age",
                    stock_age = dir + "/stock.age";
  const std::string ours_out = dir + "/ours.out",
                    stock_out = dir + "/stock.out";
  const double ours_enc =
      MedianSeconds(runs, [&] { OursEncrypt(recipient, input, ours_age); });
  const double stock_enc = MedianSeconds(runs, [&] {
    Run({"age", "-r", r, "-o", stock_age, input});
  });
  // Each decrypts the other's file, so the formats are checked both ways.
  const double ours_dec = MedianSeconds(
      runs, [&] { OursDecrypt(*identities, stock_age, ours_out); });
  const double stock_dec = MedianSeconds(runs, [&] {
    Run({"age", "-d", "-i", key_file, "-o", stock_out, ours_age});
  });
  // Ours again without writing files: the cipher's own speed.
  const crypto::ByteSink discard = [](const char*, size_t) {
    return absl::OkStatus();
  };
  const double ours_enc_cpu = MedianSeconds(runs, [&] {
    auto encryptor = crypto::Encryptor::Create({recipient}, discard);
    Check(encryptor.status(), "Encryptor");
    std::vector<char> block(kBlock, 'x');
    for (size_t i = 0; i < mib; ++i) {
      Check((*encryptor)->Write(block.data(), block.size()), "encrypt");
    }
    Check((*encryptor)->Finish(), "encrypt");
  });
  const double ours_dec_cpu = MedianSeconds(runs, [&] {
    auto decryptor = crypto::Decryptor::Create(*identities, discard);
    Check(decryptor.status(), "Decryptor");
    Pump(ours_age, decryptor->get());
  });
  ExpectSameFile(input, ours_out);
  ExpectSameFile(input, stock_out);

  std::string age_version;
  {
    dxbackup::common::ProcessSpec spec;
    spec.argv = {"age", "--version"};
    auto process = dxbackup::common::Subprocess::Start(spec);
    if (process.ok() && (*process)->Wait().ok()) {
      age_version = (*process)->stdout_text();
      while (!age_version.empty() && age_version.back() == '\n') {
        age_version.pop_back();
      }
    }
  }
  std::cout << absl::StrFormat(
      "crypto-bench: %zu MiB, median of %d; %s, %ld CPUs; age %s\n\n", mib,
      runs, dxbackup::bench::CpuModel(), sysconf(_SC_NPROCESSORS_ONLN),
      age_version);
  std::cout << "| what | dxbackup MiB/s | age MiB/s | dxbackup/age |\n"
               "|---|---|---|---|\n";
  for (const auto& [what, ours, stock] :
       {std::tuple{"encrypt, file to file", ours_enc, stock_enc},
        std::tuple{"decrypt, file to file", ours_dec, stock_dec}}) {
    std::cout << absl::StrFormat("| %s | %.0f | %.0f | %.2f |\n", what,
                                 mib / ours, mib / stock, stock / ours);
  }
  std::cout << absl::StrFormat(
      "| encrypt, memory to nothing | %.0f | — | — |\n"
      "| decrypt, page cache to nothing | %.0f | — | — |\n",
      mib / ours_enc_cpu, mib / ours_dec_cpu);
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
