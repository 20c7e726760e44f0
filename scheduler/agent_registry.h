// AgentRegistry knows the agents connected now and how to reach each one:
// the AgentChannel of its control stream. It mirrors agents into the
// catalog so that `dxbackup agents` also shows those that went away.
//
// Thread-safe. A channel is used only under the registry's lock, and a
// channel's owner calls Unregister before destroying it.
#ifndef DXBACKUP_SCHEDULER_AGENT_REGISTRY_H_
#define DXBACKUP_SCHEDULER_AGENT_REGISTRY_H_

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "dxbackup/v1/admin.pb.h"
#include "dxbackup/v1/agent.pb.h"
#include "scheduler/catalog.h"

namespace dxbackup::scheduler {

// The scheduler's end of one agent's control stream.
class AgentChannel {
 public:
  virtual ~AgentChannel() = default;
  // Queues a message; false when the stream is closing.
  virtual bool Send(const v1::SchedulerMessage& message) = 0;
  // Ends the stream; `reason` becomes the error of the agent's running jobs.
  virtual void Close(const std::string& reason) = 0;
};

class AgentRegistry {
 public:
  AgentRegistry(Catalog* catalog, const common::Clock* clock);

  // "namespace/pod": stable across reconnects.
  static std::string AgentId(const v1::Hello& hello);

  // Registers the agent behind `channel`, replacing (and closing) an older
  // connection of the same agent. Returns its id.
  std::string Register(const v1::Hello& hello, AgentChannel* channel);
  // Forgets `channel` if it is still the agent's current one; returns
  // whether it was.
  bool Unregister(const std::string& agent_id, AgentChannel* channel);
  void Touch(const std::string& agent_id);

  // Sends to a connected agent; false if it is not connected.
  bool Send(const std::string& agent_id, const v1::SchedulerMessage& message);

  // Connected agents of one deployment.
  std::vector<v1::AgentInfo> AgentsOf(const std::string& namespace_,
                                      const std::string& release);
  // Every agent the catalog knows, with `connected` filled in.
  std::vector<v1::AgentInfo> AllAgents();
  // Agents of one deployment, connected or seen within `max_age_seconds`.
  std::vector<v1::AgentInfo> KnownAgentsOf(const std::string& namespace_,
                                           const std::string& release,
                                           int64_t max_age_seconds);
  // Closes the streams of connected agents silent for longer than
  // `max_silence_seconds` (they missed their heartbeats); returns their ids.
  std::vector<std::string> CloseSilent(int64_t max_silence_seconds);

 private:
  struct Entry {
    v1::AgentInfo info;
    AgentChannel* channel;
  };
  Catalog* catalog_;
  const common::Clock* clock_;
  std::mutex mu_;
  std::map<std::string, Entry> connected_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_AGENT_REGISTRY_H_
