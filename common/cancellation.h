// Cancellation is a one-way signal that some work should stop, and why:
// whoever runs the work registers what stops it (OnCancel) or looks
// (cancelled()); whoever decides the work is over calls Cancel.
//
//   auto cancel = std::make_shared<Cancellation>();
//   uint64_t h = cancel->OnCancel([&](const std::string& why) { ... });
//   ...                       // elsewhere: cancel->Cancel("cancelled by ann")
//   cancel->Remove(h);        // before what the callback touches goes
//
// A thread doing work for a Cancellation may bind it for a scope
// (CancellationScope). A common::ProcessWatch made on that thread kills
// its child when the cancellation fires, and so does common::RunProcess:
// every command a job starts (pg_dump, pg_restore, a configured command)
// stops with the job, without each layer in between passing it down.
//
// Thread-safe. Callbacks run once each, on the thread that cancels (or, on
// a registration after the fact, on the registering thread), with no lock
// of the Cancellation held.
#ifndef DXBACKUP_COMMON_CANCELLATION_H_
#define DXBACKUP_COMMON_CANCELLATION_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace dxbackup::common {

class Cancellation {
 public:
  using Callback = std::function<void(const std::string& why)>;

  Cancellation() = default;
  Cancellation(const Cancellation&) = delete;
  Cancellation& operator=(const Cancellation&) = delete;

  // Cancels, saying `why`, and runs every registered callback; later calls
  // do nothing (the first reason stays).
  void Cancel(const std::string& why);
  bool cancelled() const;
  // The first Cancel's reason; "" while not cancelled.
  std::string why() const;

  // Registers `callback` to run on Cancel; when already cancelled it runs
  // now, before OnCancel returns. Returns a handle for Remove.
  uint64_t OnCancel(Callback callback);
  // Unregisters `handle`. Returns once its callback is not running (unless
  // called from that callback itself), so that what it refers to may go.
  void Remove(uint64_t handle);

  // The Cancellation bound to the calling thread by the innermost live
  // CancellationScope; nullptr when none is.
  static Cancellation* Current();

 private:
  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  bool cancelled_ = false;
  std::string why_;
  uint64_t next_handle_ = 1;
  std::map<uint64_t, Callback> callbacks_;
  uint64_t running_ = 0;  // the handle whose callback runs now; 0: none
  std::thread::id runner_;
};

// Binds `cancel` (may be null: none) to the calling thread until the scope
// ends, then restores what was bound before. Not movable; one thread.
class CancellationScope {
 public:
  explicit CancellationScope(Cancellation* cancel);
  ~CancellationScope();
  CancellationScope(const CancellationScope&) = delete;
  CancellationScope& operator=(const CancellationScope&) = delete;

 private:
  Cancellation* previous_;
};

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_CANCELLATION_H_
