// Between the stored history (storage/) and the engine (engine/): the visible
// thread as the conversation the engine is given, and how a generation ended
// as the status the answer is saved with. Shared by `ossdesk-cli chat` and the
// desktop app so both send the model exactly the same thing. No Qt.
#pragma once

#include <vector>

#include "ossdesk/engine.h"
#include "ossdesk/storage/types.h"

namespace ossdesk::bridge {

// The stored thread (root to leaf) as the engine's conversation, with the
// conversation's system prompt as the developer message. Earlier answers go
// back as final messages and tool calls; their reasoning is not sent (harmony
// drops past analysis anyway). System/developer rows in the thread are skipped.
Conversation to_conversation(const std::vector<storage::MessageRecord>& thread, const storage::ConversationSettings& settings);

// Complete, tool call, max tokens and a full context save as Complete (the
// text is whole as far as it goes); Cancelled and Error as themselves.
storage::MessageStatus status_of(FinishReason finish);

// What a finished generation records with its answer.
storage::MessageStats stats_of(const GenerationStats& stats, const std::string& model, const std::string& effort);

// The conversation's sampling overrides applied over `defaults`.
GenerationSettings apply_sampling(const storage::SamplingSettings& kept, GenerationSettings defaults);

}  // namespace ossdesk::bridge
