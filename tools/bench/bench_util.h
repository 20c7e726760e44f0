// What the in-process benchmarks share: timing a call and naming the CPU
// their tables were measured on. Header-only; not thread-safe (a bench is
// one thread).
#ifndef DXBACKUP_TOOLS_BENCH_BENCH_UTIL_H_
#define DXBACKUP_TOOLS_BENCH_BENCH_UTIL_H_

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace dxbackup::bench {

// The median wall time of `runs` calls of `run`, in milliseconds.
inline double MedianMs(int runs, const std::function<void()>& run) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// /proc/cpuinfo's first "model name", or "unknown CPU".
inline std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      return line.substr(line.find(':') + 2);
    }
  }
  return "unknown CPU";
}

}  // namespace dxbackup::bench

#endif  // DXBACKUP_TOOLS_BENCH_BENCH_UTIL_H_
