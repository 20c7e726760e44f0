// RunThreads owns the threads of a runner's runs: Start() spawns one, and
// JoinAll() (also the destructor) waits for every one of them.
//
// Thread-safe.
#ifndef DXBACKUP_SCHEDULER_RUNS_RUN_THREADS_H_
#define DXBACKUP_SCHEDULER_RUNS_RUN_THREADS_H_

#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dxbackup::scheduler {

class RunThreads {
 public:
  ~RunThreads() { JoinAll(); }

  void Start(std::function<void()> run) {
    std::lock_guard<std::mutex> lock(mu_);
    threads_.emplace_back(std::move(run));
  }

  void JoinAll() {
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
  }

 private:
  std::mutex mu_;
  std::vector<std::thread> threads_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_RUNS_RUN_THREADS_H_
