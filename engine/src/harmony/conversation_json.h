// The JSON form of a Conversation read by `ossdesk-cli render --messages FILE`
// and by the conformance tests (format: tests/data/harmony/README.md).
//
//   { "system": null | {reasoning, knowledge_cutoff, date, channels, identity},
//     "developer": {instructions, tools: [{name, description, parameters}]},
//     "messages": [{role, content, channel, recipient, content_type, name}],
//     "drop_analysis": true }
//
// "system" left out means the default system message (SystemSpec's defaults);
// null means none. Unknown keys are rejected so a misspelt field is reported
// instead of silently changing the prompt.
#pragma once

#include <string>

#include "ossdesk/chat.h"

namespace ossdesk::harmony {

// Throws ossdesk::Error (BadInput) naming the offending field, e.g.
// "conversation JSON: messages[2].role: expected one of user, assistant, ...".
Conversation conversation_from_json(const std::string& json_text);

}  // namespace ossdesk::harmony
