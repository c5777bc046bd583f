#include "util/json_input.h"

#include <exception>

#include <nlohmann/json.hpp>

#include "ossdesk/error.h"

namespace ossdesk {
namespace {

// Thrown from the parser's callback at the first container too deep, so
// nothing deeper is ever built.
struct TooDeep : std::exception {};

}  // namespace

template <typename Json>
Json parse_json_input(std::string_view text, const std::string& what) {
  // `depth`: how many containers are already open around the one starting.
  const auto limit_nesting = [](int depth, typename Json::parse_event_t event, Json&) {
    const bool opens = event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start;
    if (opens && depth >= kMaxJsonNesting) throw TooDeep{};
    return true;
  };
  try {
    return Json::parse(text, limit_nesting);
  } catch (const TooDeep&) {
    fail_input(what + ": arrays and objects nested more than " + std::to_string(kMaxJsonNesting) + " levels deep");
  } catch (const nlohmann::json::parse_error& e) {
    fail_input(what + ": not valid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {
    fail_input(what + ": not valid JSON: " + e.what());
  }
}

template nlohmann::json parse_json_input<nlohmann::json>(std::string_view, const std::string&);
template nlohmann::ordered_json parse_json_input<nlohmann::ordered_json>(std::string_view, const std::string&);

}  // namespace ossdesk
