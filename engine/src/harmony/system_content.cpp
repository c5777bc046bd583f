// System and developer message bodies, laid out the way openai/harmony
// lays them out: sections joined by a blank line, lines by "\n".
#include "harmony/system_content.h"

#include <string_view>

#include "harmony/schema_typescript.h"
#include "ossdesk/error.h"
#include "util/json_input.h"

namespace ossdesk::harmony {
namespace {

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

// Rust's str::lines(): split on "\n", drop one trailing "\r" per line, and no
// empty last line for a trailing newline. Harmony splits tool descriptions
// this way to prefix each line with "// ".
std::vector<std::string> rust_lines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

std::string tool_signature(const ToolSpec& tool) {
  if (tool.parameters_json.empty()) return "type " + tool.name + " = () => any;\n";
  const auto schema = parse_json_input<OrderedJson>(tool.parameters_json, "tool '" + tool.name + "': parameters");
  return "type " + tool.name + " = (_: " + schema_to_typescript(schema, "") + ") => any;\n";
}

}  // namespace

std::string function_tools_section(const std::vector<ToolSpec>& tools) {
  // Harmony's functions namespace has no description, so the block is the
  // heading, the namespace opener, each tool, and the closer.
  std::vector<std::string> lines;
  lines.push_back("## functions\n");
  lines.push_back("namespace functions {\n");
  for (const ToolSpec& tool : tools) {
    for (const std::string& line : rust_lines(tool.description)) lines.push_back("// " + line);
    lines.push_back(tool_signature(tool));
  }
  lines.push_back("} // namespace functions");
  return "# Tools\n\n" + join(lines, "\n");
}

std::string system_message_text(const SystemSpec& system, bool has_function_tools) {
  std::vector<std::string> sections;

  std::vector<std::string> top;
  // An empty identity stands for harmony's "no model identity".
  if (!system.identity.empty()) top.push_back(system.identity);
  if (system.knowledge_cutoff) top.push_back("Knowledge cutoff: " + *system.knowledge_cutoff);
  if (system.current_date) top.push_back("Current date: " + *system.current_date);
  if (!top.empty()) sections.push_back(join(top, "\n"));

  sections.push_back(std::string("Reasoning: ") + to_string(system.reasoning));

  if (!system.channels.empty()) {
    std::string channels = "# Valid channels: " + join(system.channels, ", ") +
                           ". Channel must be included for every message.";
    if (has_function_tools) channels += "\nCalls to these tools must go to the commentary channel: 'functions'.";
    sections.push_back(channels);
  }
  return join(sections, "\n\n");
}

std::string developer_message_text(const DeveloperSpec& developer) {
  std::vector<std::string> sections;
  // Empty instructions stand for harmony's "no instructions" (it would
  // otherwise print an empty "# Instructions" section).
  if (!developer.instructions.empty()) {
    sections.push_back("# Instructions");
    sections.push_back(developer.instructions);
  }
  if (!developer.tools.empty()) sections.push_back(function_tools_section(developer.tools));
  return join(sections, "\n\n");
}

}  // namespace ossdesk::harmony
