// Hands the engine's events (engine thread) to the UI thread in batches. The
// engine never waits: push() only appends under a short lock. The UI drains
// it once per frame, so a 300 tok/s stream becomes ~60 model updates a
// second, each carrying whatever text arrived since the last.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ossdesk/engine.h"

namespace ossdesk::gui {

struct EventBatch {
  std::string reasoning;  // analysis text since the last take()
  std::string content;    // final text (and commentary preambles)
  std::vector<Event> tool_calls;
  int tokens = 0;  // events that carried text (about one per token)
  std::optional<GenerationStats> stats;
  std::string error;
  std::optional<FinishReason> done;
  bool empty() const { return reasoning.empty() && content.empty() && tool_calls.empty() && !stats && error.empty() && !done; }
};

class EventInbox {
 public:
  void push(const Event& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    switch (e.type) {
      case EventType::ReasoningDelta: pending_.reasoning += e.text, ++pending_.tokens; break;
      case EventType::FinalDelta:
      case EventType::CommentaryDelta: pending_.content += e.text, ++pending_.tokens; break;
      case EventType::ToolCall: pending_.tool_calls.push_back(e); break;
      case EventType::Stats: pending_.stats = e.stats; break;
      case EventType::Error: pending_.error = e.text; break;
      case EventType::Done: pending_.done = e.finish; break;
    }
  }
  EventBatch take() {
    std::lock_guard<std::mutex> lock(mutex_);
    EventBatch out = std::move(pending_);
    pending_ = {};
    return out;
  }

 private:
  std::mutex mutex_;
  EventBatch pending_;
};

}  // namespace ossdesk::gui
