// ReactorWorker runs the blocking parts of the agent protocol's gRPC
// reactions (store Begin/Append/Commit/Open/Read, catalog writes and
// reads) on threads of its own, so that gRPC's callback threads never wait
// on a disk or on SQLite: a reaction posts a task here and returns; the
// task, when done, resumes its reactor (StartRead, StartWrite or Finish).
//
// Threads: a fixed number, named kThreadName, started by the constructor
// and joined by the destructor. Tasks run in the order posted, up to `threads`
// at once. The queue is bounded: Post() refuses a task (returns false) when
// `max_queued` tasks wait already, or once the worker is stopping; the
// reactor then ends its call (UNAVAILABLE) instead of blocking. A reactor
// has at most one task posted at a time, so the bound is the number of
// calls waiting for a disk at once, not a number of chunks.
//
// Lifetimes: a task captures its reactor by pointer, and the reactor must
// stay alive until the task has run. The reactors hold to one rule for
// this: no Finish() is called while a task of theirs is posted or running
// (a Finish wanted meanwhile is recorded and issued by the task's end).
// gRPC calls a server reactor's OnDone (which deletes it) only after
// Finish, so a reactor outlives every task posted for it. The worker
// itself must outlive the reactors that post to it: the service owns it,
// and gRPC's Server::Shutdown waits for every call's OnDone before the
// service goes. The destructor runs the tasks still queued, then joins.
//
//   ReactorWorker worker(4, 1024);
//   if (!worker.Post([this] { DoDiskWork(); StartWrite(&out_); })) {
//     Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "busy"));
//   }
//
// Thread-safe.
#ifndef DXBACKUP_SCHEDULER_AGENTS_REACTOR_WORKER_H_
#define DXBACKUP_SCHEDULER_AGENTS_REACTOR_WORKER_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dxbackup::scheduler {

class ReactorWorker {
 public:
  static constexpr int kDefaultThreads = 4;
  static constexpr size_t kDefaultMaxQueued = 1024;
  // The name of the worker's threads (as ps and debuggers show them).
  static constexpr const char* kThreadName = "dxb-reactor";

  explicit ReactorWorker(int threads = kDefaultThreads,
                         size_t max_queued = kDefaultMaxQueued);
  ~ReactorWorker();  // runs the queued tasks, then joins the threads
  ReactorWorker(const ReactorWorker&) = delete;
  ReactorWorker& operator=(const ReactorWorker&) = delete;

  // Queues `task`; false (and `task` dropped unrun) when the queue is full
  // or the worker is stopping.
  bool Post(std::function<void()> task);

 private:
  void Run();

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_AGENTS_REACTOR_WORKER_H_
