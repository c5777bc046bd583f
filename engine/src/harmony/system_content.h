// The text inside the system and developer messages: model identity, dates,
// reasoning effort and channels (system); instructions and the function tools
// in their TypeScript-like form (developer). Byte-identical to openai/harmony.
#pragma once

#include <string>
#include <vector>

#include "ossdesk/chat.h"

namespace ossdesk::harmony {

// `has_function_tools` adds harmony's line telling the model that calls to the
// developer's tools go to the commentary channel.
std::string system_message_text(const SystemSpec& system, bool has_function_tools);

// Throws ossdesk::Error (BadInput) when a tool's parameters_json is not JSON.
std::string developer_message_text(const DeveloperSpec& developer);

// "# Tools\n\n## functions\n\nnamespace functions {\n\n...} // namespace functions"
std::string function_tools_section(const std::vector<ToolSpec>& tools);

}  // namespace ossdesk::harmony
